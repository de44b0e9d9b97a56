"""newsdesk against its physical limit: bare spaCy over the same texts.

One run measures, over a corpus (default ../shared/corpora/bbc):
  1. baseline  bare nlp.pipe: `spacy.load` of the same model with every component on,
               same batch size and n_process (--repeat N: N baseline/cold pairs)
  2. cold      `newsdesk ingest` into an empty warehouse, temporary Prefect server included
  3. warm      the same command again, nothing changed
  4. changed   one file edited among all of them, three ways, each beside that file's own
               extraction time (the model already loaded, as the stack has it; its load
               is reported apart):
                 cli        `newsdesk ingest`, starting a temporary Prefect server
                 cli_server `newsdesk ingest` while a Prefect server runs (no temporary one)
                 service    the running stack (`newsdesk up`: watch -> event -> serve): file
                            landed -> its row visible, median of 5 edits after a warm-up,
                            each landing on an idle stack, and the flow run's own duration
  5. reports   every warehouse/reports/*.sql on a warehouse scaled up to --scale-articles

    .venv/bin/python bench/ingest.py [--corpus DIR] [--scale-articles 100000] [--json out.json]

Prints the ratios and writes the same figures as JSON. Peak RSS is of the whole
process tree, sampled from /proc every 0.2 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsdesk.extraction.parse import ParseError, parse_article  # noqa: E402
from newsdesk.pipeline.sources import scan  # noqa: E402
from newsdesk.service.serve import QUEUED_STATE  # noqa: E402
from newsdesk.service.stack import api_healthy, stop_group  # noqa: E402
from newsdesk.settings import Settings  # noqa: E402
from newsdesk.warehouse import lake  # noqa: E402
from newsdesk.warehouse.files import reports  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "bbc"


class Peak(int):
    """A peak in bytes that also says how it split between the tree's processes."""

    parts: dict[str, int]
    trace: list[tuple[float, dict[str, int]]]  # (seconds in, bytes per kind) every TRACE_SECONDS

    def __new__(
        cls, total: int, parts: dict[str, int], trace: list[tuple[float, dict[str, int]]] | None = None
    ) -> Peak:
        peak = super().__new__(cls, total)
        peak.parts, peak.trace = parts, trace or []
        return peak


TRACE_SECONDS = 10.0


class TreeRSS:
    """Peak resident memory of a process and all its descendants, sampled from /proc,
    with what each kind of process held at that moment (`parts`), and each kind's
    memory every TRACE_SECONDS over the run (`trace`): where a long run's memory grows."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.parts, self._stop = pid, 0, {}, threading.Event()
        self.trace: list[tuple[float, dict[str, int]]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        start = next_trace = time.monotonic()
        while not self._stop.is_set():
            each = tree_rss_by_pid(self.pid)
            total = sum(each.values())
            if total > self.peak:
                self.peak, self.parts = total, parts_of(self.pid, each)
            now = time.monotonic()
            if now >= next_trace:
                self.trace.append((round(now - start, 1), parts_of(self.pid, each)))
                next_trace = max(next_trace + TRACE_SECONDS, now)  # a stalled pass is not caught up in a burst
            time.sleep(0.2)

    @property
    def result(self) -> Peak:
        return Peak(self.peak, self.parts, self.trace)


def tree_rss_by_pid(root: int) -> dict[int, int]:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    found, stack = {}, [root]
    while stack:
        pid = stack.pop()
        found[pid] = rss.get(pid, 0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return found


def parts_of(root: int, each: dict[int, int]) -> dict[str, int]:
    """Bytes per kind of process: the main one, the Prefect server, extraction workers, other."""
    parts: dict[str, int] = {}
    for pid, size in each.items():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            command = ""
        if pid == root:
            kind = "main"
        elif "uvicorn" in command or "prefect" in command and "server" in command:
            kind = "prefect server"
        elif "multiprocessing" in command or "spawn_main" in command:
            kind = "workers"
        else:
            kind = "other"
        parts[kind] = parts.get(kind, 0) + size
    return parts


def mb(n: int) -> float:
    return round(n / 2**20, 1)


def corpus_texts(corpus: Path) -> list[str]:
    texts = []
    for stat in scan(corpus):
        try:
            texts.append(parse_article((corpus / stat.path).read_bytes()).text)
        except ParseError:
            continue
    return texts


def baseline(texts: list[str], settings: Settings) -> dict:
    """What a user who writes `spacy.load` + `nlp.pipe` runs: every component of the
    model on, none of newsdesk's changes to the pipeline."""
    import spacy

    nlp = spacy.load(settings.model)
    with TreeRSS(os.getpid()) as rss:
        start = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=settings.nlp_batch_size, n_process=settings.n_process):
            pass
        seconds = time.perf_counter() - start
    words = sum(len(t.split()) for t in texts)
    return {
        "seconds": round(seconds, 2),
        "articles": len(texts),
        "words": words,
        "words_per_s": round(words / seconds),
        "peak_rss_mb": mb(rss.peak),
        "model": settings.model,
        "n_process": settings.n_process,
        "batch_size": settings.nlp_batch_size,
    }


