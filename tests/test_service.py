"""The service as it runs: a real `prefect server`, real `newsdesk serve` and
`newsdesk watch` processes, files dropped into seeds/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import httpx
import pytest

from helpers import SAMPLE, free_port, rows, start_prefect_server, stop_group, table_counts, write_variants
from newsdesk.service.serve import QUEUED_STATE
from newsdesk.settings import Settings
from newsdesk.warehouse.lake import WarehouseError

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

    def start_child(self, command: str, log_name: str, **extra_env: str) -> None:
        env = {
            **os.environ,
            **extra_env,
            "PREFECT_API_URL": self.api,
            "NEWSDESK_SEEDS": str(self.settings.seeds_dir),
            "NEWSDESK_WAREHOUSE": str(self.settings.warehouse_dir),
            "NEWSDESK_N_PROCESS": "1",
        }
        with open(self.root / f"{log_name}.log", "w") as log:
            self.children.append(
                subprocess.Popen(
                    [sys.executable, "-m", "newsdesk.cli", command],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def start_services(self, serves: int = 1) -> None:
        """serve and watch started together, as a host's process manager might."""
        for command, log_name in [("serve", f"serve{i or ''}") for i in range(serves)] + [("watch", "watch")]:
            self.start_child(command, log_name)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:  # a server busy with serve's start-up may answer slowly: ask again
                names = [d["name"] for d in httpx.post(f"{self.api}/deployments/filter", json={}, timeout=30).json()]
            except httpx.HTTPError:
                names = []
            if "ingest" in names and "watching" in (self.root / "watch.log").read_text():
                return
            time.sleep(0.5)
        pytest.fail("serve/watch did not come up:\n" + self.logs())

    def logs(self) -> str:
        return "\n".join(
            (self.root / f"{c}.log").read_text()[-3000:]
            for c in ("serve", "serve1", "watch")
            if (self.root / f"{c}.log").exists()
        )

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
        runs = httpx.post(
            f"{self.api}/flow_runs/filter",
            json={
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "RUNNING", "PENDING", "SCHEDULED", "FAILED"]}}}
            },
            timeout=30,  # the server shares two cores with serve and the other tests
        ).json()
        flows = {f["id"]: f["name"] for f in httpx.post(f"{self.api}/flows/filter", json={}, timeout=30).json()}
        return [r for r in runs if flows.get(r["flow_id"]) == "ingest"]


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    try:  # a failed start-up stops what it started too (CI once left serve and watch running)
        stack.start_server()
        stack.start_services()
        yield stack
    finally:
        stack.stop()


def test_dropped_file_brings_its_article_and_claims(stack):
    shutil.copy(SAMPLE, stack.settings.seeds_dir / "dropped.txt")
    stack.wait_for_articles(1)
    assert rows(stack.settings, "select count(*) from claims")[0][0] >= 10
    deadline = time.monotonic() + 30  # the run still publishes its report after the commit
    while True:
        runs = [r for r in stack.ingest_runs() if "trigger:event" in r["tags"]]
        if (runs and runs[0]["state_type"] == "COMPLETED") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert runs and runs[0]["state_type"] == "COMPLETED", [(r["name"], r["state_type"]) for r in runs]
    assert runs[0]["name"].startswith("event-1-file")
    assert runs[0]["parameters"]["paths"] == ["dropped.txt"]
    artifacts = httpx.post(
        f"{stack.api}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [runs[0]["id"]]}}}
    ).json()
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
    assert rows(
        stack.settings, "select count(*) from (select article_id from articles group by 1 having count(*) > 1)"
    ) == [(0,)]
    runs = [r for r in stack.ingest_runs() if "trigger:event" in r["tags"]]
    assert 1 <= len(runs) <= 5, [r["name"] for r in runs]


