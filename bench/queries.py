"""Queries at scale: every built-in report and a point lookup at 100k and 1M articles.

One run:
  1. base     `newsdesk ingest` (the real CLI, a temporary Prefect server) of --base-files
              files from the corpus (numbers 001-099 of each folder, round robin)
  2. scale    the ingested rows copied under new article ids (16 hex digits, as real ids)
              until the warehouse holds each of --sizes articles: one INSERT per table per
              doubling, all in one transaction; row counts checked
  3. variants of each size, each in its own copy of the warehouse:
                plain   as the copy left it
                merged  after `ducklake_merge_adjacent_files` (what nightly upkeep runs)
                sorted  the content tables `SET SORTED BY (article_id)`, then rewritten
  4. timing   from fresh reader processes, --repeat times each: every built-in report
              through `newsdesk report NAME --format csv` (a subprocess: what a user waits
              for), the same query in-process on one warm reader (`lake.query`), and
              `newsdesk sql` of a point lookup (one article by id with its claims).
              `newsdesk sql 'select 1'` is the floor of the CLI path (start-up, attach).

Full-text search does not exist in newsdesk: nothing to time for it.

    .venv/bin/python bench/queries.py [--sizes 100000,1000000] [--repeat 5] [--json out.json]
        [--variants plain,merged,sorted] [--proposed /tmp/proposed_reports]
        [--work DIR --keep]   (then --work DIR --measure-only times them again, no rebuild)

--proposed DIR times each NAME.sql there in-process beside the built-in NAME and checks
that it returns the same rows. Nothing of the corpus is printed: only counts and ids.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import DEFAULT_CORPUS, cli_env, run_cli, spread  # noqa: E402

from newsdesk.settings import Settings  # noqa: E402
from newsdesk.warehouse import lake  # noqa: E402
from newsdesk.warehouse.files import reports  # noqa: E402

CONTENT_TABLES = ("articles", "mentions", "claims", "quantities", "stances")
PARAMS = {"claims_by_speaker": {"speaker": "Blair"}}
LOOKUP_SQL = (
    "select a.article_id, a.title, a.published_at, c.claim_idx, c.kind, c.speaker, c.cue, c.content "
    "from articles as a left join claims as c using (article_id) "
    "where a.article_id = '{id}' order by c.claim_idx"
)
VARIANTS = ("plain", "merged", "sorted")


# --- building -------------------------------------------------------------------------


def pick_base_files(corpus: Path, count: int, seeds: Path) -> int:
    """Copy `count` files numbered 001-099, round robin over the corpus's folders (never read)."""
    folders = [
        sorted(p for p in d.glob("*.txt") if p.stem.isdigit() and 1 <= int(p.stem) <= 99)
        for d in sorted(corpus.iterdir())
        if d.is_dir()
    ]
    picked = []
    for i in range(max(len(f) for f in folders)):
        picked += [f[i] for f in folders if i < len(f)]
    for path in picked[:count]:
        target = seeds / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return min(count, len(picked))


def table_counts(con) -> dict[str, int]:
    present = lake.table_names(con)
    return {
        t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("sources", *CONTENT_TABLES) if t in present
    }


def scale_doubling(settings: Settings, target: int) -> dict:
    """Copy every article (with its rows in the other tables) under new ids until there are
    `target` articles: each step doubles, the last one copies only what is missing. One
    INSERT per table per step, all in one transaction (so one snapshot)."""
    con = lake.connect(settings)
    try:
        tables = [t for t in CONTENT_TABLES if t in lake.table_names(con)]
        before = table_counts(con)
        n = before["articles"]
        if n >= target:
            return {"articles": n, "steps": 0, "seconds": 0.0}
        start = time.perf_counter()
        con.execute("begin transaction")
        step = 0
        while n < target:
            step += 1
            take = min(n, target - n)
            # new ids look like real ones (16 hex digits), unique with overwhelming odds
            con.execute(
                "create or replace temp table idmap as "
                "select article_id as old_id, substr(md5(article_id || ?), 1, 16) as new_id "
                "from (select article_id from articles order by article_id limit ?)",
                [f"/copy{step}/{n}", take],
            )
            for table in tables:
                con.execute(
                    f"insert into {table} select t.* replace (m.new_id as article_id) "
                    f"from {table} as t join temp.idmap as m on t.article_id = m.old_id"
                )
            con.execute(
                "insert into sources select s.* replace (s.path || '~' || m.new_id as path, m.new_id as article_id) "
                "from sources as s join temp.idmap as m on s.article_id = m.old_id where s.status = 'ingested'"
            )
            n += take
        # entity_spellings is derived from mentions (each commit keeps it; `maintain` rebuilds it)
        lake.rebuild_entity_spellings(con)
        con.execute("commit")
        seconds = time.perf_counter() - start
        after = table_counts(con)
        distinct = con.execute("select count(distinct article_id) from articles").fetchone()[0]
        orphans = {
            t: con.execute(
                f"select count(*) from {t} as t anti join articles as a on t.article_id = a.article_id"
            ).fetchone()[0]
            for t in tables
            if t != "articles"
        }
        if after["articles"] != target or distinct != target or any(orphans.values()):
            sys.exit(f"scaling went wrong: {after}, distinct ids {distinct}, orphans {orphans}")
        return {"articles": n, "steps": step, "seconds": round(seconds, 2), "rows": after}
    finally:
        con.close()


