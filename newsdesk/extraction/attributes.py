"""Pure: the model's attribute_ruler (tag -> POS, MORPH, LEMMA) as dict lookups.

spaCy's attribute_ruler runs a Matcher with every one of its patterns (179 in
en_core_web_sm) over every token: about a tenth of the whole pipeline's time, for
what is mostly a table from the tagger's tag to a coarse POS and morphology. This
component reads the same patterns from the loaded model and applies them through
dicts keyed by one attribute of the token (its tag, its lowercase form, its
dependency label, whether it is a space), then checks the pattern's other
conditions. The result is the ruler's, token for token: patterns are applied in
the ruler's order, so a later pattern wins as it does there
(tests/test_attributes.py compares the two on real text).

A pattern it cannot index (an operator other than IN / NOT_IN / REGEX, a key other
than TAG, LOWER, DEP, IS_SPACE, a quantifier) means it declines, and the model's own
attribute_ruler stays in the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.pipeline import AttributeRuler
    from spacy.tokens import Doc, Token

TAG_ATTRIBUTES = "newsdesk_tag_attributes"
_KEYS = ("LOWER", "TAG", "DEP", "IS_SPACE")  # trigger preference: the most selective first
_SETTABLE = frozenset({"POS", "MORPH", "LEMMA", "TAG", "DEP"})
_CACHE_LIMIT = 200_000  # kinds of token remembered: a worker's vocabulary, bounded

Condition = Callable[[Any], bool]


class Unsupported(ValueError):
    """A ruler pattern this component cannot index."""


@dataclass(frozen=True)
class Rule:
    order: int  # position in the ruler: a later rule overrides an earlier one
    tokens: tuple[tuple[tuple[str, Condition], ...], ...]  # per pattern token: (key, test)
    attrs: dict[str, str]
    index: int  # which token of the match gets the attributes


def _value(token: Token, key: str) -> object:
    if key == "LOWER":
        return token.lower_
    if key == "TAG":
        return token.tag_
    if key == "DEP":
        return token.dep_
    return token.is_space


def _condition(spec: object) -> tuple[Condition, frozenset[object] | None]:
    """A test for one key, and the values that make it true when they are a finite set."""
    if not isinstance(spec, dict):
        return (lambda value, spec=spec: value == spec), frozenset([spec])
    if set(spec) == {"IN"}:
        allowed = frozenset(spec["IN"])
        return (lambda value: value in allowed), allowed
    if set(spec) == {"NOT_IN"}:
        refused = frozenset(spec["NOT_IN"])
        return (lambda value: value not in refused), None
    if set(spec) == {"REGEX"}:
        pattern = re.compile(spec["REGEX"])
        return (lambda value: isinstance(value, str) and pattern.search(value) is not None), None
    raise Unsupported(f"operator {sorted(spec)}")


class TagAttributes:
    """Callable pipeline component: the ruler's rules, found by dict lookups."""

    def __init__(self, patterns: list[dict]) -> None:
        self.triggered: dict[tuple[str, object], list[Rule]] = {}
        self.always: list[Rule] = []
        # (tag, lower, dep, is_space) -> the rules whose first token that matches: a
        # single-token rule reads nothing else, so each kind of token is judged once.
        self._first_token_rules: dict[tuple[int, int, int, bool], tuple[Rule, ...]] = {}
        self._morph_hashes: dict[str, int] = {}
        for order, pattern in enumerate(patterns):
            if set(pattern["attrs"]) - _SETTABLE:
                raise Unsupported(f"attributes {sorted(pattern['attrs'])}")
            for sequence in pattern["patterns"]:
                if not 0 <= pattern.get("index", 0) < len(sequence):
                    raise Unsupported(f"index {pattern.get('index')}")  # spaCy counts a negative one from the end
                self._add(order, sequence, pattern["attrs"], pattern.get("index", 0))

    def _add(self, order: int, sequence: list[dict], attrs: dict[str, str], index: int) -> None:
        tokens = []
        trigger: tuple[str, frozenset[object]] | None = None
        for position, conditions in enumerate(sequence):
            if set(conditions) - set(_KEYS):
                raise Unsupported(f"keys {sorted(conditions)}")
            tests = []
            for key in _KEYS:
                if key in conditions:
                    test, values = _condition(conditions[key])
                    tests.append((key, test))
                    if position == 0 and trigger is None and values is not None:
                        trigger = (key, values)
            tokens.append(tuple(tests))
        rule = Rule(order, tuple(tokens), dict(attrs), index)
        if trigger is None:
            self.always.append(rule)
            return
        key, values = trigger
        for value in values:
            self.triggered.setdefault((key, value), []).append(rule)

    def __call__(self, doc: Doc) -> Doc:
        # All matches first, then applied in the ruler's order over the whole doc: a
        # two-token rule ("there" + "is") must land after the tag rules of its second token.
        hits = []
        cache = self._first_token_rules
        for token in doc:
            key = (token.tag, token.lower, token.dep, token.is_space)
            rules = cache.get(key)
            if rules is None:
                rules = tuple(rule for rule in self._rules_from(token) if self._token_matches(token, rule.tokens[0]))
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[key] = rules
            for rule in rules:
                if len(rule.tokens) == 1 or self._rest_matches(doc, rule, token.i):
                    hits.append((rule.order, token.i + rule.index, rule.attrs))
        hits.sort(key=lambda hit: (hit[0], hit[1]))
        morphs = self._morph_hashes
        for _, target, attrs in hits:
            _apply(doc[target], attrs, morphs, doc)
        return doc

    def _rules_from(self, token: Token) -> list[Rule]:
        """Rules whose first pattern token may be this token."""
        found = list(self.always)
        for key in _KEYS:
            found.extend(self.triggered.get((key, _value(token, key)), ()))
        return found

    @staticmethod
    def _token_matches(token: Token, tests: tuple[tuple[str, Condition], ...]) -> bool:
        return all(test(_value(token, key)) for key, test in tests)

    @classmethod
    def _rest_matches(cls, doc: Doc, rule: Rule, start: int) -> bool:
        if start + len(rule.tokens) > len(doc):
            return False
        return all(
            cls._token_matches(doc[start + offset], rule.tokens[offset]) for offset in range(1, len(rule.tokens))
        )


