"""Pure: Doc + mentions -> claims (who asserted what), from quote marks and the parse.

A claim is a speech or writing act: "said", "told", "warned", "according to", a
reporting noun. Cognition, plans and positions (think, want, plan, decide, support)
are not claims: they are stances, kept apart (`extract_attributions`), since an
analyst who cites a claim needs someone to have said it, while attribution corpora
(PolNeAR) count both.

Two rule tables, each tried in order, each rule a small function with its example:
- FINDERS find cues and their speakers: a speech verb, "according to", a line
  opened by a name and a colon, a reporting noun with its holder;
- CONTENT_RULES find what a speech verb introduces: an adjacent quotation (with a
  second quotation after an interrupting attribution), a that-clause, ...

Every claim goes through one builder (`_build`), which trims the content, keeps a
closing quote mark, decides the kind (direct, partial, indirect, unattributed),
resolves the speaker's entity (speakers.py) and owns the confidence policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from newsdesk.extraction.entities import Mention
from newsdesk.extraction.lemmas import lemma_of
from newsdesk.extraction.quotes import Quote, adjacent_quote, inside_any, kind_of, quote_spans, with_closing_mark
from newsdesk.extraction.spans import SentenceIndex, end_of, tokens_where, trim
from newsdesk.extraction.speakers import (
    DOCUMENT_NOUNS,
    ORG_NOUNS,
    PERSON_NOUNS,
    RELATIVES,
    Salience,
    Subject,
    antecedent,
    has_no_subject,
    np_span,
    resolve,
    sentence_subjects,
    speaker_phrase,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

__all__ = ["Claim", "extract_attributions", "extract_claims", "quote_spans"]

# Speech and writing acts.
SPEECH_CUES = frozenset(
    """say state argue tell claim confirm deny announce vow pledge promise warn report add note insist
    suggest explain acknowledge admit assert declare write allege estimate predict reveal accuse
    complain stress emphasise emphasize maintain contend concede recall reply testify tweet observe remark
    indicate signal forecast conclude denounce condemn dismiss reject threaten urge caution
    disclose affirm reiterate underline highlight describe ask respond propose recommend question
    demand call label dub brand term criticize criticise praise defend cite announce boast joke
    counter retort quip mention""".split()
)
# Verbs whose object and its complement are the content: "called the deal a disaster",
# "asked the crowd to stand", "described the race as a superhighway".
OBJECT_SPAN_CUES = frozenset(
    "call describe label dub brand term ask urge criticize criticise praise cite accuse".split()
)
# Evidence reports ("the poll shows Clinton ahead"): a claim only with a document as subject.
EVIDENCE_CUES = frozenset("show find".split())
EVIDENCE = frozenset(
    "poll survey study data analysis number result figure record report research review "
    "audit investigation average count tally".split()
)
# Verbs whose object alone can be the content ("Russia has denounced these claims").
OBJECT_CUES = frozenset("deny denounce confirm announce reject dismiss condemn report reveal disclose propose".split())
# Verbs whose infinitive complement is the content ("South Korea vows to respond").
COMMISSIVE_CUES = frozenset("vow pledge promise threaten".split())
# Verb + preposition whose object is the content: "called for a ban", "talked about the wall".
PREP_CUES = {
    "talk": {"about", "of"},
    "speak": {"about", "of", "on"},
    "ask": {"about"},
    "complain": {"about"},
    "warn": {"about", "of", "against"},
    "comment": {"on"},
    "call": {"for", "on"},
    "argue": {"for", "against"},
    "write": {"about", "of"},
    "testify": {"about"},
    "tweet": {"about"},
    "joke": {"about"},
    "boast": {"about"},
    "insist": {"on"},
}
# Statements nobody is named for: "Sanders appears to have a slight lead", "the group
# is expected to report ...", "it appeared that ...": unattributed claims.
HEDGES = frozenset("seem appear".split())
PASSIVE_REPORTS = frozenset("expect believe think say report consider know estimate predict".split())
# Speech cues that introduce only a quotation: `"...," he continued.`
QUOTE_ONLY_CUES = frozenset("continue".split())
CUE_VERBS = SPEECH_CUES | EVIDENCE_CUES | HEDGES | PASSIVE_REPORTS | QUOTE_ONLY_CUES | frozenset(PREP_CUES)
# Stances: what someone thinks, wants, plans or backs ("Cruz supports the ban", "Trump
# wants to build a wall", "she believes the plan will fail"). Their rows go to `stances`.
STANCE_CUES = frozenset(
    "think believe feel know expect hope fear worry doubt want wish seek plan intend decide aim "
    "support oppose endorse back favor favour consider refuse decline offer welcome "
    "discuss attack blast slam trash".split()
)
# Stances whose prepositional object is the content: "voted for the bill", "pointed to the jobs figures".
STANCE_PREPS = {
    "vote": {"for", "against"},
    "point": {"to"},
    "refer": {"to"},
    "focus": {"on"},
    "campaign": {"for", "against", "on"},
    "push": {"for"},
    "advocate": {"for"},
    "lobby": {"for", "against"},
    "press": {"for"},
    "rail": {"against"},
    "think": {"about", "of"},
    "worry": {"about"},
}
# Nouns that report speech: "Trump's claim that ...", "a warning from the Bank that ...".
NOUN_CUES = frozenset(
    "statement claim remark comment assertion argument suggestion announcement warning "
    "promise pledge accusation allegation insistence contention testimony admission "
    "prediction charge criticism vow demand complaint denial".split()
)
NOUN_PREPS = {"about", "of", "on", "for", "to", "against"}
# Dependents that end an object-and-complement content: "calling him a stiff | and accusing him ...".
CLAUSE_BREAKS = frozenset("punct conj cc advcl".split())

# The confidence policy, in one place: by kind, less without a resolved speaker,
# less for a reporting noun (its holder is often only mentioned, not speaking).
CONFIDENCE = {"direct": 0.9, "partial": 0.85, "indirect": 0.75, "unattributed": 0.5}
NO_ENTITY_PENALTY = 0.15
NOUN_PENALTY = 0.1
STANCE_PENALTY = 0.2


@dataclass(frozen=True)
class Claim:
    claim_idx: int
    kind: str
    speaker: str | None
    speaker_entity_id: str | None
    speaker_start: int | None
    speaker_end: int | None
    cue: str
    cue_start: int
    content: str  # the statement; an interrupting attribution is cut out (see content_gap_*)
    content_start: int
    content_end: int
    sentence_idx: int
    confidence: float
    content_gap_start: int | None = None  # `"One," she said, "two."`: the cut-out attribution
    content_gap_end: int | None = None


@dataclass(frozen=True)
class Found:
    """What a rule found, before the builder decides the row."""

    rule: str
    cue: str
    cue_start: int
    content: tuple[int, int]
    speaker: Span | None = None
    named: Span | None = None  # the phrase that names the speaker, when not the surface one
    kind: str | None = None  # set when the shape decides it (a quote, no speaker)
    gap: tuple[int, int] | None = None
    implicit_speaker: bool = False  # "But told BBC News: ...": the speaker is the previous one


@dataclass
class Context:
    doc: Doc
    text: str
    mentions: list[Mention]
    quotes: list[Quote]
    sentences: SentenceIndex
    used_quotes: set[Quote] = field(default_factory=set)

    def sentence(self, token: Token) -> Span:
        return self.sentences.of_tok(token)


def extract_claims(doc: Doc, mentions: list[Mention], text: str | None = None) -> list[Claim]:
    """Statements only. `text` is doc.text when the caller has it already (doc.text is
    rebuilt on every access)."""
    return extract_attributions(doc, mentions, text)[0]


def extract_attributions(
    doc: Doc, mentions: list[Mention], text: str | None = None, sentences: SentenceIndex | None = None
) -> tuple[list[Claim], list[Claim]]:
    """(claims, stances): statements, and what someone thinks, wants or backs."""
    text = doc.text if text is None else text
    ctx = Context(doc, text, mentions, quote_spans(text), sentences or SentenceIndex.of(doc))
    found = [item for finder in FINDERS for item in finder(ctx)]
    found.sort(key=lambda item: item.cue_start)  # text order: a pronoun looks back at earlier speakers
    salience = Salience(mentions, text)
    subjects = sentence_subjects(ctx.sentences.sents, salience)
    claims: list[Claim] = []
    stances: list[Claim] = []
    for item in found:
        rows = stances if item.rule == "stance" else claims
        row = _build(ctx, item, salience, subjects, len(rows))
        if row is not None:
            rows.append(row)
    return claims, stances


# --- The builder: the one place a row is decided ---


def _build(ctx: Context, item: Found, salience: Salience, subjects: list[Subject], idx: int) -> Claim | None:
    text = ctx.text
    start, end = item.content
    if item.kind != "direct":
        end = with_closing_mark(text, start, end)
    if end <= start:
        return None
    kind = item.kind or kind_of(text, start, end, ctx.quotes)
    sentence = ctx.sentences.at_offset(item.cue_start)
    speaker_text = s_start = s_end = entity_id = None
    pronoun = None
    if item.speaker is not None:
        s_start, s_end = trim(text, item.speaker.start_char, item.speaker.end_char)
        speaker_text = text[s_start:s_end]
        named = item.named or item.speaker
        pronoun = named.root.lower_ if len(named) == 1 else None
        entity_id = resolve(named, salience, item.cue_start, sentence, subjects)
    elif item.implicit_speaker and salience.last_speaker is not None:
        if sentence - salience.last_speaker[2] <= 2:
            entity_id = salience.last_speaker[0]
    if item.rule != "stance":
        salience.spoke(entity_id, sentence, item.cue_start, pronoun)  # who speaks next is whoever spoke last
    confidence = CONFIDENCE[kind]
    if entity_id is None and kind != "unattributed":
        confidence -= NO_ENTITY_PENALTY
    if item.rule == "reporting_noun":
        confidence -= NOUN_PENALTY
    if item.rule == "stance":
        confidence -= STANCE_PENALTY
    content = text[start:end]
    if item.gap is not None:
        content = text[start : item.gap[0]] + " " + text[item.gap[1] : end]
    return Claim(
        claim_idx=idx,
        kind=kind,
        speaker=speaker_text,
        speaker_entity_id=entity_id,
        speaker_start=s_start,
        speaker_end=s_end,
        cue=item.cue,
        cue_start=item.cue_start,
        content=content,
        content_start=start,
        content_end=end,
        sentence_idx=sentence,
        confidence=round(confidence, 2),
        content_gap_start=item.gap[0] if item.gap else None,
        content_gap_end=item.gap[1] if item.gap else None,
    )


# --- Finders: cues and their speakers ---

_VERB_OR_AUX = frozenset({"VERB", "AUX"})
_VERB = frozenset({"VERB"})
_NOUN = frozenset({"NOUN"})


def speech_verbs(ctx: Context) -> Iterator[Found]:
    """ "Anna Berg said that exports fell." / "'We will win,' said the coach." """
    for verb in tokens_where(ctx.doc, "POS", _VERB_OR_AUX):
        lemma = lemma_of(verb).lower()
        if lemma not in CUE_VERBS or inside_any(verb.idx, ctx.quotes):
            continue  # a cue inside a quotation belongs to the quoted speech
        hedged = _hedged(verb, ctx.text)
        if hedged is not None:
            yield Found("hedge", verb.text, verb.idx, hedged, kind="unattributed")
            continue
        if lemma in HEDGES:
            continue
        speaker, unattributed = speaker_phrase(verb)
        implicit = speaker is None and not unattributed and has_no_subject(verb)
        if lemma == "tell" and speaker is not None and not _can_speak(speaker, ctx.mentions):
            continue  # "The alerts tell users how to ..." - a thing, not a speaker
        if speaker is None and not unattributed and not implicit:
            continue
        if lemma in PASSIVE_REPORTS - SPEECH_CUES:
            continue  # "believe", "think" report speech only in the passive: a hedge, above
        content = _content(ctx, verb)
        if content is None:
            continue
        (start, end), kind, gap = content
        if implicit and kind is None and kind_of(ctx.text, start, end, ctx.quotes) == "indirect":
            continue  # a subjectless clause is a statement only with its quotation
        named = antecedent(verb) if speaker is not None and speaker.root.lower_ in RELATIVES else None
        yield Found(
            "speech_verb",
            verb.text,
            verb.idx,
            (start, end),
            speaker=speaker,
            named=named,
            kind="unattributed" if unattributed else kind,
            gap=gap,
            implicit_speaker=implicit,
        )


def according_to(ctx: Context) -> Iterator[Found]:
    """ "According to the ministry, exports fell." / "Exports fell, according to the ministry." """
    if "ccording to" not in ctx.text:
        return
    doc, text = ctx.doc, ctx.text
    for token in doc:
        if token.lower_ != "according" or token.i + 1 >= len(doc) or doc[token.i + 1].lower_ != "to":
            continue
        objects = [c for c in doc[token.i + 1].children if c.dep_ == "pobj"]
        if not objects:
            continue
        source = np_span(objects[0])
        sent = ctx.sentence(token)
        before = trim(text, sent.start_char, token.idx)
        after = trim(text, source.end_char, sent.end_char)
        start, end = before if before[1] - before[0] >= after[1] - after[0] else after
        while end > start and text[end - 1] in ".!?":
            end -= 1
        if source.root.pos_ in {"DET", "PRON", "ADP"}:
            continue  # "... according to the" at a text's end: nobody named
        if end - start >= 10:
            cue = text[token.idx : end_of(doc[token.i + 1])]  # as written: "According to"
            yield Found("according_to", cue, token.idx, (start, end), speaker=source)


_NAMES = frozenset({"PERSON", "ORG", "GPE", "NORP"})
_COLON_LINE = re.compile(r"^([^\n:]{2,60}?):[ \t]+(\S[^\n]*)$", re.M)


def colon_lines(ctx: Context) -> Iterator[Found]:
    """ "Sanders: Brexit's message could spread." / "BOULDUAN: You guys ..." - a line opened
    by a name and a colon gives the rest of the line to that name."""
    text = ctx.text
    for match in _COLON_LINE.finditer(text):
        s_start, s_end = match.span(1)
        name = match.group(1).strip()
        named = [m for m in ctx.mentions if s_start <= m.start_char and m.end_char <= s_end and m.label in _NAMES]
        shouting = name.isupper() and len(name.split()) <= 3 and any(ch.isalpha() for ch in name)
        if not named and not shouting or len(name.split()) > 5:
            continue
        start, end = trim(text, *match.span(2))
        speaker = ctx.doc.char_span(s_start, s_start + len(name), alignment_mode="expand")
        if speaker is None or any(t.pos_ in {"VERB", "AUX"} for t in speaker):
            continue  # "Ms Hewitt said: ..." is the speech verb's claim
        said = ctx.doc.char_span(start, end, alignment_mode="expand")
        if said is None or not any(t.pos_ in {"VERB", "AUX"} for t in said):
            continue  # "Chelsea: Cech, Terry, Lampard" is a team sheet, not a statement
        if end - start >= 15:
            yield Found("colon_line", ":", match.end(1), (start, end), speaker=speaker)


def reporting_nouns(ctx: Context) -> Iterator[Found]:
    """ "Donald Trump's claim that the vote was rigged" / "a warning from the Bank that ..." """
    for noun in tokens_where(ctx.doc, "POS", _NOUN):
        if lemma_of(noun).lower() not in NOUN_CUES or inside_any(noun.idx, ctx.quotes):
            continue
        holder = next((c for c in noun.children if c.dep_ == "poss"), None)
        if holder is None:
            by = next((c for c in noun.children if c.dep_ == "prep" and c.lower_ in {"by", "from"}), None)
            holder = next((g for g in by.children if g.dep_ == "pobj"), None) if by is not None else None
        if holder is None:
            continue
        content = _noun_content(noun)
        if content is None:
            continue
        start, end = trim(ctx.text, *content)
        if end - start < 3:
            continue
        speaker = np_span(holder)
        while len(speaker) > 1 and speaker[-1].tag_ == "POS":
            speaker = speaker[:-1]
        yield Found("reporting_noun", noun.text, noun.idx, (start, end), speaker=speaker)


def stance_verbs(ctx: Context) -> Iterator[Found]:
    """ "Cruz supports the ban." / "She believes the plan will fail." / "Trump wants to build a wall." """
    for verb in tokens_where(ctx.doc, "POS", _VERB):
        lemma = lemma_of(verb).lower()
        if lemma not in STANCE_CUES and lemma not in STANCE_PREPS:
            continue
        if inside_any(verb.idx, ctx.quotes):
            continue
        if any(c.dep_ in {"nsubjpass", "auxpass"} for c in verb.children):
            continue  # "is expected to", "was believed": a hedge, not a held stance
        speaker, _ = speaker_phrase(verb)
        if speaker is None:
            continue
        content = that_clause(ctx, verb) or _stance_object(ctx, verb) or _stance_prep_object(ctx, verb)
        if content is None:
            continue
        (start, end), kind, _ = content
        named = antecedent(verb) if speaker.root.lower_ in RELATIVES else None
        yield Found("stance", verb.text, verb.idx, (start, end), speaker=speaker, named=named, kind=kind)


def _stance_prep_object(ctx: Context, verb: Token) -> Content | None:
    """ "voted for [the bill]", "pointed to [the jobs figures]"."""
    return _object_of_preposition(ctx, verb, STANCE_PREPS)


def _stance_object(ctx: Context, verb: Token) -> Content | None:
    """The object or infinitive a stance holds: "supports [the ban]", "wants [to build a wall]"."""
    if lemma_of(verb).lower() not in STANCE_CUES:
        return None
    objects = [c for c in verb.children if c.dep_ in {"dobj", "xcomp"} and c.i > verb.i]
    if not objects:
        return None
    return trim(ctx.text, objects[0].left_edge.idx, end_of(objects[0].right_edge)), None, None


FINDERS: tuple[Callable[[Context], Iterator[Found]], ...] = (
    speech_verbs,
    according_to,
    colon_lines,
    reporting_nouns,
    stance_verbs,
)


def _can_speak(phrase: Span, mentions: list[Mention]) -> bool:
    """A person, an organisation, a pronoun or a noun for people or bodies; not a thing."""
    root = phrase.root
    if root.pos_ in {"PRON", "PROPN"} or any(m.start_char <= root.idx < m.end_char for m in mentions):
        return True
    return lemma_of(root).lower() in ORG_NOUNS | PERSON_NOUNS | DOCUMENT_NOUNS


def _noun_content(noun: Token) -> tuple[int, int] | None:
    """The that-clause (acl / ccomp / appos with "that") or the object of of/about/on/..."""
    for child in noun.children:
        if (
            child.dep_ in {"acl", "ccomp", "appos", "relcl"}
            and child.i > noun.i
            and any(m.dep_ == "mark" and m.lower_ == "that" for m in child.children)
        ):
            tokens = [t for t in child.subtree if not (t.dep_ == "mark" and t.i == child.left_edge.i)]
            return tokens[0].idx, end_of(tokens[-1])
    for child in noun.children:
        if child.dep_ == "prep" and child.lower_ in NOUN_PREPS and child.i > noun.i:
            objects = [g for g in child.children if g.dep_ in {"pobj", "pcomp"}]
            if objects:
                return objects[0].left_edge.idx, end_of(child.right_edge)
    return None


def _hedged(verb: Token, text: str) -> tuple[int, int] | None:
    """An unattributed statement around a hedge or a passive report: subject through
    infinitive ("Sanders appears to have a slight lead"), or the that-clause after an
    expletive ("it appeared that ...")."""
    lemma = lemma_of(verb).lower()
    subject = next((c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
    if lemma in HEDGES or lemma in PASSIVE_REPORTS and subject is not None and subject.dep_ == "nsubjpass":
        if subject is None or any(c.dep_ == "agent" for c in verb.children):
            return None
        xcomp = next((c for c in verb.children if c.dep_ == "xcomp" and c.i > verb.i), None)
        if xcomp is not None and subject.lower_ not in {"it", "there"} | RELATIVES:
            return trim(text, subject.left_edge.idx, end_of(xcomp.right_edge))
        comp = next((c for c in verb.children if c.dep_ == "ccomp" and c.i > verb.i), None)
        if lemma in HEDGES and comp is not None and subject.lower_ == "it":
            tokens = [t for t in comp.subtree if not (t.dep_ == "mark" and t.i == comp.left_edge.i)]
            return trim(text, tokens[0].idx, end_of(tokens[-1]))
    return None


# --- Content rules: what a speech verb introduces, tried in order ---

Content = tuple[tuple[int, int], str | None, tuple[int, int] | None]  # (span, kind if decided, gap)


def _content(ctx: Context, verb: Token) -> Content | None:
    # "show" and "find" report only what a document shows, never what a person found.
    lemma = lemma_of(verb).lower()
    rules = (
        (evidence,)
        if lemma in EVIDENCE_CUES
        else (quote_after, quote_before)
        if lemma in QUOTE_ONLY_CUES
        else CONTENT_RULES
    )
    for rule in rules:
        found = rule(ctx, verb)
        if found is not None:
            (start, end), _, _ = found
            return found if end > start else None
    return None


def quote_after(ctx: Context, verb: Token) -> Content | None:
    """`She said: "We will win."` - a quotation right after the cue."""
    quote = adjacent_quote(ctx.text, end_of(verb), ctx.quotes, forward=True)
    if quote is None or quote in ctx.used_quotes:
        return None
    ctx.used_quotes.add(quote)
    return quote, None, None


def quote_before(ctx: Context, verb: Token) -> Content | None:
    """`"We will win," said the coach.` / `"One," she said. "Two."` (one statement, the
    attribution cut out) / `After the win, "we are happy," Law said` (the lead-in belongs)."""
    text = ctx.text
    if any(c.dep_ == "ccomp" and c.i > verb.i for c in verb.children):
        return None  # `"Is it fair?" The board said it was.` - the cue has its own complement
    quote = adjacent_quote(text, _clause_start(ctx, verb), ctx.quotes, forward=False)
    if quote is None or quote in ctx.used_quotes:
        return None
    ctx.used_quotes.add(quote)
    follow = adjacent_quote(text, _clause_end(text, verb), ctx.quotes, forward=True, allow_break=True)
    if follow is not None and follow not in ctx.used_quotes and not _attributed_after(ctx, follow):
        ctx.used_quotes.add(follow)
        gap = (quote[1], follow[0])
        return (quote[0], follow[1]), "direct", gap
    lead = ctx.sentence(verb).start_char
    if lead < quote[0] - 1 and "\n" not in text[lead : quote[0]] and not inside_any(lead, ctx.quotes):
        return (trim(text, lead, quote[1])[0], quote[1]), None, None
    return quote, None, None


def _attributed_after(ctx: Context, quote: Quote) -> bool:
    """Whether a quotation has its own attribution right after it (`"We will not," Michael
    Howard said.`, `... was the reply from X`): then it is another statement, not the
    second half of this one."""
    closing = ctx.doc.char_span(quote[1], min(len(ctx.text), quote[1] + 1), alignment_mode="expand")
    if closing is None or not len(closing):
        return False
    sentence_end = ctx.sentence(closing[0]).end
    for token in ctx.doc[closing[-1].i + 1 : sentence_end]:
        if lemma_of(token).lower() in SPEECH_CUES | {"reply"} or token.lower_ in {"from", "by"}:
            return True
    return False


def that_clause(ctx: Context, verb: Token) -> Content | None:
    """ "Anna Berg said that exports fell sharply." - the complement clause; a second
    speech verb joined by "and" is its own claim, not part of this one."""
    text = ctx.text
    comps = [c for c in verb.children if c.dep_ == "ccomp" or c.dep_ in {"advcl", "conj"} and _that_led(c)]
    if not comps or comps[0].dep_ == "conj":
        return None
    comp = comps[0]
    # "said new mothers were entitled ..., but that many could not take it": the parser
    # splits one reported clause over several complements; the content runs through all.
    after = [c for c in comps if c.i > verb.i]
    cut = {
        t.i
        for c in (*comp.children, *verb.children)
        if c.dep_ == "conj" and lemma_of(c).lower() in SPEECH_CUES
        for t in c.subtree
    }
    cut |= {c.i for c in comp.children if c.dep_ == "cc" and any(c.i + 1 == t for t in cut)}
    members = after if comp.i > verb.i else [comp]
    tokens = sorted(
        (t for c in members for t in c.subtree if t.i not in cut and not (t.lower_ == "that" and t.i == c.left_edge.i)),
        key=lambda t: t.i,
    )
    start, end = tokens[0].idx, end_of(tokens[-1])
    sent = ctx.sentence(verb)
    if comp.i > verb.i and any(end < q_start <= _sentence_end(text, sent) for q_start, _ in ctx.quotes):
        # Reported speech after its cue runs on to a quotation later in the sentence
        # ("said he had offers, but “the offers were ...”").
        end = max(end, _sentence_end(text, sent))
    start, end = trim(text, start, end)
    # A quotation that opens inside the content runs on to its closing mark.
    for q_start, q_end in ctx.quotes:
        if start <= q_start - 1 < end < q_end:
            end = q_end
            ctx.used_quotes.add((q_start, q_end))
    return (start, end), None, None


def _that_led(clause: Token) -> bool:
    """ "that few could afford it": a mark, or a "that" the parser took for a determiner."""
    return clause.left_edge.lower_ == "that" or any(m.dep_ == "mark" and m.lower_ == "that" for m in clause.children)


def inserted_cue(ctx: Context, verb: Token) -> Content | None:
    """ "The two nations, Xi said, now have a chance." - a cue set inside its statement."""
    if verb.dep_ != "parataxis" or verb.head.i == verb.i:
        return None
    clause = verb.head
    text = ctx.text
    start, end = trim(text, clause.left_edge.idx, end_of(clause.right_edge))
    while end > start and text[end - 1] in ".!?":
        end -= 1
    # The attribution is cut out: "The two nations | , Xi said, | now have a chance".
    gap_start, gap_end = verb.left_edge.idx, end_of(verb.right_edge)
    while gap_start > start and text[gap_start - 1] in " ,—–":
        gap_start -= 1
    while gap_end < end and text[gap_end] in " ,—–":
        gap_end += 1
    gap = (gap_start, gap_end) if start < gap_start < gap_end < end else None
    return ((start, end), None, gap) if end - start >= 10 else None


def prep_object(ctx: Context, verb: Token) -> Content | None:
    """ "Kasich called for the suspension of the deal." """
    return _object_of_preposition(ctx, verb, PREP_CUES)


def _object_of_preposition(ctx: Context, verb: Token, preps_of: dict[str, set[str]]) -> Content | None:
    """The object of the first preposition after the verb that `preps_of` lists for its lemma."""
    preps = [
        c
        for c in verb.children
        if c.dep_ == "prep"
        and c.lower_ in preps_of.get(lemma_of(verb).lower(), ())
        and c.i > verb.i
        and any(g.dep_ in {"pobj", "pcomp"} for g in c.children)
    ]
    if not preps:
        return None
    start = min(g.left_edge.idx for g in preps[0].children if g.dep_ in {"pobj", "pcomp"})
    return trim(ctx.text, start, end_of(preps[0].right_edge)), None, None


def evidence(ctx: Context, verb: Token) -> Content | None:
    """ "Every recent poll has shown him trailing." - what a document shows."""
    if lemma_of(verb).lower() not in EVIDENCE_CUES:
        return None
    if not any(c.dep_ == "nsubj" and lemma_of(c).lower() in EVIDENCE for c in verb.children):
        return None
    return _object_and_complement(ctx, verb, {"dobj", "dative", "ccomp", "xcomp"})


DIRECTIVE_CUES = frozenset("tell ask urge recommend advise warn call order instruct".split())


def told_to(ctx: Context, verb: Token) -> Content | None:
    """ "She told the board to wait." / "The union called on the firm to recall the notice." -
    the infinitive is what was asked for."""
    if lemma_of(verb).lower() not in DIRECTIVE_CUES:
        return None
    candidates = [*verb.children, *(g for c in verb.children if c.dep_ == "prep" for g in c.children)]
    xcomps = [c for c in candidates if c.dep_ in {"xcomp", "ccomp"} and c.i > verb.i]
    if not xcomps:
        return None
    return trim(ctx.text, xcomps[0].left_edge.idx, end_of(xcomps[0].right_edge)), None, None


def object_and_complement(ctx: Context, verb: Token) -> Content | None:
    """ "Trump called him a stiff." / "She described the race as a marathon." """
    if lemma_of(verb).lower() not in OBJECT_SPAN_CUES:
        return None
    return _object_and_complement(ctx, verb, {"dobj", "dative"})


def commissive(ctx: Context, verb: Token) -> Content | None:
    """ "South Korea vows to respond." """
    if lemma_of(verb).lower() not in COMMISSIVE_CUES:
        return None
    xcomps = [c for c in verb.children if c.dep_ == "xcomp"]
    if not xcomps:
        return None
    return trim(ctx.text, xcomps[0].left_edge.idx, end_of(xcomps[0].right_edge)), None, None


def denied_object(ctx: Context, verb: Token) -> Content | None:
    """ "Russia has denounced these claims." / "His claims were denied by Jack Straw." -
    the object (or the passive subject) is all that was said; a relative clause after it
    is the writer's aside."""
    if lemma_of(verb).lower() not in OBJECT_CUES:
        return None
    passive = any(c.dep_ == "agent" for c in verb.children)
    objects = [c for c in verb.children if c.dep_ == ("nsubjpass" if passive else "dobj")]
    if not objects or any(c.lower_ == "no" for c in objects[0].children):
        return None  # "announced no plans" announces nothing
    return trim(ctx.text, objects[0].left_edge.idx, _restrictive_end(objects[0])), None, None


