"""Cost against corpus size: cold ingest beside bare spaCy on the same synthetic texts.

For each size (synthetic corpora from bench/synth.py; "short:N" is N one-paragraph
files, where per-file overhead dominates):
  bare   `spacy.load` + `nlp.pipe` over the same texts, every component on, same
         batch size and n_process, in a child process (its tree's peak RSS)
  cold   `newsdesk ingest` into an empty warehouse (temporary Prefect server included)
  warm   the same command again, nothing changed
  changed (--changed) one edited file among all of them through the running stack
         (`newsdesk up`: watch -> event -> serve), landing to its row visible,
         median of 5 edits, beside that file's own extraction time
Prints time per file and peak tree RSS against size, cold ÷ bare time (target <= 1.2),
and writes the JSON and, when matplotlib is installed (the `bench` extra), a PNG plot.

    .venv/bin/python bench/scale.py [--sizes 1000,10000,short:20000] [--changed] [--no-bare]
        [--json out.json] [--plot out.png]
    .venv/bin/python bench/scale.py --plot-from a.json b.json --plot out.png   (no run: one plot of earlier runs)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest import ROOT, SETTLE_NOTE, TreeRSS, changed_via_service, cli_env, mb, prefect_server, run_cli
from synth import DEFAULT_CORPUS, write_corpus

from newsdesk.settings import Settings

BARE = """
import sys, time, spacy
from pathlib import Path
sys.path.insert(0, {root!r})
from newsdesk.extraction.parse import ParseError, parse_article

def texts():
    for path in sorted(Path({seeds!r}).rglob("*.txt")):
        try:
            yield parse_article(path.read_bytes()).text
        except ParseError:
            pass

nlp = spacy.load({model!r})
start = time.perf_counter()
for _ in nlp.pipe(texts(), batch_size={batch}, n_process={n_process}):
    pass
