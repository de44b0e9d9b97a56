"""The CLI as users run it: a real subprocess, reading while the pipeline writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from helpers import ROOT, SAMPLE

NEWSDESK = [sys.executable, "-m", "newsdesk.cli"]


def cli(settings, *args, env=None, check=True):
    result = subprocess.run(
        [*NEWSDESK, *args, "--warehouse", str(settings.warehouse_dir)],
        capture_output=True,
        text=True,
        env=env or os.environ.copy(),
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def ingested(workspace, prefect_server):
    from newsdesk.flows.ingest import ingest

    ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    return workspace


def test_sql_formats(ingested):
    out = cli(ingested, "sql", "select article_id, word_count from articles", "--format", "jsonl").stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 1 and records[0]["word_count"] > 500
    csv_out = cli(ingested, "sql", "select count(*) as n from claims", "--format", "csv").stdout
    assert csv_out.splitlines()[0] == "n" and int(csv_out.splitlines()[1]) >= 10


def test_sql_refuses_writes(ingested):
    result = cli(ingested, "sql", "delete from articles", check=False)
    assert result.returncode == 2 and "only SELECT" in result.stderr


def test_every_report_runs(ingested):
    from newsdesk.warehouse.files import reports
    from newsdesk.warehouse.lake import parameters_of

    built_in = reports(None)
    assert {"top_entities", "who_said_what", "numeric_claims", "entity_cooccurrence", "ingestion_log"} <= set(built_in)
    for name, found in built_in.items():
        params = [arg for p in sorted(parameters_of(found.text)) for arg in ("--param", f"{p}=a")]
        cli(ingested, "report", name, "--format", "jsonl", *params)
    missing = cli(ingested, "report", "claims_by_speaker", check=False)
    assert missing.returncode == 2 and "--param speaker=VALUE" in missing.stderr
    who = [json.loads(line) for line in cli(ingested, "report", "who_said_what", "-f", "jsonl").stdout.splitlines()]
    assert sum(1 for r in who if r["speaker"] == "Mark Rutte") == 3


def test_speaker_and_number_reports_return_what_they_promise(ingested):
    """Each report against a plain query of what it says it returns (the reports are
    written for speed at a million articles; these queries are written to be obvious)."""
    from helpers import rows

    def report(*args):
        return [json.loads(line) for line in cli(ingested, "report", *args, "-f", "jsonl").stdout.splitlines()]

    for text in ("rutte", "Korea", "nobody by this name"):
        expected = rows(
            ingested,
            "select count(*) from claims as c join articles using (article_id) "
            "left join entities as e on e.entity_id = c.speaker_entity_id "
            "where contains(lower(coalesce(e.name, c.speaker)), lower(?))",
            [text],
        )[0][0]
        found = report("claims_by_speaker", "--param", f"speaker={text}")
        assert len(found) == min(expected, 1000)
        assert all(text.lower() in r["speaker"].lower() for r in found)
    assert len(report("claims_by_speaker", "--param", "speaker=rutte")) >= 3

    numbers = report("numeric_claims")
    expected = rows(
        ingested,
        "select count(*) from quantities join claims using (article_id, claim_idx) join articles using (article_id)",
    )[0][0]
    assert 0 < len(numbers) == min(expected, 1000)
    assert all(r["number_text"] in r["content"] for r in numbers)


def test_status_and_reports_list(ingested):
    out = cli(ingested, "status").stdout
    assert "articles" in out and "last runs" in out
    listing = subprocess.run([*NEWSDESK, "reports"], capture_output=True, text=True).stdout
    assert "who_said_what" in listing


def test_nothing_to_do_needs_no_prefect_server(ingested):
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"}  # nothing listens there
    result = cli(ingested, "ingest", "--seeds", str(ingested.seeds_dir), env=env)
    assert "Nothing to do" in result.stdout


def test_reader_sees_whole_batches_while_ingest_commits(workspace, prefect_server, tmp_path):
    """A second process queries while the pipeline commits: every answer is a
    whole number of batches, never a half-written one."""
    text = SAMPLE.read_text(encoding="utf-8")
    paragraphs = text.split("\n")
    for i in range(12):  # distinct articles: rotate paragraphs
        body = "\n".join(paragraphs[1:][i % 5 :] + paragraphs[1:][: i % 5])
        (workspace.seeds_dir / f"variant_{i:02}.txt").write_text(f"Variant {i} headline\n{body}\n", encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "NEWSDESK_BATCH_SIZE": "2", "NEWSDESK_N_PROCESS": "1"}
    writer = subprocess.Popen(
        [*NEWSDESK, "ingest", "--seeds", str(workspace.seeds_dir), "--warehouse", str(workspace.warehouse_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        while writer.poll() is None:
            if (workspace.warehouse_dir / "catalog.sqlite").exists():
                result = cli(workspace, "sql", "select count(*) as n from articles", "-f", "csv", check=False)
                if result.returncode == 0:
                    seen.append(int(result.stdout.splitlines()[1]))
            time.sleep(0.2)
    finally:
        stdout, stderr = writer.communicate(timeout=600)
    assert writer.returncode == 0, stderr
    final = cli(workspace, "sql", "select count(*) from articles", "-f", "csv").stdout.splitlines()[1]
    assert int(final) == 13
    assert seen, "the reader never got an answer while the writer ran"
    assert seen == sorted(seen)  # readers never see rows disappear
    # batches of 2 files: 13 articles commit as 2, 2, ..., 1 -> every answer is even or the final 13
    assert all(n % 2 == 0 or n == 13 for n in seen), seen


# Prefect reads its settings (PREFECT_HOME, the temporary server's start-up timeout) once,
# at import: a command that imports it before newsdesk's defaults runs on Prefect's own
# (a 20 s start-up, ~/.prefect). This stops each command at the defaults and says
# whether Prefect was already imported.
PROBE = """
import sys
from newsdesk.settings import Settings
def probe(self):
    print("prefect imported:", "prefect" in sys.modules)
    raise SystemExit(0)
Settings.apply_prefect_defaults = probe
from newsdesk.cli import app
app(sys.argv[1:])
"""


@pytest.mark.parametrize("command", ["ingest", "eval"])
def test_prefect_defaults_come_before_prefect_is_imported(tmp_path, command):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    args = {
        "ingest": ["ingest", "--seeds", str(seeds)],
        "eval": ["eval", "--texts", str(seeds), "--statements-gold", str(ROOT / "tests/data/sample_whosaid.jsonl")],
    }[command]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args, "--warehouse", str(tmp_path / "warehouse")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "prefect imported: False" in result.stdout, result.stdout + result.stderr[-2000:]
