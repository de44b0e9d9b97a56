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

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from newsdesk.extraction.entities import Mention, first_name_genders
from newsdesk.extraction.lemmas import lemma_of
from newsdesk.extraction.spans import tokens_where

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

RELATIVES = frozenset("who which that".split())
PERSON_PRONOUNS = {"he": "m", "him": "m", "she": "f", "her": "f"}
GROUP_PRONOUNS = frozenset("it they".split())
# Heads of nominal speakers and the kind of entity they stand for.
ORG_NOUNS = frozenset(
    "company firm group bank club team side carrier airline retailer maker giant network studio broadcaster "
    "organisation organization union party agency regulator government ministry department council board "
    "body association federation league corporation business operator supermarket chain insurer lender "
    "alliance commission committee institute office authority trust charity campaign watchdog".split()
)
PERSON_NOUNS = frozenset(
    "premier minister president chancellor manager coach boss chairman chairwoman chief executive director "
    "leader secretary governor mayor star singer actor actress player striker captain founder spokesman "
    "spokeswoman spokesperson champion winner".split()
)
# Core of a speaker phrase: what is not an aside about it.
_ASIDES = frozenset({"appos", "relcl", "acl", "prep", "punct", "cc", "conj", "advmod", "parataxis"})
_GENDER_TITLES = {"mr": "m", "mrs": "f", "ms": "f", "miss": "f", "sir": "m", "lord": "m", "lady": "f", "dame": "f"}
_PERSON_TITLES = frozenset({*_GENDER_TITLES, "dr", "prof"})
_TITLE_BEFORE = re.compile(r"\b(Mr|Mrs|Ms|Miss|Sir|Lord|Lady|Dame)\.?\s+$")
# How far back a previous speaker or subject stays salient, in sentences.
SALIENT_SENTENCES = 4
# Documents speak for whoever published them: "the report said", "a survey found".
DOCUMENT_NOUNS = frozenset("report survey study poll review audit research newspaper paper magazine".split())


@dataclass
class Salience:
    """What a reader of the article knows so far: who spoke last, who is who."""

    mentions: list[Mention]
    text: str
    gender: dict[str, str] = field(default_factory=dict)  # entity_id -> m | f
    last_speaker: tuple[str, str, int, int] | None = None  # (entity_id, label, sentence, cue offset)
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for m in self.mentions:
            self.labels.setdefault(m.entity_id, m.label)
            gender = self._gender_from_name(m)
            if m.label == "PERSON" and gender:
                self.gender.setdefault(m.entity_id, gender)

    def _gender_from_name(self, m: Mention) -> str | None:
        """From a title before or in the mention ("Mr Bez"), else a known first name."""
        title = _TITLE_BEFORE.search(self.text[max(0, m.start_char - 6) : m.start_char])
        if title:
            return _GENDER_TITLES.get(title.group(1).lower())
        first = m.text.split()[0].rstrip(".").lower() if m.text.split() else ""
        if first in _GENDER_TITLES:
            return _GENDER_TITLES[first]
        words = m.entity_name.split()
        return first_name_genders().get(words[0].lower()) if len(words) > 1 else None

    def spoke(self, entity_id: str | None, sentence: int, offset: int, pronoun: str | None) -> None:
        if entity_id is None:
            return
        if pronoun in PERSON_PRONOUNS:
            self.gender.setdefault(entity_id, PERSON_PRONOUNS[pronoun])
        self.last_speaker = (entity_id, self.labels.get(entity_id, ""), sentence, offset)

    def fits(self, entity_id: str, pronoun: str) -> bool:
        label = self.labels.get(entity_id, "")
        if pronoun in PERSON_PRONOUNS:
            known = self.gender.get(entity_id)
            return label == "PERSON" and (known is None or known == PERSON_PRONOUNS[pronoun])
        # "it" speaks for an organisation or a country; "they" for an organisation or a party.
        return label in ({"ORG", "GPE"} if pronoun == "it" else {"ORG", "NORP"})


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
    # "... hit back by saying ...": the participle after a preposition shares the clause's subject.
    if verb.dep_ == "pcomp" and verb.tag_ == "VBG" and verb.head.dep_ == "prep" and verb.head.head.pos_ == "VERB":
        return speaker_phrase(verb.head.head)
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


def _in_subtree(mentions: list[Mention], token: Token) -> list[Mention]:
    start = token.left_edge.idx
    end = token.right_edge.idx + len(token.right_edge.text)
    return _within(mentions, start, end)


def _within(mentions: list[Mention], start: int, end: int) -> list[Mention]:
    return [m for m in mentions if m.start_char >= start and m.end_char <= end]


