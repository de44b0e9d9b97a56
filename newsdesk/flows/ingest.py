"""@flow ingest: discover -> read/parse -> extract (one task per batch) -> commit.

The flow only orchestrates. Each batch is read, extracted on the worker pool
and committed in one warehouse transaction, so a crash loses at most the
batch in flight, and the next run picks it up because its sources rows were
never written.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from newsdesk.extraction.pool import Extractor, connect_cluster, workers_for
from newsdesk.pipeline.batches import build_rows, chunks, new_articles, read_batch
from newsdesk.pipeline.pending import discover_pending, known_articles_for
from newsdesk.pipeline.sources import KnownSource, Plan, printable, relative_inside
from newsdesk.pipeline.summary import RunSummary, run_markdown
from newsdesk.settings import Settings
from newsdesk.warehouse import lake

if TYPE_CHECKING:
    from newsdesk.extraction.cluster import DaskBatches

ProgressCallback = Callable[[int, int], None]
_progress_listeners: list[ProgressCallback] = []


def on_progress(callback: ProgressCallback) -> None:
    """Register a (done, total) listener, e.g. the CLI's progress bar."""
    _progress_listeners.append(callback)


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_batch(items: list[tuple[str, str]], extractor: Extractor) -> quote:  # of list[Extraction]
    """spaCy + rules over one batch, on the extraction pool.

    Quoted: Prefect links every element of a task's result to the task's state, for
    data lineage, and keeps the links for the whole flow run: a State copy per
    extraction, about 12 KB a file, so a 100,000-file run's memory grew by a GB."""
    return quote(extractor.run(items))


# No Prefect retries: lake.transaction already retries write conflicts, the only
# failure a retry can fix; a full or read-only disk fails at once with one message.
@task(name="commit-batch", cache_policy=NO_CACHE)
def commit_batch(
    con,
    settings: Settings,
    rows: lake.BatchRows,
    fault: str | None = None,
    retired_earlier: frozenset[str] = frozenset(),
) -> lake.Committed:
    """One transaction: the batch's articles, mentions, claims, stances, quantities and sources."""
    return lake.commit_batch(con, settings, rows, fault, retired_earlier)


# The type ignores in this module: Prefect's stubs type neither a bare ThreadPoolTaskRunner
# nor quote()d task arguments.
@flow(name="ingest", task_runner=ThreadPoolTaskRunner(max_workers=4))  # type: ignore[arg-type]
def ingest(
    seeds: str | None = None,
    warehouse: str | None = None,
    paths: list[str] | None = None,
    trigger: str = "manual",
    sweep: bool = True,
    reextract: bool = False,
    fault: str | None = None,
) -> dict[str, int]:
    """Ingest everything pending in seeds/ into the warehouse.

    `paths` names the files that prompted the run (an event's payload). They go
    first, planned by a stat of each, so their rows are visible before the rest of
    seeds/ is walked. With `sweep` (the default) the run then takes everything else
    pending, but only when no completed run has swept within `event_sweep_seconds`: a
    walk of 100,000 files takes seconds and would hold the next event's run back. The
    watcher rings for a sweep that long after an announcement, so a lost event's
    file still waits about a minute, not for the cron. `sweep=False` stops after the
    named files.
    `reextract` also re-runs extraction for articles an older extractor made.
    """
    settings = Settings.for_folders(seeds, warehouse)
    logger = get_run_logger()
    run_id = str(flow_run.id or uuid.uuid4())
    summary = RunSummary(run_id=run_id, trigger=trigger)
    if paths is not None:
        paths = _paths_inside(settings, paths, logger)
        if not paths and not sweep:
            logger.warning("no named path lies inside %s: nothing to do", settings.seeds_dir)
            return summary.counts()
    con = lake.connect(settings)
    try:
        started = datetime.now(UTC)
        pending, known = discover_pending(settings, con, paths, reextract)
        summary.swept_at = None if paths else started
        sweep_after = bool(paths) and sweep and lake.sweep_due(con, settings.event_sweep_seconds)
        _label_run(trigger, len(pending.pending) + len(pending.deleted), logger)
        summary.files_seen = pending.unchanged + len(pending.pending)
        summary.files_pending, summary.unchanged = len(pending.pending), pending.unchanged
        logger.info(
            "%d files seen, %d pending, %d deleted", summary.files_seen, summary.files_pending, len(pending.deleted)
        )
        # A Dask scheduler that does not answer fails the run here, before its row is written.
        cluster = (
            connect_cluster(settings.dask_address, settings.model, settings.dask_connect_seconds)
            if pending.pending
            else None
        )
        if cluster is not None:
            logger.info(
                "extraction on the Dask cluster at %s (%d worker threads)", settings.dask_address, cluster.threads
            )
        with (
            closing_cluster(cluster),
            lake.recorded_run(
                con,
                settings,
                run_id,
                str(flow_run.id) if flow_run.id else None,
                trigger,
                summary.files_seen,
                summary.files_pending,
                summary.counts,
                lambda: summary.swept_at,
            ),
        ):
            summary.deleted = lake.mark_deleted(con, settings, pending.deleted, run_id)
            if pending.pending:
                _ingest_pending(con, settings, pending, known, summary, fault, logger, reextract, cluster)
            if sweep_after:
                named = [stat.path for stat in pending.pending]
                _sweep_the_rest(con, settings, named, summary, fault, logger, reextract, cluster)
            summary.check_failures = _check(con, run_id, logger) if summary.added else {}
        try:
            _publish(con, summary)
        except Exception as exc:  # the data is committed; a missing artifact must not fail the run
            logger.warning("run report not published to Prefect: %s: %s", type(exc).__name__, exc)
    finally:
        con.close()
    logger.info("run %s: %s", run_id, summary.counts())
    return summary.counts()


