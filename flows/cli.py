"""`newsdesk ...`: ingest, query, reports, status. Typer and Rich come with Prefect."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from flows.settings import REPORTS_DIR, Settings, in_process_run_settings

app = typer.Typer(help="newsdesk: news articles in seeds/ -> a DuckLake warehouse of articles, entities and claims.",
                  no_args_is_help=True, add_completion=False)
# Off a terminal (pipes, make), wrap tables at a width that keeps text readable.
console = Console() if sys.stdout.isatty() else Console(width=160)
err = Console(stderr=True)

SeedsOpt = Annotated[Optional[Path], typer.Option("--seeds", help="incoming articles [env NEWSDESK_SEEDS; default seeds/]")]
WarehouseOpt = Annotated[Optional[Path], typer.Option("--warehouse", help="warehouse folder [env NEWSDESK_WAREHOUSE; default warehouse/]")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table | csv | jsonl")]


@app.command()
def ingest(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None,
           path: Annotated[Optional[list[str]], typer.Option("--path", help="only these paths (relative to seeds/)")] = None,
           reextract: Annotated[bool, typer.Option("--reextract", help="also re-extract articles an older extractor version made")] = False,
           fault: Annotated[Optional[str], typer.Option(hidden=True, help="fault-injection point (tests)")] = None) -> None:
    """Ingest everything new or changed in seeds/."""
    from flows.lake import WarehouseError
    from flows.nlp import ModelError, check_model_installed
    from flows.pending import files_to_read, pending_work

    settings = Settings.for_folders(seeds, warehouse)
    if not settings.seeds_dir.is_dir():
        err.print(f"[red]seeds folder {settings.seeds_dir} does not exist[/red]")
        raise typer.Exit(2)
    try:
        plan = pending_work(settings, path, reextract)
        if plan is not None and not plan.has_work:
            console.print(f"Nothing to do: {plan.unchanged} files unchanged.")
            return
        check_model_installed(settings.model)
    except (ModelError, WarehouseError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    from flows.extract import discard_prestarted

    pending = files_to_read(settings, plan, path)
    _use_running_server(settings)
    settings.apply_prefect_defaults()
    try:
        _head_start(settings, pending, reextract)
        counts = _run_ingest_flow(settings, path, fault, reextract, total=len(pending))
    finally:
        discard_prestarted()
    console.print(
        f"Ingested: {counts['added']} articles added, {counts['existing']} already known, "
        f"{counts['unchanged']} unchanged, {counts['quarantined']} quarantined, {counts['deleted']} deleted, "
        f"{counts['retired']} retired; {counts['mentions']} mentions, {counts['claims']} claims."
    )
    if counts["quarantined"]:
        console.print("See `newsdesk quarantine` for the reasons.")


def _head_start(settings: Settings, pending: list, reextract: bool) -> None:
    """Prefect takes seconds to start (a temporary server 5-10 s, on one core): load the
    model meanwhile and, with worker processes, begin the run's first batches."""
    from flows.extract import prefetch, prestart, workers_for

    if not pending:
        return
    workers = workers_for(len(pending), settings.n_process, settings.batch_size)
    prestart(settings.model, workers)
    if workers > 1:
        from flows.ingest import first_extractions
        from flows.pending import extracted_articles_in

        known = extracted_articles_in(settings, reextract)
        prefetch(first_extractions(settings, pending, known, 3 * workers), settings.nlp_batch_size)


def _use_running_server(settings: Settings) -> None:
    """With no PREFECT_API_URL chosen, run on `newsdesk up`'s server if it answers:
    the run shows in that UI, and no temporary server is started (about 5 s)."""
    if "PREFECT_API_URL" in os.environ or not settings.use_running_server:
        return
    from flows.stack import api_healthy

    if api_healthy(settings.server_api, timeout=0.5):
        os.environ["PREFECT_API_URL"] = settings.server_api


def _run_ingest_flow(settings: Settings, path: list[str] | None, fault: str | None, reextract: bool,
                     total: int) -> dict:
    """Run the flow in-process, turning known failures into one clear line and an exit code."""
    import httpx

    from flows import ingest as ingest_module
    from flows.lake import WarehouseError
    from flows.nlp import ModelError

    progress = _progress_bar() if sys.stdout.isatty() else None
    if progress is not None:
        task_id = progress.add_task("ingesting", total=total)
        ingest_module.on_progress(lambda done, all_: progress.update(task_id, completed=done, total=all_))
        progress.start()
    try:
        with in_process_run_settings():
            return ingest_module.ingest(seeds=str(settings.seeds_dir), warehouse=str(settings.warehouse_dir),
                                        paths=path or None, trigger="manual", sweep=not path,
                                        reextract=reextract, fault=fault)
    except (ModelError, WarehouseError) as exc:
        err.print(f"[red]ingest failed: {exc}[/red]")
        raise typer.Exit(2) from None
    except (httpx.HTTPError, OSError) as exc:
        if not _is_connection_error(exc):
            raise
        err.print(f"[red]ingest stopped: the Prefect API is unreachable ({type(exc).__name__}: {exc}). "
                  "Committed batches are kept; run `newsdesk ingest` again to continue.[/red]")
        # Prefect would now retry sending every queued event to the dead server
        # for minutes at exit; the warehouse is consistent, so leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(3)
    finally:
        if progress is not None:
            progress.stop()


