"""Pure: what a run did, and its markdown report (escaped: article text is untrusted)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+|!~])")


@dataclass
class RunSummary:
    run_id: str
    trigger: str
    files_seen: int = 0
    files_pending: int = 0
    unchanged: int = 0
    added: int = 0
    existing: int = 0
    replaced: int = 0  # stored again: re-extracted, or another run committed it first
    retired: int = 0
    quarantined: int = 0
    deleted: int = 0
    retry_later: int = 0
    dates_unreadable: int = 0  # a date was given but in no format we read; kept in published_raw
    mentions: int = 0
    claims: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    check_failures: dict[str, int] = field(default_factory=dict)
    swept_at: datetime | None = None  # when the run began walking the whole of seeds/; None: it did not

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


def md_escape(value: Any, limit: int = 200) -> str:
    """One table cell of untrusted text: no markup, no HTML, no line breaks."""
    text = " ".join(str(value if value is not None else "").split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text)


def markdown_table(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return "_none_\n"
    head = "| " + " | ".join(md_escape(c) for c in columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in rows]
    return "\n".join([head, rule, *body]) + "\n"


def run_markdown(summary: RunSummary, top_entities: list[tuple[Any, ...]], claims: list[tuple[Any, ...]]) -> str:
    counts = [
        ("files seen", summary.files_seen),
        ("files pending", summary.files_pending),
        ("unchanged (skipped by stat)", summary.unchanged),
        ("articles added", summary.added),
        ("already known content", summary.existing),
        ("articles stored again (re-extracted)", summary.replaced),
        ("articles retired", summary.retired),
        ("quarantined", summary.quarantined),
        ("deleted files", summary.deleted),
        ("changed while read, or their stored content retired meanwhile (read again next run)", summary.retry_later),
        ("dates unreadable (kept raw in published_raw)", summary.dates_unreadable),
        ("mentions", summary.mentions),
        ("claims", summary.claims),
    ]
    return "\n".join(
        [
            f"# newsdesk ingest `{md_escape(summary.run_id)}`",
            f"Trigger: **{md_escape(summary.trigger)}**",
            "",
            "## Counts",
            markdown_table(["what", "count"], counts),
            "## Data checks",
            markdown_table(["check", "bad rows"], sorted(summary.check_failures.items()))
            if summary.check_failures
            else "All data checks passed.\n",
            "## Quarantined files",
            markdown_table(["path", "reason"], summary.failures),
            "## Top entities",
            markdown_table(["entity", "label", "articles", "mentions"], top_entities),
            "## Claims",
            markdown_table(["speaker", "cue", "kind", "content", "article"], claims),
        ]
    )