_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
Subject = tuple[int, int, str, bool]  # (sentence, offset, entity id, main clause?) of a named subject


def sentence_subjects(sents: list[Span], salience: Salience) -> list[Subject]:
    """The named subjects of every clause, in text order; an untagged "Mr Ancram" counts
    when the article named a Michael Ancram before."""
    if not sents:
        return []
    starts = [sent.start for sent in sents]
    out = []
    for token in tokens_where(sents[0].doc, "DEP", _SUBJECTS):
        number = bisect.bisect_right(starts, token.i) - 1
        named = [m.entity_id for m in salience.mentions if m.start_char <= token.idx < m.end_char]
        if not named and token.pos_ == "PROPN":
            named = [e for e in (surname_of(token.text, salience),) if e]
        if named:
            out.append((number, token.idx, named[0], token.head.i == sents[number].root.i))
    return out


def resolve(span: Span, salience: Salience, cue_offset: int, sentence: int, subjects: list[Subject]) -> str | None:
    """The entity id a speaker phrase names, or None."""
    mentions = salience.mentions
    root = span.root
    at_root = [m for m in mentions if m.start_char <= root.idx < m.end_char]
    if at_root and at_root[0].label == "PERSON":
        return at_root[0].entity_id
    appositives = [token for token in span if token.dep_ == "appos"]  # "a spokesman for X, Dr Y"
    appositive_persons = [m for child in appositives for m in _in_subtree(mentions, child) if m.label == "PERSON"]
    if appositive_persons:
        return appositive_persons[0].entity_id  # "her lawyer, Perry Wander"; "The President of X, Yoon"
    if at_root:
        return at_root[0].entity_id
    if root.pos_ == "PROPN" and _titled(root):
        # "Flight International's Mr Learmount", untagged: the David Learmount named before, or
        # nobody - never the organisation in front of him.
        return surname_of(root.text, salience)
    # A nationality or party word modifying the head names no speaker: "the Italian food group".
    core = [m for m in _within(mentions, *_core(span)) if m.label != "NORP"]
    if core:
        persons = [m for m in core if m.label == "PERSON"]
        return (persons or core)[-1].entity_id
    if root.pos_ == "PROPN" and surname_of(root.text, salience):
        return surname_of(root.text, salience)  # "Mr Learmount", untagged: the David Learmount named before
    if root.pos_ == "PROPN":
        # A name the model did not tag: the organisation it abbreviates ("The CIPS"), else
        # nobody, rather than a word beside it.
        return acronym_of(root.text, salience)
    acronym = acronym_of(root.text, salience)  # "The CIPS" parsed as a plural noun
    if acronym is not None:
        return acronym
    for child in root.children:
        if child.dep_ == "prep" and child.lower_ in {"for", "of", "at", "from", "in"}:
            named = [m for m in _in_subtree(mentions, child) if m.label != "NORP"]
            if named:
                return named[0].entity_id  # "a spokesman for Tesco"
    head = root.lower_
    if len(span) == 1 and (head in PERSON_PRONOUNS or head in GROUP_PRONOUNS):
        return resolve_pronoun(head, salience, cue_offset, sentence, subjects)
    lemma = lemma_of(root).lower()
    # "Reports from the country say" names nobody; "a report", "the report" its publisher.
    if lemma in DOCUMENT_NOUNS and root.tag_ != "NNS" or lemma in ORG_NOUNS | PERSON_NOUNS and _definite(span):
        words = " ".join(t.lower_ for t in span if t.dep_ in {"compound", "amod"} or t.i == root.i)
        return resolve_nominal(lemma, words, salience, cue_offset)
    return None


def acronym_of(word: str, salience: Salience) -> str | None:
    """The organisation whose initials `word` is ("CIPS" for the Chartered Institute of
    Purchasing and Supply), when exactly one is named."""
    if not word.isupper() or len(word) < 2:
        return None
    found = {
        m.entity_id
        for m in salience.mentions
        if m.label == "ORG" and "".join(w[0] for w in m.entity_name.split() if w[:1].isupper()) == word
    }
    return found.pop() if len(found) == 1 else None


def surname_of(word: str, salience: Salience) -> str | None:
    """The PERSON entity whose name ends with `word`, when exactly one does."""
    found = {m.entity_id for m in salience.mentions if m.label == "PERSON" and m.entity_name.split()[-1:] == [word]}
    return found.pop() if len(found) == 1 else None


