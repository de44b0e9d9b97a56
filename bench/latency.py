"""Latency of the running service: file lands in seeds/ -> its rows are queryable.

Starts the whole stack (`newsdesk up`) on a free port with a temporary seeds/
and warehouse, drops files one at a time and times each until a reader sees
its article, then drops a burst and counts the flow runs it took.

    .venv/bin/python bench/latency.py [--drops 20] [--burst 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsdesk.settings import Settings  # noqa: E402
from newsdesk.warehouse import lake  # noqa: E402

SAMPLE = ROOT / "seeds" / "000_cad65338f8a7906b.txt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def article_text(i: int, tag: str) -> str:
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")[1:]
    shift = i % len(lines)
    return f"{tag} {i} headline\n" + "\n".join(lines[shift:] + lines[:shift]) + "\n"


def drop(seeds: Path, staging: Path, name: str, text: str) -> float:
    """Write elsewhere, then rename into seeds/: the file lands whole, as a copy tool's rename."""
    tmp = staging / name
    tmp.write_text(text, encoding="utf-8")
    landed = time.monotonic()
    os.replace(tmp, seeds / name)
    return landed


def ingested(con, names: list[str]) -> int:
    placeholders = ", ".join("?" for _ in names)
    return con.execute(
        f"select count(*) from sources where status = 'ingested' and path in ({placeholders})", names
    ).fetchone()[0]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="newsdesk-latency-"))
    seeds, staging = root / "seeds", root / "staging"
    seeds.mkdir()
    staging.mkdir()
    port = free_port()
    settings = Settings(seeds=seeds, warehouse=root / "warehouse")
    env = {
        **os.environ,
        "NEWSDESK_SEEDS": str(seeds),
        "NEWSDESK_WAREHOUSE": str(settings.warehouse_dir),
        "NEWSDESK_SERVER_PORT": str(port),
        "PREFECT_HOME": str(root / "prefect"),
    }
    env.pop("PREFECT_API_URL", None)
    log = open(root / "up.log", "w")
    up = subprocess.Popen(
        [sys.executable, "-m", "newsdesk.cli", "up"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while "watching" not in (root / "up.log").read_text() or "serving" not in (root / "up.log").read_text():
            if time.monotonic() > deadline or up.poll() is not None:
                sys.exit("the stack did not come up; see " + str(root / "up.log"))
            time.sleep(0.5)
        time.sleep(2)

        # Warm-up drop: creates the warehouse; not counted.
        drop(seeds, staging, "warmup.txt", article_text(0, "Warmup"))
        while not lake.exists(settings):
            time.sleep(0.1)
        con = lake.open_reader(settings)
        while ingested(con, ["warmup.txt"]) < 1:
            time.sleep(0.05)

        latencies = []
        for i in range(args.drops):
            name = f"drop_{i:03}.txt"
            landed = drop(seeds, staging, name, article_text(i + 1, "Drop"))
            while ingested(con, [name]) < 1:
                time.sleep(0.05)
            latencies.append(time.monotonic() - landed)
            print(f"drop {i + 1:2}/{args.drops}: {latencies[-1]:.2f} s", flush=True)

        runs_before = _ingest_runs(api)
        names = [f"burst_{i:04}.txt" for i in range(args.burst)]
        texts = [article_text(i + 100, "Burst") for i in range(args.burst)]
        start = time.monotonic()
        for name, text in zip(names, texts, strict=False):
            drop(seeds, staging, name, text)
        while ingested(con, names) < len(names):
            time.sleep(0.2)
        burst_seconds = time.monotonic() - start
        time.sleep(3)
        burst_runs = len(_ingest_runs(api)) - len(runs_before)
        dupes = con.execute(
            "select count(*) from (select path from sources group by 1 having count(*) > 1)"
        ).fetchone()[0]
        dup_articles = con.execute(
            "select count(*) from (select article_id from articles group by 1 having count(*) > 1)"
        ).fetchone()[0]
        con.close()
    finally:
        os.killpg(up.pid, signal.SIGINT)
        up.wait(timeout=180)

    result = {
        "drops": len(latencies),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(percentile(latencies, 0.95), 3),
        "latency_max_s": round(max(latencies), 3),
        "burst_files": args.burst,
        "burst_seconds": round(burst_seconds, 2),
        "burst_flow_runs": burst_runs,
        "burst_duplicate_sources": dupes,
        "burst_duplicate_articles": dup_articles,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def _ingest_runs(api: str) -> list[dict]:
    flows = {f["id"]: f["name"] for f in httpx.post(f"{api}/flows/filter", json={}).json()}
    runs = httpx.post(f"{api}/flow_runs/filter", json={"limit": 200}).json()
    return [r for r in runs if flows.get(r["flow_id"]) == "ingest"]


if __name__ == "__main__":
    main()