def _is_connection_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, (httpx.TransportError, ConnectionError)) or "connect" in str(exc).lower()


def _progress_bar():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


@app.command("eval")
def eval_command(
    texts: Annotated[Path, typer.Option("--texts", help="folder of article files; a gold doc_id is a file name without extension")],
    warehouse: WarehouseOpt = None,
    entities_gold: Annotated[Optional[Path], typer.Option("--entities-gold", help="JSONL in the GUM shape")] = None,
    claims_gold: Annotated[Optional[Path], typer.Option("--claims-gold", help="JSONL in the PolNeAR shape")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="also write the scores here")] = None,
) -> None:
    """Ingest a folder and score its entities and claims against gold (precision, recall, F1)."""
    import tempfile

    if not entities_gold and not claims_gold:
        err.print("[red]give --entities-gold and/or --claims-gold[/red]")
        raise typer.Exit(2)
    settings = Settings.for_folders(texts, warehouse or Path(tempfile.mkdtemp(prefix="newsdesk-eval-")))
    settings.apply_prefect_defaults()
    from flows.evaluate import evaluate

    result = evaluate(texts=str(settings.seeds_dir), warehouse=str(settings.warehouse_dir),
                      entities_gold=str(entities_gold) if entities_gold else None,
                      claims_gold=str(claims_gold) if claims_gold else None)
    table = Table("measure", "precision", "recall", "F1", "tp", "fp", "fn",
                  title=f"{result['documents']} documents, warehouse {settings.warehouse_dir}")
    for name, s in sorted(result["scores"].items()):
        table.add_row(name, *(str(s[k]) for k in ("precision", "recall", "f1", "tp", "fp", "fn")))
    console.print(table)
    if result["missing"]:
        err.print(f"{len(result['missing'])} gold documents were not ingested: {', '.join(result['missing'][:5])}")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))


@app.command()
def quarantine(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None,
               retry: Annotated[bool, typer.Option("--retry", help="queue the quarantined files again")] = False,
               path: Annotated[Optional[list[str]], typer.Option("--path", help="with --retry: only these")] = None,
               format: FormatOpt = "table") -> None:
    """List quarantined files and why; --retry queues them for the next run."""
    from flows import lake

    settings = Settings.for_folders(seeds, warehouse)
    if retry:
        con = _writer(settings)
        try:
            count = lake.requeue_quarantined(con, settings, path)
        finally:
            con.close()
        console.print(f"{count} quarantined file(s) queued again; the next `newsdesk ingest` reads them.")
        return
    con = _reader(settings)
    try:
        _print(*lake.query(con, lake.sql("status_quarantined")), format, title="quarantined files")
    finally:
        con.close()


@app.command("sql")
def sql_command(query: Annotated[str, typer.Argument(help="one SELECT statement")],
                seeds: SeedsOpt = None, warehouse: WarehouseOpt = None, format: FormatOpt = "table") -> None:
    """Run a read-only SQL query against the warehouse."""
    _run_query(Settings.for_folders(seeds, warehouse), query, format)


@app.command()
def reports() -> None:
    """List the ready-made reports."""
    table = Table("report", "what it answers")
    for path in sorted(REPORTS_DIR.glob("*.sql")):
        table.add_row(path.stem, _report_doc(path))
    console.print(table)


@app.command()
def report(name: Annotated[str, typer.Argument(help="report name, see `newsdesk reports`")],
           seeds: SeedsOpt = None, warehouse: WarehouseOpt = None, format: FormatOpt = "table",
           param: Annotated[Optional[list[str]], typer.Option(
               "--param", "-p", help="NAME=VALUE for a report's $NAME parameter (bound, never formatted in)")] = None
           ) -> None:
    """Run one ready-made report."""
    path = REPORTS_DIR / f"{name}.sql"
    if not path.is_file() or path.parent != REPORTS_DIR:
        err.print(f"[red]no report named {name!r}[/red]; see `newsdesk reports`")
        raise typer.Exit(2)
    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            err.print(f"[red]--param takes NAME=VALUE, got {item!r}[/red]")
            raise typer.Exit(2)
        params[key] = value
    text = path.read_text(encoding="utf-8")
    missing = sorted(set(re.findall(r"\$([A-Za-z_]\w*)", text)) - set(params))
    if missing:
        err.print(f"[red]report {name!r} needs " + " ".join(f"--param {m}=VALUE" for m in missing) + "[/red]")
        raise typer.Exit(2)
    _run_query(Settings.for_folders(seeds, warehouse), text, format, params)


