"""Pure: numbers in text -> values. "600,000" -> 600000.0, "3 million" -> 3e6, "£5bn" -> 5e9 GBP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

QUANTITY_LABELS = frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY"})
_SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    "dozen": 12,
}
_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "a": 1,
    "an": 1,
    "half": 0.5,
}
_CURRENCIES = {
    "$": "USD",
    "us$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "£": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "¥": "JPY",
    "yen": "JPY",
    "won": "KRW",
    "rouble": "RUB",
    "roubles": "RUB",
    "ruble": "RUB",
    "rubles": "RUB",
}
_TOKEN = re.compile(r"[A-Za-z]+|[$£€¥]|\d+(?:[,]\d{3})*(?:\.\d+)?|\.\d+|%")


@dataclass(frozen=True)
class Quantity:
    start_char: int
    end_char: int
    text: str
    value: float
    unit: str | None
    sentence_idx: int


def parse_number(text: str) -> float | None:
    """The numeric value of a number phrase, or None when it has none."""
    tokens = _TOKEN.findall(text.lower().replace("-", " "))
    lowered = text.lower()
    value: float | None = None
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token[0].isdigit() or token[0] == ".":
            value = float(token.replace(",", ""))
        elif token in {"a", "an"}:
            if following in _SCALES and value is None:
                value = 1.0
        elif token in _WORDS:
            value = (value or 0.0) + _WORDS[token]
        elif token in _SCALES and value is not None:
            # "m", "b", "k" count only glued to a digit ("2m"), never as words.
            if len(token) == 1 and not re.search(r"\d\s*" + token + r"\b", lowered):
                continue
            value *= _SCALES[token]
    return value


def unit_for(span: Span) -> str | None:
    """Currency code for money, 'percent', else the counted noun ("600,000 soldiers" -> soldier)."""
    lowered = [t.lower_ for t in span]
    if span.label_ == "MONEY":
        for token in lowered:
            for sym, code in _CURRENCIES.items():
                if token == sym or token.startswith(sym) and sym in "$£€¥":
                    return code
        return None
    if span.label_ == "PERCENT" or "%" in span.text or "percent" in lowered or "per" in lowered:
        return "percent"
    if span.label_ == "QUANTITY":
        words = [t.lemma_.lower() for t in span if t.is_alpha and t.lower_ not in _SCALES and t.lower_ not in _WORDS]
        return words[-1] if words else None
    root = span.root
    if root.dep_ in {"nummod", "quantmod"} and root.head.pos_ in {"NOUN", "PROPN"} and root.head.i >= span.end:
        return root.head.lemma_.lower()
    return None


def numeric_core(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim words like "an additional" off the front of a number phrase."""
    segment = text[start:end]
    match = re.search(r"[$£€¥]|\d|\b(?:" + "|".join(k for k in _WORDS if len(k) > 2) + r")\b", segment, re.I)
    return (start + match.start(), end) if match else (start, end)


def extract_quantities(doc: Doc, text: str | None = None) -> list[Quantity]:
    from newsdesk.extraction.nlp import sentence_map

    out = []
    _, sentence_of = sentence_map(doc)
    text = doc.text if text is None else text  # doc.text rebuilds the string on every access
    for ent in doc.ents:
        if ent.label_ not in QUANTITY_LABELS:
            continue
        value = parse_number(ent.text)
        if value is None:
            continue
        start, end = numeric_core(text, ent.start_char, ent.end_char)
        out.append(
            Quantity(
                start_char=start,
                end_char=end,
                text=text[start:end],
                value=value,
                unit=unit_for(ent),
                sentence_idx=sentence_of[ent.start],
            )
        )
    return out