print(time.perf_counter() - start)
"""


def bare(seeds: Path, settings: Settings) -> tuple[float, int]:
    """Seconds of bare nlp.pipe over the corpus (reading files included, as ingest reads
    them too), and the child's peak tree RSS."""
    code = BARE.format(
        root=str(ROOT),
        seeds=str(seeds),
        model=settings.model,
        batch=settings.nlp_batch_size,
        n_process=settings.n_process,
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with TreeRSS(proc.pid) as rss:
        out, _ = proc.communicate()
    if proc.returncode != 0:
        sys.exit("bare nlp.pipe failed")
    return float(out.strip().splitlines()[-1]), rss.peak


def measure(size: str, work: Path, corpus: Path, changed: bool = False, with_bare: bool = True) -> dict:
    short = size.startswith("short:")
    files = int(size.split(":")[-1])
    seeds = work / size.replace(":", "-") / "seeds"
    write_corpus(seeds, files, one_paragraph=short, corpus=corpus)
    settings = Settings(seeds=seeds, warehouse=seeds.parent / "warehouse")
    env = cli_env(settings, seeds.parent / "prefect")
    bare_s, bare_rss = bare(seeds, settings) if with_bare else (None, None)
    cold_s, cold_rss, _ = run_cli(["ingest"], env)
    warm_s, warm_rss, _ = run_cli(["ingest"], env)
    service = None
    if changed:
        with prefect_server(env, seeds.parent) as (served, api):
            service = changed_via_service(sorted(seeds.rglob("*.txt"))[:6], settings, served, api, seeds.parent)
    shutil.rmtree(seeds.parent)
    return {
        "size": size,
        "files": files,
        "one_paragraph": short,
        "bare_s": round(bare_s, 2) if bare_s else None,
        "cold_s": round(cold_s, 2),
        "cold_over_bare": round(cold_s / bare_s, 3) if bare_s else None,
        "warm_s": round(warm_s, 2),
        "cold_ms_per_file": round(1000 * cold_s / files, 2),
        "bare_ms_per_file": round(1000 * bare_s / files, 2) if bare_s else None,
        "cold_peak_rss_mb": mb(cold_rss),
        # what each kind of process held at the cold run's peak
        "cold_peak_parts_mb": {kind: mb(size) for kind, size in sorted(cold_rss.parts.items())},
        # each kind's memory every 10 s over the cold run: [seconds, {kind: MB}]
        "cold_trace_mb": [[t, {kind: mb(size) for kind, size in sorted(parts.items())}] for t, parts in cold_rss.trace],
        "bare_peak_rss_mb": mb(bare_rss) if bare_rss else None,
        "warm_peak_rss_mb": mb(warm_rss),
        "changed_via_service": service,
    }


def over_the_run(trace: list[tuple[float, dict[str, float]]]) -> str:
    """The tree's RSS across a run's 10-s samples: a peak met once reads apart from
    the level the run holds."""
    totals = sorted(sum(parts.values()) for _, parts in trace)
    if not totals:
        return "no samples"
    median = totals[len(totals) // 2]
    high = totals[int(0.95 * (len(totals) - 1))]  # below the max from 20 samples on
    return f"{len(totals)} samples, median {median:.0f}, 95th percentile {high:.0f}, max {totals[-1]:.0f}"


def plot(rows: list[dict], path: Path) -> bool:
    """Time per file and peak RSS against corpus size; False when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for short, shape in ((False, "article-sized files"), (True, "one-paragraph files")):
        series = [r for r in rows if r["one_paragraph"] is short]
        if not series:
            continue
        sizes = [r["files"] for r in series]
        left.plot(sizes, [r["cold_ms_per_file"] for r in series], "o-", label=f"newsdesk ingest (cold), {shape}")
        right.plot(sizes, [r["cold_peak_rss_mb"] for r in series], "o-", label=f"newsdesk ingest (cold), {shape}")
        baselined = [r for r in series if r["bare_s"]]
        bare_sizes = [r["files"] for r in baselined]
        left.plot(bare_sizes, [r["bare_ms_per_file"] for r in baselined], "s--", label=f"bare nlp.pipe, {shape}")
        right.plot(bare_sizes, [r["bare_peak_rss_mb"] for r in baselined], "s--", label=f"bare nlp.pipe, {shape}")
    for axis, label in ((left, "ms per file"), (right, "peak RSS of the process tree, MB")):
        axis.set_xscale("log")
        axis.set_xlabel("files (synthetic, from BBC paragraphs)")
        axis.set_ylabel(label)
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle("newsdesk: cost against corpus size (2 cores)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,short:20000")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--no-bare", action="store_true", help="skip bare spaCy: cold and warm without their baseline")
    parser.add_argument("--changed", action="store_true", help="one changed file through the running stack, per size")
    parser.add_argument("--plot-from", type=Path, nargs="+", help="no run: plot the rows of earlier --json files")
    args = parser.parse_args()
    if args.plot_from:
        saved = [row for path in args.plot_from for row in json.loads(path.read_text())]
        drawn = args.plot is not None and plot(sorted(saved, key=lambda r: r["files"]), args.plot)
        print(f"plot: {args.plot}" if drawn else "plot: nothing drawn (needs --plot and matplotlib)")
        return
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} is absent: nothing to measure")
        return
    work = Path(tempfile.mkdtemp(prefix="newsdesk-scale-"))
    rows = []
    try:
        for size in args.sizes.split(","):
            print(f"{size} ...", flush=True)
            started = time.perf_counter()
            rows.append(measure(size.strip(), work, args.corpus, args.changed, not args.no_bare))
            shown = {key: value for key, value in rows[-1].items() if key != "cold_trace_mb"}
            print(f"  done in {time.perf_counter() - started:.0f} s: {shown}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'size':>12} {'bare ms/file':>13} {'cold ms/file':>13} {'cold/bare':>10} {'warm s':>7} {'RSS MB':>7}")
    for r in rows:
        print(
            f"{r['size']:>12} {r['bare_ms_per_file'] or '-':>13} {r['cold_ms_per_file']:>13} "
            f"{r['cold_over_bare'] or '-':>10} "
            f"{r['warm_s']:>7} {r['cold_peak_rss_mb']:>7}"
        )
    for r in rows:
        print(f"{r['size']}: cold run's peak by process (MB): {r['cold_peak_parts_mb']}")
        print(f"{r['size']}: cold run's tree RSS every 10 s (MB): {over_the_run(r['cold_trace_mb'])}")
    for r in rows:
        if r["changed_via_service"]:
            service = r["changed_via_service"]
            print(
                f"{r['size']}: one changed file through the running stack {service['seconds']} s median of "
                f"{service['edits']} edits (max {service['max_s']} s; own extraction {service['own_extraction_s']} s "
                f"with the model loaded, as the stack has it (its load {service['model_load_s']} s apart), "
                f"{SETTLE_NOTE.format(service['settle_s'])}, flow run {service['flow_run_s']} s)"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if args.plot:
        print(
            f"plot: {args.plot}" if plot(rows, args.plot) else "plot: skipped (pip install '.[bench]' for matplotlib)"
        )


if __name__ == "__main__":
    main()
