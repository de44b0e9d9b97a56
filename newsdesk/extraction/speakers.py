"""Pure: who is speaking. The speaker phrase of a cue, and the entity it names.

Resolution of a speaker phrase, in order:
1. a mention in the phrase's core (its head with compounds and titles, without
   appositives, relative clauses or prepositional phrases): "NATO chief Mark Rutte";
2. a PERSON in an appositive: "her lawyer, Perry Wander";
3. any mention in the phrase: "a spokesman for Tesco";
4. a pronoun to the salient earlier entity: the previous speaker if the pronoun
   fits (he/she a person of no other known gender, it/they an organisation), else
   the subject of an earlier sentence that fits, else the nearest fitting mention;
5. a nominal ("the company", "the premier") to the organisation or person the
   article names most, most recently.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from newsdesk.extraction.entities import Mention

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

RELATIVES = frozenset("who which that".split())
PERSON_PRONOUNS = {"he": "m", "him": "m", "she": "f", "her": "f"}
GROUP_PRONOUNS = frozenset("it they".split())
ORG_LABELS = frozenset({"ORG", "GPE", "NORP"})
# Heads of nominal speakers and the kind of entity they stand for.
ORG_NOUNS = frozenset(
    "company firm group bank club team side carrier airline retailer maker giant network studio broadcaster "
    "organisation organization union party agency regulator government ministry department council board "
    "body association federation league corporation business operator supermarket chain insurer lender".split()
)
PERSON_NOUNS = frozenset(
    "premier minister president chancellor manager coach boss chairman chairwoman chief executive director "
    "leader secretary governor mayor star singer actor actress player striker captain founder".split()
)
# Core of a speaker phrase: what is not an aside about it.
_ASIDES = frozenset({"appos", "relcl", "acl", "prep", "punct", "cc", "conj", "advmod", "parataxis"})
_GENDER_TITLES = {"mr": "m", "mrs": "f", "ms": "f", "miss": "f", "sir": "m", "lord": "m", "lady": "f", "dame": "f"}
_TITLE_BEFORE = re.compile(r"\b(Mr|Mrs|Ms|Miss|Sir|Lord|Lady|Dame)\.?\s+$")
# How far back a previous speaker or subject stays salient, in sentences.
SALIENT_SENTENCES = 4


@dataclass
class Salience:
    """What a reader of the article knows so far: who spoke last, who is who."""

    mentions: list[Mention]
    text: str
    gender: dict[str, str] = field(default_factory=dict)  # entity_id -> m | f
    last_speaker: tuple[str, str, int] | None = None  # (entity_id, label, sentence)
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for m in self.mentions:
            self.labels.setdefault(m.entity_id, m.label)
            title = _TITLE_BEFORE.search(self.text[max(0, m.start_char - 6) : m.start_char])
            first = m.text.split()[0].rstrip(".").lower() if m.text.split() else ""
            gender = _GENDER_TITLES.get(title.group(1).lower()) if title else _GENDER_TITLES.get(first)
            if m.label == "PERSON" and gender:
                self.gender.setdefault(m.entity_id, gender)

    def spoke(self, entity_id: str | None, sentence: int, pronoun: str | None) -> None:
        if entity_id is None:
            return
        if pronoun in PERSON_PRONOUNS:
            self.gender.setdefault(entity_id, PERSON_PRONOUNS[pronoun])
        self.last_speaker = (entity_id, self.labels.get(entity_id, ""), sentence)

    def fits(self, entity_id: str, pronoun: str) -> bool:
        label = self.labels.get(entity_id, "")
        if pronoun in PERSON_PRONOUNS:
            known = self.gender.get(entity_id)
            return label == "PERSON" and (known is None or known == PERSON_PRONOUNS[pronoun])
        return label in ORG_LABELS


def speaker_phrase(verb: Token) -> tuple[Span | None, bool]:
    """(speaker phrase, unattributed?) of a cue verb."""
    children = list(verb.children)
    for child in children:
        if child.dep_ == "agent":
            objects = [c for c in child.children if c.dep_ == "pobj"]
            if objects:
                return np_span(objects[0]), False
    for child in children:
        if child.dep_ == "nsubj":
            if child.lower_ in RELATIVES and verb.dep_ == "relcl":
                return child.doc[child.i : child.i + 1], False  # "Trump, who said ...": the surface, as gold marks it
            if child.lower_ in {"this", "that", "which", "who"}:
                return None, False
            return np_span(child), False
        if child.dep_ == "nsubjpass":
            # "It has been confirmed that ..." with no agent: nobody is named.
            return None, child.lower_ == "it"
    # A conjoined verb shares its subject: "X met on Monday and said that ...";
    # so does a participle: "X criticised the plan, saying that ...".
    if verb.dep_ == "conj" or verb.dep_ in {"advcl", "xcomp"} and verb.tag_ == "VBG":
        return speaker_phrase(verb.head)
    return None, False


def has_no_subject(verb: Token) -> bool:
    """ "But told BBC News: ..." - a clause whose speaker is understood from before."""
    return verb.dep_ == "ROOT" and not any(c.dep_ in {"nsubj", "nsubjpass", "expl", "agent"} for c in verb.children)


def antecedent(verb: Token) -> Span:
    """The phrase a relative pronoun speaks for: "Mr. Trump, who met Putin and said ..."
    climbs from "said" to the relative clause and on to "Mr. Trump"."""
    clause = verb
    while clause.dep_ != "relcl" and clause.head.i != clause.i:
        clause = clause.head
    return np_span(clause.head)


def np_span(head: Token) -> Span:
    """A noun phrase without trailing relative clauses."""
    doc = head.doc
    left = head.left_edge.i
    right = head.i
    for child in head.rights:
        if child.dep_ in {"relcl", "acl"}:
            break
        right = max(right, child.right_edge.i)
    return doc[left : right + 1]


def _core(span: Span) -> tuple[int, int]:
    """Character range of the phrase's head with its compounds, titles and determiners."""
    root = span.root
    tokens = [root]
    for child in root.children:
        if child.dep_ not in _ASIDES and span.start <= child.i < span.end:
            tokens.extend(child.subtree)
    start = min(t.idx for t in tokens)
    end = max(t.idx + len(t.text) for t in tokens)
    return start, end