def _restrictive_end(head: Token) -> int:
    """End of a noun phrase with its restrictive modifiers ("plans to sell the depot"),
    before an aside set off by a comma anywhere in it (", which has stood empty")."""
    end = end_of(head.right_edge)
    for token in head.subtree:
        if token.i > head.i and token.dep_ in {"relcl", "appos"} and token.left_edge.i > head.left_edge.i:
            comma = token.doc[token.left_edge.i - 1]
            if comma.text == "," and comma.i > head.i:
                end = min(end, comma.idx)
    return end


CONTENT_RULES: tuple[Callable[[Context, Token], Content | None], ...] = (
    quote_after,
    quote_before,
    that_clause,
    inserted_cue,
    told_to,
    prep_object,
    evidence,
    object_and_complement,
    commissive,
    denied_object,
)


def _object_and_complement(ctx: Context, verb: Token, deps: set[str]) -> Content | None:
    objects = [c for c in verb.children if c.dep_ in deps and c.i > verb.i]
    if not objects:
        return None
    right = max(t.i for c in verb.rights if c.i >= objects[0].i and c.dep_ not in CLAUSE_BREAKS for t in c.subtree)
    return trim(ctx.text, objects[0].left_edge.idx, end_of(ctx.doc[right])), None, None


def _clause_start(ctx: Context, verb: Token) -> int:
    """Where the cue's clause begins, to find a quotation that ends just before it:
    the leftmost dependent outside any quotation (`", her lawyer, Perry Wander, said`)."""
    starts = [verb.idx]
    for child in verb.lefts:
        if child.dep_ == "punct" or inside_any(child.left_edge.idx, ctx.quotes):
            continue
        if any(q_start <= t.idx < q_end for t in child.subtree for q_start, q_end in ctx.quotes):
            continue
        starts.append(child.left_edge.idx)
    return min(starts)


def _clause_end(text: str, verb: Token) -> int:
    """Just past the full stop that ends the cue's clause (`..., she said on Monday.`)."""
    start = end_of(verb)
    limit = min(len(text), start + 200)
    for i in range(start, limit):
        if text[i] in ".\n" or text[i] in '“«„"':
            return i + 1 if text[i] in ".\n" else i
    return start


def _sentence_end(text: str, sent: Span) -> int:
    end = sent.end_char
    while end > sent.start_char and text[end - 1] in " \n.!?":
        end -= 1
    return end
