"""Plain records the warehouse reads and writes, shared with the layers above
without making them import DuckDB."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownSource:
    """What the `sources` table remembers of a path."""

    size_bytes: int | None
    mtime_ns: int | None
    status: str
    content_sha256: str | None
    article_id: str | None = None
    first_seen_at: object | None = None  # datetime; kept as it was first recorded
    ctime_ns: int | None = None
