"""@flow ingest: discover -> read/parse -> extract (one task per batch) -> commit.

The flow only orchestrates. Each batch is read, extracted on the worker pool
and committed in one warehouse transaction, so a crash loses at most the
batch in flight, and the next run picks it up because its sources rows were
never written.
"""

from __future__ import annotations

import uuid
from collections import deque
from itertools import islice
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import lake
from flows.extract import EXTRACTOR_VERSION, Extraction, Extractor, workers_for
from flows.parse import Article, ParseError, parse_article
from flows.settings import Settings
from flows.pending import discover_pending, extracted_articles
from flows.sources import (FileStat, KnownSource, OversizeError, Plan, SourceChanged, Unreadable, printable,
                           read_source, relative_inside)
from flows.summary import RunSummary, run_markdown

ProgressCallback = Callable[[int, int], None]
_progress_listeners: list[ProgressCallback] = []


def on_progress(callback: ProgressCallback) -> None:
    """Register a (done, total) listener, e.g. the CLI's progress bar."""
    _progress_listeners.append(callback)


@dataclass(frozen=True)
class FileOutcome:
    stat: FileStat
    sha256: str | None = None
    article: Article | None = None
    error: str | None = None  # quarantine reason
    needs_extraction: bool = False


@dataclass
class PreparedBatch:
    outcomes: list[FileOutcome] = field(default_factory=list)
    retry_later: int = 0

    def to_extract(self) -> list[tuple[str, str]]:
        return [(o.article.article_id, o.article.text) for o in self.outcomes if o.needs_extraction and o.article]


def new_articles(prepared: PreparedBatch) -> list[Article]:
    """The batch's articles that this run extracts and stores."""
    return [o.article for o in prepared.outcomes if o.article and o.needs_extraction]