def data_files(settings: Settings) -> dict:
    con = lake.open_reader(settings)
    try:
        per_table = {}
        for table in ("sources", *CONTENT_TABLES):
            rows = con.execute(
                "select count(*), coalesce(sum(data_file_size_bytes), 0) from ducklake_list_files('news', ?)", [table]
            ).fetchone()
            per_table[table] = {"files": rows[0], "mb": round(rows[1] / 2**20, 1)}
        total = con.execute(lake.sql("live_data_files")).fetchone()[0]
        return {"total_live": total, "tables": per_table}
    finally:
        con.close()


def make_variant(source: Path, target: Path, variant: str) -> dict:
    """A copy of the warehouse at `source`, changed as `variant` says."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    settings = Settings(seeds=target.parent / "seeds", warehouse=target)
    if variant == "plain":
        return {"seconds": 0.0, "sql": []}
    statements = []
    if variant == "sorted":
        for table in ("articles", "mentions", "claims", "quantities"):
            statements.append(f"alter table {table} set sorted by (article_id asc)")
        # sorting applies to what is written (insert, merge); rewrite every row of each table:
        for table in ("articles", "mentions", "claims", "quantities"):
            statements += [
                f"create or replace temp table rewrite as select * from {table}",
                "begin transaction",
                f"delete from {table}",
                f"insert into {table} select * from temp.rewrite",
                "commit",
                "drop table temp.rewrite",
            ]
    statements.append("call ducklake_merge_adjacent_files('news')")
    statements.append("call ducklake_cleanup_old_files('news', cleanup_all => true)")
    con = lake.connect(settings)
    try:
        start = time.perf_counter()
        for statement in statements:
            con.execute(statement)
        seconds = time.perf_counter() - start
    finally:
        con.close()
    return {
        "seconds": round(seconds, 2),
        "sql": [s for s in statements if "rewrite" not in s and "transaction" not in s],
    }


# --- timing ---------------------------------------------------------------------------


def wait_for_quiet(limit: float = 1.5, patience: float = 60) -> float:
    """Wait (up to `patience` s) for the 1-minute load average to fall below `limit`."""
    deadline = time.monotonic() + patience
    load = os.getloadavg()[0]
    while load >= limit and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return round(load, 2)


def spread_with_runs(values: list[float]) -> dict:
    return {**spread(values), "runs": [round(v, 3) for v in values]}


def queries(lookup_id: str) -> dict[str, tuple[list[str], str, dict | None]]:
    """name -> (CLI arguments, SQL text, parameters)."""
    found = {}
    for name, report in reports(None).items():
        params = PARAMS.get(name) if lake.parameters_of(report.text) else None
        args = ["report", name, "--format", "csv"] + [f"--param={k}={v}" for k, v in (params or {}).items()]
        found[name] = (args, report.text, params)
    lookup = LOOKUP_SQL.format(id=lookup_id)
    found["sql_point_lookup"] = (["sql", lookup, "--format", "csv"], lookup, None)
    found["sql_select_1"] = (["sql", "select 1", "--format", "csv"], "select 1", None)
    return found


def time_cli(args: list[str], env: dict[str, str], repeat: int) -> dict:
    times, lines = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "newsdesk.cli", *args], env=env, capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1][:300], **spread_with_runs(times)}
        lines = proc.stdout.count("\n")
    return {**spread_with_runs(times), "csv_lines": lines}


def time_in_process(warehouse: Path, lookup_id: str, repeat: int, proposed: Path | None) -> dict:
    """Run in a fresh child process: one reader, each query once to warm, then `repeat` times."""
    settings = Settings(seeds=warehouse.parent / "seeds", warehouse=warehouse)
    con = lake.open_reader(settings)
    out = {}
    try:
        todo = {name: (text, params) for name, (_, text, params) in queries(lookup_id).items()}
        for path in sorted(proposed.glob("*.sql")) if proposed else []:
            if path.stem in todo:
                todo[f"{path.stem} (proposed)"] = (path.read_text(), todo[path.stem][1])
        rows_of = {}
        for name, (text, params) in todo.items():
            try:
                start = time.perf_counter()
                _, rows = lake.query(con, text, params)
                first = time.perf_counter() - start
                times = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    lake.query(con, text, params)
                    times.append(time.perf_counter() - start)
            except lake.QueryError as exc:
                out[name] = {"error": str(exc).splitlines()[0][:300]}
                continue
            out[name] = {"first": round(first, 3), **spread_with_runs(times), "rows": len(rows)}
            rows_of[name] = rows
            base = name.removesuffix(" (proposed)")
            if base != name and base in rows_of:
                out[name]["same_rows_in_order"] = rows_of[base] == rows
                out[name]["same_rows_as_set"] = sorted(map(repr, rows_of[base])) == sorted(map(repr, rows))
    finally:
        con.close()
    return out


def measure(warehouse: Path, lookup_id: str, repeat: int, proposed: Path | None, work: Path, patience: float) -> dict:
    settings = Settings(seeds=warehouse.parent / "seeds", warehouse=warehouse)
    env = cli_env(settings, work / "prefect")
    result: dict = {"load_before": wait_for_quiet(patience=patience)}
    child = [sys.executable, __file__, "--in-process", str(warehouse), "--lookup-id", lookup_id]
    child += ["--repeat", str(repeat)] + (["--proposed", str(proposed)] if proposed else [])
    proc = subprocess.run(child, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"in-process timing failed:\n{proc.stderr[-3000:]}")
    result["in_process"] = json.loads(proc.stdout)
    result["load_between"] = wait_for_quiet(patience=patience)
    result["cli"] = {name: time_cli(args, env, repeat) for name, (args, _, _) in queries(lookup_id).items()}
    result["load_after"] = round(os.getloadavg()[0], 2)
    return result


def lookup_id_of(settings: Settings) -> str:
    """A copied article in the middle of the id order (deterministic for a given build)."""
    con = lake.open_reader(settings)
    try:
        return con.execute(
            "select article_id from articles order by article_id limit 1 offset (select count(*) // 2 from articles)"
        ).fetchone()[0]
    finally:
        con.close()


# --- report ---------------------------------------------------------------------------


def fmt(figures: dict | None) -> str:
    if not figures:
        return "-"
    if "error" in figures:
        return "error: " + figures["error"][:60]
    return f"{figures['min']:.2f} / **{figures['median']:.2f}** / {figures['max']:.2f}"


def markdown(result: dict) -> str:
    sizes = [str(s) for s in result["sizes"]]
    out = []
    for variant in result["variants"]:
        out.append(f"\n#### {variant}: seconds min / **median** / max of {result['repeat']} runs\n")
        header = ["query"]
        for size in sizes:
            header += [f"CLI {int(size):,}", f"in-process {int(size):,}"]
        if len(sizes) > 1:
            header += [f"CLI {sizes[-1]}/{sizes[0]}", f"in-process {sizes[-1]}/{sizes[0]}"]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        names = list(dict.fromkeys(n for size in sizes for n in result["runs"][size][variant]["in_process"]))
        for name in names:
            row = [name]
            for size in sizes:
                run = result["runs"][size][variant]
                row += [fmt(run["cli"].get(name)), fmt(run["in_process"].get(name))]
            if len(sizes) > 1:
                for way in ("cli", "in_process"):
                    a = result["runs"][sizes[0]][variant][way].get(name) or {}
                    b = result["runs"][sizes[-1]][variant][way].get(name) or {}
                    ok = "median" in a and "median" in b and a["median"] > 0
                    row.append(f"{b['median'] / a['median']:.1f} x" if ok else "-")
            out.append("| " + " | ".join(row) + " |")
    if len(result["variants"]) > 1:
        out.append("\n#### variants against plain: in-process median seconds (ratio to plain)\n")
        header = ["query"] + [f"{v} {int(s):,}" for s in sizes for v in result["variants"]]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        first = result["variants"][0]
        for name in dict.fromkeys(n for size in sizes for n in result["runs"][size][first]["in_process"]):
            row = [name]
            for size in sizes:
                plain = result["runs"][size][result["variants"][0]]["in_process"].get(name, {}).get("median")
                for variant in result["variants"]:
                    m = result["runs"][size][variant]["in_process"].get(name, {}).get("median")
                    row.append("-" if m is None else f"{m:.3f}" + (f" ({m / plain:.2f})" if plain else ""))
            out.append("| " + " | ".join(row) + " |")
    out.append("\n#### data files (live) and build seconds\n")
    out.append("| size | variant | files | articles/mentions/claims files | MB on disk | build s |")
    out.append("|---|---|---|---|---|---|")
    for size in sizes:
        for variant in result["variants"]:
            run = result["runs"][size][variant]
            t = run["data_files"]["tables"]
            mbs = sum(v["mb"] for v in t.values())
            per = "/".join(str(t[k]["files"]) for k in ("articles", "mentions", "claims"))
            out.append(
                f"| {int(size):,} | {variant} | {run['data_files']['total_live']} | {per} | {mbs:,.0f} | "
                f"{run['build_seconds']} |"
            )
    return "\n".join(out)


def build(args: argparse.Namespace, work: Path, sizes: list[int], variants: list[str]) -> dict:
    """Ingest the base, then for each size scale up and make each variant's copy
    (work/w-SIZE-VARIANT). What was built is kept in work/build.json."""
    seeds, built = work / "seeds", work / "warehouse"
    settings = Settings(seeds=seeds, warehouse=built)
    result: dict = {"corpus": str(args.corpus), "duckdb": __import__("duckdb").__version__}
    result["base_files"] = pick_base_files(args.corpus, args.base_files, seeds)
    print(f"base: newsdesk ingest of {result['base_files']} files ...", flush=True)
    seconds, _, _ = run_cli(["ingest"], cli_env(settings, work / "prefect"))
    con = lake.open_reader(settings)
    result["base"] = {"ingest_seconds": round(seconds, 2), "rows": table_counts(con)}
    con.close()
    print(f"  {seconds:.1f} s, rows {result['base']['rows']}", flush=True)
    result["built"] = {}
    for size in sizes:
        print(f"scale to {size:,} articles ...", flush=True)
        scaled = scale_doubling(settings, size)
        print(f"  {scaled['seconds']} s in {scaled['steps']} doublings, rows {scaled.get('rows')}", flush=True)
        lookup_id = lookup_id_of(settings)
        for variant in variants:
            target = work / f"w-{size}-{variant}"
            made = make_variant(built, target, variant)
            files = data_files(Settings(seeds=seeds, warehouse=target))
            print(f"  {variant}: made in {made['seconds']} s, {files['total_live']} data files", flush=True)
            result["built"].setdefault(str(size), {})[variant] = {
                "path": str(target),
                "scale": scaled,
                "variant": made,
                "build_seconds": round(scaled["seconds"] + made["seconds"], 2),
                "data_files": files,
                "lookup_id": lookup_id,
            }
    shutil.rmtree(built)
    (work / "build.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--base-files", type=int, default=300)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--proposed", type=Path, help="folder of NAME.sql rewrites to time and compare")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quiet-wait", type=float, default=60, help="seconds to wait for a 1-min load < 1.5")
    parser.add_argument("--work", type=Path, help="work folder (default: a new temporary one, deleted at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and its warehouses")
    parser.add_argument("--measure-only", action="store_true", help="time the warehouses --work already holds")
    parser.add_argument("--build-only", action="store_true", help="with --work and --keep: build, time nothing")
    parser.add_argument("--in-process", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--lookup-id", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        print(json.dumps(time_in_process(args.in_process, args.lookup_id, args.repeat, args.proposed)))
        return
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} is absent: nothing to measure")
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    variants = [v for v in args.variants.split(",") if v]
    if not set(variants) <= set(VARIANTS) or not variants:
        sys.exit(f"--variants takes some of {','.join(VARIANTS)}")
    if args.measure_only and not (args.work and (args.work / "build.json").exists()):
        sys.exit("--measure-only needs --work with a build.json from an earlier --keep run")
    work = args.work or Path(tempfile.mkdtemp(prefix="newsdesk-queries-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.measure_only:
            result = json.loads((work / "build.json").read_text())
        else:
            result = build(args, work, sizes, variants)
            if args.build_only:
                return
        result |= {"sizes": sizes, "variants": variants, "repeat": args.repeat, "runs": {}}
        for size in sizes:
            for variant in variants:
                built = result["built"][str(size)][variant]
                print(f"timing {size:,} {variant} ...", flush=True)
                measured = measure(
                    Path(built["path"]), built["lookup_id"], args.repeat, args.proposed, work, args.quiet_wait
                )
                result["runs"].setdefault(str(size), {})[variant] = built | measured
                if args.json:
                    args.json.write_text(json.dumps(result, indent=2))
        table = markdown(result)
        result["markdown"] = table
        print(table)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
        elif not args.keep:  # a folder the user named: take out only the warehouses
            for warehouse in work.glob("w-*"):
                shutil.rmtree(warehouse, ignore_errors=True)


if __name__ == "__main__":
    main()
