"""The analysts' query path (`newsdesk sql`, `report`, `status`, `quarantine`) as an
attacker and a careless user meet it: it never writes, it stays within its limits,
its output carries no terminal escapes, and every failure is one line."""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT as PROJECT_ROOT
from helpers import SAMPLE, rows
from newsdesk.settings import Settings, SettingsError

SLOW_QUERY = "select count(*) from range(100000000) a, range(100000) b where a.range + b.range = -1"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """The commands' working directory: a relative path written to, or a spill, would land here."""
    return tmp_path_factory.mktemp("cwd")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, prefect_server) -> Settings:
    """One warehouse for the module (ingest costs seconds), built from the shipped sample."""
    from newsdesk.flows.ingest import ingest

    root = tmp_path_factory.mktemp("query-safety")
    (root / "seeds").mkdir()
    shutil.copy(SAMPLE, root / "seeds" / SAMPLE.name)
    settings = Settings(seeds=root / "seeds", warehouse=root / "warehouse", n_process=1)
    ingest(seeds=str(settings.seeds_dir), warehouse=str(settings.warehouse_dir))
    rows(settings, "select 1")  # SQLite makes the catalog's -wal and -shm files on the first read
    return settings


def cli(settings: Settings, cwd: Path, *args: str, env: dict | None = None, timeout: float = 120):
    """The real CLI in a subprocess, run from `cwd`, on this checkout's code."""
    return subprocess.run(
        [sys.executable, "-m", "newsdesk.cli", *args, "--warehouse", str(settings.warehouse_dir)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})},
    )


