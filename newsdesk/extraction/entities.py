"""Pure: spaCy Doc -> cleaned entity mentions, canonicalized within the document.

Rules, in order: trim span edges (leading "the", trailing possessive and
punctuation); apply the curated alias table; parenthesised acronyms
("United States (US)"); a lone surname or given name resolves to the longest
PERSON mention that ends or starts with it. The entity id hashes the label
class and the canonical name, so it is the same across articles.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc

ALIASES = files("newsdesk.extraction") / "aliases.csv"  # package data: found in a wheel as in a checkout
ENTITY_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Labels that name the same kind of thing for identity purposes: the model
# often flips between GPE and LOC for one place.
LABEL_CLASS = {"GPE": "place", "LOC": "place", "FAC": "place"}
_LEADING = re.compile(r"^(?:the|The|THE)\s+")
_TRAILING = re.compile(r"(?:['’]s|['’])$|[\s,.;:!?\"“”‘’()\-–—]+$")
_LEADING_PUNCT = re.compile(r"^[\s,.;:!?\"“”‘’()\-–—]+")


@dataclass(frozen=True)
class Alias:
    canonical: str
    label: str | None


@dataclass(frozen=True)
class AliasTable:
    merge: dict[str, Alias]
    block: frozenset[str]


@dataclass(frozen=True)
class Mention:
    mention_idx: int
    start_char: int
    end_char: int
    text: str
    label: str
    sentence_idx: int
    entity_id: str
    entity_name: str


@lru_cache(maxsize=1)
def load_aliases(path: Traversable | Path = ALIASES) -> AliasTable:
    merge: dict[str, Alias] = {}
    block: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            key = row["alias"].strip().casefold()
            if row["action"].strip() == "block":
                block.add(key)
            else:
                merge[key] = Alias(row["canonical"].strip(), (row["label"] or "").strip() or None)
    return AliasTable(merge, frozenset(block))


def entity_id_for(name: str, label: str) -> str:
    key = f"{LABEL_CLASS.get(label, label.lower())}:{name.casefold()}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def trim_span(text: str, start: int, end: int, article: bool = True) -> tuple[int, int]:
    """Narrow [start, end) past a leading article (unless article=False), a trailing
    possessive and stray punctuation."""
    patterns = (
        ((_LEADING, True), (_LEADING_PUNCT, True), (_TRAILING, False))
        if article
        else ((_LEADING_PUNCT, True), (_TRAILING, False))
    )
    changed = True
    while changed and start < end:
        changed = False
        segment = text[start:end]
        for pattern, at_start in patterns:
            match = pattern.search(segment)
            if match and match.group():
                if at_start:
                    start += match.end()
                else:
                    end -= len(match.group())
                changed = True
                break
    return start, end


def _name(surface: str) -> str:
    """A mention's text as a name: without its leading article."""
    start, end = trim_span(surface, 0, len(surface))
    return surface[start:end]


def _acronym(words: list[str]) -> str:
    return "".join(w[0] for w in words if w[:1].isupper())


def extract_mentions(doc: Doc, aliases: AliasTable | None = None, text: str | None = None) -> list[Mention]:
    """Entity mentions with clean edges and in-document canonical names."""
    aliases = aliases or load_aliases()
    text = doc.text if text is None else text
    sent_starts = [sent.start_char for sent in doc.sents]
    raw: list[tuple[int, int, str]] = []
    for ent in doc.ents:
        if ent.label_ not in ENTITY_LABELS:
            continue
        start, end = ent.start_char, ent.end_char
        # The model sometimes swallows a following "(ACRONYM": keep the name alone.
        paren = text.find(" (", start, end)
        if paren != -1:
            end = paren
        # The mention keeps its article ("the White House", as written and as gold
        # corpora mark it); the entity's name drops it.
        start, end = trim_span(text, start, end, article=False)
        surface = _name(text[start:end])
        if not surface or not any(ch.isalpha() for ch in surface) or surface.casefold() in aliases.block:
            continue
        raw.append((start, end, ent.label_))

    canonical: dict[str, tuple[str, str]] = {}  # casefolded surface -> (name, label)

    # Parenthesised acronyms: "United States (US)" makes US an alias within this doc.
    for start, end, label in raw:
        after = re.match(r"\s*\(([A-Z][A-Za-z.&]{1,9})\)", text[end : end + 14])
        if after:
            short = after.group(1)
            name = _name(text[start:end])
            if _acronym(name.split()) == short.replace(".", ""):
                canonical.setdefault(short.casefold(), (name, label))

    def resolve(surface: str, label: str) -> tuple[str, str]:
        key = surface.casefold()
        if key in canonical:
            return canonical[key]
        alias = aliases.merge.get(key)
        if alias:
            return alias.canonical, alias.label or label
        return surface, label

    # Person names: a one-word name resolves to a full name that ends (surname) or
    # starts (given name) with it: the one mentioned last before it, else the first
    # after it. Decided by position alone, so the same text always gives the same rows.
    full_names = [(s, _name(text[s:e])) for s, e, lab in raw if lab == "PERSON"]
    full_names = [(s, name) for s, name in full_names if len(name.split()) > 1]
    mentions = []
    for idx, (start, end, label) in enumerate(raw):
        surface = _name(text[start:end])
        name, final_label = resolve(surface, label)
        if label == "PERSON" and len(surface.split()) == 1:
            name = _full_name_for(surface, start, full_names) or name
        mentions.append(
            Mention(
                mention_idx=idx,
                start_char=start,
                end_char=end,
                text=text[start:end],
                label=final_label,
                sentence_idx=_sentence_index(sent_starts, start),
                entity_id=entity_id_for(name, final_label),
                entity_name=name,
            )
        )
    return mentions


def _full_name_for(surface: str, at: int, full_names: list[tuple[int, str]]) -> str | None:
    """The full name a lone given name or surname at offset `at` stands for."""
    matches = [(start, name) for start, name in full_names if name.split()[-1] == surface or name.split()[0] == surface]
    before = [match for match in matches if match[0] < at]
    if before:
        return max(before)[1]
    return min(matches)[1] if matches else None


def _sentence_index(sent_starts: list[int], offset: int) -> int:
    return max(0, bisect.bisect_right(sent_starts, offset) - 1)
