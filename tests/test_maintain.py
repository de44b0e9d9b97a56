"""The nightly upkeep flow on a real warehouse, and `newsdesk up` stopping cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from helpers import free_port, table_counts, write_variants


def test_maintain_compacts_and_refreshes_report_artifacts(workspace, prefect_server):
    from newsdesk.flows.ingest import ingest
    from newsdesk.flows.maintain import maintain

    for i in range(3):  # three runs: three sets of small Parquet files
        write_variants(workspace.seeds_dir, 1, prefix=f"round{i}")
        ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    before = table_counts(workspace)
    # analysts' reports that cannot run are skipped with a warning, never fail the upkeep
    own = workspace.warehouse_dir / "reports"
    own.mkdir()
    (own / "Weekly.sql").write_text("select count(*) as n from sources")
    (own / "two.sql").write_text("select 1; select 2")
    (own / "latin.sql").write_bytes(b"-- caf\xe9\nselect 1\n")
    counts = maintain(warehouse=str(workspace.warehouse_dir))
    assert counts["data_files_after"] < counts["data_files_before"]
    assert table_counts(workspace) == before
    keys = {a["key"] for a in httpx.post(f"{prefect_server}/artifacts/filter", json={}).json()}
    assert {"report-top-entities", "report-who-said-what", "report-ingestion-log", "report-weekly"} <= keys


@pytest.mark.slow
def test_up_starts_the_stack_and_ctrl_c_stops_everything(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "NEWSDESK_SEEDS": str(seeds),
        "NEWSDESK_WAREHOUSE": str(tmp_path / "warehouse"),
        "NEWSDESK_SERVER_PORT": str(port),
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    env.pop("PREFECT_API_URL", None)
    log = tmp_path / "up.log"
    up = subprocess.Popen(
        [sys.executable, "-m", "newsdesk.cli", "up"],
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while "serving deployments" not in log.read_text() or "watching" not in log.read_text():
            assert up.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        assert f"Prefect UI: http://127.0.0.1:{port}" in log.read_text()
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
    finally:
        os.kill(up.pid, signal.SIGINT)  # what Ctrl-C sends
        up.wait(timeout=180)
    assert up.returncode == 0, log.read_text()[-3000:]
    assert "Stopped." in log.read_text()
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and str(seeds) in _environ(pid)]
    assert left == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)


def _environ(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return handle.read().decode(errors="replace")
    except OSError:
        return ""
