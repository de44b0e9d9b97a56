"""Memory of one extraction worker against whether it hands freed heap back.

One child process per way runs the pool's tasks one after another, as a pool worker
does: --articles synthetic article-sized texts from bench/synth.py (BBC paragraphs,
read at run time, never stored), in tasks of 32 (`pool._submit`'s size). Each child
reports its high-water RSS over the tasks (the kernel's VmHWM, reset after the model
loaded, so it sees the high inside a task), its mean RSS between tasks, and its time;
ways alternate over --repeat rounds, and the table gives medians, ratios to the first:

  keep   `extract_texts` alone: glibc keeps what each task freed (how workers ran before)
  trim   `extract_texts_then_trim`: the same, then `release_freed_heap` (what they run now)

Two workers are rarely at their highs at once, so the process tree's peak is about one
worker's high plus the other's level between tasks.

    .venv/bin/python bench/worker_rss.py [--articles 1000] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from synth import DEFAULT_CORPUS, articles, synthetic

WAYS = ("keep", "trim")
TASK = 32  # texts a pool task gets: nlp_batch_size 16, times 2


def status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith(field + ":"))


def child(way: str, count: int) -> dict:
    from newsdesk.extraction.matmul import single_blas_thread
    from newsdesk.extraction.parse import article_id_for
    from newsdesk.extraction.pool import extract_texts, extract_texts_then_trim, release_freed_heap
    from newsdesk.settings import Settings

    single_blas_thread()  # as a pool worker starts
    settings = Settings()
    texts = [(article_id_for(text), text) for text in synthetic(articles(DEFAULT_CORPUS), count, False, seed=1)]
    release_freed_heap()  # the corpus read: a pool worker never holds it, in either way
    run_task = extract_texts_then_trim if way == "trim" else extract_texts
    extract_texts(settings.model, texts[:1], settings.nlp_batch_size)  # the model, loaded
    release_freed_heap()
    loaded = status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM := VmRSS: the high-water mark counts from here
    between = []
    start = time.perf_counter()
    for i in range(0, count, TASK):
        run_task(settings.model, texts[i : i + TASK], settings.nlp_batch_size)
        between.append(status_mb("VmRSS"))
    seconds = time.perf_counter() - start
    return {
        "way": way,
        "seconds": seconds,
        "loaded_mb": loaded,
        "high_mb": status_mb("VmHWM"),
        "between_mb": statistics.fmean(between),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.articles)))
        return
    runs: dict[str, list[dict]] = {way: [] for way in WAYS}
    for _ in range(args.repeat):
        for way in WAYS:  # alternating, one at a time: the timing must not share the cores
            command = [sys.executable, __file__, "--child", way, "--articles", str(args.articles)]
            out = subprocess.run(command, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"the {way} child failed: {out.stderr.strip().splitlines()[-1:]}")
            runs[way].append(json.loads(out.stdout.strip().splitlines()[-1]))
    medians = {
        way: {key: statistics.median(r[key] for r in rows) for key in ("seconds", "loaded_mb", "high_mb", "between_mb")}
        for way, rows in runs.items()
    }
    base = medians[WAYS[0]]
    print(f"one worker, {args.articles} article-sized texts in tasks of {TASK}, median of {args.repeat}")
    ratio = "÷first"
    print(f"{'way':5} {'seconds':>8} {ratio:>6} {'loaded MB':>9} {'high MB':>8} {ratio:>6} {'between':>10} {ratio:>6}")
    for way, m in medians.items():
        print(
            f"{way:5} {m['seconds']:8.1f} {m['seconds'] / base['seconds']:6.2f} {m['loaded_mb']:9.0f} "
            f"{m['high_mb']:8.0f} {m['high_mb'] / base['high_mb']:6.2f} "
            f"{m['between_mb']:10.0f} {m['between_mb'] / base['between_mb']:6.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"articles": args.articles, "task": TASK, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
