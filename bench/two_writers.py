"""Two concurrent `newsdesk ingest` processes over a BBC slice, on PostgreSQL + S3 +
a 2-worker Dask cluster, checked against a plain SQLite run over the same files.

Starts its own servers (as the tests do: tests/services.py). Prints each check and
exits 1 if one fails.

    .venv/bin/python bench/two_writers.py [--files 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.ingest import DEFAULT_CORPUS  # noqa: E402
from bench.scaleout import env_for, remote_env, slice_corpus  # noqa: E402
from helpers import free_port, start_prefect_server, stop_group  # noqa: E402
from newsdesk.settings import Settings  # noqa: E402
from services import dask_cluster, extraction_tasks, postgres_server, s3_server  # noqa: E402

TABLES = ("sources", "articles", "mentions", "claims", "quantities", "stances")


def counts(env: dict[str, str]) -> dict[str, int]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        from newsdesk.warehouse import lake

        con = lake.open_reader(Settings())
        try:
            found = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
            found["duplicate_paths"] = con.execute(
                "select count(*) from (select path from sources group by 1 having count(*) > 1)"
            ).fetchone()[0]
            found["duplicate_article_ids"] = con.execute(
                "select count(*) from (select article_id from articles group by 1 having count(*) > 1)"
            ).fetchone()[0]
            found["articles_added_by_runs"] = con.execute("select sum(articles_added) from runs").fetchone()[0]
            return found
        finally:
            con.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def ingest(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "newsdesk.cli", "ingest"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsdesk-two-writers-"))
    seeds = work / "seeds"
    files = slice_corpus(args.corpus, args.files, seeds)
    with ExitStack() as stack:
        server, api = start_prefect_server(free_port(), work / "prefect")
        stack.callback(stop_group, server)
        postgres = stack.enter_context(postgres_server())
        s3 = stack.enter_context(s3_server())
        cluster = stack.enter_context(dask_cluster(2))

        print(f"plain run: SQLite + local files, {files} files ...", flush=True)
        plain_env = env_for(seeds, work / "sqlite-warehouse", api)
        plain = ingest(plain_env)
        out, _ = plain.communicate()
        if plain.returncode != 0:
            sys.exit(out[-3000:])

        print("two writers at once: PostgreSQL + S3 + Dask ...", flush=True)
        remote = remote_env(postgres, s3, "two-writers")
        local_folder = work / "remote-warehouse"
        env = env_for(seeds, local_folder, api, remote | {"NEWSDESK_DASK_ADDRESS": cluster.address})
        tasks_before = extraction_tasks(cluster.address)
        start = time.perf_counter()
        writers = [ingest(env) for _ in range(2)]
        outputs = [writer.communicate()[0] for writer in writers]
        seconds = time.perf_counter() - start
        for writer, out in zip(writers, outputs, strict=True):
            if writer.returncode != 0:
                sys.exit(out[-3000:])
        tasks = extraction_tasks(cluster.address) - tasks_before
        plain_counts = counts(plain_env)
        remote_counts = counts(env)
        prefix = remote["NEWSDESK_DATA_PATH"].removeprefix("s3://").split("/", 1)[1]
        parquet_in_bucket = sum(1 for key in s3.keys(prefix) if key.endswith(".parquet"))
    checks = {
        "same counts as the SQLite run": all(remote_counts[t] == plain_counts[t] for t in TABLES),
        "no duplicate path in sources": remote_counts["duplicate_paths"] == 0,
        "no duplicate article_id": remote_counts["duplicate_article_ids"] == 0,
        "each article added by one run": remote_counts["articles_added_by_runs"] == plain_counts["articles"],
        "Parquet objects in the bucket": parquet_in_bucket > 0,
        "no Parquet in the local warehouse folder": not list(local_folder.rglob("*.parquet")),
        "the Dask scheduler ran the extraction": tasks > 0,
    }
    result = {"files": files, "two_writers_seconds": round(seconds, 1), "sqlite": plain_counts,
              "postgres_s3_dask": remote_counts, "dask_extraction_tasks": tasks, "checks": checks,
              "parquet_objects": parquet_in_bucket}  # fmt: skip
    print("| table | SQLite run | two writers, PostgreSQL + S3 + Dask |\n|---|---|---|")
    for table in TABLES:
        print(f"| {table} | {plain_counts[table]} | {remote_counts[table]} |")
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    print(
        f"Dask extraction tasks: {tasks}; Parquet objects in the bucket: {parquet_in_bucket}; "
        f"two writers took {seconds:.1f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