def _introduced_as(text: str, mention: Mention, words: str) -> bool:
    """Whether the words right before a mention are `words` ("Foreign Secretary | Jack Straw")."""
    return text[max(0, mention.start_char - 60) : mention.start_char].lower().rstrip().endswith(words)


def _titled(token: Token) -> bool:
    return any(c.dep_ == "compound" and c.lower_.rstrip(".") in _PERSON_TITLES for c in token.lefts)


def _definite(span: Span) -> bool:
    """ "the company", "its chairman" - not "a company", "one spokesman"."""
    return any(t.lower_ in {"the", "its", "their", "his", "her"} for t in span[: span.root.i - span.start])


def resolve_pronoun(
    pronoun: str, salience: Salience, cue_offset: int, sentence: int, subjects: list[Subject]
) -> str | None:
    """A subject named since the previous speaker spoke ("Mr Ancram condemned the plan.
    'It is a waste,' he said."), else the previous speaker, else an earlier subject,
    else the nearest mention; each only if the pronoun fits."""
    last = salience.last_speaker
    since = last[3] if last is not None else -1
    before = [(at, offset, entity_id, main) for at, offset, entity_id, main in subjects if offset < cue_offset]
    # "Gosaibi had caused uproar when he said ...": a subject earlier in the same sentence.
    for at, _, entity_id, _ in reversed(before):
        if at == sentence and salience.fits(entity_id, pronoun):
            return entity_id
    earlier = [(at, entity_id) for at, offset, entity_id, main in before if main]
    for at, entity_id in reversed([(at, e) for at, offset, e, main in before if main and offset > since]):
        if sentence - at <= SALIENT_SENTENCES and salience.fits(entity_id, pronoun):
            return entity_id
    if last is not None and sentence - last[2] <= 2 * SALIENT_SENTENCES and salience.fits(last[0], pronoun):
        return last[0]
    if pronoun == "they":
        return None  # "they" is mostly people the article never names: only a speaker it continues
    for at, entity_id in reversed(earlier):
        if sentence - at > SALIENT_SENTENCES:
            break
        if salience.fits(entity_id, pronoun):
            return entity_id
    fitting = [m for m in salience.mentions if m.end_char <= cue_offset and salience.fits(m.entity_id, pronoun)]
    return fitting[-1].entity_id if fitting else None


def resolve_nominal(head: str, words: str, salience: Salience, cue_offset: int) -> str | None:
    """ "the foreign secretary": the person the article introduced with those words
    ("Foreign Secretary Jack Straw"), else the person named most recently; "the alliance":
    the organisation whose name holds the word; "the company", "the report": the
    organisation named most so far, the latest among equals."""
    before = [m for m in salience.mentions if m.end_char <= cue_offset]
    if head in PERSON_NOUNS:
        persons = [m for m in before if m.label == "PERSON"]
        titled = [m for m in persons if _introduced_as(salience.text, m, words)]
        if titled:
            return titled[-1].entity_id
        last = salience.last_speaker
        if last is not None and last[1] == "PERSON":
            return last[0]  # "The Tory spokesman also criticised ...": the man who just spoke
        return persons[-1].entity_id if persons else None
    named_for = [m for m in before if m.label not in {"PERSON", "NORP"} and head in m.entity_name.lower().split()]
    if named_for:
        return named_for[-1].entity_id
    if head == "government":
        # "the government": the country the article names most, the latest among equals.
        return _most_named([m for m in before if m.label == "GPE"])
    orgs = [m for m in before if m.label == "ORG"]
    if head in DOCUMENT_NOUNS:
        return _publisher(orgs, [m for m in salience.mentions if m.label == "ORG" and m.start_char >= cue_offset])
    return _most_named(orgs)


def _publisher(before: list[Mention], after: list[Mention]) -> str | None:
    """Who stands behind "the report" or "a survey": the organisation named most before
    it, else the first named after it ("..., a survey says. It was carried out by
    Capgemini"). A publisher has a name, not the initials of an index or a technology
    ("PMI", "RFID"), unless nothing else is named."""
    named_before = [m for m in before if not m.entity_name.isupper()]
    if named_before:
        return _most_named(named_before)
    named_after = [m for m in after if not m.entity_name.isupper()]
    if named_after:
        return named_after[0].entity_id
    return _most_named(before or after)


def _most_named(mentions: list[Mention]) -> str | None:
    """The entity mentioned most often, the latest among equals."""
    if not mentions:
        return None
    counts = Counter(m.entity_id for m in mentions)
    last_seen = {m.entity_id: i for i, m in enumerate(mentions)}
    return max(counts, key=lambda entity_id: (counts[entity_id], last_seen[entity_id]))
