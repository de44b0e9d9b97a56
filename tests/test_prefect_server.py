"""Against a real `prefect server start` on a free loopback port: the CLI's
ingest shows up in the server as a completed flow run with its artifacts."""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest

from helpers import free_port, ingest_argv, start_prefect_server, stop_group

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    proc, api = start_prefect_server(free_port(), tmp_path_factory.mktemp("prefect-home"))
    yield api
    stop_group(proc)


def _ingest(workspace, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ingest_argv(workspace),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_ingest_against_a_running_server(prefect_api, workspace):
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    result = _ingest(workspace, env)
    assert "Starting temporary server" not in result.stderr + result.stdout
    runs = httpx.post(f"{prefect_api}/flow_runs/filter", json={"limit": 10}).json()
    assert [r["state_type"] for r in runs] == ["COMPLETED"]
    artifacts = httpx.post(
        f"{prefect_api}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [runs[0]["id"]]}}}
    ).json()
    by_key = {a["key"]: a for a in artifacts}
    assert {"ingest-summary", "ingest-counts"} <= set(by_key)
    markdown = by_key["ingest-summary"]["data"]
    assert "Mark Rutte" in markdown and "articles added" in markdown
    task_names = {
        t["name"].rsplit("-", 1)[0] for t in httpx.post(f"{prefect_api}/task_runs/filter", json={"limit": 50}).json()
    }
    assert task_names == {"extract-batch", "commit-batch"}


def test_ingest_uses_the_running_stack_server_instead_of_a_temporary_one(prefect_api, workspace):
    """With no PREFECT_API_URL, `newsdesk ingest` finds `newsdesk up`'s server at
    NEWSDESK_SERVER_HOST/PORT and runs there, visible in its UI."""
    port = httpx.URL(prefect_api).port
    before = {r["id"] for r in httpx.post(f"{prefect_api}/flow_runs/filter", json={"limit": 50}).json()}
    env = {**os.environ, "NEWSDESK_USE_RUNNING_SERVER": "true", "NEWSDESK_SERVER_PORT": str(port)}
    env.pop("PREFECT_API_URL", None)
    result = _ingest(workspace, env)
    assert "Starting temporary server" not in result.stderr + result.stdout
    new = [r for r in httpx.post(f"{prefect_api}/flow_runs/filter", json={"limit": 50}).json() if r["id"] not in before]
    assert [r["state_type"] for r in new] == ["COMPLETED"]


def test_ingest_starts_a_temporary_server_when_none_answers(workspace):
    env = {**os.environ, "NEWSDESK_USE_RUNNING_SERVER": "true", "NEWSDESK_SERVER_PORT": str(free_port())}
    env.pop("PREFECT_API_URL", None)
    result = _ingest(workspace, env)
    assert "Starting temporary server" in result.stderr + result.stdout
