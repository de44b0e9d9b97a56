"""Pure: raw bytes -> Article. Decoding, normalization, metadata, headline, paragraphs.

`articles.text` is the normalized document (headline included, metadata block
excluded); every offset in the warehouse points into it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

import ftfy
import yaml
from yaml.composer import ComposerError

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
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z0-9 _-]{0,30}):\s*(.*)$")
_FRONT_MATTER_LIMIT = 65_536  # bytes, checked before YAML sees the block
_FRONT_MATTER_DEPTH = 20  # PyYAML composes recursively: deep nesting would blow the stack
_FRONT_MATTER_NODES = 1_000  # pure-Python YAML costs ~40 us a node: 64 KiB of `[x, x, ...]` took 0.8 s
_VALUE_LIMIT = 1_000  # characters per metadata value, title included
_RAW_DATE_LIMIT = 200
_REASON_LIMIT = 120

# Zero-width and invisible format characters: they split names ("Tony\u200d Blair")
# without showing. ZWJ/ZWNJ also go, which is fine for English news but would
# break emoji sequences and Persian/Indic shaping.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")

# UTF-8 read as cp1252/Latin-1 always shows a lead byte (U+00C2-U+00F4: Â, Ã, â, ð...)
# followed by a continuation byte (0x80-0xBF as cp1252, or a C1 control where cp1252
# has none); any C1 control is also worth a look (cp1252 text decoded as Latin-1).
_CONTINUATION = "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(0x80, 0xC0))
_MOJIBAKE_HINT = re.compile(f"[\x80-\x9f]|[\u00c2-\u00f4][{re.escape(_CONTINUATION)}]")
# Encoding repair only: every fixer that would rewrite legitimate text is off (curly
# quotes feed quote detection; ligatures, widths, HTML entities, controls and line
# breaks are left as written), and NFC/line endings stay with normalize() so
# there is one place that decides them. restore_byte_a0 and replace_lossy_sequences
# guess at damaged bytes and are off to avoid false positives.
# Cost (timeit, 5,000 words / 34 kB): ftfy takes ~8 ms on clean text with accents and
# curly quotes (~0.6 ms plain ASCII, ~19 ms when it has mojibake to fix); the hint
# regex takes ~0.4 ms, so clean text skips ftfy and normalize() stays under 1 ms.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=False,
    replace_lossy_sequences=False,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)
# Unambiguous written dates; %B/%b follow the C locale (English month names).
# Numeric day/month forms (03/04/2024) are deliberately absent.
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y")
_DATE_READERS = (
    datetime.fromisoformat,  # 2024-02-12, 2024-02-12T10:00:00Z, 2024-02-12 10:00
    parsedate_to_datetime,  # RFC 2822: Mon, 12 Feb 2024 10:00:00 GMT
    *(lambda value, fmt=fmt: datetime.strptime(value, fmt) for fmt in _DATE_FORMATS),
)


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
    published_raw: str | None = None  # metadata `published` (or `date`) as written, capped

    @property
    def word_count(self) -> int:
        return len(self.text.split())

    @property
    def date_unreadable(self) -> bool:
        """A date was given but none of the accepted formats read it."""
        return self.published_raw is not None and self.published_at is None


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
    """Mojibake repaired, invisible characters dropped, NFC, LF line endings, trailing
    whitespace trimmed per line, outer blank lines dropped.

    Repeated until stable (idempotent): one repair can expose another, e.g. an
    invisible character sitting inside a mojibake pair, or NFC composing one."""
    for _ in range(4):
        fixed = _normalize_once(text)
        if fixed == text:
            break
        text = fixed
    return text


def _normalize_once(text: str) -> str:
    # ftfy before stripping: "Ã\u00ad" is mojibake for "í" and needs its soft hyphen.
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", _fix_mojibake(text)))
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _fix_mojibake(text: str) -> str:
    return ftfy.fix_text(text, _FTFY) if _MOJIBAKE_HINT.search(text) else text


def split_metadata(text: str) -> tuple[dict[str, str], str]:
    """Take a leading `---` YAML front-matter block or leading `Key: value` lines off the text.
    Values are strings capped at 1,000 characters."""
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        # Unindented fences only: "  ---" can be content of a block scalar.
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in {"---", "..."})
        except StopIteration:
            raise ParseError("malformed front matter: no closing '---'") from None
        meta = _front_matter("\n".join(lines[1:end]))
        return _capped(meta), "\n".join(lines[end + 1 :]).strip("\n")
    meta = {}
    consumed = 0
    for line in lines:
        match = _KEY_VALUE.match(line)
        if not match or _meta_key(match[1]) not in _METADATA_KEYS:
            break
        meta[_meta_key(match[1])] = _unquote(match[2])
        consumed += 1
    return _capped(meta), "\n".join(lines[consumed:]).strip("\n")


class _FrontMatterLoader(yaml.SafeLoader):
    """safe_load's loader without implicit typing, anchors/aliases, deep nesting or
    more than 1,000 values.

    Metadata ends up as strings, so plain scalars keep the text as written: no
    `language: no` -> False, `id: 0123` -> 83, `time: 12:30` -> 750, and a bad
    date stays a string for parse_published to judge. Anchors and aliases are
    refused outright, which rules out "billion laughs" expansion; null is kept
    so `key:` reads as empty."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise ComposerError(None, None, "anchors and aliases are not allowed", event.start_mark)
        if self._depth >= _FRONT_MATTER_DEPTH:
            raise ComposerError(None, None, f"nested deeper than {_FRONT_MATTER_DEPTH} levels", event.start_mark)
        self._nodes += 1
        if self._nodes > _FRONT_MATTER_NODES:
            raise ComposerError(None, None, f"more than {_FRONT_MATTER_NODES:,} values", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _front_matter(block: str) -> dict[str, str]:
    """YAML mapping -> string metadata. A block that is not YAML but consists of simple
    `key: value` lines (e.g. `title: Breaking: markets fall`) reads as it always has."""
    size = len(block.encode("utf-8"))
    if size > _FRONT_MATTER_LIMIT:
        raise ParseError(f"front matter is {size:,} bytes, over the {_FRONT_MATTER_LIMIT:,}-byte limit")
    try:
        loaded = yaml.load(block, Loader=_FrontMatterLoader)  # a SafeLoader subclass
    # Beyond YAMLError, PyYAML's constructors fail on explicit tags with bad values
    # in their own ways: `!!int x` ValueError, `!!int ''` IndexError, `!!bool maybe`
    # KeyError, `!!timestamp foo` AttributeError.
    except (yaml.YAMLError, ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
        legacy = _key_value_lines(block)
        if legacy is None:
            raise ParseError(f"malformed front matter: {_yaml_reason(exc)}"[:_REASON_LIMIT]) from None
        return legacy
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParseError(f"front matter is not a mapping of keys to values ({type(loaded).__name__})")
    return {_meta_key(str(key)): _meta_text(value) for key, value in loaded.items()}


def _key_value_lines(block: str) -> dict[str, str] | None:
    """The pre-YAML reading: every non-blank, non-comment line is `key: value`, else None."""
    meta: dict[str, str] = {}
    for line in block.split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY_VALUE.match(line.strip())
        if not match:
            return None
        meta[_meta_key(match[1])] = _unquote(match[2])
    return meta


def _yaml_reason(exc: Exception) -> str:
    """One line for the quarantine list: PyYAML's messages span several lines."""
    problem = getattr(exc, "problem", None) or str(exc).strip().split("\n", 1)[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1} of the front matter)" if mark else ""
    return " ".join(f"{problem}{where}".split())


def _meta_text(value: object) -> str:
    """A YAML value as a metadata string: scalar lists joined with ", ", dates as ISO,
    nested mappings (and lists holding them) as JSON rather than a quarantine, since
    CMS exports often write `author: {name: ..., email: ...}`. JSON over the value
    cap is cut like any other value."""
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list) and not any(isinstance(item, (dict, list)) for item in value):
        return ", ".join(_meta_text(item) for item in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value).strip()


def _capped(meta: dict[str, str]) -> dict[str, str]:
    return {key: value[:_VALUE_LIMIT] for key, value in meta.items()}


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
    """ISO 8601, RFC 2822 or a written-out English date -> aware datetime (UTC when no
    zone is given); None when unreadable or ambiguous."""
    if not value or not value.strip():
        return None
    parsed = _read_date(value.strip())
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _read_date(value: str) -> datetime | None:
    for reader in _DATE_READERS:
        try:
            return reader(value)
        except (ValueError, TypeError, IndexError, OverflowError):
            continue
    return None


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
    title = (meta.pop("title", None) or title_line.strip().lstrip("# ").strip())[:_VALUE_LIMIT]
    published_raw = (meta.get("published") or meta.get("date") or "").strip()[:_RAW_DATE_LIMIT] or None
    return Article(
        article_id=article_id_for(text),
        title=title,
        text=text,
        encoding=encoding,
        paragraphs=paragraphs,
        metadata=meta,
        published_at=parse_published(published_raw),
        published_raw=published_raw,
    )


def _control_ratio(text: str) -> float:
    sample = text[:10_000]
    if not sample:
        return 0.0
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return controls / len(sample)