def test_two_serve_processes_run_every_flow_run_exactly_once(tmp_path):
    """Several hosts' `newsdesk serve` on one Prefect server: a burst of events makes
    flow runs that each execute once (Prefect refuses a second claim of a run)."""
    stack = Stack(tmp_path)
    stack.start_server()
    try:
        stack.start_services(serves=2)
        staging = stack.root / "staging"
        staging.mkdir()
        write_variants(staging, 12)
        for number, path in enumerate(sorted(staging.iterdir())):
            os.replace(path, stack.settings.seeds_dir / path.name)
            if number % 3 == 2:
                time.sleep(1.5)  # a new event every few files: a burst of separate runs
        stack.wait_for_articles(12)

        def event_runs() -> list[dict]:  # the cron's future runs stay SCHEDULED: not these
            return [r for r in stack.ingest_runs() if r["parameters"].get("trigger") == "event"]

        deadline = time.monotonic() + 60
        while any(r["state_type"] != "COMPLETED" for r in event_runs()) and time.monotonic() < deadline:
            time.sleep(0.5)
        runs = event_runs()
        assert len(runs) >= 2 and all(r["state_type"] == "COMPLETED" for r in runs), (
            [(r["name"], r["state_type"]) for r in runs],
            stack.logs(),
        )
        history = {
            run["id"]: httpx.get(f"{stack.api}/flow_run_states/", params={"flow_run_id": run["id"]}).json()
            for run in runs
        }
        for states in history.values():  # each run entered RUNNING once: one executor took it
            assert [st["type"] for st in states].count("RUNNING") == 1, states
        # A run queued behind another starts soon after the slot frees, not after the
        # server's 30 s slot wait: serve looks for a free slot every couple of seconds.
        ran = {rid: _state_time(states, "RUNNING") for rid, states in history.items()}
        # Every ingest run frees the slot when it ends, a cron sweep's too.
        finished = {r["id"]: datetime.fromisoformat(r["end_time"]) for r in stack.ingest_runs() if r["end_time"]}
        for rid, states in history.items():
            if any(st["name"] == QUEUED_STATE for st in states):
                slot_freed = max((t for other, t in finished.items() if other != rid and t <= ran[rid]), default=None)
                assert slot_freed is None or (ran[rid] - slot_freed).total_seconds() < 10, states
        recorded = rows(stack.settings, "select flow_run_id, count(*) from runs group by 1")
        # every event run recorded once (a cron sweep that came due meanwhile may be there too)
        assert {r["id"] for r in runs} <= {flow_run_id for flow_run_id, _ in recorded}
        assert {flow_run_id for flow_run_id, _ in recorded} <= {r["id"] for r in stack.ingest_runs()}
        assert all(count == 1 for _, count in recorded)
        assert table_counts(stack.settings)["articles"] == 12
        # each recorded run executed by one serve process, once (a cron sweep or upkeep run
        # that comes due while the test reads may add lines of its own: not counted)
        logs = "".join((stack.root / f"serve{i or ''}.log").read_text() for i in range(2))
        executed = re.findall(r"running \S+ \(ingest, flow run (\S+)\)", logs)
        for flow_run_id, _ in recorded:
            assert executed.count(flow_run_id) == 1, (flow_run_id, executed)
    finally:
        stack.stop()


def _state_time(states: list[dict], state_type: str) -> datetime:
    return datetime.fromisoformat(next(st["timestamp"] for st in states if st["type"] == state_type))


def test_file_dropped_while_the_server_is_down_is_still_ingested(stack):
    stack.stop_server()
    shutil.copy(SAMPLE, stack.settings.seeds_dir / "while-down.txt")
    time.sleep(4)  # the watcher notices, fails to announce, keeps retrying
    assert stack.articles() == 0
    stack.start_server()
    stack.wait_for_articles(1, timeout=240)
    for child in stack.children:
        assert child.poll() is None, stack.logs()  # neither serve nor watch crashed


def test_a_watcher_started_before_serve_arms_only_once_the_trigger_exists(tmp_path):
    """An event sent before serve registers the ingest trigger would start nothing:
    the watcher waits for the trigger, then its arming sweep finds what landed."""
    stack = Stack(tmp_path)
    stack.start_server()
    try:
        stack.start_child("watch", "watch")
        watch_log = stack.root / "watch.log"
        waiting = "waiting for the ingest deployment's event trigger"
        deadline = time.monotonic() + 60
        while waiting not in watch_log.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        shutil.copy(SAMPLE, stack.settings.seeds_dir / "early.txt")
        time.sleep(3)  # long enough for a settled file to be announced, were the watch armed
        assert waiting in watch_log.read_text(), stack.logs()
        assert "watching" not in watch_log.read_text(), stack.logs()
        stack.start_child("serve", "serve", NEWSDESK_SWEEP_CRON="0 0 1 1 *")  # no cron sweep by chance
        stack.wait_for_articles(1)
        assert "announcing one sweep" in watch_log.read_text(), stack.logs()
        runs = [r for r in stack.ingest_runs() if r["parameters"].get("trigger") != "schedule"]  # the cron's future run
        assert [(r["parameters"].get("trigger"), r["parameters"].get("paths")) for r in runs] == [("event", [])], runs
        assert all(child.poll() is None for child in stack.children), stack.logs()
    finally:
        stack.stop()


BRIDGE_ARTICLE = "Harbour bridge to reopen next week\nThe mayor said on Tuesday that the bridge would reopen.\n"


