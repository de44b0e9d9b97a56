"""`newsdesk ...`: ingest, query, reports, status. Typer and Rich come with Prefect."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from newsdesk.settings import Settings, SettingsError

if TYPE_CHECKING:
    from newsdesk.pipeline.sources import FileStat

app = typer.Typer(
    help="newsdesk: news articles in seeds/ -> a DuckLake warehouse of articles, entities and claims.",
    no_args_is_help=True,
    add_completion=False,
)
# Off a terminal (pipes, make), wrap tables at a width that keeps text readable.
console = Console() if sys.stdout.isatty() else Console(width=160)
err = Console(stderr=True)

SeedsOpt = Annotated[
    Path | None, typer.Option("--seeds", help="incoming articles [env NEWSDESK_SEEDS; default seeds/]")
]
WarehouseOpt = Annotated[
    Path | None, typer.Option("--warehouse", help="warehouse folder [env NEWSDESK_WAREHOUSE; default warehouse/]")
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"


FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", case_sensitive=False, help="table for reading, csv or jsonl for tools (all rows)"),
]
# C0 and C1 control characters but tab and newline (a raw CR would let a value overwrite its line on a
# terminal; stored text never holds one: normalization makes LF line endings): never sent raw to a terminal.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
JSON_UNESCAPED_CONTROLS = re.compile(r"[\x7f-\x9f]")  # json.dumps escapes only C0
JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # json.dumps(**options) builds one a call
FETCH_ROWS = 2048  # rows fetched at a time: memory stays flat however long the result
INTERRUPT_GRACE_SECONDS = 5.0  # how long a stopped query may take to notice before the process leaves


@app.command()
def ingest(
    seeds: SeedsOpt = None,
    warehouse: WarehouseOpt = None,
    path: Annotated[list[str] | None, typer.Option("--path", help="only these paths (relative to seeds/)")] = None,
    reextract: Annotated[
        bool, typer.Option("--reextract", help="also re-extract articles an older extractor version made")
    ] = False,
    fault: Annotated[str | None, typer.Option(hidden=True, help="fault-injection point (tests)")] = None,
) -> None:
    """Ingest everything new or changed in seeds/."""
    from newsdesk.extraction.cluster import ClusterError
    from newsdesk.extraction.nlp import ModelError, check_model_installed
    from newsdesk.pipeline.pending import files_to_read, pending_work
    from newsdesk.warehouse.lake import WarehouseError

    settings = _settings(seeds, warehouse)
    if not settings.seeds_dir.is_dir():
        _fail(f"seeds folder {settings.seeds_dir} does not exist", 2)
    if settings.warehouse_dir.exists() and not settings.warehouse_dir.is_dir():
        _fail(f"the warehouse path {settings.warehouse_dir} is not a folder", 2)
    try:
        _check_services(settings)  # storage first: the plan reads the warehouse
        plan = pending_work(settings, path, reextract)
        if plan is not None and not plan.has_work:
            console.print(f"Nothing to do: {plan.unchanged} files unchanged.")
            return
        check_model_installed(settings.model)
    except (ModelError, WarehouseError, ClusterError) as exc:
        _fail(str(exc), _exit_code(exc))
    from newsdesk.extraction.pool import discard_prestarted

    pending = files_to_read(settings, plan, path)
    total = len(pending)
    _use_running_server(settings)
    _prepare_prefect(settings)
    try:
        _head_start(settings, pending, reextract)
        # The flow plans again from a fresh stat: a second copy held through the run was
        # 35 MB more of this process at 100,000 files.
        del plan, pending
        counts = _run_ingest_flow(settings, path, fault, reextract, total=total)
    finally:
        discard_prestarted()
    console.print(
        f"Ingested: {counts['added']} articles added, {counts['replaced']} re-extracted, "
        f"{counts['existing']} already known, "
        f"{counts['unchanged']} unchanged, {counts['quarantined']} quarantined, {counts['deleted']} deleted, "
        f"{counts['retired']} retired; {counts['mentions']} mentions, {counts['claims']} claims."
    )
    if counts["quarantined"]:
        console.print("See `newsdesk quarantine` for the reasons.")


def _check_services(settings: Settings) -> None:
    """Object storage, a PostgreSQL catalog and a Dask scheduler answer, before Prefect
    starts: a wrong setting is one line and nothing is written."""
    from newsdesk.warehouse.lake import check_storage

    if settings.catalog_kind == "postgres" or settings.remote_data:
        check_storage(settings)
    if settings.dask_address:  # checked even when nothing turns out to be pending: a wrong address is a wrong setting
        from newsdesk.extraction.cluster import check_cluster

        check_cluster(settings.dask_address, settings.dask_connect_seconds)


def _head_start(settings: Settings, pending: Sequence[FileStat], reextract: bool) -> None:
    """Prefect takes seconds to start (a temporary server 5-10 s, on one core): load the
    model meanwhile and, with worker processes, begin the run's first batches."""
    from newsdesk.extraction.pool import prefetch, prestart, workers_for

    if not pending or settings.dask_address:  # a cluster's workers load the model themselves
        return
    workers = workers_for(len(pending), settings.n_process, settings.batch_size)
    prestart(settings.model, workers)
    if workers > 1:
        from newsdesk.pipeline.batches import first_extractions
        from newsdesk.pipeline.pending import extracted_articles_in

        known = extracted_articles_in(settings, reextract)
        prefetch(first_extractions(settings, pending, known, 3 * workers), settings.nlp_batch_size)