def chunks(items: Sequence[FileStat], size: int) -> Iterator[list[FileStat]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def read_batch(batch: list[FileStat], settings: Settings, known_articles: set[str]) -> PreparedBatch:
    """Read, hash and parse a batch. Bad files become quarantine outcomes; known
    content is not extracted again. `known_articles` grows as content is claimed."""
    prepared = PreparedBatch()
    for stat in batch:
        try:
            raw, sha, fresh = read_source(settings.seeds_dir, stat, settings.max_file_bytes)
        except SourceChanged:
            prepared.retry_later += 1
            continue
        except (OversizeError, Unreadable) as exc:
            prepared.outcomes.append(FileOutcome(stat, error=str(exc)))
            continue
        except OSError as exc:
            prepared.outcomes.append(FileOutcome(stat, error=f"cannot read: {exc.strerror or exc}"))
            continue
        try:
            article = parse_article(raw)
            if len(article.text) > settings.max_text_chars:
                raise ParseError(f"text is {len(article.text):,} characters, over the "
                                 f"{settings.max_text_chars:,}-character limit for the model")
        except (ParseError, UnicodeDecodeError) as exc:
            prepared.outcomes.append(FileOutcome(fresh, sha, error=str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a parser bug on one file must not sink its batch
            prepared.outcomes.append(FileOutcome(fresh, sha, error=f"cannot parse ({type(exc).__name__}): {exc}"[:300]))
            continue
        is_new = article.article_id not in known_articles
        known_articles.add(article.article_id)
        prepared.outcomes.append(FileOutcome(fresh, sha, article, needs_extraction=is_new))
    return prepared


def first_extractions(settings: Settings, pending: Sequence[FileStat], known_articles: set[str], batches: int
                      ) -> list[list[tuple[str, str]]]:
    """What the first `batches` extract tasks of a run over `pending` will be given, as
    `_ingest_pending` forms them: for `extract.prefetch`. A file that changes in
    between only costs a wasted guess."""
    known = set(known_articles)
    return [read_batch(batch, settings, known).to_extract()
            for batch in islice(chunks(pending, settings.batch_size), batches)]


@task(name="extract-batch", cache_policy=NO_CACHE)
def extract_batch(items: list[tuple[str, str]], extractor: Extractor) -> list[Extraction]:
    """spaCy + rules over one batch, on the extraction pool."""
    return extractor.run(items)


# No Prefect retries: lake.transaction already retries write conflicts, the only
# failure a retry can fix; a full or read-only disk fails at once with one message.
@task(name="commit-batch", cache_policy=NO_CACHE)
def commit_batch(con, settings: Settings, rows: lake.BatchRows, fault: str | None = None) -> lake.Committed:
    """One transaction: the batch's articles, mentions, claims, quantities and sources."""
    return lake.commit_batch(con, settings, rows, fault)


def build_rows(prepared: PreparedBatch, extractions: list[Extraction], known: dict[str, KnownSource],
               run_id: str, now: datetime) -> lake.BatchRows:
    """Pure: a prepared batch and its extractions -> the rows one commit writes."""
    by_id = {e.article_id: e for e in extractions}
    sources, articles, mentions, claims, quantities, previous = [], [], [], [], [], []
    for outcome in prepared.outcomes:
        prior = known.get(outcome.stat.path)
        article = outcome.article
        sources.append(
            {
                "path": outcome.stat.path,
                "content_sha256": outcome.sha256,
                "size_bytes": outcome.stat.size_bytes,
                "mtime_ns": outcome.stat.mtime_ns,
                "ctime_ns": outcome.stat.ctime_ns,
                "modified_at": datetime.fromtimestamp(outcome.stat.mtime_ns / 1e9, timezone.utc),
                "article_id": article.article_id if article else None,
                "status": "quarantined" if outcome.error else "ingested",
                "error": outcome.error,
                "encoding": article.encoding if article else None,
                "first_seen_at": prior.first_seen_at if prior and prior.first_seen_at else now,
                "last_seen_at": now,
                "run_id": run_id,
            }
        )
        if prior and prior.article_id and (article is None or prior.article_id != article.article_id):
            previous.append(prior.article_id)
        extraction = by_id.pop(article.article_id, None) if article else None
        if extraction is None:
            continue
        meta = article.metadata
        articles.append(
            {
                "article_id": article.article_id,
                "title": article.title,
                "text": article.text,
                "published_at": article.published_at,
                "published_raw": article.published_raw,
                "language": meta.get("language", "en"),
                "word_count": article.word_count,
                "url": meta.get("url"),
                "source": meta.get("source"),
                "author": meta.get("author"),
                "run_id": run_id,
                "ingested_at": now,
                "extractor_version": EXTRACTOR_VERSION,
                "model": extraction.model,
            }
        )
        version = {"article_id": article.article_id, "extractor_version": EXTRACTOR_VERSION}
        mentions += [{**version, **vars(m)} for m in extraction.mentions]
        claims += [{**version, **vars(c)} for c in extraction.claims]
        quantities += [
            {**version, "quantity_idx": i, "claim_idx": claim_idx, **vars(q)}
            for i, (q, claim_idx) in enumerate(extraction.quantities)
        ]
    return lake.BatchRows(sources, articles, mentions, claims, quantities, previous)


@flow(name="ingest", task_runner=ThreadPoolTaskRunner(max_workers=4))
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

    `paths` names the files that prompted the run (an event's payload). With
    `sweep` (the default) the run still takes everything pending, so a lost or
    repeated event never matters; `sweep=False` limits it to `paths`.
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
        pending, known = discover_pending(settings, con, None if sweep else paths, reextract)
        _label_run(trigger, len(pending.pending) + len(pending.deleted), logger)
        summary.files_seen = pending.unchanged + len(pending.pending)
        summary.files_pending, summary.unchanged = len(pending.pending), pending.unchanged
        logger.info("%d files seen, %d pending, %d deleted", summary.files_seen, summary.files_pending,
                    len(pending.deleted))
        with lake.recorded_run(con, settings, run_id, str(flow_run.id) if flow_run.id else None, trigger,
                               summary.files_seen, summary.files_pending, summary.counts):
            summary.deleted = lake.mark_deleted(con, settings, pending.deleted, run_id)
            if pending.pending:
                _ingest_pending(con, settings, pending, known, summary, fault, logger, reextract)
            summary.check_failures = _check(con, run_id, logger) if summary.added else {}
        try:
            _publish(con, summary)
        except Exception as exc:  # the data is committed; a missing artifact must not fail the run
            logger.warning("run report not published to Prefect: %s: %s", type(exc).__name__, exc)
    finally:
        con.close()
    logger.info("run %s: %s", run_id, summary.counts())
    return summary.counts()


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


def _ingest_pending(con, settings: Settings, pending: Plan, known: dict[str, KnownSource],
                    summary: RunSummary, fault: str | None, logger, reextract: bool = False) -> None:
    known_articles = extracted_articles(con, reextract)
    total, done = len(pending.pending), 0
    batches = list(chunks(pending.pending, settings.batch_size))
    workers = workers_for(total, settings.n_process, settings.batch_size)
    in_flight: deque = deque()

    def commit_oldest() -> None:
        nonlocal done
        batch, prepared, future = in_flight.popleft()
        extractions = future.result()
        rows = build_rows(prepared, extractions, known, summary.run_id, datetime.now(timezone.utc))
        # Every file of the batch vanished before it was read: nothing to commit.
        committed = commit_batch(con, settings, quote(rows), fault) if rows.sources else lake.Committed(0, [])
        summary.added += committed.added
        summary.existing += sum(1 for o in prepared.outcomes if o.article and not o.needs_extraction)
        summary.existing += len(rows.articles) - committed.added  # a concurrent run stored them first
        summary.retired += len(committed.retired)
        summary.quarantined += sum(1 for o in prepared.outcomes if o.error)
        summary.failures += [(o.stat.path, o.error) for o in prepared.outcomes if o.error]
        summary.retry_later += prepared.retry_later
        summary.dates_unreadable += sum(1 for a in new_articles(prepared) if a.date_unreadable)
        summary.mentions += len(rows.mentions)
        summary.claims += len(rows.claims)
        done += len(batch)
        for listener in _progress_listeners:
            listener(done, total)

    # quote(): otherwise Prefect walks every element of every task argument
    # looking for futures; on the BBC corpus that walk was 65% of the main
    # process's CPU (py-spy), competing with the spaCy workers for 2 cores.
    with Extractor(settings.model, workers, settings.nlp_batch_size) as extractor:
        for batch in batches:
            # Reading is a plain call, not a task: a task run costs the server and this
            # process CPU that the spaCy workers need (35 fewer task runs on BBC).
            prepared = read_batch(batch, settings, known_articles)
            in_flight.append((batch, prepared, extract_batch.submit(quote(prepared.to_extract()), extractor)))
            while len(in_flight) > workers:
                commit_oldest()
        while in_flight:
            commit_oldest()
    for path, error in summary.failures:
        logger.warning("quarantined %s: %s", printable(path), printable(error))


def _publish(con, summary: RunSummary) -> None:
    """The run's markdown and table artifacts, for the Prefect UI."""
    top = con.execute(lake.sql("run_top_entities"), [summary.run_id, 10]).fetchall()
    claims = con.execute(lake.sql("run_claims"), [summary.run_id, 50]).fetchall()
    create_markdown_artifact(
        key="ingest-summary", markdown=run_markdown(summary, top, claims), description="newsdesk ingest run"
    )
    create_table_artifact(
        key="ingest-counts", table=[{"what": k, "count": v} for k, v in summary.counts().items()],
        description="newsdesk ingest counts",
    )