def _sweep_the_rest(
    con,
    settings: Settings,
    named_pending: Sequence[str],
    summary: RunSummary,
    fault: str | None,
    logger,
    reextract: bool,
    cluster: DaskBatches | None,
) -> None:
    """After an event's own files: everything else pending in seeds/. The files the run
    has just stored now look unchanged, so the counts are made over the whole tree."""
    summary.swept_at = datetime.now(UTC)
    rest, known = discover_pending(settings, con, None, reextract)
    summary.files_seen = rest.unchanged + len(rest.pending)
    # A named file read again (changed meanwhile, or left for later) is one pending file.
    summary.files_pending += len({stat.path for stat in rest.pending} - set(named_pending))
    summary.unchanged = max(summary.files_seen - summary.files_pending, 0)
    summary.deleted += lake.mark_deleted(con, settings, rest.deleted, summary.run_id)
    if rest.pending or rest.deleted:
        logger.info("the sweep after the named files: %d pending, %d deleted", len(rest.pending), len(rest.deleted))
    if not rest.pending:
        return
    # The named files needed no cluster (or had none to extract): connect only now.
    own_cluster = (
        connect_cluster(settings.dask_address, settings.model, settings.dask_connect_seconds)
        if cluster is None and settings.dask_address
        else None
    )
    with closing_cluster(own_cluster):
        _ingest_pending(con, settings, rest, known, summary, fault, logger, reextract, cluster or own_cluster)


@contextmanager
def closing_cluster(cluster: DaskBatches | None) -> Iterator[None]:
    try:
        yield
    finally:
        if cluster is not None:
            cluster.close()


def _check(con, run_id: str, logger) -> dict[str, int]:
    """Run the data checks (warehouse/checks/*.sql) over this run's articles; each must find nothing."""
    failures = {name: bad for name, bad in lake.run_checks(con, run_id).items() if bad}
    for name, bad in failures.items():
        logger.error("data check %s found %d bad row(s)", name, bad)
    return failures


def _label_run(trigger: str, files: int, logger) -> None:
    """Name and tag the flow run after what triggered it and how many files it covers."""
    if flow_run.id is None:
        return
    from prefect.client.orchestration import get_client

    name = f"{trigger}-{files}-file{'s' if files != 1 else ''}-{str(flow_run.id)[:8]}"
    try:
        with get_client(sync_client=True) as client:
            current = client.read_flow_run(flow_run.id)
            tags = sorted({*current.tags, f"trigger:{trigger}", f"files:{files}"})
            client.update_flow_run(flow_run.id, name=name, tags=tags)
    except Exception as exc:  # a label is not worth failing a run for
        logger.warning("could not label the flow run: %s", exc)


def _paths_inside(settings: Settings, paths: Sequence[str], logger) -> list[str]:
    """Event paths as seeds/-relative paths; anything outside seeds/ is dropped unread."""
    inside = []
    for named in paths:
        relative = relative_inside(settings.seeds_dir, named)
        if relative is None:
            logger.warning("ignored a path outside %s: %r", settings.seeds_dir, named)
        else:
            inside.append(relative)
    return inside


