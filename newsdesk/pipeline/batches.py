"""Plain steps of an ingest run over one batch: read and parse its files, then turn
them and their extractions into the rows one commit writes. No Prefect here: the
ingest flow wires these."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice

from newsdesk.extraction.parse import Article, ParseError, parse_article
from newsdesk.extraction.pool import EXTRACTOR_VERSION, Extraction
from newsdesk.pipeline.pending import KnownArticles
from newsdesk.pipeline.sources import FileStat, KnownSource, OversizeError, SourceChanged, Unreadable, read_source
from newsdesk.settings import Settings
from newsdesk.warehouse.lake import BatchRows


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


def read_batch(batch: list[FileStat], settings: Settings, known_articles: KnownArticles) -> PreparedBatch:
    """Read, hash and parse a batch. Bad files become quarantine outcomes; known
    content is not extracted again. `known_articles` grows as content is claimed."""
    prepared = PreparedBatch()
    read: list[FileOutcome] = []  # in the batch's order; an article's extraction is decided below
    for stat in batch:
        try:
            raw, sha, fresh = read_source(settings.seeds_dir, stat, settings.max_file_bytes)
        except SourceChanged:
            prepared.retry_later += 1
            continue
        except (OversizeError, Unreadable) as exc:
            read.append(FileOutcome(stat, error=str(exc)))
            continue
        except OSError as exc:
            read.append(FileOutcome(stat, error=f"cannot read: {exc.strerror or exc}"))
            continue
        try:
            article = parse_article(raw)
            if len(article.text) > settings.max_text_chars:
                raise ParseError(
                    f"text is {len(article.text):,} characters, over the "
                    f"{settings.max_text_chars:,}-character limit for the model"
                )
        except (ParseError, UnicodeDecodeError) as exc:
            read.append(FileOutcome(fresh, sha, error=str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a parser bug on one file must not sink its batch
            read.append(FileOutcome(fresh, sha, error=f"cannot parse ({type(exc).__name__}): {exc}"[:300]))
            continue
        read.append(FileOutcome(fresh, sha, article))
    known_articles.learn([o.article.article_id for o in read if o.article])
    for outcome in read:  # the first file of a content claims it
        if outcome.article:
            is_new = outcome.article.article_id not in known_articles
            known_articles.add(outcome.article.article_id)
            outcome = replace(outcome, needs_extraction=is_new)
        prepared.outcomes.append(outcome)
    return prepared


def first_extractions(
    settings: Settings, pending: Sequence[FileStat], known_articles: set[str], batches: int
) -> list[list[tuple[str, str]]]:
    """What the first `batches` extract tasks of a run over `pending` will be given, as
    `_ingest_pending` forms them: for `extract.prefetch`. A file that changes in
    between only costs a wasted guess."""
    known = KnownArticles(set(known_articles))
    return [
        read_batch(batch, settings, known).to_extract()
        for batch in islice(chunks(pending, settings.batch_size), batches)
    ]


def build_rows(
    prepared: PreparedBatch, extractions: list[Extraction], known: dict[str, KnownSource], run_id: str, now: datetime
) -> BatchRows:
    """Pure: a prepared batch and its extractions -> the rows one commit writes."""
    by_id = {e.article_id: e for e in extractions}
    sources, articles, mentions, claims, quantities, stances, previous = [], [], [], [], [], [], []
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
                "modified_at": datetime.fromtimestamp(outcome.stat.mtime_ns / 1e9, UTC),
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
        if extraction is None or article is None:
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
        stances += [{**version, **vars(c)} for c in extraction.stances]
        quantities += [
            {**version, "quantity_idx": i, "claim_idx": claim_idx, **vars(q)}
            for i, (q, claim_idx) in enumerate(extraction.quantities)
        ]
    return BatchRows(sources, articles, mentions, claims, quantities, previous, stances)
