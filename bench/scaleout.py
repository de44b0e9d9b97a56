"""Scale-out figures, in one run over a BBC slice, as ratios against a baseline timed here.

Starts its own real servers (as the tests do): a `prefect server`, PostgreSQL (as the
postgres user, on a free port), an S3-compatible server on 127.0.0.1 (moto) and a Dask
cluster of `--workers` worker processes. Then:

  1. extraction: cold `newsdesk ingest` with the local process pool against the same
     with NEWSDESK_DASK_ADDRESS (a fresh cluster each pair); target Dask >= 0.9 x local;
  2. storage: cold ingest into SQLite + local files against PostgreSQL + S3 (the local
     pool both times); target: the difference <= 10 % of the SQLite run;
  3. the catalog: one-article commits per second that one PostgreSQL catalog takes from
     1, 2 and 4 writer processes at once (each a real batch transaction: an article's
     rows in five tables, Parquet to S3, under the writers' advisory lock).

    .venv/bin/python bench/scaleout.py [--files 300] [--repeat 2] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the servers the tests start: one way to start them

from bench.ingest import DEFAULT_CORPUS, run_cli, spread  # noqa: E402
from helpers import free_port, start_prefect_server, stop_group  # noqa: E402
from newsdesk.settings import Settings  # noqa: E402
from services import BUCKET, PASSWORD, dask_cluster, postgres_server, s3_server  # noqa: E402

TABLES = ("articles", "mentions", "claims", "quantities", "stances")


def slice_corpus(corpus: Path, files: int, into: Path) -> int:
    """Every k-th file of the corpus (all topics), copied: `files` of them."""
    every = sorted(p for p in corpus.rglob("*.txt"))
    step = max(1, len(every) // files)
    chosen = every[::step][:files]
    for path in chosen:
        target = into / path.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return len(chosen)


def env_for(seeds: Path, warehouse: Path, api: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "AWS_", "PG"))}
    return env | {"NEWSDESK_SEEDS": str(seeds), "NEWSDESK_WAREHOUSE": str(warehouse), "PREFECT_API_URL": api,
                  "NEWSDESK_USE_RUNNING_SERVER": "false"} | (extra or {})  # fmt: skip


def cold(seeds: Path, work: Path, api: str, extra: dict[str, str] | None = None) -> float:
    warehouse = work / f"warehouse-{time.monotonic_ns()}"
    seconds, _, _ = run_cli(["ingest"], env_for(seeds, warehouse, api, extra))
    return seconds


def remote_env(postgres, s3, name: str) -> dict[str, str]:
    return {"NEWSDESK_CATALOG": postgres.catalog(postgres.new_database()),
            "NEWSDESK_DATA_PATH": f"s3://{BUCKET}/{name}/", "PGPASSWORD": PASSWORD, **s3.env()}  # fmt: skip


def _writer(env: dict[str, str], seconds: float, tag: str, start_at: float, out) -> None:
    """One writer process: one-article commits, copies of a stored article under new ids."""
    os.environ.update(env)
    from newsdesk.warehouse import lake

    settings = Settings()
    con = lake.connect(settings)
    template = con.execute("select article_id from articles order by article_id limit 1").fetchone()[0]
    for table in TABLES:
        con.execute(f"create temp table t_{table} as select * from {table} where article_id = ?", [template])
    done = 0
    time.sleep(max(0.0, start_at - time.time()))
    end = time.monotonic() + seconds

    def work(suffix: str) -> None:
        for table in TABLES:
            con.execute(f"insert into {table} select * replace (article_id || ? as article_id) from t_{table}",
                        [suffix])  # fmt: skip
        # and the article's mentions counted in entity_spellings, as the batch commit does
        con.execute(
            "insert into entity_spellings select entity_id, entity_name, label, text, count(*), "
            "count(*) filter (where first_in_article) from t_mentions where entity_id is not null group by all"
        )

    while time.monotonic() < end:
        suffix = f"-{tag}-{done}"
        lake.transaction(con, settings, lambda suffix=suffix: work(suffix))
        done += 1
    con.close()
    out.put(done)


def commits_per_second(env: dict[str, str], writers: int, seconds: float) -> float:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 8  # every writer connected and ready before the clock starts
    procs = [context.Process(target=_writer, args=(env, seconds, f"w{writers}x{i}", start_at, queue))
             for i in range(writers)]  # fmt: skip
    for proc in procs:
        proc.start()
    total = sum(queue.get(timeout=seconds + 120) for _ in procs)
    for proc in procs:
        proc.join(60)
    return round(total / seconds, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--commit-seconds", type=float, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} is absent: nothing to measure")
        return
    work = Path(tempfile.mkdtemp(prefix="newsdesk-scaleout-"))
    seeds = work / "seeds"
    files = slice_corpus(args.corpus, args.files, seeds)
    result: dict = {"files": files, "workers": args.workers}
    with ExitStack() as stack:
        server, api = start_prefect_server(free_port(), work / "prefect")
        stack.callback(stop_group, server)
        postgres = stack.enter_context(postgres_server())
        s3 = stack.enter_context(s3_server())

        local, dask, warm_dask, sqlite, remote = [], [], [], [], []
        for attempt in range(args.repeat):
            print(f"1/3 local pool vs Dask, pair {attempt + 1}/{args.repeat} ...", flush=True)
            local.append(cold(seeds, work, api))
            with dask_cluster(args.workers) as cluster:
                on_cluster = {"NEWSDESK_DASK_ADDRESS": cluster.address}
                dask.append(cold(seeds, work, api, on_cluster))  # the workers load the model in this run
                warm_dask.append(cold(seeds, work, api, on_cluster))  # a cluster that has it loaded already
            print(f"2/3 SQLite + files vs PostgreSQL + S3, pair {attempt + 1}/{args.repeat} ...", flush=True)
            sqlite.append(cold(seeds, work, api))
            remote.append(cold(seeds, work, api, remote_env(postgres, s3, f"cold{attempt}")))
        speedups = [lo / da for lo, da in zip(local, dask, strict=True)]
        warm_speedups = [lo / da for lo, da in zip(local, warm_dask, strict=True)]
        overheads = [(r - s) / s for s, r in zip(sqlite, remote, strict=True)]
        result["extraction"] = {
            "local_s": spread(local),
            "dask_s": spread(dask),
            "dask_vs_local_throughput": spread(speedups),
            "dask_warm_s": spread(warm_dask),
            "warm_dask_vs_local_throughput": spread(warm_speedups),
        }
        result["storage"] = {
            "sqlite_s": spread(sqlite),
            "postgres_s3_s": spread(remote),
            "overhead_of_cold": spread(overheads),
        }

        print("3/3 commits per second on one PostgreSQL catalog ...", flush=True)
        env = remote_env(postgres, s3, "commits")
        run_cli(["ingest", "--path", sorted(p.relative_to(seeds).as_posix() for p in seeds.rglob("*.txt"))[0]],
                env_for(seeds, work / "commits-warehouse", api, env))  # fmt: skip
        result["commits_per_s"] = {n: commits_per_second(env, n, args.commit_seconds) for n in (1, 2, 4)}

    print(json.dumps(result, indent=2))
    ext, sto, com = result["extraction"], result["storage"], result["commits_per_s"]
    for key, what in (("dask_vs_local_throughput", "loading the model in the run"),
                      ("warm_dask_vs_local_throughput", "the model loaded already")):  # fmt: skip
        ratio = ext[key]
        print(f"Dask ({args.workers} workers, {what}) / local pool throughput: median {ratio['median']}"
              f" (min {ratio['min']}, max {ratio['max']}); target >= 0.9")  # fmt: skip
    print(
        f"PostgreSQL + S3 over SQLite + files, share of a cold run: median {sto['overhead_of_cold']['median']:.1%}"
        f" (min {sto['overhead_of_cold']['min']:.1%}, max {sto['overhead_of_cold']['max']:.1%}); target <= 10 %"
    )
    print(
        f"one-article commits/s on one PostgreSQL catalog: 1 writer {com[1]}, 2 writers {com[2]}, 4 writers {com[4]}"
        f" ({com[4] / com[1]:.2f} x one writer)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