def _within(mentions: list[Mention], start: int, end: int) -> list[Mention]:
    return [m for m in mentions if m.start_char >= start and m.end_char <= end]


Subject = tuple[int, int, str]  # (sentence, offset, entity id) of a clause subject a mention covers


def sentence_subjects(sents: list[Span], mentions: list[Mention]) -> list[Subject]:
    """The named subject of each sentence's main clause, in text order."""
    out = []
    for number, sent in enumerate(sents):
        for token in sent.root.children:
            if token.dep_ in {"nsubj", "nsubjpass"}:
                named = [m for m in mentions if m.start_char <= token.idx < m.end_char]
                if named:
                    out.append((number, token.idx, named[0].entity_id))
    return out


def resolve(span: Span, salience: Salience, cue_offset: int, sentence: int, subjects: list[Subject]) -> str | None:
    """The entity id a speaker phrase names, or None."""
    mentions = salience.mentions
    core = _within(mentions, *_core(span))
    if core:
        persons = [m for m in core if m.label == "PERSON"]
        return (persons or core)[-1].entity_id
    whole = _within(mentions, span.start_char, span.end_char)
    persons = [m for m in whole if m.label == "PERSON"]
    if persons:
        return persons[0].entity_id
    if whole:
        return whole[0].entity_id
    head = span.root.lower_
    if len(span) == 1 and (head in PERSON_PRONOUNS or head in GROUP_PRONOUNS):
        return resolve_pronoun(head, salience, cue_offset, sentence, subjects)
    if span.root.lemma_.lower() in ORG_NOUNS | PERSON_NOUNS and _definite(span):
        return resolve_nominal(span.root.lemma_.lower(), salience, cue_offset)
    return None


def _definite(span: Span) -> bool:
    """ "the company", "its chairman" - not "a company", "one spokesman"."""
    return any(t.lower_ in {"the", "its", "their", "his", "her"} for t in span[: span.root.i - span.start])


def resolve_pronoun(
    pronoun: str, salience: Salience, cue_offset: int, sentence: int, subjects: list[Subject]
) -> str | None:
    """The previous speaker, else an earlier subject, else the nearest mention that fits."""
    last = salience.last_speaker
    if last is not None and sentence - last[2] <= SALIENT_SENTENCES and salience.fits(last[0], pronoun):
        return last[0]
    for at, offset, entity_id in reversed(subjects):
        if offset >= cue_offset:
            continue
        if sentence - at > SALIENT_SENTENCES:
            break
        if salience.fits(entity_id, pronoun):
            return entity_id
    before = [m for m in salience.mentions if m.end_char <= cue_offset and salience.fits(m.entity_id, pronoun)]
    return before[-1].entity_id if before else None


def resolve_nominal(head: str, salience: Salience, cue_offset: int) -> str | None:
    """ "the company": the organisation named most so far, the latest among equals;
    "the premier": the person named most recently."""
    before = [m for m in salience.mentions if m.end_char <= cue_offset]
    if head in PERSON_NOUNS:
        persons = [m for m in before if m.label == "PERSON"]
        return persons[-1].entity_id if persons else None
    orgs = [m for m in before if m.label == "ORG"]
    if not orgs:
        return None
    counts = Counter(m.entity_id for m in orgs)
    last_seen = {m.entity_id: i for i, m in enumerate(orgs)}
    return max(counts, key=lambda entity_id: (counts[entity_id], last_seen[entity_id]))
