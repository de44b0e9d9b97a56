"""The service as it runs: a real `prefect server`, real `newsdesk serve` and
`newsdesk watch` processes, files dropped into seeds/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from conftest import SAMPLE, free_port, rows, start_prefect_server, stop_group, table_counts, write_variants
from flows.lake import WarehouseError
from flows.settings import Settings

pytestmark = pytest.mark.slow


class Stack:
    """A Prefect server plus serve and watch processes over one seeds/ and warehouse."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.home = root / "prefect-home"
        self.settings = Settings(seeds=root / "seeds", warehouse=root / "warehouse")
        self.settings.seeds_dir.mkdir(parents=True, exist_ok=True)
        self.server = None
        self.children: list[subprocess.Popen] = []
        self.api = f"http://127.0.0.1:{self.port}/api"

    def start_server(self) -> None:
        self.server, _ = start_prefect_server(self.port, self.home)

    def stop_server(self) -> None:
        stop_group(self.server)

    def start_services(self) -> None:
        env = {**os.environ, "PREFECT_API_URL": self.api, "NEWSDESK_SEEDS": str(self.settings.seeds_dir),
               "NEWSDESK_WAREHOUSE": str(self.settings.warehouse_dir), "NEWSDESK_N_PROCESS": "1"}
        for command in ("serve", "watch"):
            log = open(self.root / f"{command}.log", "w")
            self.children.append(subprocess.Popen([sys.executable, "-m", "flows.cli", command], env=env,
                                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            names = [d["name"] for d in httpx.post(f"{self.api}/deployments/filter", json={}).json()]
            if "ingest" in names and "watching" in (self.root / "watch.log").read_text():
                return
            time.sleep(0.5)
        pytest.fail("serve/watch did not come up:\n" + self.logs())

    def logs(self) -> str:
        return "\n".join((self.root / f"{c}.log").read_text()[-3000:] for c in ("serve", "watch")
                         if (self.root / f"{c}.log").exists())

    def stop(self) -> None:
        for child in self.children:
            stop_group(child, timeout=60)
        if self.server is not None:
            stop_group(self.server)

    def articles(self) -> int:
        try:
            return rows(self.settings, "select count(*) from articles")[0][0]
        except (duckdb.Error, WarehouseError):
            return 0

    def wait_for_articles(self, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.articles() >= count:
                return
            time.sleep(0.3)
        pytest.fail(f"{self.articles()} of {count} articles after {timeout} s\n" + self.logs())

    def ingest_runs(self) -> list[dict]:
        runs = httpx.post(f"{self.api}/flow_runs/filter", json={"flow_runs": {"state": {"type": {"any_": [
            "COMPLETED", "RUNNING", "PENDING", "SCHEDULED", "FAILED"]}}}}).json()
        flows = {f["id"]: f["name"] for f in httpx.post(f"{self.api}/flows/filter", json={}).json()}
        return [r for r in runs if flows.get(r["flow_id"]) == "ingest"]


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    stack.start_server()
    stack.start_services()
    yield stack
    stack.stop()


def test_dropped_file_brings_its_article_and_claims(stack):
    shutil.copy(SAMPLE, stack.settings.seeds_dir / "dropped.txt")
    stack.wait_for_articles(1)
    assert rows(stack.settings, "select count(*) from claims")[0][0] >= 10
    time.sleep(1)
    runs = [r for r in stack.ingest_runs() if "trigger:event" in r["tags"]]
    assert runs and runs[0]["state_type"] == "COMPLETED"
    assert runs[0]["name"].startswith("event-1-file")
    assert runs[0]["parameters"]["paths"] == ["dropped.txt"]
    artifacts = httpx.post(f"{stack.api}/artifacts/filter",
                           json={"artifacts": {"flow_run_id": {"any_": [runs[0]["id"]]}}}).json()
    assert {"ingest-summary", "ingest-counts"} <= {a["key"] for a in artifacts}


def test_fifty_files_at_once_make_a_few_runs_and_no_duplicates(stack):
    staging = stack.root / "staging"
    staging.mkdir()
    write_variants(staging, 50)
    for path in sorted(staging.iterdir()):
        os.replace(path, stack.settings.seeds_dir / path.name)  # atomic arrival, as a copy tool's rename
    stack.wait_for_articles(50)
    time.sleep(3)  # let any queued run finish
    assert stack.articles() == 50
    counts = table_counts(stack.settings)
    assert counts["sources"] == 50
    assert rows(stack.settings, "select count(*) from (select article_id from articles group by 1 "
                                "having count(*) > 1)") == [(0,)]
    runs = [r for r in stack.ingest_runs() if "trigger:event" in r["tags"]]
    assert 1 <= len(runs) <= 5, [r["name"] for r in runs]


def test_file_dropped_while_the_server_is_down_is_still_ingested(stack):
    stack.stop_server()
    shutil.copy(SAMPLE, stack.settings.seeds_dir / "while-down.txt")
    time.sleep(4)  # the watcher notices, fails to announce, keeps retrying
    assert stack.articles() == 0
    stack.start_server()
    stack.wait_for_articles(1, timeout=240)
    for child in stack.children:
        assert child.poll() is None, stack.logs()  # neither serve nor watch crashed
