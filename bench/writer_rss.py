"""Memory and time of the end of a long ingest run: its data checks and run report.

The end of a run checks and reports over every article it wrote (warehouse/checks/*.sql,
`lake.run_highlights`); it took a 100,000-file ingest process to 1,043 MB. This bench
isolates the warehouse side (no spaCy, no Prefect). A child process commits --commits
batches of 64 real article-sized extractions (bench/merge_rss.py --articles makes
them: BBC paragraphs read at run time, never stored), merging every 50 commits as a run
does. Then each way, in a fresh child on that warehouse, opens a writer session and
runs the end of the run, with its peak (VmHWM, reset after the session opens) and time
as ratios to `whole`, timed in the same invocation; the order of the ways turns
round each round:

  whole     the run's articles in one slice (the memory of how a run ended before
            slices, though with the queries of today)
  sliced    lake.RUN_SLICE_ARTICLES articles a slice (what a run does)

A memory_limit on the session was measured here before (311ca63) and did not help.

    .venv/bin/python bench/writer_rss.py [--commits 1563] [--repeat 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
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
from worker_rss import status_mb  # noqa: E402

WAYS = {"whole": 10**12, "sliced": None}  # articles a slice; None: the default


def reset_high_water() -> None:
    """VmHWM := VmRSS: the high-water mark counts from here."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def build(warehouse: Path, commits: int, every: int, templates: Path) -> None:
    """Commit the run's batches into a new warehouse; prints the commits' figures as JSON."""
    from newsdesk.settings import Settings
    from newsdesk.warehouse import lake

    settings = Settings(seeds=warehouse.parent / "seeds", warehouse=warehouse)
    batches = pickle.loads(templates.read_bytes())
    con = lake.connect(settings)
    start = time.perf_counter()
    for index in range(commits):
        lake.commit_batch(con, settings, renamed(batches[index % len(batches)], index))
        if (index + 1) % every == 0:
            lake.merge_small_files(settings)
    seconds = time.perf_counter() - start
    articles = con.execute("select count(*) from articles").fetchone()[0]
    con.close()
    print(json.dumps({"articles": articles, "commit_seconds": seconds, "commit_peak_mb": status_mb("VmHWM")}))


def end_of_run(way: str, warehouse: Path) -> None:
    """One way of ending the run, in this fresh process; prints its figures as JSON."""
    from newsdesk.settings import Settings
    from newsdesk.warehouse import lake

    settings = Settings(seeds=warehouse.parent / "seeds", warehouse=warehouse)
    con = lake.connect(settings)
    slice_articles = WAYS[way] or lake.RUN_SLICE_ARTICLES
    opened_mb = resident_mb()
    reset_high_water()
    start = time.perf_counter()
    failures = {name: bad for name, bad in lake.run_checks(con, "r", slice_articles).items() if bad}
    top, claims = lake.run_highlights(con, "r", slice_articles=slice_articles)
    seconds, peak = time.perf_counter() - start, status_mb("VmHWM")
    con.close()
    figures = {
        "way": way,
        "slice_articles": slice_articles,
        "opened_mb": opened_mb,
        "end_seconds": seconds,
        "end_peak_mb": peak,
        "check_failures": failures,
        "top_entities": [list(row) for row in top],
        "claims": len(claims),
    }
    print(json.dumps(figures))


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"child {args[:2]} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1563, help="of 64 articles: 1,563 is 100,032 articles")
    parser.add_argument("--every", type=int, default=50, help="merge every this many commits, as a run does")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every way, in turn")
    parser.add_argument("--child", choices=("build", *WAYS), help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--templates", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "build":
        build(args.warehouse, args.commits, args.every, args.templates)
        return
    if args.child:
        end_of_run(args.child, args.warehouse)
        return
    scratch = Path(tempfile.mkdtemp(prefix="newsdesk-writer-rss-"))
    try:
        templates, warehouse = scratch / "batches.pickle", scratch / "warehouse"
        extracted_batches(templates)
        built = run_child(
            "--child",
            "build",
            "--warehouse",
            str(warehouse),
            "--templates",
            str(templates),
            "--commits",
            str(args.commits),
            "--every",
            str(args.every),
        )
        rows = [
            run_child("--child", way, "--warehouse", str(warehouse))
            for round_ in range(args.repeat)
            for way in (list(WAYS) if round_ % 2 == 0 else list(WAYS)[::-1])
        ]
    finally:
        shutil.rmtree(scratch)
    print(
        f"{built['articles']:,} article-sized articles in {args.commits} commits, merged every {args.every}: "
        f"{built['commit_seconds']:.0f} s, peak {built['commit_peak_mb']:.0f} MB"
    )
    print(f"{'way':9} {'slice':>17} {'opened MB':>9} {'end s':>6} {'÷whole':>7} {'end peak MB':>11} {'÷whole':>7}")
    for index, row in enumerate(rows):
        round_rows = rows[index - index % len(WAYS) : index - index % len(WAYS) + len(WAYS)]
        base = next(other for other in round_rows if other["way"] == "whole")
        print(
            f"{row['way']:9} {row['slice_articles']:>17,} {row['opened_mb']:9.0f} {row['end_seconds']:6.1f} "
            f"{row['end_seconds'] / base['end_seconds']:7.2f} {row['end_peak_mb']:11.0f} "
            f"{row['end_peak_mb'] / base['end_peak_mb']:7.2f}"
        )
    same = all(row["top_entities"] == rows[0]["top_entities"] for row in rows)
    print(f"same top entities every way: {same}; check failures: {[row['check_failures'] for row in rows]}")
    if args.json:
        report = {"commits": args.commits, "every": args.every, "build": built, "rows": rows}
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
