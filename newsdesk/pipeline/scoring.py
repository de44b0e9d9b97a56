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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from newsdesk.extraction.entities import load_aliases

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
    """One-to-one matching on span and type, exact boundaries or any overlap: as many
    pairs as can be made, whatever order the spans come in (the warehouse returns
    mentions in no set order; a first-come match scored the same run 787-791 tp)."""

    def matches(pred: Span, g: Span) -> bool:
        return g.label == pred.label and ((pred.start, pred.end) == (g.start, g.end) if exact else pred.overlaps(g))

    candidates = [[k for k, g in enumerate(gold) if matches(pred, g)] for pred in predicted]
    tp = len(maximum_matching(candidates))
    return Score(tp, len(predicted) - tp, len(gold) - tp)


def maximum_matching(candidates: Sequence[Sequence[int]]) -> dict[int, int]:
    """gold index -> predicted index, a largest one-to-one matching where predicted i
    may take any gold in candidates[i]. A first pass gives each predicted span a free
    gold if it has one; then augmenting paths (Kuhn's algorithm) for the rest, searched
    with an explicit stack, so an article of thousands of mentions needs no deep
    recursion. Milliseconds for an article's spans, which overlap a few golds each;
    spans that all overlap each other would cost the cube of their number."""
    taken: dict[int, int] = {}
    for i, options in enumerate(candidates):
        free = next((k for k in options if k not in taken), None)
        if free is not None:
            taken[free] = i
    matched = set(taken.values())
    for root in range(len(candidates)):
        if root in matched:
            continue
        seen: set[int] = set()
        stack: list[tuple[int, Iterator[int]]] = [(root, iter(candidates[root]))]
        path: list[int] = []  # the gold taken at each level but the top one
        while stack:
            for k in stack[-1][1]:
                if k in seen:
                    continue
                seen.add(k)
                if k not in taken:  # free: each predicted span on the path moves to the next gold
                    for (i, _), gold_index in zip(stack, [*path, k], strict=True):
                        taken[gold_index] = i
                    stack = []
                else:
                    path.append(k)
                    stack.append((taken[k], iter(candidates[taken[k]])))
                break
            else:  # no way on from this level
                stack.pop()
                if path:
                    path.pop()
    return taken


@dataclass(frozen=True)
class PredictedClaim:
    content: str
    speaker: str | None
    speaker_span: Span | None
    kind: str


