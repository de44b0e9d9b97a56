"""newsdesk: a message-driven news ingestion pipeline (Prefect + spaCy + DuckLake).

For notebooks and scripts:

- `newsdesk.connect()` -> a DuckDB connection with the warehouse attached and selected;
- `newsdesk.extract(text)` -> one text's entities, claims, stances and quantities, no warehouse needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from newsdesk.extraction.pool import Extracted

__version__ = "0.2.0"
__all__ = ["__version__", "connect", "extract"]


def connect(warehouse: str | Path | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """The warehouse (default: ./warehouse, or NEWSDESK_WAREHOUSE) attached as `news` and
    selected, so `con.sql("select * from claims").df()`, `.pl()` and `.arrow()` work.

    Read-only by default: the catalog is attached READ_ONLY. Unlike `newsdesk sql`, the
    session is yours: it may read your own files to join with."""
    from newsdesk.settings import Settings
    from newsdesk.warehouse import lake

    return lake.connect(Settings.for_folders(None, warehouse), read_only=read_only)


def extract(text: str, model: str | None = None) -> Extracted:
    """Entities, claims and quantities of one text, as the pipeline would store them.
    Offsets point into `.text`, the normalized text. The model loads once per process."""
    from newsdesk.extraction.pool import extract_one
    from newsdesk.settings import Settings

    return extract_one(text, model or Settings().model)
