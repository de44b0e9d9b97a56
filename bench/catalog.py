"""The catalog over time: a warehouse built by many one-file runs against one built in one run.

One run of this script:
  1. seed      `newsdesk ingest` (the real CLI, temporary Prefect server) of --seed-files BBC
               business files into a warehouse; that folder is then copied, so both
               warehouses below start from the same ingested base
  2. one run   --runs new articles (the base's rows copied under new ids, no NLP) in ONE
               transaction, inside one recorded run, as a large ingest writes them
  3. many runs the same articles, one run per article, as the service's normal life
               (one edited file per run) writes them; each run is lake.recorded_run
               (start_run, then finish_run: two transactions on `runs`) around
               lake.commit_batch of that one article (articles, mentions, claims,
               quantities, stances and its sources row, in one transaction): the same
               statements, in the same transactions, as a real one-file run.
               Left out: Prefect (its server and task runs), spaCy, reading the file, the
               data checks and the run's report (reads only), and a new DuckDB
               connection per run (one connection serves every run here).
  4. measure   four warehouses: "one run", "many runs", and two copies of "many runs" after
               `lake.maintain`: with the default snapshot retention (7 days: nothing
               is expired yet) and with retention 0 (every snapshot but the last
               expired: what the retained history costs). On each: every built-in
               report, median of --repeat, cold (a fresh reader, as `newsdesk report`
               runs it) and warm (one reader, file metadata cached), the states taking
               turns so machine load falls on all alike; live data and delete files,
               catalog file rows, catalog size (SQLite + WAL), snapshots, Parquet files
               on disk (files a merge replaced stay there through the cleanup grace).

    .venv/bin/python bench/catalog.py [--runs 1000] [--seed-files 100] [--repeat 5] [--json out.json]

Ratios are against "one run", timed in the same process. `ingestion_log` returns one row
per run, so it grows with the runs by design and is left out of the total.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsdesk.settings import Settings  # noqa: E402
from newsdesk.warehouse import lake  # noqa: E402
from newsdesk.warehouse.files import reports, sql  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from ingest import cli_env, run_cli  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "bbc" / "business"
CHILD_TABLES = ("mentions", "claims", "quantities", "stances")
# stances are stored with holder_* names but commit_batch takes them claim-shaped (insert_stances.sql)
STANCE_AS_CLAIM = (
    "stance_idx as claim_idx, holder as speaker, holder_entity_id as speaker_entity_id, "
    "holder_start as speaker_start, holder_end as speaker_end"
)


def ingest_seed(corpus: Path, files: int, work: Path) -> Settings:
    """The real CLI over the first `files` files of the corpus."""
    seeds = work / "seeds"
    seeds.mkdir()
    for path in sorted(corpus.glob("*.txt"))[:files]:
        shutil.copy(path, seeds / path.name)
    settings = Settings(seeds=seeds, warehouse=work / "seed-warehouse")
    env = cli_env(settings, work / "prefect")
    run_cli(["ingest"], env)
    return settings


def copy_warehouse(seed: Settings, target: Path) -> Settings:
    shutil.copytree(seed.warehouse_dir, target, ignore=shutil.ignore_patterns(".runs", ".write.lock"))
    return Settings(seeds=seed.seeds_dir, warehouse=target)


def load_base(con: lake.Connection) -> list[str]:
    """The ingested rows as temp tables; the base article ids in a fixed order."""
    con.execute("create temp table base_articles as select * from articles")
    for table in CHILD_TABLES:
        con.execute(f"create temp table base_{table} as select * from {table}")
    con.execute("create temp table base_sources as select * from sources where status = 'ingested'")
    return [row[0] for row in con.execute("select article_id from base_articles order by article_id").fetchall()]


def plan(base_ids: list[str], runs: int) -> list[tuple[str, str, str]]:
    """(base id, new id, path suffix) of each new article: the base cycled, one suffix per pass."""
    return [(base_ids[k % len(base_ids)], f"{base_ids[k % len(base_ids)]}r{k:05}", f".r{k:05}") for k in range(runs)]


def record(con: lake.Connection, settings: Settings, work: Any) -> None:
    """One recorded run around `work`, as the ingest flow wraps its commits."""
    run_id = str(uuid.uuid4())
    with lake.recorded_run(con, settings, run_id, None, "bench", 1, 1, lambda: {"added": 1}):
        work(run_id)


def build_one_run(settings: Settings, runs: int) -> None:
    """Every new article in one transaction (as bench/ingest.py's scale_up)."""
    con = lake.connect(settings)
    try:
        base_ids = load_base(con)
        con.execute("create temp table plan (article_id varchar, new_id varchar, suffix varchar)")
        con.executemany("insert into plan values (?, ?, ?)", plan(base_ids, runs))

        def write(run_id: str) -> None:
            con.execute(
                "insert into articles select b.* replace (p.new_id as article_id, ? as run_id) "
                "from base_articles b join plan p using (article_id)",
                [run_id],
            )
            for table in CHILD_TABLES:
                con.execute(
                    f"insert into {table} select b.* replace (p.new_id as article_id) "
                    f"from base_{table} b join plan p using (article_id)"
                )
            con.execute(
                "insert into sources select b.* replace (b.path || p.suffix as path, p.new_id as article_id, "
                "? as run_id) from base_sources b join plan p using (article_id)",
                [run_id],
            )
            lake.rebuild_entity_spellings(con)  # derived from mentions, as each commit keeps it

        record(con, settings, lambda run_id: lake.transaction(con, settings, lambda: write(run_id)))
    finally:
        con.close()


def batch_rows(con: lake.Connection, base_id: str, new_id: str, suffix: str, run_id: str) -> lake.BatchRows:
    """One article's rows as the ingest flow hands them to commit_batch."""

    def dicts(query: str, params: list[Any]) -> list[dict[str, Any]]:
        return con.execute(query, params).to_arrow_table().to_pylist()

    replace = "replace (? as article_id)"
    return lake.BatchRows(
        sources=dicts(
            "select * replace (path || ? as path, ? as article_id, ? as run_id) from base_sources where article_id = ?",
            [suffix, new_id, run_id, base_id],
        ),
        articles=dicts(
            "select * replace (? as article_id, ? as run_id) from base_articles where article_id = ?",
            [new_id, run_id, base_id],
        ),
        mentions=dicts(f"select * {replace} from base_mentions where article_id = ?", [new_id, base_id]),
        claims=dicts(f"select * {replace} from base_claims where article_id = ?", [new_id, base_id]),
        quantities=dicts(f"select * {replace} from base_quantities where article_id = ?", [new_id, base_id]),
        stances=dicts(
            f"select * exclude (stance_idx, holder, holder_entity_id, holder_start, holder_end) {replace}, "
            f"{STANCE_AS_CLAIM} from base_stances where article_id = ?",
            [new_id, base_id],
        ),
        previous_article_ids=[],  # a new file pointed at no article before
    )


def build_many_runs(settings: Settings, runs: int) -> float:
    """One recorded run per new article; returns the seconds all the runs took."""
    con = lake.connect(settings)
    try:
        todo = plan(load_base(con), runs)
        start = time.perf_counter()
        for i, (base_id, new_id, suffix) in enumerate(todo, 1):
            record(
                con,
                settings,
                lambda run_id, b=base_id, n=new_id, s=suffix: lake.commit_batch(
                    con, settings, batch_rows(con, b, n, s, run_id)
                ),
            )
            if i % 100 == 0:
                print(f"    {i}/{runs} runs, {time.perf_counter() - start:.0f} s", flush=True)
        return time.perf_counter() - start
    finally:
        con.close()


def report_params(text: str) -> dict[str, Any] | None:
    return {"speaker": "Blair"} if "speaker" in lake.parameters_of(text) else None


def time_cold(settings: Settings, text: str) -> float:
    """A fresh reader, one query: what `newsdesk report` pays."""
    start = time.perf_counter()
    con = lake.open_reader(settings)
    try:
        lake.query(con, text, report_params(text))
    finally:
        con.close()
    return time.perf_counter() - start


def time_warm(con: lake.Connection, text: str) -> float:
    """One query in a reader that has run it before (file metadata cached)."""
    start = time.perf_counter()
    lake.query(con, text, report_params(text))
    return time.perf_counter() - start


def time_reports(states: dict[str, Settings], repeat: int) -> dict[str, dict[str, dict[str, float]]]:
    """state -> report -> {cold, warm} median seconds. The states take turns within each
    repeat, so a load change on the machine falls on all of them alike."""
    cold: dict[str, dict[str, list[float]]] = {state: {} for state in states}
    warm: dict[str, dict[str, list[float]]] = {state: {} for state in states}
    readers = {state: lake.open_reader(settings) for state, settings in states.items()}
    try:
        for name, found in reports(None).items():
            for con in readers.values():
                time_warm(con, found.text)  # warm-up
            for _ in range(repeat):
                for state, settings in states.items():
                    cold[state].setdefault(name, []).append(time_cold(settings, found.text))
                    warm[state].setdefault(name, []).append(time_warm(readers[state], found.text))
    finally:
        for con in readers.values():
            con.close()
    return {
        state: {
            name: {
                "cold": round(statistics.median(cold[state][name]), 4),
                "warm": round(statistics.median(warm[state][name]), 4),
                "cold_min": round(min(cold[state][name]), 4),
                "warm_min": round(min(warm[state][name]), 4),
            }
            for name in cold[state]
        }
        for state in states
    }


def report_rows(settings: Settings) -> dict[str, int]:
    """Rows each report returns: the same data must give the same answers."""
    con = lake.open_reader(settings)
    try:
        return {name: len(lake.query(con, f.text, report_params(f.text))[1]) for name, f in reports(None).items()}
    finally:
        con.close()


def catalog_stats(settings: Settings) -> dict[str, Any]:
    """What a reader has to go through: live files, catalog rows and size, snapshots."""
    con = lake.open_reader(settings)
    meta = f"__ducklake_metadata_{lake.CATALOG_ALIAS}"

    def scalar(query: str) -> int:
        return int(con.execute(query).fetchall()[0][0])

    try:
        stats: dict[str, Any] = {
            "articles": scalar("select count(*) from articles"),
            "live_data_files": scalar(sql("live_data_files")),
            "live_delete_files": scalar(sql("live_delete_files")),
            # every file row a snapshot still in the retention may read (time travel)
            "catalog_data_file_rows": scalar(f"select count(*) from {meta}.ducklake_data_file"),
            "snapshots": scalar(sql("snapshot_count")),
        }
    finally:
        con.close()
    catalog = settings.warehouse_dir / "catalog.sqlite"
    wal = catalog.with_name("catalog.sqlite-wal")
    parquet = list((settings.warehouse_dir / "lake").rglob("*.parquet"))
    stats |= {
        "catalog_mb": mb(catalog.stat().st_size),
        "catalog_wal_mb": mb(wal.stat().st_size) if wal.exists() else 0.0,
        "parquet_files_on_disk": len(parquet),
        "parquet_mb_on_disk": mb(sum(p.stat().st_size for p in parquet)),
    }
    return stats


def mb(n: int) -> float:
    return round(n / 2**20, 2)


def run_maintain(settings: Settings) -> dict[str, Any]:
    con = lake.connect(settings)
    try:
        start = time.perf_counter()
        counts = lake.maintain(con, settings)
        return {"seconds": round(time.perf_counter() - start, 2), "counts": counts}
    finally:
        con.close()


STATES = {
    "one_run": "one-run",
    "many_runs": "many-runs",
    "after_maintain": "after maintain",
    "no_time_travel": "maintain, retention 0",
}
# Its answer is one row per run, so it grows with the runs by design.
GROWS_WITH_RUNS = {"ingestion_log"}


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "-"


def print_table(result: dict[str, Any]) -> None:
    seconds = result["seconds"]
    names = list(seconds["one_run"])
    for kind in ("cold", "warm"):
        print(f"\nreport latency, {kind}: median of {result['repeat']} s (ratio to one-run)")
        print(f"{'report':22} | " + " | ".join(f"{label:>22}" for label in STATES.values()))
        for name in [*names, "all but ingestion_log"]:
            chosen = [n for n in names if n not in GROWS_WITH_RUNS] if name.startswith("all") else [name]
            values = {state: sum(seconds[state][n][kind] for n in chosen) for state in STATES}
            base = values["one_run"]
            cells = [f"{values[state]:11.4f} ({ratio(values[state], base):>7})" for state in STATES]
            print(f"{name + ('*' if name in GROWS_WITH_RUNS else ''):22} | " + " | ".join(f"{c:>22}" for c in cells))
    print("* one row per run: grows with the runs by design")
    print(f"\n{'warehouse':24} | " + " | ".join(f"{label:>22}" for label in STATES.values()))
    for key in result["stats"]["one_run"]:
        print(f"{key:24} | " + " | ".join(f"{result['stats'][state][key]:>22}" for state in STATES))
    rows = result["rows"]
    same = all(
        {k: v for k, v in rows[state].items() if k not in GROWS_WITH_RUNS}
        == {k: v for k, v in rows["one_run"].items() if k not in GROWS_WITH_RUNS}
        for state in STATES
    )
    print(f"\nreport row counts the same everywhere (but ingestion_log): {same}")
    print(f"{result['runs']} one-file runs took {result['many_runs_build_s']} s")
    for state in ("after_maintain", "no_time_travel"):
        print(f"maintain ({STATES[state]}): {result['maintain'][state]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="new articles, i.e. one-file runs")
    parser.add_argument("--seed-files", type=int, default=100)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=5, help="timings per report (median)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--seed-warehouse", type=Path, help="reuse this ingested warehouse instead of step 1")
    args = parser.parse_args()
    if not args.corpus.is_dir() and not args.seed_warehouse:
        print(f"corpus {args.corpus} is absent: nothing to measure")
        return
    work = Path(tempfile.mkdtemp(prefix="newsdesk-catalog-"))
    try:
        result = run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    if args.seed_warehouse:
        seed = Settings(seeds=work, warehouse=args.seed_warehouse)
    else:
        print(f"1/4 seed: newsdesk ingest of {args.seed_files} files ...", flush=True)
        seed = ingest_seed(args.corpus, args.seed_files, work)
    states = {"one_run": copy_warehouse(seed, work / "one-run"), "many_runs": copy_warehouse(seed, work / "many-runs")}
    print(f"2/4 one run: {args.runs} articles in one transaction ...", flush=True)
    build_one_run(states["one_run"], args.runs)
    print(f"3/4 many runs: {args.runs} one-article runs ...", flush=True)
    build_s = build_many_runs(states["many_runs"], args.runs)
    print("4/4 maintain copies of many-runs, then measure all ...", flush=True)
    states["after_maintain"] = copy_warehouse(states["many_runs"], work / "after-maintain")
    # the same, with every snapshot but the current one expired: what the retention costs
    states["no_time_travel"] = copy_warehouse(states["many_runs"], work / "no-time-travel").model_copy(
        update={"snapshot_retention_days": 0}
    )
    maintained = {state: run_maintain(states[state]) for state in ("after_maintain", "no_time_travel")}
    return {
        "runs": args.runs,
        "seed_files": args.seed_files,
        "repeat": args.repeat,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "many_runs_build_s": round(build_s, 1),
        "maintain": maintained,
        "stats": {state: catalog_stats(settings) for state, settings in states.items()},
        "rows": {state: report_rows(settings) for state, settings in states.items()},
        "seconds": time_reports(states, args.repeat),
    }


if __name__ == "__main__":
    main()
