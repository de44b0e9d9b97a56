"""Memory of the ingest process's writer session, bounded or not, at the end of a long run.

The end of a run checks and reports over every article it wrote (warehouse/checks/*.sql,
`lake.run_highlights`). With DuckDB's default memory_limit (80 % of RAM) that end took a
100,000-file ingest process to 1,043 MB. This bench isolates the warehouse side (no
spaCy, no Prefect): each way, in a fresh child process, commits --commits batches of 64
real article-sized extractions (bench/merge_rss.py --articles makes them: BBC
paragraphs read at run time, never stored) merged every 50 commits as a run does, then
runs the end-of-run checks and highlights. Reported as ratios to the first way, timed
in the same invocation:

  before   DuckDB's default limit, and the run's top entities as count(distinct) and mode()
  after    `writer_memory_limit` (512MB: spill to <warehouse>/.spill/), the two-step query

For each way: the commits' time and peak (VmHWM), then the end's time and peak (VmHWM
reset between the two through /proc/self/clear_refs).

    .venv/bin/python bench/writer_rss.py [--commits 1563] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]  # this checkout's newsdesk, whatever is installed

from merge_rss import extracted_batches, renamed, resident_mb  # noqa: E402

WAYS = ("before", "after")
# The top-entities query before this change: whole-run count(distinct) and mode().
BEFORE_TOP_ENTITIES = """
select m.entity_name as name, mode(m.label order by m.label) as label,
    count(distinct m.article_id) as articles, count(*) as mentions
from mentions as m
where m.article_id in (select article_id from articles where run_id = $run_id)
group by m.entity_name
order by articles desc, mentions desc, name
limit $limit
"""


def high_water_mb() -> float:
    """The kernel's peak resident size of this process since the last reset."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def reset_high_water() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def duckdb_default_limit() -> str:
    """DuckDB's own default: 80 % of physical memory."""
    return f"{int(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') * 0.8 / 2**20)}MB"


def child(way: str, commits: int, every: int, templates: Path) -> None:
    """One way, in this fresh process; prints its figures as JSON."""
    from newsdesk.settings import Settings
    from newsdesk.warehouse import lake

    work = Path(tempfile.mkdtemp(prefix="newsdesk-writer-rss-"))
    (work / "seeds").mkdir()
    limit = duckdb_default_limit() if way == "before" else Settings().writer_memory_limit
    settings = Settings(seeds=work / "seeds", warehouse=work / "warehouse", writer_memory_limit=limit)
    batches = pickle.loads(templates.read_bytes())
    try:
        con = lake.connect(settings)
        start = time.perf_counter()
        for index in range(commits):
            lake.commit_batch(con, settings, renamed(batches[index % len(batches)], index))
            if (index + 1) % every == 0:
                lake.merge_small_files(settings)
        commit_seconds, commit_peak = time.perf_counter() - start, high_water_mb()
        reset_high_water()
        start = time.perf_counter()
        failures = {name: bad for name, bad in lake.run_checks(con, "r").items() if bad}
        entities = {"run_id": "r", "limit": 10}
        top = con.execute(BEFORE_TOP_ENTITIES if way == "before" else lake.sql("run_top_entities"), entities)
        top_rows = top.fetchall()
        claims = con.execute(lake.sql("run_claims"), {"run_id": "r", "limit": 50}).fetchall()
        end_seconds, end_peak = time.perf_counter() - start, high_water_mb()
        articles = con.execute("select count(*) from articles").fetchone()[0]
        con.close()
    finally:
        shutil.rmtree(work)
    figures = {
        "way": way,
        "memory_limit": limit,
        "articles": articles,
        "commit_seconds": commit_seconds,
        "commit_peak_mb": commit_peak,
        "end_seconds": end_seconds,
        "end_peak_mb": end_peak,
        "end_mb": resident_mb(),
        "check_failures": failures,
        "top_entities": [list(row) for row in top_rows],
        "claims": len(claims),
    }
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1563, help="of 64 articles: 1,563 is 100,032 articles")
    parser.add_argument("--every", type=int, default=50, help="merge every this many commits, as a run does")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--templates", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.commits, args.every, args.templates)
        return
    scratch = Path(tempfile.mkdtemp(prefix="newsdesk-writer-rss-rows-"))
    try:
        templates = scratch / "batches.pickle"
        extracted_batches(templates)
        rows = []
        for way in WAYS:
            command = [sys.executable, __file__, "--child", way, "--commits", str(args.commits)]
            command += ["--every", str(args.every), "--templates", str(templates)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(scratch)
    base = rows[0]
    print(f"{base['articles']:,} article-sized articles in {args.commits} commits, merged every {args.every}")
    print(
        f"{'way':7} {'limit':>8} {'commits s':>9} {'÷first':>6} {'peak MB':>7} {'÷first':>6} "
        f"{'end s':>6} {'÷first':>6} {'end peak MB':>11} {'÷first':>6}"
    )
    for row in rows:
        print(
            f"{row['way']:7} {row['memory_limit']:>8} {row['commit_seconds']:9.1f} "
            f"{row['commit_seconds'] / base['commit_seconds']:6.2f} {row['commit_peak_mb']:7.0f} "
            f"{row['commit_peak_mb'] / base['commit_peak_mb']:6.2f} {row['end_seconds']:6.1f} "
            f"{row['end_seconds'] / base['end_seconds']:6.2f} {row['end_peak_mb']:11.0f} "
            f"{row['end_peak_mb'] / base['end_peak_mb']:6.2f}"
        )
    same = all(row["top_entities"] == base["top_entities"] for row in rows)
    print(f"same top entities either way: {same}; check failures: {[row['check_failures'] for row in rows]}")
    if args.json:
        args.json.write_text(json.dumps({"commits": args.commits, "every": args.every, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