def one_to_one(
    predicted: Sequence[str], gold: Sequence[str], threshold: float, accept: Callable[[int, int], bool]
) -> list[tuple[int, int]]:
    """Greedy one-to-one (predicted, gold) index pairs by content token-F1 >= threshold,
    best first, keeping only pairs `accept` takes."""
    ranked = sorted(
        ((token_f1(p, g), i, k) for i, p in enumerate(predicted) for k, g in enumerate(gold)),
        reverse=True,
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for f1, i, k in ranked:
        if f1 < threshold:
            break
        if i in used_p or k in used_g or not accept(i, k):
            continue
        used_p.add(i)
        used_g.add(k)
        pairs.append((i, k))
    return pairs


def score_contents(predicted: Sequence[str], gold: Sequence[str], threshold: float = 0.5) -> Score:
    """Content alone (token F1 >= threshold), one-to-one: the lenient measure."""
    return _counted(one_to_one(predicted, gold, threshold, lambda i, k: True), len(predicted), len(gold))


def _counted(pairs: list[tuple[int, int]], predicted: int, gold: int) -> Score:
    return Score(len(pairs), predicted - len(pairs), gold - len(pairs))


def score_claims(
    predicted: Sequence[PredictedClaim], gold: Sequence[Attribution], with_speaker: bool, threshold: float = 0.5
) -> Score:
    """Matched by content token-F1 >= threshold; with_speaker also needs the speaker to
    overlap the gold source (by offsets, else by tokens)."""
    pairs = one_to_one(
        [p.content for p in predicted],
        [g.content_text for g in gold],
        threshold,
        lambda i, k: not with_speaker or speaker_matches(predicted[i], gold[k]),
    )
    return _counted(pairs, len(predicted), len(gold))


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


# --- Whole rows: who said what, right in every column (the BBC who-said-what gold) ---
_TITLES = frozenset("mr mrs ms miss dr prof sir lord lady dame".split())


@dataclass(frozen=True)
class Statement:
    """One gold statement (see eval/gold/GUIDELINES.md), offsets into the stored text."""

    content: tuple[Span, ...]
    content_text: str
    speaker: str | None  # canonical name; None: no named entity is the source
    speaker_form: str  # name | pronoun | nominal | none
    kind: str  # direct | partial | indirect


@dataclass(frozen=True)
class RowPrediction:
    """A stored claim as the whole-row measure reads it: speaker = its resolved entity's name."""

    content: str
    speaker: str | None
    kind: str


def gold_statements(record: dict, mapping: list[int], text: str) -> list[Statement]:
    out = []
    for item in record["statements"]:
        spans = tuple(Span(mapping[c["start"]], mapping[c["end"]]) for c in item["content"])
        out.append(
            Statement(
                spans,
                " ".join(text[s.start : s.end] for s in spans),
                item.get("speaker"),
                item.get("speaker_form") or "none",
                item["kind"],
            )
        )
    return out


def names_speaker(predicted: str | None, gold: str | None) -> bool:
    """The resolved entity names the gold speaker: the same name, or one name inside the
    other without titles ("Bez" for "Ulrich Bez", "Argonaut" for "Argonaut Games").
    Gold None (no named source) matches only a claim with no entity."""
    if predicted is None or gold is None:
        return predicted is None and gold is None
    predicted, gold = _canonical(predicted), _canonical(gold)
    mine = [t for t in tokens(predicted) if t not in _TITLES]
    theirs = [t for t in tokens(gold) if t not in _TITLES]
    if not mine or not theirs:
        return False
    return set(mine) <= set(theirs) or set(theirs) <= set(mine)


def _canonical(name: str) -> str:
    """A name as the alias table writes it: gold may say "Tories" where the warehouse
    says "Conservatives"; both name one party."""
    alias = load_aliases().merge.get(name.casefold())
    return alias.canonical if alias else name


def kinds_agree(predicted: str, gold: str) -> bool:
    # "unattributed" is reported speech with no source: indirect in the gold's terms.
    return (predicted if predicted != "unattributed" else "indirect") == gold


def score_rows(predicted: Sequence[RowPrediction], gold: Sequence[Statement], threshold: float = 0.5) -> Score:
    """A claim matches a statement when contents reach token F1 >= threshold, its resolved
    speaker names the gold speaker, and the kind agrees; pairs are one-to-one."""
    pairs = one_to_one(
        [p.content for p in predicted],
        [g.content_text for g in gold],
        threshold,
        lambda i, k: (
            names_speaker(predicted[i].speaker, gold[k].speaker) and kinds_agree(predicted[i].kind, gold[k].kind)
        ),
    )
    return _counted(pairs, len(predicted), len(gold))


def score_exact_content(contents: Sequence[str], gold_contents: Sequence[str]) -> Score:
    """Exact-span content match (the measure CofeNet reports): the same tokens, edge
    punctuation and quote marks aside; one-to-one."""
    wanted: dict[tuple[str, ...], int] = {}
    for text in gold_contents:
        key = tuple(tokens(text))
        wanted[key] = wanted.get(key, 0) + 1
    tp = 0
    for text in contents:
        key = tuple(tokens(text))
        if wanted.get(key, 0) > 0:
            wanted[key] -= 1
            tp += 1
    return Score(tp, len(contents) - tp, len(gold_contents) - tp)


@dataclass(frozen=True)
class SpeakerAccuracy:
    """Of the statements a claim's content matches, how many have the right speaker entity."""

    right: int
    matched: int
    pronoun_right: int
    pronoun_matched: int

    def __add__(self, other: SpeakerAccuracy) -> SpeakerAccuracy:
        return SpeakerAccuracy(
            self.right + other.right,
            self.matched + other.matched,
            self.pronoun_right + other.pronoun_right,
            self.pronoun_matched + other.pronoun_matched,
        )

    def row(self) -> dict[str, float | int]:
        return {
            "speaker_accuracy": round(self.right / self.matched, 3) if self.matched else 0.0,
            "matched": self.matched,
            "pronoun_accuracy": round(self.pronoun_right / self.pronoun_matched, 3) if self.pronoun_matched else 0.0,
            "pronoun_matched": self.pronoun_matched,
        }


NO_SPEAKERS = SpeakerAccuracy(0, 0, 0, 0)


def speaker_accuracy(
    predicted: Sequence[RowPrediction], gold: Sequence[Statement], threshold: float = 0.5
) -> SpeakerAccuracy:
    right = matched = pronoun_right = pronoun_matched = 0
    pairs = one_to_one([p.content for p in predicted], [g.content_text for g in gold], threshold, lambda i, k: True)
    for i, k in pairs:
        ok = names_speaker(predicted[i].speaker, gold[k].speaker)
        matched += 1
        right += ok
        if gold[k].speaker_form == "pronoun":
            pronoun_matched += 1
            pronoun_right += ok
    return SpeakerAccuracy(right, matched, pronoun_right, pronoun_matched)