def _prepare_prefect(settings: Settings) -> None:
    """Prefect for a command that runs flows in this process: its defaults, a reaper
    for the temporary server it may start (so kill -9 of this process leaves no
    server behind), and log lines without tracebacks unless NEWSDESK_TRACEBACKS."""
    settings.apply_prefect_defaults()
    if "PREFECT_API_URL" not in os.environ:
        from newsdesk.flows.runtime import reap_temporary_prefect_server

        reap_temporary_prefect_server()
    if not settings.tracebacks:
        _one_line_prefect_logs()


def _one_line_prefect_logs() -> None:
    """A failure is one clear line from us; Prefect's console lines say what failed
    without the stack (the Prefect API still receives the whole traceback)."""
    from prefect import flow  # noqa: F401 - importing it sets up Prefect's console handler

    for handler in logging.getLogger().handlers:
        if handler.formatter is not None and not isinstance(handler.formatter, _OneLineFormatter):
            handler.setFormatter(_OneLineFormatter(handler.formatter))


class _OneLineFormatter(logging.Formatter):
    """Wraps a formatter and leaves out the traceback (Prefect's message already
    names the exception)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        import copy

        if not (record.exc_info or record.exc_text or record.stack_info):
            return self.inner.format(record)
        brief = copy.copy(record)  # the record is shared with other handlers: leave it whole
        brief.exc_info, brief.exc_text, brief.stack_info = None, None, None
        return self.inner.format(brief)


def _use_running_server(settings: Settings) -> None:
    """With no PREFECT_API_URL chosen, run on `newsdesk up`'s server if it answers:
    the run shows in that UI, and no temporary server is started (about 5 s)."""
    if "PREFECT_API_URL" in os.environ or not settings.use_running_server:
        return
    from newsdesk.service.stack import api_healthy

    if api_healthy(settings.server_api, timeout=0.5):
        os.environ["PREFECT_API_URL"] = settings.server_api


def _run_ingest_flow(
    settings: Settings, path: list[str] | None, fault: str | None, reextract: bool, total: int
) -> dict:
    """Run the flow in-process, turning known failures into one clear line and an exit code."""
    import httpx

    from newsdesk.extraction.cluster import ClusterError
    from newsdesk.extraction.nlp import ModelError
    from newsdesk.extraction.pool import ExtractorClosed
    from newsdesk.flows import ingest as ingest_module
    from newsdesk.warehouse.lake import WarehouseError

    progress = _progress_bar() if sys.stdout.isatty() else None
    if progress is not None:
        task_id = progress.add_task("ingesting", total=total)
        ingest_module.on_progress(lambda done, all_: progress.update(task_id, completed=done, total=all_))
        progress.start()
    try:
        from newsdesk.flows.runtime import in_process_run_settings

        with in_process_run_settings():
            return ingest_module.ingest(
                seeds=str(settings.seeds_dir),
                warehouse=str(settings.warehouse_dir),
                paths=path or None,
                trigger="manual",
                sweep=not path,
                reextract=reextract,
                fault=fault,
            )
    except (ModelError, WarehouseError, ClusterError) as exc:
        _fail(f"ingest failed: {exc}", _exit_code(exc))
    except ExtractorClosed as exc:
        _fail(
            f"ingest failed: {exc}; committed batches are kept, run `newsdesk ingest` again to continue",
            _exit_code(exc),
        )
    except (httpx.HTTPError, OSError) as exc:
        if not _is_connection_error(exc):
            raise
        err.print(
            f"[red]ingest stopped: the Prefect API is unreachable ({type(exc).__name__}: {exc}). "
            "Committed batches are kept; run `newsdesk ingest` again to continue.[/red]"
        )
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

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@app.command("eval")
def eval_command(
    texts: Annotated[
        Path,
        typer.Option(
            "--texts",
            help="folder of article files; a gold record names its file by `path`, "
            "else its doc_id is a file name without extension",
        ),
    ],
    warehouse: WarehouseOpt = None,
    entities_gold: Annotated[Path | None, typer.Option("--entities-gold", help="JSONL in the GUM shape")] = None,
    claims_gold: Annotated[Path | None, typer.Option("--claims-gold", help="JSONL in the PolNeAR shape")] = None,
    statements_gold: Annotated[
        Path | None,
        typer.Option("--statements-gold", help="who-said-what JSONL (eval/gold/GUIDELINES.md): whole-row scores"),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="also write the scores here")] = None,
) -> None:
    """Ingest a folder and score its entities and claims against gold (precision, recall, F1)."""
    import tempfile

    if not entities_gold and not claims_gold and not statements_gold:
        err.print("[red]give --entities-gold, --claims-gold and/or --statements-gold[/red]")
        raise typer.Exit(2)
    golds = ((entities_gold, "--entities-gold"), (claims_gold, "--claims-gold"), (statements_gold, "--statements-gold"))
    for given, what in ((texts, "--texts"), *golds):
        if given is not None and not given.exists():
            _fail(f"{what} {given} does not exist", 2)
    from newsdesk.pipeline.gold import GoldError, check_gold

    try:  # a bad gold file says so in one line, before a Prefect server starts
        for given, _ in golds:
            check_gold(texts, str(given) if given else None)
    except GoldError as exc:
        _fail(str(exc), _exit_code(exc))
    settings = _settings(texts, warehouse or Path(tempfile.mkdtemp(prefix="newsdesk-eval-")))
    _prepare_prefect(settings)  # before Prefect's import, which reads its settings once
    from newsdesk.flows.evaluate import evaluate

    try:
        with _expected_failures(settings):
            result = evaluate(
                texts=str(settings.seeds_dir),
                warehouse=str(settings.warehouse_dir),
                entities_gold=str(entities_gold) if entities_gold else None,
                claims_gold=str(claims_gold) if claims_gold else None,
                statements_gold=str(statements_gold) if statements_gold else None,
            )
    except GoldError as exc:
        _fail(str(exc), _exit_code(exc))
    table = Table(
        "measure",
        "precision",
        "recall",
        "F1",
        "tp",
        "fp",
        "fn",
        title=f"{result['documents']} documents, warehouse {settings.warehouse_dir}",
    )
    for name, s in sorted(result["scores"].items()):
        table.add_row(name, *(str(s[k]) for k in ("precision", "recall", "f1", "tp", "fp", "fn")))
    console.print(table)
    if "speakers" in result:
        console.print("  ".join(f"{name} {value}" for name, value in result["speakers"].items()))
    if result["missing"]:
        err.print(f"{len(result['missing'])} gold documents were not ingested: {', '.join(result['missing'][:5])}")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2))


@app.command()
def quarantine(
    seeds: SeedsOpt = None,
    warehouse: WarehouseOpt = None,
    retry: Annotated[bool, typer.Option("--retry", help="queue the quarantined files again")] = False,
    path: Annotated[list[str] | None, typer.Option("--path", help="with --retry: only these")] = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """List quarantined files and why; --retry queues them for the next run."""
    from newsdesk.warehouse import lake

    settings = _settings(seeds, warehouse)
    if retry:
        with _expected_failures(settings):
            con = _writer(settings)
            try:
                count = lake.requeue_quarantined(con, settings, path)
            finally:
                con.close()
        console.print(
            f"{count} quarantined file(s) queued again; "
            "the next `newsdesk ingest` (or the service's next sweep) reads them."
        )
        return
    _run_query(settings, lake.sql("status_quarantined"), format, title="quarantined files")


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help="one SELECT statement")],
    seeds: SeedsOpt = None,
    warehouse: WarehouseOpt = None,
    format: FormatOpt = OutputFormat.table,
) -> None:
    """Run a read-only SQL query against the warehouse."""
    settings = _settings(seeds, warehouse)
    size = len(_utf8(query, "the query"))
    if size > settings.query_max_bytes:
        _fail(
            f"refused: the query is {size:,} bytes, more than the {settings.query_max_bytes:,} allowed "
            "(NEWSDESK_QUERY_MAX_BYTES)",
            2,
        )
    _run_query(settings, query, format)


@app.command()
def reports(warehouse: WarehouseOpt = None) -> None:
    """List the ready-made reports: built-in ones and your own (<warehouse>/reports/*.sql or NEWSDESK_REPORTS)."""
    from newsdesk.warehouse.files import reports as all_reports

    settings = _settings(None, warehouse)
    table = Table("report", "what it answers", "from")
    for found in all_reports(settings.reports_dir).values():
        table.add_row(_cell(found.name), _cell(found.description), _cell(found.origin))
    console.print(table)


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="report name, see `newsdesk reports`")],
    seeds: SeedsOpt = None,
    warehouse: WarehouseOpt = None,
    format: FormatOpt = OutputFormat.table,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="NAME=VALUE for a report's $NAME parameter (bound, never formatted in)"),
    ] = None,
) -> None:
    """Run one ready-made report."""
    from newsdesk.warehouse.files import reports as all_reports
    from newsdesk.warehouse.lake import ReadOnlyViolation, parameters_of

    settings = _settings(seeds, warehouse)
    found = all_reports(settings.reports_dir).get(name)
    if found is None:
        _fail(f"no report named {name!r}; see `newsdesk reports`", 2)
    if found.problem:
        _fail(f"report {name!r} ({found.origin}) cannot be used: {found.problem}", 2)
    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            _fail(f"--param takes NAME=VALUE, got {item!r}", 2)
        _utf8(value, f"--param {key}")
        params[key] = value
    try:
        missing = sorted(parameters_of(found.text) - set(params))
    except ReadOnlyViolation as exc:
        _fail(f"report {name!r} ({found.origin}) is not one query: {exc}", 2)
    if missing:
        _fail(f"report {name!r} needs " + " ".join(f"--param {m}=VALUE" for m in missing), 2)
    _run_query(settings, found.text, format, params)


@app.command()
def status(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Table counts, the last runs, and quarantined files."""
    from newsdesk.warehouse import lake

    settings = _settings(seeds, warehouse)

    def show(con) -> None:
        counts = Table("table", "rows", title=Text("warehouse " + _plain(str(settings.warehouse_dir))))
        present = lake.table_names(con)
        for name in ("articles", "mentions", "entities", "claims", "stances", "quantities", "sources", "runs"):
            if name not in present:  # a warehouse from an older version: its next ingest adds the table
                counts.add_row(name, "not yet (the next ingest adds it)")
                continue
            counts.add_row(name, str(lake.query(con, f"select count(*) from {name}")[1][0][0]))
        console.print(counts)
        _print(*lake.query(con, lake.sql("status_runs")), "table", title="last runs", limit=settings.query_table_rows)
        _print(
            *lake.query(con, lake.sql("status_quarantined")),
            "table",
            title="quarantined files",
            limit=settings.query_table_rows,
        )

    _with_reader(settings, show)


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
    from newsdesk.service.watch import watch as run_watch

    settings = _settings(seeds, warehouse)
    _require_api(settings)
    _log_to_stderr()
    run_watch(settings, stop=_stop_flag())


@app.command()
def serve(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Register the ingest and maintain deployments and run their flow runs, model kept warm."""
    from newsdesk.service.serve import serve as run_serve

    settings = _settings(seeds, warehouse)
    _require_api(settings)
    _log_to_stderr()
    run_serve(settings, stop=_stop_flag())


@app.command()
def maintain(warehouse: WarehouseOpt = None) -> None:
    """DuckLake upkeep now: merge small files, expire old snapshots, refresh report artifacts."""
    from newsdesk.warehouse import lake

    settings = _settings(None, warehouse)
    if not lake.exists(settings):
        _fail(f"no warehouse at {settings.warehouse_dir}: run `newsdesk ingest` first", 2)
    _prepare_prefect(settings)
    from newsdesk.flows.maintain import maintain as run_maintain

    _one_line_prefect_logs()
    try:
        counts = run_maintain(warehouse=str(settings.warehouse_dir))
    except (lake.WarehouseError, OSError) as exc:
        _fail(f"warehouse upkeep failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", 1)
    console.print(f"Warehouse upkeep: {counts}")


@app.command()
def migrate(
    catalog: Annotated[str, typer.Option("--catalog", help="the new catalog, e.g. postgres:dbname=news host=db")],
    data_path: Annotated[str, typer.Option("--data-path", help="the new data path, e.g. s3://bucket/prefix/")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Copy the warehouse (every table's rows, not its snapshot history) to another
    catalog and data path, without re-extracting. The source is only read."""
    from newsdesk.settings import SettingsError
    from newsdesk.warehouse import lake

    source = _settings(None, warehouse)
    try:
        target = source.with_storage(catalog, data_path)
    except SettingsError as exc:
        _fail(str(exc), 2)
    try:
        counts = lake.migrate(source, target)
    except lake.WarehouseError as exc:
        _fail(f"migrate failed: {exc}", _exit_code(exc))
    console.print("Migrated, counts checked: " + ", ".join(f"{table} {rows}" for table, rows in counts.items()))


@app.command()
def up(seeds: SeedsOpt = None, warehouse: WarehouseOpt = None) -> None:
    """The whole local stack: a Prefect server (unless one answers), serve and watch. Ctrl-C stops it."""
    from newsdesk.service.stack import run_stack

    settings = _settings(seeds, warehouse)
    settings.apply_prefect_defaults()
    raise typer.Exit(run_stack(settings, console))


def _settings(seeds: str | Path | None, warehouse: str | Path | None) -> Settings:
    """The command's settings; an invalid one is a single line naming it, never a traceback."""
    try:
        return Settings.for_folders(seeds, warehouse)
    except SettingsError as exc:
        _fail(str(exc), _exit_code(exc))


def _exit_code(exc: BaseException) -> int:
    """2 for what the user must fix; an error type may say otherwise (3: a service does not answer)."""
    return int(getattr(exc, "exit_code", 2))


def _fail(message: str, code: int) -> NoReturn:
    """One line on stderr and an exit code: shown as plain text (an error may quote data)."""
    _say_error(message)
    raise typer.Exit(code)


def _say_error(message: str) -> None:
    line = " ".join(_plain(message).split())
    err.print(Text(line if len(line) <= 1000 else line[:997] + "...", style="red"), soft_wrap=True)


def _plain(text: str) -> str:
    return CONTROL_CHARS.sub(" ", text)


def _utf8(text: str, what: str) -> bytes:
    """Bytes that are not UTF-8 reach Python as lone surrogates, which DuckDB cannot take."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        _fail(f"refused: {what} is not valid UTF-8 text", 2)


def _writer(settings: Settings):
    from newsdesk.warehouse import lake

    if not lake.exists(settings):
        _fail(f"no warehouse at {settings.warehouse_dir}: run `newsdesk ingest` first", 2)
    try:
        return lake.connect(settings)
    except lake.WarehouseError as exc:
        _fail(str(exc), _exit_code(exc))


def _reader(settings: Settings):
    from newsdesk.warehouse import lake

    try:
        return lake.open_reader(settings)
    except lake.WarehouseError as exc:
        _fail(str(exc), _exit_code(exc))


@contextmanager
def _expected_failures(settings: Settings) -> Iterator[None]:
    """Every failure a warehouse command can expect, as one line and an exit code."""
    from newsdesk.warehouse import lake

    try:
        yield
    except lake.ReadOnlyViolation as exc:
        _fail(f"refused: {exc}", 2)
    except lake.WarehouseError as exc:
        _fail(str(exc), _exit_code(exc))
    except lake.QueryOutOfMemory:
        _fail(
            f"query stopped: it needed more than the {settings.query_memory_limit} memory limit "
            "(NEWSDESK_QUERY_MEMORY_LIMIT)",
            1,
        )
    except lake.QueryError as exc:
        # without the quoted SQL ("LINE 1: ..." and a caret), which needs lines of its own
        _fail(f"query failed: {str(exc).split(chr(10) + 'LINE ')[0] or type(exc).__name__}", 1)
    except KeyboardInterrupt:
        _fail("cancelled", 130)
    except RuntimeError as exc:
        # DuckDB turns Ctrl-C during a query in the main thread (a writer's) into this
        if isinstance(exc.__cause__, KeyboardInterrupt):
            _fail("cancelled", 130)
        raise
    except BrokenPipeError:
        _leave_quietly()


def _leave_quietly() -> NoReturn:
    """The reader of our output left (`| head`): stop without a word, like other tools."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the final flush must not fail again
    raise typer.Exit(141)


def _with_reader(settings: Settings, work: Callable[[Any], None]) -> None:
    """Run `work(con)` on a read-only session, within the time limit, failures as one line."""
    with _expected_failures(settings):
        con = _reader(settings)
        try:
            _within_limits(settings, con, lambda: work(con))
        finally:
            con.close()


def _within_limits(settings: Settings, con, work: Callable[[], None]) -> None:
    """Run `work` in a thread while this one waits: Ctrl-C and the time limit then stop
    the query even while DuckDB is in code that looks for neither (binding a huge
    statement). con.interrupt() stops it; if it does not notice in time, the process
    leaves (a reader holds nothing that needs cleaning up)."""
    import threading
    import time

    failure: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the main thread, raised there
            failure.append(exc)

    worker = threading.Thread(target=target, name="newsdesk-query", daemon=True)
    deadline = time.monotonic() + settings.query_timeout_seconds
    worker.start()
    try:
        while worker.is_alive() and time.monotonic() < deadline:
            worker.join(deadline - time.monotonic())  # a signal may end a wait early
    except KeyboardInterrupt:
        _stop(con, worker, "query cancelled", 130)
    if worker.is_alive():
        _stop(
            con,
            worker,
            f"query stopped: it ran longer than the {settings.query_timeout_seconds:g} s limit "
            "(NEWSDESK_QUERY_TIMEOUT_SECONDS)",
            1,
        )
    if failure:
        raise failure[0]


def _stop(con, worker, message: str, code: int) -> NoReturn:
    """Interrupt the query, say why, and leave at once: os._exit, as letting DuckDB's
    threads be torn down at interpreter exit after a Ctrl-C sometimes aborted the process."""
    con.interrupt()
    try:
        worker.join(INTERRUPT_GRACE_SECONDS)
    except KeyboardInterrupt:
        pass  # a second Ctrl-C: leave now
    err.print(Text(message, style="red"), soft_wrap=True)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass  # stdout may be a closed pipe
    os._exit(code)


def _run_query(
    settings: Settings, query: str, fmt: str, params: dict[str, str] | None = None, title: str | None = None
) -> None:
    """Stream a read-only query's rows to stdout in `fmt`, within the query limits."""
    from newsdesk.warehouse import lake

    def run(con) -> None:
        result = lake.execute_read_only(con, query, params)
        columns = [d[0] for d in result.description]
        _print(columns, _rows(result), fmt, title=title, limit=settings.query_table_rows)

    _with_reader(settings, run)


def _rows(result) -> Iterator[tuple[Any, ...]]:
    """A result's rows, fetched a chunk at a time."""
    while chunk := result.fetchmany(FETCH_ROWS):
        yield from chunk


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


def _print(
    columns: list[str], rows: Iterable[tuple[Any, ...]], fmt: str, title: str | None = None, limit: int | None = None
) -> None:
    """Rows as jsonl or csv (streamed, all of them) or a table (the first `limit`)."""
    if fmt == "jsonl":
        for row in rows:
            sys.stdout.write(_json_line(columns, row) + "\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow([_csv_cell(c) for c in columns])
        writer.writerows([_csv_cell(v) for v in row] for row in rows)
    else:
        _print_table(columns, rows, title, limit)
    sys.stdout.flush()


def _print_table(columns: list[str], rows: Iterable[tuple[Any, ...]], title: str | None, limit: int | None) -> None:
    shown = list(islice(rows, limit + 1)) if limit else list(rows)
    table = Table(title=title)
    for column in columns:
        table.add_column(_cell(column))
    for row in shown[:limit]:
        # Cells are plain text: article text must not be read as Rich markup.
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    if limit and len(shown) > limit:
        err.print(f"showing first {limit} rows; use -f csv for all (NEWSDESK_QUERY_TABLE_ROWS)")


def _escape_controls(text: str) -> str:
    return CONTROL_CHARS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _csv_cell(value: Any) -> Any:
    """Numbers and NULL as they are; text with control characters escaped visibly (\\u001b)."""
    if value is None or isinstance(value, (int, float)):
        return value
    jsonable = _jsonable(value)
    return _escape_controls(jsonable if isinstance(jsonable, str) else str(jsonable))


def _json_line(columns: list[str], row: tuple[Any, ...]) -> str:
    """One JSON object; json.dumps escapes C0 controls, DEL and C1 are escaped here
    (only ever inside strings, where \\u009b is the same character)."""
    line = JSON_ENCODER.encode({c: _jsonable(v) for c, v in zip(columns, row, strict=False)})
    return JSON_UNESCAPED_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def _cell(value: Any):
    if value is None:
        return Text("∅", style="dim")
    text = str(_jsonable(value)) if not isinstance(value, str) else value
    # No control characters reach the terminal: article text could carry escape sequences.
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return Text(" ".join(text.split())[:300])


def _show_version(value: bool) -> None:
    if value:
        from newsdesk import __version__

        console.print(f"newsdesk {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """newsdesk: news articles in seeds/ -> a DuckLake warehouse of articles, entities and claims."""


def main() -> None:
    """Click's usage errors (a wrong option, a bad --format) as one line too, not a box."""
    # typer vendors click: its usage errors are BadParameter's base class
    usage_error: type[Exception] = typer.BadParameter.__mro__[1]
    try:
        code = app(standalone_mode=False)
    except usage_error as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx else "newsdesk"
        _say_error(f"{where}: {exc.format_message()} (see --help)")  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort:
        _say_error("cancelled")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