def cli_env(settings: Settings, prefect_home: Path) -> dict[str, str]:
    """The environment for `newsdesk` on these seeds and this warehouse, with its own
    temporary Prefect server (never a server the machine happens to run)."""
    env = {
        **os.environ,
        "NEWSDESK_SEEDS": str(settings.seeds_dir),
        "NEWSDESK_WAREHOUSE": str(settings.warehouse_dir),
        "PREFECT_HOME": str(prefect_home),
        "NEWSDESK_USE_RUNNING_SERVER": "false",
    }
    env.pop("PREFECT_API_URL", None)
    return env


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsdesk.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    start = time.perf_counter()
    with TreeRSS(proc.pid) as rss:
        out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"newsdesk {' '.join(args)} failed:\n{out[-3000:]}")
    return seconds, rss.result, out


def scale_up(settings: Settings, target: int) -> int:
    """Copy the ingested rows under new article ids until there are `target` articles.
    Bypasses the NLP: this phase measures the reports, not extraction."""
    con = lake.connect(settings)
    try:
        base = con.execute("select count(*) from articles").fetchone()[0]
        copies = max(0, -(-target // base) - 1)
        for table in ("articles", "mentions", "claims", "quantities"):
            con.execute(f"create temp table base_{table} as select * from {table}")
        con.execute("begin transaction")
        for k in range(1, copies + 1):
            suffix = f"x{k:03}"
            for table in ("articles", "mentions", "claims", "quantities"):
                con.execute(
                    f"insert into {table} select * replace (article_id || ? as article_id) from base_{table}", [suffix]
                )
            con.execute(
                "insert into sources select * replace (path || ? as path, article_id || ? as article_id) "
                "from sources where article_id in (select article_id from base_articles)",
                [suffix, suffix],
            )
        lake.rebuild_entity_spellings(con)  # derived from mentions, as each commit keeps it
        con.execute("commit")
        return con.execute("select count(*) from articles").fetchone()[0]
    finally:
        con.close()


def time_reports(settings: Settings) -> dict[str, float]:
    con = lake.open_reader(settings)
    times = {}
    try:
        for name, found in reports(None).items():
            text = found.text
            params = {"speaker": "Blair"} if "speaker" in lake.parameters_of(text) else None
            lake.query(con, text, params)  # warm the file metadata cache once
            start = time.perf_counter()
            lake.query(con, text, params)
            times[name] = round(time.perf_counter() - start, 3)
    finally:
        con.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--scale-articles", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="baseline and cold ingest only (for an A/B)")
    parser.add_argument("--repeat", type=int, default=1, help="baseline and cold ingest pairs, for min/median/max")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} is absent: nothing to measure")
        return
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-"))
    seeds = work / "seeds"
    shutil.copytree(args.corpus, seeds, ignore=shutil.ignore_patterns("*.jsonl", "*.md", "README*"))
    settings = Settings(seeds=seeds, warehouse=work / "warehouse")
    env = cli_env(settings, work / "prefect")
    texts = corpus_texts(seeds)
    result: dict = {"corpus": str(args.corpus), "files": sum(1 for _ in scan(seeds))}

    words = sum(len(t.split()) for t in texts)
    ratios = []
    for attempt in range(max(1, args.repeat)):
        print(f"1/5 baseline: bare nlp.pipe (pair {attempt + 1}/{args.repeat}) ...", flush=True)
        result["baseline"] = baseline(texts, settings)
        print(f"2/5 cold ingest (pair {attempt + 1}/{args.repeat}) ...", flush=True)
        shutil.rmtree(settings.warehouse_dir, ignore_errors=True)
        seconds, peak, _ = run_cli(["ingest"], env)
        result["cold"] = {
            "seconds": round(seconds, 2),
            "articles": lake_count(settings),
            "peak_rss_mb": mb(peak),
            "words_per_s": round(words / seconds),
        }
        ratios.append(round(result["cold"]["words_per_s"] / result["baseline"]["words_per_s"], 3))
    result["cold_vs_baseline"] = statistics.median(ratios)
    result["cold_vs_baseline_runs"] = spread(ratios)
    if args.quick:
        print(json.dumps(result, indent=2))
        print(f"\ncold ingest / bare nlp.pipe throughput: {_spread(ratios)}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
        return

    print("3/5 warm re-run ...", flush=True)
    seconds, peak, out = run_cli(["ingest"], env)
    result["warm"] = {"seconds": round(seconds, 3), "peak_rss_mb": mb(peak), "output": out.strip()[-120:]}
    result["warm_fraction_of_cold"] = round(seconds / result["cold"]["seconds"], 4)

    print("4/5 one changed file ...", flush=True)
    files = sorted(seeds.rglob("*.txt"))
    result["changed"] = {"cli": changed_via_cli(files[0], settings, env, work)}
    with prefect_server(env, work) as (env, api):
        result["changed"]["cli_server"] = changed_via_cli(files[1], settings, env, work)
        result["changed"]["service"] = changed_via_service(files[2:8], settings, env, api, work)

    print(f"5/5 reports at {args.scale_articles:,} articles ...", flush=True)
    scaled = scale_up(settings, args.scale_articles)
    result["reports"] = {"articles": scaled, "seconds": time_reports(settings)}

    print(json.dumps(result, indent=2))
    print(f"\ncold ingest / bare nlp.pipe throughput: {_spread(ratios)}")
    print(f"warm re-run / cold: {result['warm_fraction_of_cold']:.2%}")
    for way, figures in result["changed"].items():
        print(
            f"one changed file, {way}: {figures['seconds']} s ({figures['own_extraction_s']} s of it the file's "
            f"own extraction"
            + (
                f"; median of {figures['edits']} edits, max {figures['max_s']} s; flow run "
                f"{figures['flow_run_s']} s; {SETTLE_NOTE.format(figures['settle_s'])}"
                if way == "service"
                else ""
            )
            + ")"
        )
    print(
        f"peak tree RSS: baseline {result['baseline']['peak_rss_mb']} MB, cold {result['cold']['peak_rss_mb']} MB, "
        f"warm {result['warm']['peak_rss_mb']} MB, "
        + ", ".join(f"changed/{way} {figures['peak_rss_mb']} MB" for way, figures in result["changed"].items())
    )
    print("reports: " + ", ".join(f"{k} {v} s" for k, v in result["reports"]["seconds"].items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def spread(values: list[float]) -> dict[str, float]:
    """The min / median / max of a figure measured several times: what every bench reports."""
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def _spread(ratios: list[float]) -> str:
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}"
    figures = spread(ratios)
    return f"median {figures['median']:.2f} (min {figures['min']:.2f}, max {figures['max']:.2f}, {len(ratios)} pairs)"


# An edit lands by a rename, which the watcher announces at once; the settle window
# (watch_stable_seconds) holds back only a file it never saw closed.
SETTLE_NOTE = "announced at its rename, not after the {} s settle"


def edit(path: Path, note: str, aside: Path) -> bytes:
    """Append a sentence the way an editor's tool saves: write aside (outside seeds/), rename over."""
    data = path.read_bytes() + f"\nThe editor said that {note}.\n".encode()
    staging = aside / f"edit-{path.name}"
    staging.write_bytes(data)
    os.replace(staging, path)
    return data


def changed_via_cli(path: Path, settings: Settings, env: dict[str, str], work: Path) -> dict:
    edit(path, "this line is new", work)
    (own,), _ = own_extraction_seconds([path], settings, warm_up=path)
    seconds, peak, out = run_cli(["ingest"], env)
    if "1 articles added" not in out:
        sys.exit(f"the changed file was not ingested:\n{out[-2000:]}")
    return {
        "seconds": round(seconds, 2),
        "own_extraction_s": round(own, 3),
        "overhead_s": round(seconds - own, 2),
        "peak_rss_mb": mb(peak),
        "temporary_server": "Starting temporary server" in out,
    }


def changed_via_service(paths: list[Path], settings: Settings, env: dict[str, str], api: str, work: Path) -> dict:
    """`newsdesk up` (it finds the running server and adds serve + watch), one warm-up
    edit, then one edit at a time: file landed -> its row visible to a reader."""
    log = work / "up.log"
    up = start_group([sys.executable, "-m", "newsdesk.cli", "up"], env, log)
    try:
        wait_until(
            lambda: "watching" in log.read_text() and "serving" in log.read_text(),
            180,
            f"the stack did not come up; see {log}",
        )
        con = lake.open_reader(settings)  # one reader, as an analyst's session: it sees each new snapshot
        latencies, runs, starts = [], [], []
        with TreeRSS(up.pid) as rss:
            for i, path in enumerate(paths):
                # Each edit lands on an idle stack: not behind the arming sweep's run (a walk
                # of the whole tree) nor behind the previous edit's run still ending.
                wait_until(lambda: not ingest_runs_active(api), 300, "the stack's ingest runs did not end")
                relative = path.relative_to(settings.seeds_dir).as_posix()
                sha = hashlib.sha256(edit(path, f"the service saw edit {i}", work)).hexdigest()
                landed, landed_at = time.monotonic(), datetime.now(UTC)
                wait_until(
                    lambda relative=relative, sha=sha: source_sha(con, relative) == sha,
                    120,
                    "the service did not ingest the edit",
                )
                if i:  # the first edit warms the serve process up
                    latencies.append(time.monotonic() - landed)
                    run = ingest_run_since(api, landed_at)
                    runs.append(run["total_run_time"])
                    starts.append((datetime.fromisoformat(run["start_time"]) - landed_at).total_seconds())
                time.sleep(1)
        con.close()
        owns, model_load = own_extraction_seconds(paths[1:], settings, warm_up=paths[0])  # each timed edit's text
        overheads = [latency - own for latency, own in zip(latencies, owns, strict=True)]
        return {
            "seconds": round(statistics.median(latencies), 2),
            "max_s": round(max(latencies), 2),
            "edits": len(latencies),
            "own_extraction_s": round(statistics.median(owns), 3),
            "own_extraction_each_s": [round(s, 3) for s in owns],
            "model_load_s": round(model_load, 3),  # not in own_extraction_s: the stack has it loaded
            # each edit's latency less its own file's extraction: the "2 s + its own extraction"
            "overhead_s": round(statistics.median(overheads), 2),
            "overheads_s": [round(s, 2) for s in overheads],
            "flow_run_s": round(statistics.median(runs), 2),
            "settle_s": settings.watch_stable_seconds,  # unused by a rename: see SETTLE_NOTE
            "landing_to_run_start_s": [round(s, 2) for s in starts],
            "latencies_s": [round(s, 2) for s in latencies],
            "peak_rss_mb": mb(rss.peak),
        }
    finally:
        stop_group(up)


def source_sha(con, path: str) -> str | None:
    row = con.execute("select content_sha256 from sources where path = ?", [path]).fetchone()
    return row[0] if row else None


def ingest_runs_active(api: str) -> bool:
    """Whether an ingest flow run is running, starting, or waiting for the slot (the
    cron's future runs, SCHEDULED for later, are not)."""
    import httpx

    query = {
        "flows": {"name": {"any_": ["ingest"]}},
        "flow_runs": {"state": {"type": {"any_": ["RUNNING", "PENDING", "SCHEDULED"]}}},
        "limit": 50,
    }
    now = datetime.now(UTC)
    for run in httpx.post(f"{api}/flow_runs/filter", json=query).json():
        expected = run.get("expected_start_time")
        due = expected is None or datetime.fromisoformat(expected) <= now
        if run["state_type"] != "SCHEDULED" or due or run["state_name"] == QUEUED_STATE:
            return True
    return False


def ingest_run_since(api: str, since: datetime) -> dict:
    """The completed flow run that started after `since` (the row is visible at its
    commit, before the run's checks and artifacts: wait for it to finish)."""
    import httpx

    query = {
        "sort": "START_TIME_DESC",
        "limit": 1,
        "flow_runs": {"start_time": {"after_": since.isoformat()}, "state": {"type": {"any_": ["COMPLETED"]}}},
    }
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = httpx.post(f"{api}/flow_runs/filter", json=query).json()
        if runs:
            return runs[0]
        time.sleep(0.1)
    sys.exit("no completed flow run after the edit")


@contextmanager
def prefect_server(env: dict[str, str], work: Path) -> Iterator[tuple[dict[str, str], str]]:
    """A Prefect server on a free port for the block: the environment that uses it, and its API."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**env, "NEWSDESK_SERVER_PORT": str(port), "NEWSDESK_USE_RUNNING_SERVER": "true"}
    server = start_group(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        work / "server.log",
    )
    try:
        wait_until(lambda: api_healthy(api), 120, "the Prefect server did not start")
        yield env, api
    finally:
        stop_group(server)


def start_group(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_until(ready, timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            sys.exit(failure)
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lake_count(settings: Settings) -> int:
    con = lake.open_reader(settings)
    try:
        return con.execute("select count(*) from articles").fetchone()[0]
    finally:
        con.close()


def own_extraction_seconds(paths: list[Path], settings: Settings, warm_up: Path) -> tuple[list[float], float]:
    """Each file's own extraction, one call per file, with the model loaded and warmed by
    one untimed call on `warm_up` first, as the running stack has it; and the model's load apart
    (which earlier figures counted in). One timing per edited file, not one for all:
    a single call is noisy (0.14 s and 0.75 s for the same kind of file, a phase apart)."""
    from newsdesk.extraction.nlp import load_model
    from newsdesk.extraction.pool import extract_texts

    articles = [parse_article(path.read_bytes()) for path in paths]
    first = parse_article(warm_up.read_bytes())
    start = time.perf_counter()
    load_model(settings.model)
    model_load = time.perf_counter() - start
    extract_texts(settings.model, [(first.article_id, first.text)], settings.nlp_batch_size)
    seconds = []
    for article in articles:
        begun = time.perf_counter()
        extract_texts(settings.model, [(article.article_id, article.text)], settings.nlp_batch_size)
        seconds.append(time.perf_counter() - begun)
    return seconds, model_load


if __name__ == "__main__":
    main()
