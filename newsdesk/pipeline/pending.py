"""What a run would do, decided from a stat of seeds/ and the sources table alone.

Kept free of Prefect and spaCy imports: a run with nothing to do must not pay
for a Prefect server or a model load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from newsdesk.pipeline.sources import FileStat, KnownSource, Plan, plan, scan, scan_named
from newsdesk.settings import Settings
from newsdesk.warehouse import lake


def scan_ahead(root: Path) -> Future[list[FileStat]]:
    """Walk seeds/ in a thread of its own while the warehouse side goes on (opening it,
    fetching the recorded stats): the walk mostly waits on stat calls and DuckDB
    releases the GIL, so at 100,000 files the two overlap. A daemon thread: a CLI that
    fails to open the warehouse exits at once, not after the walk."""
    walked: Future[list[FileStat]] = Future()

    def walk() -> None:
        if not walked.set_running_or_notify_cancel():
            return
        try:
            walked.set_result(list(scan(root)))
        except BaseException as exc:  # raised again by .result(), in the caller
            walked.set_exception(exc)

    threading.Thread(target=walk, name="newsdesk-scan", daemon=True).start()
    return walked


def plan_pending(
    settings: Settings,
    con: lake.Connection,
    paths: Sequence[str] | None = None,
    reextract: bool = False,
    scanned: Future[list[FileStat]] | None = None,
) -> Plan:
    """Stat seeds/ and compare with the sources table: no file is read here.
    With `paths`, only those files are stat'ed and looked up (deletions among them
    included); without, the whole tree and table, by their stats alone (`scanned`:
    the walk `scan_ahead` started, else one started here).
    With `reextract`, files whose article an older extractor made are pending too."""
    return _plan_and_rows(settings, con, paths, reextract, scanned)[0]


def discover_pending(
    settings: Settings, con: lake.Connection, paths: Sequence[str] | None = None, reextract: bool = False
) -> tuple[Plan, dict[str, KnownSource]]:
    """`plan_pending`, and what the sources table remembers of each pending file (its
    article, when it was first seen): the full rows of those files only, as a warm tree
    of 100,000 files has none."""
    planned, rows = _plan_and_rows(settings, con, paths, reextract)
    pending = [stat.path for stat in planned.pending]
    if rows is None:
        return planned, lake.known_sources(con, pending) if pending else {}
    return planned, {path: rows[path] for path in pending if path in rows}


def _plan_and_rows(
    settings: Settings,
    con: lake.Connection,
    paths: Sequence[str] | None,
    reextract: bool,
    scanned: Future[list[FileStat]] | None = None,
) -> tuple[Plan, dict[str, KnownSource] | None]:
    """The plan, and the full rows it was made from when it looked up named paths
    (None for the whole tree: planned from stats alone)."""
    if not paths:
        scanned = scanned or scan_ahead(settings.seeds_dir)
        force = frozenset(stale_paths(con)) if reextract else frozenset()
        recorded = lake.recorded_stats(con)
        return plan(scanned.result(), recorded, None, force), None
    force = frozenset(stale_paths(con)) if reextract else frozenset()
    rows = lake.known_sources(con, paths)
    named = list(scan_named(settings.seeds_dir, paths))
    planned = plan(named, rows, set(paths), force)
    missing = _unchanged_without_article(con, planned, named, rows)
    return (plan(named, rows, set(paths), force | missing) if missing else planned), rows


def _unchanged_without_article(
    con: lake.Connection, planned: Plan, named: Sequence[FileStat], rows: dict[str, KnownSource]
) -> frozenset[str]:
    """Named files the plan left as unchanged, ingested, whose article is not stored:
    another writer retired it between a run's read of the file and its commit, so
    they are read again (recorded_stats.sql does the same for a plan of the tree).
    Asked only when such files are named: an event's changed file costs nothing."""
    pending = {stat.path for stat in planned.pending}
    articles = {
        stat.path: row.article_id
        for stat in named
        if stat.path not in pending
        and (row := rows.get(stat.path)) is not None
        and row.status == "ingested"
        and row.article_id is not None
    }
    if not articles:
        return frozenset()
    stored = lake.known_article_ids(con, sorted(set(articles.values())))
    return frozenset(path for path, article_id in articles.items() if article_id not in stored)


def stale_paths(con: lake.Connection) -> dict[str, str]:
    """path -> article_id of ingested files extracted by another extractor version."""
    from newsdesk.extraction.pool import EXTRACTOR_VERSION

    return lake.stale_sources(con, EXTRACTOR_VERSION)


@dataclass
class KnownArticles:
    """Article ids a run will not extract again. Either all of them up front, or, with
    `ask`, learnt for the articles a batch read: a run that fits in one batch (an
    event's few files) then reads a few rows, not every id in the warehouse."""

    ids: set[str] = field(default_factory=set)
    ask: Callable[[list[str]], set[str]] | None = None

    def learn(self, article_ids: Sequence[str]) -> None:
        unknown = sorted(set(article_ids) - self.ids)
        if self.ask is not None and unknown:
            self.ids |= self.ask(unknown)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.ids

    def add(self, article_id: str) -> None:
        self.ids.add(article_id)

    def forget(self, article_ids: Sequence[str]) -> None:
        """Retired by a commit of this run: no longer stored."""
        self.ids.difference_update(article_ids)


def extracted_articles(con: lake.Connection, reextract: bool = False, among: Sequence[str] | None = None) -> set[str]:
    """Article ids a run will not extract again (of those `among`, if given); with
    `reextract`, only those the current extractor version made."""
    from newsdesk.extraction.pool import EXTRACTOR_VERSION

    return {
        aid
        for aid, version in lake.known_article_ids(con, among).items()
        if not reextract or version == EXTRACTOR_VERSION
    }


def known_articles_for(con: lake.Connection, files: int, batch_size: int, reextract: bool = False) -> KnownArticles:
    """What a run over `files` pending files needs to know of stored articles: asked
    once, for the articles its one batch read, when it fits in one batch (an event's
    files; the ask scans the id column, so more batches would each pay it); fetched
    whole otherwise (0.10-0.21 s at 100,000 articles)."""
    if files <= batch_size:
        return KnownArticles(ask=partial(extracted_articles, con, reextract))
    return KnownArticles(extracted_articles(con, reextract))


def pending_work(settings: Settings, paths: Sequence[str] | None = None, reextract: bool = False) -> Plan | None:
    """The plan of the next run, or None when there is no warehouse yet."""
    if not lake.exists(settings):
        return None
    scanned = None if paths else scan_ahead(settings.seeds_dir)  # while the warehouse opens
    with _reader(settings) as con:
        return plan_pending(settings, con, paths, reextract, scanned)


def files_to_read(settings: Settings, planned: Plan | None, paths: Sequence[str] | None = None) -> Sequence[FileStat]:
    """The files the next run will read: the plan's, or with no warehouse yet every
    candidate in seeds/ (only `paths`, when given)."""
    if planned is not None:
        return planned.pending
    if paths:
        return plan(scan_named(settings.seeds_dir, paths), {}, set(paths)).pending
    return plan(scan(settings.seeds_dir), {}, None).pending


def extracted_articles_in(settings: Settings, reextract: bool = False) -> set[str]:
    """`extracted_articles` of the warehouse, or none when there is no warehouse yet."""
    if not lake.exists(settings):
        return set()
    with _reader(settings) as con:
        return extracted_articles(con, reextract)


@contextmanager
def _reader(settings: Settings) -> Iterator[lake.Connection]:
    con = lake.connect(settings, read_only=True)
    try:
        yield con
    finally:
        con.close()
