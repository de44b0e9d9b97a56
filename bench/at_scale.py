"""Warm re-run and one changed file among N files, beside a baseline size, in one run.

A cold ingest of 100,000 article-sized files takes one to two hours here (bench/scale.py);
these two figures do not need one. For each size (the first is the baseline):

  1. build   N synthetic files (bench/synth.py: BBC paragraphs, read at run time, never
             stored), and their warehouse as a run leaves it: real extractions of 640 of
             them (bench/merge_rss.py), committed again under new article ids in batches
             of 64 (lake.commit_batch), each batch's `sources` rows naming 64 of the N
             files with their real size, mtime and hash, merged every 50 commits as a
             run merges (lake.merge_small_files)
  2. warm    `newsdesk ingest` with nothing to do, --repeat times (min/median/max)
  3. changed one edited file through the running stack (`newsdesk up`: watch -> event ->
             serve), file landed -> its row visible, median of --edits edits each on an idle
             stack, and of each edit less its own file's extraction with the model loaded
             (bench/ingest.py);
             with --prefect-postgres, once more with the Prefect server's database in
             PostgreSQL (as Scale out runs it) instead of its default SQLite file

Prints each figure at every size with its ratio to the baseline's, timed in the same run.
An article's rows are a template's, so its text is not its file's: the warm run reads
only `sources` and the tree, and the changed file is read, extracted and committed for
real. What differs from a real run's warehouse: no `runs` history (the stack's first
sweep writes one), and the files were just written and hashed, so the page cache is
warm (as on a machine that serves the folder; a cold cache walks slower). The own
extraction is timed once per edited file, with the model this process loaded for the
templates, after one untimed call.

    .venv/bin/python bench/at_scale.py [--sizes 1000,100000] [--repeat 3] [--edits 10]
        [--prefect-postgres] [--json out.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from ingest import SETTLE_NOTE, changed_via_service, cli_env, prefect_server, run_cli
from merge_rss import extracted_batches, renamed
from synth import DEFAULT_CORPUS, write_corpus

from newsdesk.settings import Settings
from newsdesk.warehouse import lake

BATCH = 64
MERGE_EVERY = 50  # commits, as NEWSDESK_MERGE_EVERY_COMMITS


def build(seeds: Path, warehouse: Path, templates: list) -> float:
    """The warehouse a run over seeds/ would leave, from the template batches; seconds."""
    settings = Settings(seeds=seeds, warehouse=warehouse)
    paths = sorted(seeds.rglob("*.txt"))
    start = time.perf_counter()
    con = lake.connect(settings)
    try:
        for index in range(-(-len(paths) // BATCH)):
            files = paths[index * BATCH : (index + 1) * BATCH]
            lake.commit_batch(con, settings, batch_for(files, seeds, renamed(templates[index % len(templates)], index)))
            if (index + 1) % MERGE_EVERY == 0:
                lake.merge_small_files(settings)
    finally:
        con.close()
    return time.perf_counter() - start  # no merge after the last commit: a run leaves those files too


def batch_for(files: list[Path], seeds: Path, rows: lake.BatchRows) -> lake.BatchRows:
    """A template batch cut to as many articles as files, each file's `sources` row
    pointing at one of them (its real stat and hash, as a run writes it)."""
    kept = [article["article_id"] for article in rows.articles][: len(files)]
    if len(kept) < len(files):
        raise SystemExit("a template batch has fewer articles than a batch has files")
    keep = set(kept)
    now = datetime.now(UTC)
    sources = []
    for path, article_id in zip(files, kept, strict=True):
        stat = path.stat()
        sources.append(
            {
                "path": path.relative_to(seeds).as_posix(),
                "content_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "size_bytes": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "ctime_ns": stat.st_ctime_ns,
                "modified_at": datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC),
                "article_id": article_id,
                "status": "ingested",
                "error": None,
                "encoding": "utf-8",
                "first_seen_at": now,
                "last_seen_at": now,
                "run_id": "r",
            }
        )

    def only_kept(table: list[dict]) -> list[dict]:
        return [row for row in table if row["article_id"] in keep]

    return lake.BatchRows(
        sources,
        only_kept(rows.articles),
        only_kept(rows.mentions),
        only_kept(rows.claims),
        only_kept(rows.quantities),
        [],
        only_kept(rows.stances),
    )


def measure(
    files: int, work: Path, templates: list, repeat: int, corpus: Path, edits: int, prefect_postgres: bool
) -> dict:
    seeds = work / str(files) / "seeds"
    write_corpus(seeds, files, corpus=corpus)
    settings = Settings(seeds=seeds, warehouse=seeds.parent / "warehouse")
    build_s = build(seeds, settings.warehouse_dir, templates)
    env = cli_env(settings, seeds.parent / "prefect")
    warm = []
    for _ in range(repeat):
        seconds, _, out = run_cli(["ingest"], env)
        if "Nothing to do" not in out:
            sys.exit(f"the warm run at {files} files found work: the build is wrong\n{out[-2000:]}")
        warm.append(seconds)
    paths = sorted(seeds.rglob("*.txt"))
    changed = changed_file(paths[: edits + 1], settings, env, False)  # the first edit warms serve up
    row = {
        "files": files,
        "build_s": round(build_s, 1),
        "warm_s": {"min": round(min(warm), 2), "median": round(statistics.median(warm), 2), "max": round(max(warm), 2)},
        "changed_via_service": changed,
    }
    if prefect_postgres:
        row["changed_prefect_on_postgres"] = changed_file(paths[edits + 1 : 2 * edits + 2], settings, env, True)
    shutil.rmtree(seeds.parent)
    return row


def changed_file(paths: list[Path], settings: Settings, env: dict[str, str], prefect_postgres: bool) -> dict:
    """Edits through `newsdesk up` beside a temporary Prefect server; its database is
    SQLite (the default) or a temporary PostgreSQL's."""
    with ExitStack() as stack:
        if prefect_postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from services import PASSWORD, postgres_server  # the servers the tests start

            postgres = stack.enter_context(postgres_server())
            url = f"postgresql+asyncpg://{postgres.user}:{PASSWORD}@{postgres.host}:{postgres.port}"
            env = {**env, "PREFECT_API_DATABASE_CONNECTION_URL": f"{url}/{postgres.new_database()}"}
        served, api = stack.enter_context(prefect_server(env, settings.seeds_dir.parent))
        changed = changed_via_service(paths, settings, served, api, settings.seeds_dir.parent)
    changed.pop("model_load_s")  # not measured: this process loaded the model for the templates
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="file counts; the first is the baseline")
    parser.add_argument("--repeat", type=int, default=3, help="warm re-runs at each size")
    parser.add_argument(
        "--edits", type=int, default=10, help="timed edits at each size (some events take Prefect 2 s more)"
    )
    parser.add_argument(
        "--prefect-postgres", action="store_true", help="also time the edits with the Prefect server on PostgreSQL"
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} is absent: nothing to measure")
        return
    work = Path(tempfile.mkdtemp(prefix="newsdesk-at-scale-"))
    rows = []
    try:
        print("templates: 640 files extracted once ...", flush=True)
        extracted_batches(work / "templates.pickle")
        # whole batches only: a file of the corpus that failed to parse leaves its batch short
        templates = [t for t in pickle.loads((work / "templates.pickle").read_bytes()) if len(t.articles) >= BATCH]
        if not templates:
            sys.exit("no template batch has 64 articles")
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"{size} files ...", flush=True)
            rows.append(measure(size, work, templates, args.repeat, args.corpus, args.edits, args.prefect_postgres))
            print(f"  {json.dumps(rows[-1])}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows[0]
    print(
        f"\n{'files':>8} {'warm s (min/med/max)':>22} {'÷ base':>7} {'changed s':>10} {'÷ base':>7} {'own s':>6} "
        f"{'less own':>9}"
    )
    for r in rows:
        warm, changed = r["warm_s"], r["changed_via_service"]
        print(
            f"{r['files']:>8} {warm['min']:>6}/{warm['median']}/{warm['max']:<8} "
            f"{warm['median'] / base['warm_s']['median']:>7.2f} {changed['seconds']:>10} "
            f"{changed['seconds'] / base['changed_via_service']['seconds']:>7.2f} {changed['own_extraction_s']:>6} "
            f"{changed['overhead_s']:>9}"
        )
    print("(own s: median of each edited file's extraction; less own: median over edits of latency less it)")
    for r in rows:
        for key, server in (("changed_via_service", "SQLite"), ("changed_prefect_on_postgres", "PostgreSQL")):
            if key not in r:
                continue
            changed = r[key]
            print(
                f"{r['files']}, Prefect on {server}: changed file median {changed['seconds']} s of "
                f"{changed['latencies_s']} s, less its own extraction median {changed['overhead_s']} s of "
                f"{changed['overheads_s']} s (landing to run start {changed['landing_to_run_start_s']}; "
                f"{SETTLE_NOTE.format(changed['settle_s'])}; flow run {changed['flow_run_s']} s)"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