@app.command()
def status(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Table counts, the last runs, and quarantined files."""
    from flows import lake

    settings = Settings.for_folders(seeds, warehouse)
    con = _reader(settings)
    counts = Table("table", "rows", title="warehouse " + str(settings.warehouse_dir))
    for name in ("articles", "mentions", "entities", "claims", "quantities", "sources", "runs"):
        counts.add_row(name, str(lake.query(con, f"select count(*) from {name}")[1][0][0]))
    console.print(counts)
    _print(*lake.query(con, lake.sql("status_runs")), "table", title="last runs")
    _print(*lake.query(con, lake.sql("status_quarantined")), "table", title="quarantined files")


def _stop_flag():
    """A stop() callable that turns true on SIGINT or SIGTERM (Ctrl-C, `newsdesk up`, docker stop)."""
    import signal
    import threading

    stopped = threading.Event()

    def handler(signum, frame):
        stopped.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stopped.is_set


def _require_api(settings: Settings) -> str:
    """Long-running commands need a real server: a temporary one would die with them."""
    settings.apply_prefect_defaults()
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if not api:
        err.print("[red]PREFECT_API_URL is not set: point it at a Prefect server, or run `newsdesk up`[/red]")
        raise typer.Exit(2)
    return api


def _log_to_stderr() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


@app.command()
def watch(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Watch seeds/ and announce settled changes as Prefect events (newsdesk.seeds.changed)."""
    from flows.watch import watch as run_watch

    settings = Settings.for_folders(seeds, warehouse)
    _require_api(settings)
    _log_to_stderr()
    run_watch(settings, stop=_stop_flag())


@app.command()
def serve(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Register the ingest and maintain deployments and run their flow runs, model kept warm."""
    from flows.serve import serve as run_serve

    settings = Settings.for_folders(seeds, warehouse)
    _require_api(settings)
    _log_to_stderr()
    run_serve(settings, stop=_stop_flag())


@app.command()
def maintain(warehouse: WarehouseOpt = None) -> None:
    """DuckLake upkeep now: merge small files, expire old snapshots, refresh report artifacts."""
    settings = Settings.for_folders(None, warehouse)
    settings.apply_prefect_defaults()
    from flows.maintain import maintain as run_maintain

    counts = run_maintain(warehouse=str(settings.warehouse_dir))
    console.print(f"Warehouse upkeep: {counts}")


@app.command()
def up(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None) -> None:
    """The whole local stack: a Prefect server (unless one answers), serve and watch. Ctrl-C stops it."""
    from flows.stack import run_stack

    settings = Settings.for_folders(seeds, warehouse)
    settings.apply_prefect_defaults()
    raise typer.Exit(run_stack(settings, console))


def _writer(settings: Settings):
    from flows import lake

    if not lake.exists(settings):
        err.print(f"[red]no warehouse at {settings.warehouse_dir}: run `newsdesk ingest` first[/red]")
        raise typer.Exit(2)
    try:
        return lake.connect(settings)
    except lake.WarehouseError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _reader(settings: Settings):
    from flows import lake

    try:
        return lake.open_reader(settings)
    except lake.WarehouseError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _run_query(settings: Settings, query: str, fmt: str, params: dict[str, str] | None = None) -> None:
    import duckdb

    from flows import lake

    if fmt not in {"table", "csv", "jsonl"}:
        err.print(f"[red]unknown format {fmt!r}: use table, csv or jsonl[/red]")
        raise typer.Exit(2)
    con = _reader(settings)
    try:
        columns, rows = lake.query(con, query, params)
    except lake.ReadOnlyViolation as exc:
        err.print(f"[red]refused: {exc}[/red]")
        raise typer.Exit(2) from None
    except duckdb.Error as exc:
        err.print(f"[red]query failed: {exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        con.close()
    _print(columns, rows, fmt)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _print(columns: list[str], rows: list[tuple[Any, ...]], fmt: str, title: str | None = None) -> None:
    if fmt == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps({c: _jsonable(v) for c, v in zip(columns, row)}, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[_jsonable(v) for v in row] for row in rows])
    else:
        table = Table(*columns, title=title)
        for row in rows:
            # Cells are plain text: article text must not be read as Rich markup.
            table.add_row(*[_cell(v) for v in row])
        console.print(table)


def _cell(value: Any):
    from rich.text import Text

    if value is None:
        return Text("∅", style="dim")
    text = str(_jsonable(value)) if not isinstance(value, str) else value
    # No control characters reach the terminal: article text could carry escape sequences.
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return Text(" ".join(text.split())[:300])


def _report_doc(path: Path) -> str:
    """A report's description: its leading `--` comment lines."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