def _ingest_pending(
    con,
    settings: Settings,
    pending: Plan,
    known: dict[str, KnownSource],
    summary: RunSummary,
    fault: str | None,
    logger,
    reextract: bool = False,
    cluster: DaskBatches | None = None,
) -> None:
    known_articles = known_articles_for(con, len(pending.pending), settings.batch_size, reextract)
    failures_before = len(summary.failures)  # a sweep after an event's files calls this twice
    total, done = len(pending.pending), 0
    batches = list(chunks(pending.pending, settings.batch_size))
    workers = workers_for(total, settings.n_process, settings.batch_size)
    in_flight: deque = deque()

    commits = 0
    retired: set[str] = set()  # by this run's commits: batches read before may still name them

    def commit_oldest() -> None:
        nonlocal done, commits
        batch, prepared, future = in_flight.popleft()
        extractions = future.result().unquote()
        rows = build_rows(prepared, extractions, known, summary.run_id, datetime.now(UTC))
        # Every file of the batch vanished before it was read: nothing to commit.
        committed = (
            commit_batch(con, settings, quote(rows), fault, quote(frozenset(retired)))  # type: ignore[call-overload]
            if rows.sources
            else lake.Committed(0, 0, [])
        )
        summary.added += committed.added
        summary.existing += (
            sum(1 for o in prepared.outcomes if o.article and not o.needs_extraction) - committed.left_for_later
        )
        summary.replaced += committed.replaced
        summary.retired += len(committed.retired)
        retired.update(committed.retired)
        known_articles.forget(committed.retired)  # batches read from now on extract that content again
        summary.quarantined += sum(1 for o in prepared.outcomes if o.error)
        summary.failures += [(o.stat.path, o.error) for o in prepared.outcomes if o.error]
        summary.retry_later += prepared.retry_later + committed.left_for_later
        summary.dates_unreadable += sum(1 for a in new_articles(prepared) if a.date_unreadable)
        summary.mentions += len(rows.mentions)
        summary.claims += len(rows.claims)
        done += len(batch)
        for listener in _progress_listeners:
            listener(done, total)
        commits += 1 if rows.sources else 0
        if settings.merge_every_commits and rows.sources and commits % settings.merge_every_commits == 0:
            _merge_small_files(settings, logger)

    # quote(): otherwise Prefect walks every element of every task argument
    # looking for futures; on the BBC corpus that walk was 65% of the main
    # process's CPU (py-spy), competing with the spaCy workers for 2 cores.
    with Extractor(
        settings.model,
        workers,
        settings.nlp_batch_size,
        cluster,
        renew_after_chars=settings.worker_renew_chars,
    ) as extractor:
        workers = extractor.parallelism
        for batch in batches:
            # Reading is a plain call, not a task: a task run costs the server and this
            # process CPU that the spaCy workers need (35 fewer task runs on BBC).
            prepared = read_batch(batch, settings, known_articles)
            future = extract_batch.submit(quote(prepared.to_extract()), extractor)  # type: ignore[call-overload]
            in_flight.append((batch, prepared, future))
            while len(in_flight) > workers:
                commit_oldest()
        while in_flight:
            commit_oldest()
    for path, error in summary.failures[failures_before:]:
        logger.warning("quarantined %s: %s", printable(path), printable(error))


def _merge_small_files(settings: Settings, logger) -> None:
    """Keep each commit's reads from growing with the run. Only an optimisation: the
    batches are committed, so a failed merge is a warning and the run goes on."""
    try:
        lake.merge_small_files(settings)
    except lake.WarehouseError as exc:
        logger.warning("%s; the run goes on, and `newsdesk maintain` merges them later", exc)


def _publish(con, summary: RunSummary) -> None:
    """The run's markdown and table artifacts, for the Prefect UI."""
    top, claims = lake.run_highlights(con, summary.run_id)
    create_markdown_artifact(
        key="ingest-summary", markdown=run_markdown(summary, top, claims), description="newsdesk ingest run"
    )
    create_table_artifact(
        key="ingest-counts",
        table=[{"what": k, "count": v} for k, v in summary.counts().items()],
        description="newsdesk ingest counts",
    )
