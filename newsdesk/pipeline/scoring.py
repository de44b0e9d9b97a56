"""Pure scoring of extractions against gold: entities (GUM shape) and attributions (PolNeAR shape).

Gold offsets are code points into the raw article file; warehouse offsets point
into the normalized text. `align` maps one onto the other (normalization only
drops characters: CRs, trailing spaces, outer blank lines).

Label mapping for entities (gold `type` <- spaCy label):
    person       <- PERSON
    place        <- GPE, LOC, FAC
    organization <- ORG
Other spaCy labels (NORP, EVENT, ...) and other gold types are not scored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

LABEL_TO_GOLD = {"PERSON": "person", "GPE": "place", "LOC": "place", "FAC": "place", "ORG": "organization"}
GOLD_TYPES = frozenset(LABEL_TO_GOLD.values())
_TOKEN = re.compile(r"\w+", re.UNICODE)
QUOTES = '"“”«»„'


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str = ""

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Attribution:
    content: tuple[Span, ...]
    content_text: str
    source: tuple[Span, ...]
    source_text: str
    direct: bool


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def row(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


ZERO = Score(0, 0, 0)


def align(raw: str, normalized: str) -> list[int]:
    """offset in raw -> offset in normalized (one entry past the end too).

    Normalization drops characters (CR, trailing spaces, zero-width marks) and also
    replaces some (mojibake repair: "Ã©" -> "é"), so the two texts are aligned by
    their matching blocks rather than by walking forward, which stalls for good at
    the first replaced character."""
    mapping = [0] * (len(raw) + 1)
    matcher = SequenceMatcher(None, raw, normalized, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(i1, i2):  # inserted text has no raw offsets to map
            step = k - i1 if tag in ("equal", "replace") else 0
            mapping[k] = min(j1 + step, j2)
    mapping[len(raw)] = len(normalized)
    return mapping


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def token_f1(a: str, b: str) -> float:
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    pool: dict[str, int] = {}
    for t in tb:
        pool[t] = pool.get(t, 0) + 1
    common = 0
    for t in ta:
        if pool.get(t, 0) > 0:
            common += 1
            pool[t] -= 1
    if not common:
        return 0.0
    p, r = common / len(ta), common / len(tb)
    return 2 * p * r / (p + r)


def score_entities(predicted: Sequence[Span], gold: Sequence[Span], exact: bool) -> Score:
    """One-to-one matching on span and type: exact boundaries, or any overlap."""
    used: set[int] = set()
    tp = 0
    for pred in predicted:
        for k, g in enumerate(gold):
            if k in used or g.label != pred.label:
                continue
            if (pred.start, pred.end) == (g.start, g.end) if exact else pred.overlaps(g):
                used.add(k)
                tp += 1
                break
    return Score(tp, len(predicted) - tp, len(gold) - tp)


@dataclass(frozen=True)
class PredictedClaim:
    content: str
    speaker: str | None
    speaker_span: Span | None
    kind: str


def score_claims(
    predicted: Sequence[PredictedClaim], gold: Sequence[Attribution], with_speaker: bool, threshold: float = 0.5
) -> Score:
    """Greedy one-to-one matching by content token-F1 >= threshold; with_speaker also
    needs the speaker to overlap the gold source (by offsets, else by tokens)."""
    pairs = sorted(
        ((token_f1(p.content, g.content_text), i, k) for i, p in enumerate(predicted) for k, g in enumerate(gold)),
        reverse=True,
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    tp = 0
    for f1, i, k in pairs:
        if f1 < threshold:
            break
        if i in used_p or k in used_g:
            continue
        if with_speaker and not speaker_matches(predicted[i], gold[k]):
            continue
        used_p.add(i)
        used_g.add(k)
        tp += 1
    return Score(tp, len(predicted) - tp, len(gold) - tp)


def speaker_matches(pred: PredictedClaim, gold: Attribution) -> bool:
    if not pred.speaker or not gold.source:
        return False
    if pred.speaker_span is not None and any(pred.speaker_span.overlaps(s) for s in gold.source):
        return True
    return bool(set(tokens(pred.speaker)) & set(tokens(gold.source_text)))


def gold_entities(record: dict, mapping: list[int]) -> list[Span]:
    return [
        Span(mapping[m["start"]], mapping[m["end"]], m["type"])
        for m in record["mentions"]
        if m.get("named") and m["type"] in GOLD_TYPES
    ]


def gold_attributions(record: dict, mapping: list[int], raw: str) -> list[Attribution]:
    out = []
    for item in record["attributions"]:
        content = tuple(Span(mapping[c["start"]], mapping[c["end"]]) for c in item.get("content", []))
        if not content:
            continue
        source = tuple(Span(mapping[s["start"]], mapping[s["end"]]) for s in item.get("source", []))
        text = " ".join(c["text"] for c in item["content"])
        first, last = item["content"][0], item["content"][-1]
        direct = _quoted(raw, first["start"], last["end"])
        out.append(Attribution(content, text, source, " ".join(s["text"] for s in item.get("source", [])), direct))
    return out


def _quoted(raw: str, start: int, end: int) -> bool:
    """Gold content is a direct quote when quote marks hug it."""
    before = raw[max(0, start - 2) : start]
    after = raw[end : end + 2]
    inner = raw[start:end].strip()
    return (any(q in before for q in QUOTES) or inner[:1] in QUOTES) and (
        any(q in after for q in QUOTES) or inner[-1:] in QUOTES
    )


def predicted_entities(rows: Iterable[tuple[int, int, str]]) -> list[Span]:
    return [Span(s, e, LABEL_TO_GOLD[label]) for s, e, label in rows if label in LABEL_TO_GOLD]
