"""Faults with real processes: kill -9 mid-commit, two runs at once, a warehouse
that cannot be written, the Prefect server going away, a missing model."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import free_port, ingest_argv, newsdesk, rows, start_prefect_server, table_counts, write_variants
from newsdesk.settings import Settings

FILES = 9  # the sample + 8 variants, committed in batches of 2


@pytest.fixture(params=["sqlite"])
def catalog(request) -> str:
    """The catalog the guarantees are checked on: SQLite + local files, or (parametrized
    indirectly) PostgreSQL + S3, which sets the environment that selects it."""
    if request.param == "postgres":
        request.getfixturevalue("remote_env")
    return request.param


@pytest.fixture
def many(catalog, workspace) -> Settings:
    write_variants(workspace.seeds_dir, FILES - 1)
    return Settings(seeds=workspace.seeds_dir, warehouse=workspace.warehouse_dir, n_process=1)


@pytest.fixture(scope="module")
def clean_counts(tmp_path_factory, prefect_server) -> dict[str, int]:
    """Row counts of an undisturbed run over the same files."""
    from helpers import SAMPLE

    root = tmp_path_factory.mktemp("clean")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(SAMPLE, seeds / SAMPLE.name)
    write_variants(seeds, FILES - 1)
    settings = Settings(seeds=seeds, warehouse=root / "warehouse")
    from newsdesk.flows.ingest import ingest

    ingest(seeds=str(seeds), warehouse=str(settings.warehouse_dir))
    return table_counts(settings)


def ingest_cli(settings: Settings, api: str, *extra: str, env: dict | None = None):
    return newsdesk(
        "ingest",
        "--seeds",
        str(settings.seeds_dir),
        "--warehouse",
        str(settings.warehouse_dir),
        *extra,
        env={"PREFECT_API_URL": api, "NEWSDESK_BATCH_SIZE": "2", "NEWSDESK_N_PROCESS": "1", **(env or {})},
    )


def assert_whole_batches(settings: Settings) -> None:
    """What a reader sees is consistent: every source row has its article, every
    article its source, and no child row is orphaned."""
    assert rows(
        settings,
        "select count(*) from sources s left join articles a using (article_id) "
        "where s.status = 'ingested' and a.article_id is null",
    ) == [(0,)]
    assert rows(
        settings,
        "select count(*) from articles a where not exists (select 1 from sources s where s.article_id = a.article_id)",
    ) == [(0,)]
    for table in ("mentions", "claims", "quantities"):
        assert rows(
            settings,
            f"select count(*) from {table} t where not exists "
            f"(select 1 from articles a where a.article_id = t.article_id)",
        ) == [(0,)]
    articles = table_counts(settings)["articles"]
    assert articles % 2 == 0 or articles == FILES  # batches of two, or all of them


KILL_POINTS = ["after_articles@3", "after_mentions@3", "after_claims@2", "after_sources@3", "before_commit@2"]


@pytest.mark.parametrize(
    "catalog,point",
    [("sqlite", point) for point in KILL_POINTS] + [("postgres", "after_mentions@3")],
    indirect=["catalog"],
)
def test_killed_mid_commit_leaves_no_partial_batch(many, prefect_server, clean_counts, catalog, point):
    crashed = ingest_cli(many, prefect_server, "--fault", point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert_whole_batches(many)
    before = table_counts(many)["articles"]
    assert before == 2 * (int(point.split("@")[1]) - 1)
    resumed = ingest_cli(many, prefect_server)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert table_counts(many) == clean_counts
    # the killed run's row is closed by the next run, with the reason
    statuses = rows(many, "select status, error from runs order by started_at")
    assert [s for s, _ in statuses] == ["abandoned", "completed"]
    assert "abandoned" in statuses[0][1]


@pytest.mark.parametrize("catalog", ["sqlite", "postgres"], indirect=True)
def test_two_runs_at_once(many, prefect_server, clean_counts, catalog):
    env = {"PREFECT_API_URL": prefect_server, "NEWSDESK_BATCH_SIZE": "2", "NEWSDESK_N_PROCESS": "1"}
    command = ingest_argv(many)
    first = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for proc in (first, second):
        _, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr.decode()[-2000:]
    assert table_counts(many) == clean_counts
    assert rows(many, "select count(*) from (select article_id from articles group by 1 having count(*) > 1)") == [(0,)]
    assert rows(many, "select count(*) from (select path from sources group by 1 having count(*) > 1)") == [(0,)]
    # both runs extracted every article; each article is counted as added by one run only
    assert rows(many, "select sum(articles_added) from runs") == [(clean_counts["articles"],)]


def last_message(stderr: str) -> str:
    """The CLI's own closing message (after Prefect's logs), unwrapped."""
    lines = [line.strip() for line in stderr.strip().splitlines()]
    start = max(i for i, line in enumerate(lines) if line.startswith(("ingest failed", "ingest stopped")))
    return " ".join(lines[start:])


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )


@pytest.fixture
def tmpfs(tmp_path):
    mount = tmp_path / "mnt"
    if not _mount_tmpfs(mount, "64m"):
        pytest.skip("needs root and mount to make a real read-only or full file system")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_read_only_warehouse_is_a_clear_error_and_changes_nothing(workspace, prefect_server, tmpfs):
    settings = Settings(seeds=workspace.seeds_dir, warehouse=tmpfs / "warehouse")
    assert ingest_cli(settings, prefect_server).returncode == 0
    before = table_counts(settings)
    write_variants(workspace.seeds_dir, 2)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    try:
        result = ingest_cli(settings, prefect_server)
        assert result.returncode == 2, result.stderr[-2000:]
        assert last_message(result.stderr).startswith("ingest failed: cannot write the warehouse")
        assert "read-only" in result.stderr.lower()
        assert table_counts(settings) == before
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    assert ingest_cli(settings, prefect_server).returncode == 0
    assert table_counts(settings)["articles"] == before["articles"] + 2


def test_full_disk_is_a_clear_error_and_nothing_half_committed(workspace, prefect_server, tmp_path):
    mount = tmp_path / "small"
    if not _mount_tmpfs(mount, "1m"):
        pytest.skip("needs root and mount to make a small file system")
    try:
        settings = Settings(seeds=workspace.seeds_dir, warehouse=mount / "warehouse")
        write_variants(workspace.seeds_dir, 60)
        result = ingest_cli(settings, prefect_server)
        assert result.returncode == 2, result.stderr[-2000:]
        message = last_message(result.stderr)
        assert "cannot write the warehouse" in message
        assert "space" in message.lower() or "full" in message.lower()
        assert "Traceback" not in result.stderr  # Prefect's lines name the error; no stack reaches the user
        if (mount / "warehouse" / "catalog.sqlite").exists():
            assert_whole_batches(settings)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _articles_visible(settings: Settings) -> int:
    """Articles a reader sees now; 0 while the warehouse is still being created."""
    import duckdb

    try:
        return rows(settings, "select count(*) from articles")[0][0]
    except (duckdb.Error, OSError, RuntimeError):
        return 0


@pytest.mark.slow
def test_prefect_server_dies_mid_run(workspace, prefect_server, clean_counts, tmp_path):
    write_variants(workspace.seeds_dir, FILES - 1)
    server, api = start_prefect_server(free_port(), tmp_path / "prefect-home")
    try:
        run = subprocess.Popen(
            ingest_argv(workspace),
            # Fewer client retries than Prefect's default: the test is about what
            # happens once they are spent, not about waiting them out.
            env={
                **os.environ,
                "PREFECT_API_URL": api,
                "NEWSDESK_BATCH_SIZE": "2",
                "NEWSDESK_N_PROCESS": "1",
                "PREFECT_CLIENT_MAX_RETRIES": "1",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and run.poll() is None:
            if _articles_visible(workspace) >= 2:
                break
            time.sleep(0.2)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        _, stderr = run.communicate(timeout=300)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert run.returncode in (0, 3), stderr[-3000:]
    if run.returncode == 3:
        assert "Prefect API is unreachable" in stderr
    assert_whole_batches(workspace)
    # the next run, with a working server, finishes the job
    resumed = ingest_cli(workspace, prefect_server)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert table_counts(workspace) == clean_counts


def test_missing_model_names_the_package(workspace):
    result = newsdesk(
        "ingest",
        "--seeds",
        str(workspace.seeds_dir),
        "--warehouse",
        str(workspace.warehouse_dir),
        env={"NEWSDESK_MODEL": "en_core_web_missing"},
    )
    assert result.returncode == 2
    assert "pip install" in result.stderr and "en_core_web_missing" in result.stderr


def test_wrong_model_version_is_refused(nlp, tmp_path):
    import json

    from newsdesk.extraction.nlp import ModelError, load_model

    target = tmp_path / "old_model"
    nlp.to_disk(target)
    meta = json.loads((target / "meta.json").read_text())
    meta["spacy_version"] = ">=2.0.0,<3.0.0"
    (target / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="built for spaCy >=2.0.0,<3.0.0"):
        load_model(str(target))


def _children(pid: int) -> set[int]:
    """Every live descendant of pid, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if stat[0] != "Z":
                parents[int(entry)] = int(stat[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_kill_9_of_the_cli_takes_its_workers_and_server_with_it(workspace):
    """Workers, the resource tracker and the temporary Prefect server all end with a killed CLI."""
    write_variants(workspace.seeds_dir, 40)
    env = {**os.environ, "NEWSDESK_BATCH_SIZE": "4", "NEWSDESK_N_PROCESS": "2"}
    env.pop("PREFECT_API_URL", None)  # a temporary server of its own
    env["PREFECT_HOME"] = str(workspace.warehouse_dir.parent / "prefect-home")
    cli = subprocess.Popen(
        ingest_argv(workspace),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and cli.poll() is None:
            seen |= _children(cli.pid)
            commands = " ".join(
                Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace") for p in seen if _alive(p)
            )
            if "uvicorn" in commands and commands.count("multiprocessing") >= 3:  # 2 workers + tracker
                break
            time.sleep(0.2)
        assert cli.poll() is None, "the run ended before its children could be seen"
        seen |= _children(cli.pid)
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(p) for p in seen):
            time.sleep(0.2)
        left = {p: Path(f"/proc/{p}/cmdline").read_bytes()[:80] for p in seen if _alive(p)}
        assert not left, left
    finally:
        for pid in [cli.pid, *seen]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