def _apply(token: Token, attrs: dict[str, str], morphs: dict[str, int], doc: Doc) -> None:
    for name, value in attrs.items():
        if name == "POS":
            token.pos_ = value
        elif name == "MORPH":
            # A morphology string is parsed on every set; its hash is not.
            morph = morphs.get(value)
            if morph is None:
                morph = morphs[value] = doc.vocab.morphology.add(value)
            token.set_morph(morph)  # type: ignore[attr-defined]  # in spaCy, not in its stubs
        elif name == "LEMMA":
            token.lemma_ = value
        elif name == "TAG":
            token.tag_ = value
        else:
            token.dep_ = value


def _make_tag_attributes(nlp, name, patterns):  # spaCy builds its config from this signature: no annotations
    return TagAttributes(patterns)


def use_tag_attributes(nlp: Language) -> bool:
    """Swap the model's attribute_ruler for TagAttributes built from its patterns;
    False (and the ruler kept) when a pattern cannot be indexed."""
    from spacy.language import Language

    if "attribute_ruler" not in nlp.pipe_names:
        return False
    if isinstance(nlp.get_pipe("attribute_ruler"), TagAttributes):
        return True  # a pipeline saved by newsdesk, loaded again
    patterns = list(cast("AttributeRuler", nlp.get_pipe("attribute_ruler")).patterns)
    try:
        TagAttributes(patterns)
    except Unsupported:
        return False
    if not Language.has_factory(TAG_ATTRIBUTES):
        Language.factory(TAG_ATTRIBUTES, default_config={"patterns": []}, func=_make_tag_attributes)
    nlp.replace_pipe("attribute_ruler", TAG_ATTRIBUTES, config={"patterns": patterns})
    return True
