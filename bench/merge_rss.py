"""Memory of a long run's writer process against how it merges small files.

A long ingest commits one batch at a time and merges the small files every N commits.
This bench isolates the warehouse side (no spaCy, no Prefect): one child process per
way of merging commits --commits synthetic batches of 64 articles (words of this
script's own, 8 mentions each) into a new warehouse, and reports its resident memory
at the end, its peak, and its time, each as a ratio to the run without merges, timed
in the same invocation:

  none     no merges (the baseline: flat memory, but every commit reads more files)
  writer   the merge on the run's own long-lived writer session (how it was done before)
  own      `lake.merge_small_files`: the merge in a session of its own, closed after it

    .venv/bin/python bench/merge_rss.py [--commits 1600] [--every 50] [--json out.json]

With --articles the batches are real ones instead: 640 article-sized files from
bench/synth.py (BBC paragraphs, read at run time, never stored) read, parsed and
extracted once as an ingest run does, then committed again and again under new ids
(no spaCy in the timed children). The ways are then Parquet row-group sizes, each
merged in its own session:

  rg122880  DuckDB's default row group (how the lake wrote before)
  rg16384   `lake.RUN_MERGE_ROW_GROUP_ROWS`, what a run's merges write now

    .venv/bin/python bench/merge_rss.py --articles [--commits 800]
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WAYS = ("none", "writer", "own")
ROW_GROUP_WAYS = ("rg122880", "rg16384")
WORDS = "minister said police market growth percent council report league season".split()


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def batch(index: int, rnd: random.Random):
    from newsdesk.warehouse import lake

    articles, mentions, sources = [], [], []
    for j in range(64):
        article_id = f"a{index:06d}{j:02d}"
        articles.append(
            {"article_id": article_id, "title": "t", "text": " ".join(rnd.choices(WORDS, k=60)), "run_id": "r"}
        )
        mentions += [
            {
                "article_id": article_id,
                "mention_idx": m,
                "start_char": 0,
                "end_char": 5,
                "text": "council",
                "entity_id": f"e{rnd.randint(0, 5000)}",
            }
            for m in range(8)
        ]
        sources.append(
            {
                "path": f"{article_id}.txt",
                "content_sha256": article_id,
                "size_bytes": 1,
                "mtime_ns": 1,
                "modified_at": None,
                "article_id": article_id,
                "status": "ingested",
                "error": None,
                "encoding": "utf-8",
                "first_seen_at": None,
                "last_seen_at": None,
                "run_id": "r",
            }
        )
    return lake.BatchRows(
        sources=sources, articles=articles, mentions=mentions, claims=[], quantities=[], previous_article_ids=[]
    )


def extracted_batches(out: Path, files: int = 640) -> None:
    """Real rows once: `files` synthetic articles read, parsed and extracted as an ingest
    run does, in batches of 64, pickled to `out` for the children to commit again."""
    from datetime import UTC, datetime

    from synth import write_corpus

    from newsdesk.extraction.pool import extract_texts
    from newsdesk.pipeline.batches import build_rows, chunks, read_batch
    from newsdesk.pipeline.pending import KnownArticles
    from newsdesk.pipeline.sources import FileStat
    from newsdesk.settings import Settings

    seeds = out.parent / "seeds"
    write_corpus(seeds, files)
    settings = Settings(seeds=seeds, warehouse=out.parent / "unused")
    paths = sorted(seeds.rglob("*.txt"))
    stats = [FileStat(str(p.relative_to(seeds)), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    batches = []
    for group in chunks(stats, 64):
        prepared = read_batch(group, settings, KnownArticles())
        extractions = extract_texts(settings.model, prepared.to_extract(), settings.nlp_batch_size)
        batches.append(build_rows(prepared, extractions, {}, "r", datetime.now(UTC)))
    out.write_bytes(pickle.dumps(batches))
    shutil.rmtree(seeds)


def renamed(template, index: int):
    """A template batch under new article ids and paths: new rows to the warehouse."""
    from newsdesk.warehouse import lake

    ids: dict[str, str] = {}

    def rows(table: list[dict]) -> list[dict]:
        out = []
        for row in table:
            row = dict(row)
            if row.get("article_id"):
                row["article_id"] = ids.setdefault(row["article_id"], f"{index:08d}{len(ids):08d}")
            if "path" in row:
                row["path"] = f"{index:06d}/{row['path']}"
            out.append(row)
        return out

    t = template
    return lake.BatchRows(
        rows(t.sources), rows(t.articles), rows(t.mentions), rows(t.claims), rows(t.quantities), [], rows(t.stances)
    )


def child(way: str, commits: int, every: int, templates: Path | None = None) -> None:
    """One way of merging, in this (fresh) process; prints its figures as JSON."""
    from newsdesk.settings import Settings
    from newsdesk.warehouse import lake

    work = Path(tempfile.mkdtemp(prefix="newsdesk-merge-rss-"))
    (work / "seeds").mkdir()
    settings = Settings(seeds=work / "seeds", warehouse=work / "warehouse")
    if way in ROW_GROUP_WAYS:  # what each merge sets the lake to
        lake.RUN_MERGE_ROW_GROUP_ROWS = int(way[2:])
    con = lake.connect(settings)
    rnd = random.Random(1)
    batches = pickle.loads(templates.read_bytes()) if templates else []
    start = time.perf_counter()
    for index in range(commits):
        rows = renamed(batches[index % len(batches)], index) if batches else batch(index, rnd)
        lake.commit_batch(con, settings, rows)
        if way != "none" and (index + 1) % every == 0:
            if way == "own" or way in ROW_GROUP_WAYS:
                lake.merge_small_files(settings)
            else:
                with lake.write_lock(settings):
                    con.execute(lake.sql("merge_small_files"), {"max_bytes": lake.MERGE_MAX_FILE_BYTES})
    seconds = time.perf_counter() - start
    con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    end = resident_mb()
    shutil.rmtree(work)  # a long run's warehouse is hundreds of megabytes
    print(json.dumps({"way": way, "seconds": seconds, "end_mb": end, "peak_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1600)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--articles", action="store_true", help="article-sized batches; ways: row-group sizes")
    parser.add_argument("--child", choices=WAYS + ROW_GROUP_WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--templates", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.commits, args.every, args.templates)
        return
    rows = []
    scratch = Path(tempfile.mkdtemp(prefix="newsdesk-merge-rss-rows-"))
    templates = scratch / "batches.pickle"
    if args.articles:  # extracted here, in the parent: the children commit them only
        extracted_batches(templates)
    for way in ROW_GROUP_WAYS if args.articles else WAYS:
        command = [sys.executable, __file__, "--child", way, "--commits", str(args.commits), "--every", str(args.every)]
        command += ["--templates", str(templates)] if args.articles else []
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    shutil.rmtree(scratch)
    base = rows[0]
    size = "article-sized" if args.articles else "one-line"
    print(f"{args.commits} commits of 64 {size} articles, merges every {args.every} commits")
    print(f"{'way':8} {'seconds':>8} {'÷first':>6} {'end MB':>7} {'÷first':>6} {'peak MB':>8} {'÷first':>6}")
    for row in rows:
        print(
            f"{row['way']:8} {row['seconds']:8.1f} {row['seconds'] / base['seconds']:6.2f} "
            f"{row['end_mb']:7.0f} {row['end_mb'] / base['end_mb']:6.2f} "
            f"{row['peak_mb']:8.0f} {row['peak_mb'] / base['peak_mb']:6.2f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"commits": args.commits, "every": args.every, "articles": args.articles, "rows": rows}, indent=2
            )
        )


if __name__ == "__main__":
    main()