def popen(settings: Settings, cwd: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "newsdesk.cli", *args, "--warehouse", str(settings.warehouse_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(env or {})},
    )


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder`, byte for byte."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# {data}: a live data file; {lake}: the lake folder; {out}: a path outside the warehouse.
HOSTILE = [
    "EXPLAIN ANALYZE COPY (select 1) TO '{data}' (FORMAT parquet)",
    "EXPLAIN ANALYZE COPY (select 1) TO '{lake}/evil.csv'",
    "explain /* c */ analyse -- c\n copy (select 1) to '{lake}/evil.csv'",
    "EXPLAIN (FORMAT json) COPY (select 1) TO '{lake}/evil.csv'",
    "EXPLAIN ANALYZE select * from ducklake_merge_adjacent_files('news')",
    "select * from ducklake_merge_adjacent_files('news')",
    "select * from news.merge_adjacent_files()",
    "select * from news.expire_snapshots(older_than => now())",
    "SELECT * FROM DuckLake_Merge_Adjacent_Files('news')",
    "from ducklake_expire_snapshots('news', older_than => now())",
    "select * from ducklake_cleanup_old_files('news', cleanup_all => true)",
    "select * from ducklake_delete_orphaned_files('news', cleanup_all => true)",
    "select * from ducklake_rewrite_data_files('news')",
    "select * from ducklake_flush_inlined_data('news')",
    "select * from ducklake_set_option('news', 'parquet_compression', 'zstd')",
    "select * from ducklake_add_data_files('news', 'articles', '{data}')",
    "select * from range(1) where exists (from ducklake_merge_adjacent_files('news'))",
    "summarize from ducklake_merge_adjacent_files('news')",
    "with x as (from ducklake_merge_adjacent_files('news')) select * from x",
    "select * from query('select * from ducklake_merge_adjacent_files(''news'')')",
    "select * from checkpoint()",
    "select * from enable_logging()",
    "select * from enable_profiling()",
    "select write_log('x')",
    "copy articles to '{lake}/evil.csv'",
    "copy (select 1) to 'evil.csv'",
    "export database '{out}'",
    "attach '{out}.db' as other",
    "install httpfs",
    "load httpfs",
    "set enable_external_access = true",
    "set memory_limit = '100GB'",
    "pragma enable_profiling",
    "call ducklake_merge_adjacent_files('news')",
    "checkpoint",
    "force checkpoint",
    "vacuum",
    "delete from articles",
    "update sources set status = 'x'",
    "create table evil as select 1",
    "select * from read_text('/etc/passwd')",
    "select * from read_csv('/etc/passwd')",
    "select * from glob('/*')",
    "select * from '/etc/passwd'",
    "select 1; select 2",
    "select 1; copy articles to '{lake}/evil.csv'",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_query_is_refused_and_writes_nothing(warehouse, scratch, tmp_path, template):
    lake_dir = warehouse.warehouse_dir / "lake"
    data = sorted(lake_dir.rglob("*.parquet"))[0]
    statement = template.format(data=data, lake=lake_dir, out=tmp_path / "out")
    before = fingerprint(warehouse.warehouse_dir)
    result = cli(warehouse, scratch, "sql", statement)
    assert result.returncode != 0, result.stdout[-2000:]
    line = one_line(result.stderr)
    assert line.startswith(("refused:", "query failed:")), line
    assert fingerprint(warehouse.warehouse_dir) == before
    assert not list(tmp_path.iterdir()) and not list(scratch.iterdir())


@pytest.mark.parametrize(
    "statement",
    [
        "select count(*) as n from articles",
        "explain select * from articles",
        "explain analyze select count(*) from claims",
        "describe articles",
        "summarize articles",
        "select count(*) as n from ducklake_snapshots('news')",
        "select count(*) as n from news.snapshots()",  # time travel, as the README shows it
        "select count(*) as n from ducklake_table_changes('news', 'main', 'articles', 0, {last})",
        "select count(*) as n from articles at (version => {last})",
        "select * from range(3) where random() >= 0",
    ],
)
def test_reads_still_work(warehouse, scratch, statement):
    last = rows(warehouse, "select max(snapshot_id) from ducklake_snapshots('news')")[0][0]
    before = fingerprint(warehouse.warehouse_dir)
    result = cli(warehouse, scratch, "sql", statement.format(last=last), "-f", "csv")
    assert result.returncode == 0, result.stderr
    assert fingerprint(warehouse.warehouse_dir) == before


def test_query_over_the_time_limit_stops(warehouse, scratch):
    start = time.monotonic()
    result = cli(warehouse, scratch, "sql", SLOW_QUERY, env={"NEWSDESK_QUERY_TIMEOUT_SECONDS": "1"}, timeout=60)
    assert result.returncode == 1 and time.monotonic() - start < 30
    assert one_line(result.stderr) == "query stopped: it ran longer than the 1 s limit (NEWSDESK_QUERY_TIMEOUT_SECONDS)"


def test_query_over_the_memory_limit_stops(warehouse, scratch):
    result = cli(
        warehouse,
        scratch,
        "sql",
        "select count(distinct range) from range(30000000)",
        env={"NEWSDESK_QUERY_MEMORY_LIMIT": "50MB"},
    )
    assert result.returncode == 1, result.stdout
    assert one_line(result.stderr) == (
        "query stopped: it needed more than the 50MB memory limit (NEWSDESK_QUERY_MEMORY_LIMIT)"
    )
    assert not list(scratch.iterdir())  # nothing spilled to disk


def test_large_csv_streams_in_bounded_memory(warehouse, scratch):
    """3 million rows under a 200MB DuckDB limit, read line by line while the child
    prints them; fetched all at once they took ~1 GB of Python objects."""
    child = popen(
        warehouse,
        scratch,
        "sql",
        "select range, repeat('x', 50) as pad from range(3000000)",
        "-f",
        "csv",
        env={"NEWSDESK_QUERY_MEMORY_LIMIT": "200MB"},
    )
    lines, peak_kb = 0, 0
    for lines, _ in enumerate(child.stdout, start=1):
        if lines % 100_000 == 0:
            peak_kb = max(peak_kb, _peak_rss_kb(child.pid))
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 0 and lines == 3_000_001, stderr
    assert 0 < peak_kb < 350_000, f"peak RSS {peak_kb // 1024} MB"


def _peak_rss_kb(pid: int) -> int:
    """The process's peak RSS so far (VmHWM, reset by exec: the forked test's own memory is not counted)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def test_table_format_shows_the_first_rows_with_a_note(warehouse, scratch):
    result = cli(warehouse, scratch, "sql", "select * from range(100)", env={"NEWSDESK_QUERY_TABLE_ROWS": "5"})
    assert result.returncode == 0
    assert "│ 4 " in result.stdout and "│ 5 " not in result.stdout
    assert one_line(result.stderr) == "showing first 5 rows; use -f csv for all (NEWSDESK_QUERY_TABLE_ROWS)"


def test_query_text_over_the_size_limit_is_refused_unread(warehouse, scratch):
    query = "select 1 where 1 in (" + ",".join(["1"] * 1000) + ")"
    result = cli(warehouse, scratch, "sql", query, env={"NEWSDESK_QUERY_MAX_BYTES": "1000"})
    assert result.returncode == 2
    assert "NEWSDESK_QUERY_MAX_BYTES" in one_line(result.stderr)


def test_ctrl_c_during_a_query_is_one_line_and_exit_130(warehouse, scratch):
    child = popen(warehouse, scratch, "sql", "select * from range(10000000000)", "-f", "csv")
    try:
        with selectors.DefaultSelector() as selector:  # the header shows the query is streaming
            selector.register(child.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), "no output: the rows are not streamed"
        child.stdout.readline()
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == 130
    assert one_line(stderr.decode()) == "query cancelled"


def test_csv_and_jsonl_escape_control_characters(warehouse, scratch):
    hostile = "a\x1b[31mred\x9b2J\x07\x7f\tb\rc"
    query = (
        "select 'a' || chr(27) || '[31mred' || chr(155) || '2J' || chr(7) || chr(127) || chr(9) || 'b' "
        "|| chr(13) || 'c' as \"t\x1b\""
    )
    csv_out = cli(warehouse, scratch, "sql", query, "-f", "csv").stdout
    jsonl_out = cli(warehouse, scratch, "sql", query, "-f", "jsonl").stdout
    for out in (csv_out, jsonl_out):
        assert not any(ch in out for ch in "\x1b\x9b\x07\x7f\r"), repr(out)
    assert csv_out.split("\n")[1] == "a\\u001b[31mred\\u009b2J\\u0007\\u007f\tb\\u000dc"
    assert json.loads(jsonl_out) == {"t\x1b": hostile}


def test_jsonl_writes_every_duckdb_type(warehouse, scratch):
    query = "select interval 1 day as i, current_time as t, 'ab'::blob as b, uuid() as u, 1.5::decimal(3,1) as d"
    result = cli(warehouse, scratch, "sql", query, "-f", "jsonl")
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {"i", "t", "b", "u", "d"}


def test_closed_output_pipe_is_quiet(warehouse, scratch):
    child = popen(warehouse, scratch, "sql", "select * from range(10000000)", "-f", "csv")
    child.stdout.readline()
    child.stdout.close()
    stderr = child.stderr.read().decode()
    child.wait(timeout=60)
    assert child.returncode != 0 and stderr == ""


def test_report_parameter_has_no_wildcards(warehouse, scratch):
    args = ["report", "claims_by_speaker", "-f", "csv", "--param"]
    for wildcard in ("%", "_", "%%", "\\"):
        result = cli(warehouse, scratch, *args, f"speaker={wildcard}")
        assert result.returncode == 0 and result.stdout.splitlines() == ["speaker,cue,kind,content,article"]
    rutte = cli(warehouse, scratch, *args, "speaker=rUTTE")
    assert len(rutte.stdout.splitlines()) == 4  # still any case, anywhere in the name


@pytest.mark.parametrize(
    "args",
    [
        ("sql", "select * from nope"),
        ("sql", "select 1", "-f", "xml"),
        ("report", "nope"),
        ("report", "claims_by_speaker"),
        ("quarantine", "-f", "xml"),
    ],
)
def test_expected_failures_are_one_line(warehouse, scratch, args):
    result = cli(warehouse, scratch, *args)
    assert result.returncode in (1, 2)
    one_line(result.stderr)


@pytest.mark.parametrize("command", ["sql", "status", "quarantine", "report"])
def test_a_missing_or_broken_warehouse_is_one_line(tmp_path, scratch, command):
    broken = Settings(warehouse=tmp_path / "broken")
    args = {"sql": ("sql", "select 1"), "report": ("report", "top_entities")}.get(command, (command,))
    missing = cli(broken, scratch, *args)
    assert missing.returncode == 2 and "no warehouse" in one_line(missing.stderr)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "catalog.sqlite").write_bytes(b"not a database" * 100)
    corrupt = cli(broken, scratch, *args)
    assert corrupt.returncode == 2 and "cannot open" in one_line(corrupt.stderr)


def test_invalid_settings_name_the_setting(monkeypatch):
    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "0")
    with pytest.raises(SettingsError) as info:
        Settings.for_folders()
    assert (
        str(info.value) == "invalid setting NEWSDESK_BATCH_SIZE: Input should be greater than or equal to 1 (got '0')"
    )


@pytest.mark.parametrize(
    "setting",
    [
        "NEWSDESK_BATCH_SIZE=abc",
        "NEWSDESK_BATCH_SIZE=0",
        "NEWSDESK_BATCH_SIZE=-1",
        "NEWSDESK_N_PROCESS=0",
        "NEWSDESK_QUERY_MEMORY_LIMIT=lots",
        "NEWSDESK_QUERY_TIMEOUT_SECONDS=0",
    ],
)
def test_invalid_settings_are_one_line(tmp_path, scratch, setting):
    name, _, value = setting.partition("=")
    result = cli(Settings(warehouse=tmp_path), scratch, "sql", "select 1", env={name: value})
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(f"invalid setting {name}: ")


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("report", "top_entities"),
        ("quarantine",),
        ("ingest",),
        ("maintain",),
        ("watch",),
        ("serve",),
        ("up",),
    ],
)
def test_invalid_settings_are_one_line_for_every_command(tmp_path, scratch, args):
    result = cli(Settings(warehouse=tmp_path), scratch, *args, env={"NEWSDESK_BATCH_SIZE": "0"})
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "invalid setting NEWSDESK_BATCH_SIZE: Input should be greater than or equal to 1 (got '0')"
    )


def test_ingest_refuses_a_non_model_package_before_prefect_starts(tmp_path, scratch):
    (tmp_path / "seeds").mkdir()
    shutil.copy(SAMPLE, tmp_path / "seeds" / SAMPLE.name)
    home = tmp_path / "prefect-home"
    result = cli(
        Settings(warehouse=tmp_path / "warehouse"),
        scratch,
        "ingest",
        "--seeds",
        str(tmp_path / "seeds"),
        env={"NEWSDESK_MODEL": "os", "PREFECT_HOME": str(home)},
    )
    assert result.returncode == 2
    assert "not a spaCy pipeline" in one_line(result.stderr)
    assert not home.exists()  # Prefect never started


def test_ingest_refuses_a_warehouse_path_that_is_a_file_before_prefect_starts(tmp_path, scratch):
    (tmp_path / "seeds").mkdir()
    shutil.copy(SAMPLE, tmp_path / "seeds" / SAMPLE.name)
    (tmp_path / "a-file").write_text("not a folder")
    home = tmp_path / "prefect-home"
    result = cli(
        Settings(warehouse=tmp_path / "a-file"),
        scratch,
        "ingest",
        "--seeds",
        str(tmp_path / "seeds"),
        env={"PREFECT_HOME": str(home)},
    )
    assert result.returncode == 2
    assert "not a folder" in one_line(result.stderr)
    assert not home.exists()


def test_model_check_accepts_the_pinned_model_and_refuses_look_alikes(tmp_path):
    from newsdesk.extraction.nlp import ModelError, check_model_installed

    check_model_installed(Settings().model)
    for name in ("os", "json", "", "os.path", str(tmp_path), "no_such_model_xyz"):
        with pytest.raises(ModelError):
            check_model_installed(name)


def test_side_effect_functions_are_all_known():
    """A DuckDB upgrade that flags a new function with side effects must be judged by a person."""
    import duckdb

    from newsdesk.warehouse import lake

    harmless = {
        "random",
        "uuid",
        "uuidv4",
        "uuidv7",
        "gen_random_uuid",
        "current_query",
        "current_query_id",
        "current_transaction_id",
        "current_connection_id",
        "sleep_ms",
        "error",
        "stats",
    }
    with duckdb.connect() as con:
        flagged = {
            row[0]
            for row in con.execute(
                "select distinct lower(function_name) from duckdb_functions() where has_side_effects"
            ).fetchall()
        }
    assert {name for name in flagged if not lake._side_effect_function(name)} == harmless
