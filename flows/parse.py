"""Pure: raw bytes -> Article. Decoding, normalization, metadata, headline, paragraphs.

`articles.text` is the normalized document (headline included, metadata block
excluded); every offset in the warehouse points into it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone

# Magic numbers of formats people drop by mistake: rejected as binary.
_BINARY_MAGIC = {
    b"\x89PNG": "PNG image",
    b"PK\x03\x04": "zip archive",
    b"%PDF": "PDF document",
    b"\x1f\x8b": "gzip archive",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
}
_METADATA_KEYS = {"url", "source", "author", "published", "date", "title"}
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z _-]{0,30}):\s*(.*)$")


class ParseError(ValueError):
    """The input is not an article; the message is the quarantine reason."""


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    text: str
    encoding: str
    paragraphs: tuple[tuple[int, int], ...]  # (start, end) code-point offsets into text
    metadata: dict[str, str] = field(default_factory=dict)
    published_at: datetime | None = None

    @property
    def word_count(self) -> int:
        return len(self.text.split())


def decode(raw: bytes) -> tuple[str, str]:
    """Bytes -> (text, encoding used). BOMs first, then UTF-8, then cp1252 for legacy files."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    for magic, kind in _BINARY_MAGIC.items():
        if raw.startswith(magic):
            raise ParseError(f"binary content ({kind}), not text")
    if b"\x00" in raw:
        raise ParseError("binary content (NUL bytes), not text")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return raw.decode("latin-1"), "latin-1"


def normalize(text: str) -> str:
    """NFC, LF line endings, trailing whitespace trimmed per line, outer blank lines dropped."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def split_metadata(text: str) -> tuple[dict[str, str], str]:
    """Take a leading `---` front-matter block or leading `Key: value` lines off the text."""
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() in {"---", "..."})
        except StopIteration:
            raise ParseError("malformed front matter: no closing '---'") from None
        meta: dict[str, str] = {}
        for line in lines[1:end]:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _KEY_VALUE.match(line.strip())
            if not match:
                raise ParseError(f"malformed front matter line: {line.strip()[:60]!r}")
            meta[_meta_key(match[1])] = _unquote(match[2])
        return meta, "\n".join(lines[end + 1 :]).strip("\n")
    meta = {}
    consumed = 0
    for line in lines:
        match = _KEY_VALUE.match(line)
        if not match or _meta_key(match[1]) not in _METADATA_KEYS:
            break
        meta[_meta_key(match[1])] = _unquote(match[2])
        consumed += 1
    return meta, "\n".join(lines[consumed:]).strip("\n")


def _meta_key(key: str) -> str:
    return key.strip().lower().replace(" ", "_").replace("-", "_")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def paragraph_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Paragraphs are runs of non-empty lines separated by blank lines, or single lines
    when the document never uses blank lines (as in the sample article)."""
    uses_blank_lines = "\n\n" in text
    pattern = r"[^\n]+(?:\n[^\n]+)*" if uses_blank_lines else r"[^\n]+"
    return tuple((m.start(), m.end()) for m in re.finditer(pattern, text) if m.group().strip())


def parse_published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def article_id_for(text: str) -> str:
    """Content address: the first 16 hex digits of the sha256 of the normalized text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_article(raw: bytes) -> Article:
    """Bytes -> Article, or ParseError with the reason a person needs to fix the file."""
    if not raw.strip():
        raise ParseError("empty file")
    decoded, encoding = decode(raw)
    if _control_ratio(decoded) > 0.05:
        raise ParseError("binary content (control characters), not text")
    meta, text = split_metadata(normalize(decoded))
    if not text.strip():
        raise ParseError("no text after the metadata" if meta else "empty file (whitespace only)")
    paragraphs = paragraph_spans(text)
    title_start, title_end = paragraphs[0]
    title_line = text[title_start:title_end].split("\n", 1)[0]
    if len(paragraphs) < 2 and "\n" not in text[title_start:title_end]:
        raise ParseError("headline only, no body")
    title = meta.pop("title", None) or title_line.strip().lstrip("# ").strip()
    return Article(
        article_id=article_id_for(text),
        title=title,
        text=text,
        encoding=encoding,
        paragraphs=paragraphs,
        metadata=meta,
        published_at=parse_published(meta.get("published") or meta.get("date")),
    )


def _control_ratio(text: str) -> float:
    sample = text[:10_000]
    if not sample:
        return 0.0
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return controls / len(sample)
