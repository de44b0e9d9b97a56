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

With --articles the batches are article-sized instead: texts from bench/synth.py's
corpus (BBC paragraphs, read at run time, never stored), 27 mentions each at real word
offsets (the average of an ingest run), and the ways are Parquet row-group sizes, each
merged in its own session:

  rg122880  DuckDB's default row group (how the lake wrote before)
  rg16384   `lake.PARQUET_ROW_GROUP_ROWS`, what a new or upgraded warehouse writes

    .venv/bin/python bench/merge_rss.py --articles [--commits 800]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WAYS = ("none", "writer", "own")
ROW_GROUP_WAYS = ("rg122880", "rg16384")
MENTIONS_PER_ARTICLE = 27
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


def article_batch(index: int, rnd: random.Random, texts: list[str]):
    """64 article-sized articles with mentions at word offsets of their own text."""
    from newsdesk.warehouse import lake

    small = batch(index, rnd)
    mentions = []
    for article in small.articles:
        text = rnd.choice(texts) + f" ({index})"  # each article's text its own
        article["text"] = text
        words = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
        for m, (start, end) in enumerate(rnd.sample(words, min(MENTIONS_PER_ARTICLE, len(words)))):
            mentions.append(
                {
                    "article_id": article["article_id"],
                    "mention_idx": m,
                    "start_char": start,
                    "end_char": end,
                    "text": text[start:end],
                    "entity_id": f"e{rnd.randint(0, 5000)}",
                }
            )
    return lake.BatchRows(
        sources=small.sources,
        articles=small.articles,
        mentions=mentions,
        claims=[],
        quantities=[],
        previous_article_ids=[],
    )


def corpus_texts(files: int) -> list[str]:
    from synth import DEFAULT_CORPUS, articles, synthetic

    return list(synthetic(articles(DEFAULT_CORPUS), files, one_paragraph=False, seed=1))


def child(way: str, commits: int, every: int) -> None:
    """One way of merging, in this (fresh) process; prints its figures as JSON."""
    from newsdesk.settings import Settings
    from newsdesk.warehouse import lake

    work = Path(tempfile.mkdtemp(prefix="newsdesk-merge-rss-"))
    (work / "seeds").mkdir()
    settings = Settings(seeds=work / "seeds", warehouse=work / "warehouse")
    con = lake.connect(settings)
    rnd = random.Random(1)
    texts = corpus_texts(2000) if way in ROW_GROUP_WAYS else []
    if way in ROW_GROUP_WAYS:  # over what the writer's connect set
        con.execute(lake.sql("set_lake_option"), {"name": "parquet_row_group_size", "value": int(way[2:])})
    start = time.perf_counter()
    for index in range(commits):
        lake.commit_batch(con, settings, article_batch(index, rnd, texts) if texts else batch(index, rnd))
        if way != "none" and (index + 1) % every == 0:
            if way == "own" or way in ROW_GROUP_WAYS:
                lake.merge_small_files(settings)
            else:
                with lake.write_lock(settings):
                    con.execute(lake.sql("merge_small_files"), {"max_bytes": lake.MERGE_MAX_FILE_BYTES})
    seconds = time.perf_counter() - start
    con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"way": way, "seconds": seconds, "end_mb": resident_mb(), "peak_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1600)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--articles", action="store_true", help="article-sized batches; ways: row-group sizes")
    parser.add_argument("--child", choices=WAYS + ROW_GROUP_WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.commits, args.every)
        return
    rows = []
    for way in ROW_GROUP_WAYS if args.articles else WAYS:
        out = subprocess.run(
            [sys.executable, __file__, "--child", way, "--commits", str(args.commits), "--every", str(args.every)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
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