def _children_of(pid: int) -> list[int]:
    """Direct children of a process, read from /proc (empty once it has gone)."""
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                out.extend(int(child) for child in handle.read().split())
    except OSError:
        pass
    return out


class Up:
    """The real `newsdesk up` on a free port, over its own seeds/, warehouse and PREFECT_HOME."""

    def __init__(self, root: Path, **env: str):
        self.seeds = root / "seeds"
        self.seeds.mkdir(exist_ok=True)
        self.settings = Settings(seeds=self.seeds, warehouse=root / "warehouse")
        self.env = {
            **os.environ,
            "NEWSDESK_SEEDS": str(self.seeds),
            "NEWSDESK_WAREHOUSE": str(self.settings.warehouse_dir),
            "NEWSDESK_SERVER_PORT": str(free_port()),
            "PREFECT_HOME": str(root / "prefect-home"),
            "NEWSDESK_N_PROCESS": "1",
            **env,
        }
        self.env.pop("PREFECT_API_URL", None)
        self.log = root / "up.log"
        self.proc: subprocess.Popen | None = None
        self.children: set[int] = set()

    def start(self) -> None:
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "newsdesk.cli", "up"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, timeout: float = 240) -> bool:
        """Until `text` is in the output; False if `up` exits or time runs out first."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            self.children.update(_children_of(self.proc.pid))
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return text in self.output()
            time.sleep(0.02)
        return True

    def stop(self) -> None:
        """SIGINT `up` (it stops its children in order); then make sure that each child's
        process group is gone, even when `up` itself had to be killed."""
        import signal

        if self.proc is None:
            return
        self.children.update(_children_of(self.proc.pid))
        stop_group(self.proc, timeout=180)
        for child in self.children:  # each started in its own session: its process group id is its pid
            try:
                os.killpg(child, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@pytest.fixture
def up(tmp_path):
    stack = Up(tmp_path, NEWSDESK_SWEEP_CRON="0 0 1 1 *")  # no cron sweep to come by chance
    yield stack
    stack.stop()


def test_a_file_dropped_right_after_up_is_ingested_within_seconds(up, tmp_path):
    """`newsdesk up` says it is up only once serve has registered the event trigger and
    the watcher is armed: a file dropped at that moment is announced at once, not left
    to the cron sweep (before: up to 15 minutes; here the sweep is yearly)."""
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "bridge.txt").write_text(BRIDGE_ARTICLE, encoding="utf-8")
    up.start()
    assert up.wait_for("newsdesk is up"), "`newsdesk up` did not come up:\n" + up.output()[-5000:]
    landed = time.monotonic()
    os.replace(staging / "bridge.txt", up.seeds / "bridge.txt")  # lands whole, well within 0.2 s of the line

    titles: list[tuple] = []
    while time.monotonic() - landed < 60:  # measure beyond the bound, so a failure says by how much
        try:
            titles = rows(up.settings, "select title from articles")
        except (duckdb.Error, WarehouseError):
            titles = []
        if titles:
            break
        time.sleep(0.1)
    latency = time.monotonic() - landed
    print(f"dropped right after 'up': queryable after {latency:.2f} s")
    assert titles == [("Harbour bridge to reopen next week",)], up.output()[-5000:]
    # 3-4 s on an idle machine (1 s to settle, the event, the run); 15 s leaves room for a loaded one.
    assert latency < 15, f"queryable only after {latency:.1f} s\n" + up.output()[-5000:]
    assert up.proc.poll() is None, up.output()[-5000:]


def test_up_reports_a_child_that_dies_during_start_up(tmp_path):
    stack = Up(tmp_path, NEWSDESK_MODEL="no_such_spacy_model")  # serve cannot load it and exits
    stack.start()
    try:
        assert stack.wait_for("did not come up"), stack.output()[-5000:]
        assert stack.proc.wait(timeout=120) == 1
    finally:
        stack.stop()
    output = stack.output()
    assert "newsdesk did not come up: serve exited with code 1 during start-up" in output
    assert "newsdesk is up" not in output
    assert "Stopped." in output


def test_start_up_waits_are_bounded():
    from newsdesk.service.stack import wait_ready

    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        started = time.monotonic()
        message = wait_ready("watch", "arm its watch", {"watch": child}, lambda: False, 0.5, lambda: False)
        assert message == "watch did not arm its watch within 0.5 s"
        assert time.monotonic() - started < 5
        assert wait_ready("watch", "arm", {"watch": child}, lambda: True, 0.5, lambda: False) is None
    finally:
        stop_group(child)
    assert (
        wait_ready("watch", "arm", {"watch": child}, lambda: True, 0.5, lambda: False)
        == f"watch exited with code {child.returncode} during start-up"
    )
