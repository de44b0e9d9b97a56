"""Against a real `prefect server start` on a free loopback port: the CLI's
ingest shows up in the server as a completed flow run with its artifacts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    port = _free_port()
    home = tmp_path_factory.mktemp("prefect-home")
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "prefect server exited"
            time.sleep(0.5)
        else:
            pytest.fail("prefect server did not answer within 120 s")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_ingest_against_a_running_server(prefect_api, workspace):
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "ingest", "--seeds", str(workspace.seeds_dir),
         "--warehouse", str(workspace.warehouse_dir)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "Starting temporary server" not in result.stderr + result.stdout
    runs = httpx.post(f"{prefect_api}/flow_runs/filter", json={"limit": 10}).json()
    assert [r["state_type"] for r in runs] == ["COMPLETED"]
    artifacts = httpx.post(f"{prefect_api}/artifacts/filter",
                           json={"artifacts": {"flow_run_id": {"any_": [runs[0]["id"]]}}}).json()
    by_key = {a["key"]: a for a in artifacts}
    assert {"ingest-summary", "ingest-counts"} <= set(by_key)
    markdown = by_key["ingest-summary"]["data"]
    assert "Mark Rutte" in markdown and "articles added" in markdown
    task_names = {t["name"].rsplit("-", 1)[0] for t in
                  httpx.post(f"{prefect_api}/task_runs/filter", json={"limit": 50}).json()}
    assert task_names == {"read-batch", "extract-batch", "commit-batch"}
