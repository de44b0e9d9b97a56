"""Pure: Doc + mentions -> claims (who asserted what), from quote marks and the parse.

A claim hangs on a cue verb ("said", "argued", "confirmed" ...):
- speaker: the verb's subject, or the agent of a passive ("was confirmed by X");
  a passive with an expletive subject ("It has been reported that ...") is unattributed;
- content: a quotation right before or after the cue ("...," said X / X said, "..."),
  else the clausal complement (ccomp), else a nominal object for verbs like deny;
- kind: direct (all quoted), partial (some quoted), indirect, unattributed.
Quotes attached to no cue (a quoted purpose clause, a scare quote) are no claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsdesk.extraction.entities import Mention
from newsdesk.extraction.nlp import sentence_map

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

CUE_LEMMAS = frozenset(
    """say state argue tell claim confirm deny announce vow pledge promise warn report add note insist
    suggest explain believe acknowledge admit assert declare write allege estimate predict reveal accuse
    complain stress emphasise emphasize maintain contend concede recall reply testify tweet observe remark
    indicate signal forecast conclude denounce condemn dismiss reject threaten urge caution
    disclose affirm reiterate underline highlight describe ask think show find hope expect fear
    feel know agree respond continue propose predict recommend question doubt worry demand
    call label dub brand term endorse criticize criticise praise defend cite""".split()
)
# Verbs whose object and its complement are the content: "called the deal a disaster",
# "asked the crowd to stand", "described the race as a superhighway".
OBJECT_SPAN_CUES = frozenset(
    "call describe label dub brand term ask urge endorse criticize criticise praise defend cite accuse".split()
)
# Cues whose clause is usually no report of speech unless a that-clause or quote follows.
WEAK_CUES = frozenset("think show find hope expect fear feel know continue".split())
# Verbs whose object alone can be the content ("Russia has denounced these claims").
OBJECT_CUES = frozenset("deny denounce confirm announce reject dismiss condemn report reveal disclose".split())
# Verbs whose infinitive complement is the content ("South Korea vows to respond").
COMMISSIVE_CUES = frozenset("vow pledge promise threaten refuse".split())
# Stances as attributions (PolNeAR marks them): "Cruz supports the ban", "Trump wants
# to build a wall". The object or infinitive is the content; a subject is required.
STANCE_CUES = frozenset(
    "support oppose endorse back want seek offer discuss consider attack blame mention "
    "propose plan decide refuse decline intend welcome favor favour applaud slam blast "
    "hope expect".split()
)
# Verb + preposition whose object is the content: "called for a ban", "talked about the wall".
PREP_CUES = {
    "talk": {"about", "of"},
    "speak": {"about", "of", "on"},
    "ask": {"about"},
    "complain": {"about"},
    "warn": {"about", "of", "against"},
    "comment": {"on"},
    "call": {"for", "on"},
    "point": {"to"},
    "refer": {"to"},
    "vote": {"for", "against"},
    "argue": {"for", "against"},
    "write": {"about", "of"},
    "think": {"about", "of"},
    "worry": {"about"},
    "testify": {"about"},
    "tweet": {"about"},
    "joke": {"about"},
    "boast": {"about"},
    "brag": {"about"},
    "push": {"for"},
    "advocate": {"for"},
    "campaign": {"for", "against", "on"},
    "rail": {"against"},
    "press": {"for"},
    "lobby": {"for", "against"},
    "insist": {"on"},
    "focus": {"on"},
}
# Nouns that report speech or stance: "Trump's claim that ...", "her support for the ban".
NOUN_CUES = frozenset(
    "statement claim remark comment assertion argument suggestion announcement warning "
    "promise pledge accusation allegation belief view insistence contention testimony "
    "admission prediction assessment charge proposal call criticism support "
    "opposition stance plan vow demand complaint concern".split()
)
NOUN_PREPS = {"about", "of", "on", "for", "to", "against"}
# Subjects whose "show" / "find" reports a finding: "the poll shows Clinton ahead".
EVIDENCE = frozenset(
    "poll survey study data analysis number result figure record report research review "
    "audit investigation average count tally".split()
)
# Statements nobody is named for: "Sanders appears to have a slight lead", "the group
# is expected to report ...", "it appeared that ...": unattributed claims.
HEDGES = frozenset("seem appear".split())
PASSIVE_REPORTS = frozenset("expect believe think say report consider know estimate predict".split())
# Dependents that end an object-and-complement content: "calling him a stiff | and accusing him ...".
CLAUSE_BREAKS = frozenset("punct conj cc advcl".split())
PRONOUNS = frozenset("he she him her".split())
RELATIVES = frozenset("who which that".split())
OPENING = {"“": "”", "«": "»", "„": "“"}
CONFIDENCE = {"direct": 0.9, "partial": 0.85, "indirect": 0.75, "unattributed": 0.5}


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
    content: str
    content_start: int
    content_end: int
    sentence_idx: int
    confidence: float


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Quoted stretches as (start, end) of the inner text. Curly and straight marks;
    an unclosed quote ends at its paragraph's end, so one stray mark never swallows
    the rest of the document."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith("''", i):  # typewriter style: ''quoted''
            para_end = text.find("\n\n", i)
            para_end = n if para_end == -1 else para_end
            close = text.find("''", i + 2, para_end)
            if close != -1 and close > i + 2:
                spans.append((i + 2, close))
                i = close + 2
                continue
            i += 2
            continue
        if ch in OPENING or ch == '"':
            closer = OPENING.get(ch, '"')
            para_end = text.find("\n\n", i)
            para_end = n if para_end == -1 else para_end
            close = text.find(closer, i + 1, para_end)
            if close == -1 and ch == '"':
                i += 1  # a lone straight quote: an inch mark or a typo
                continue
            end = para_end if close == -1 else close
            if end > i + 1:
                spans.append((i + 1, end))
            i = end + 1
        else:
            i += 1
    return spans


def extract_claims(doc: Doc, mentions: list[Mention], text: str | None = None) -> list[Claim]:
    """`text` is doc.text when the caller has it already (doc.text is rebuilt on every access)."""
    text = doc.text if text is None else text
    quotes = quote_spans(text)
    used_quotes: set[tuple[int, int]] = set()
    sents, sentence_of = sentence_map(doc)
    claims: list[Claim] = []
    taken: set[int] = set()  # cue token indices already used

    for claim in [
        *_according_to(doc, text, mentions, quotes, sents, sentence_of),
        *_colon_lines(doc, text, mentions, quotes, sentence_of),
        *_nominal(doc, text, mentions, quotes, sentence_of),
    ]:
        claims.append(_renumber(claim, len(claims)))
    for token in doc:
        lemma = token.lemma_.lower()
        if (
            lemma not in CUE_LEMMAS
            and lemma not in STANCE_CUES
            and lemma not in PREP_CUES
            and lemma not in HEDGES
            or token.pos_ not in {"VERB", "AUX"}
            or token.i in taken
        ):
            continue
        if _inside_any(token.idx, quotes):
            continue  # a cue inside a quotation belongs to the quoted speech
        hedged = _hedged(token, text)
        speaker_span, unattributed = (None, True) if hedged else _speaker(token)
        if speaker_span is None and not unattributed:
            continue
        content = hedged or _content(doc, text, token, sents[sentence_of[token.i]], quotes, used_quotes)
        if content is None:
            continue
        start, end, kind = content
        if end <= start:
            continue
        kind = "unattributed" if unattributed else kind or _kind(text, start, end, quotes)
        speaker_text, entity_id = (None, None)
        s_start = s_end = None
        if speaker_span is not None:
            s_start, s_end = _trim(text, speaker_span.start_char, speaker_span.end_char)
            speaker_text = text[s_start:s_end]
            named = _antecedent(token) if speaker_span.root.lower_ in RELATIVES else speaker_span
            entity_id = _resolve_speaker(named, mentions, token.idx)
        taken.add(token.i)
        claims.append(
            Claim(
                claim_idx=len(claims),
                kind=kind,
                speaker=speaker_text,
                speaker_entity_id=entity_id,
                speaker_start=s_start,
                speaker_end=s_end,
                cue=token.text,
                cue_start=token.idx,
                content=text[start:end],
                content_start=start,
                content_end=end,
                sentence_idx=sentence_of[token.i],
                confidence=CONFIDENCE[kind] if entity_id or unattributed else CONFIDENCE[kind] - 0.15,
            )
        )
    return claims


def _according_to(
    doc: Doc,
    text: str,
    mentions: list[Mention],
    quotes: list[tuple[int, int]],
    sents: list[Span],
    sentence_of: list[int],
) -> list[Claim]:
    """ "According to X, ..." / "..., according to X": X is the source, the rest of the sentence the content."""
    out: list[Claim] = []
    if "ccording to" not in text:
        return out
    for token in doc:
        if token.lower_ != "according" or token.i + 1 >= len(doc) or doc[token.i + 1].lower_ != "to":
            continue
        objects = [c for c in doc[token.i + 1].children if c.dep_ == "pobj"]
        if not objects:
            continue
        source = _np_span(objects[0])
        phrase_start, phrase_end = token.idx, source.end_char
        sent = sents[sentence_of[token.i]]
        before = _trim(text, sent.start_char, phrase_start)
        after = _trim(text, phrase_end, sent.end_char)
        start, end = before if before[1] - before[0] >= after[1] - after[0] else after
        while end > start and text[end - 1] in ".!?":
            end -= 1
        if end - start < 10:
            continue
        s_start, s_end = _trim(text, source.start_char, source.end_char)
        entity_id = _resolve_speaker(source, mentions, token.idx)
        kind = _kind(text, start, end, quotes)
        out.append(
            Claim(
                0,
                kind,
                text[s_start:s_end],
                entity_id,
                s_start,
                s_end,
                "according to",
                token.idx,
                text[start:end],
                start,
                end,
                sentence_of[token.i],
                CONFIDENCE[kind] if entity_id else CONFIDENCE[kind] - 0.15,
            )
        )
    return out


_COLON_LINE = re.compile(r"^([^\n:]{2,60}?):[ \t]+(\S[^\n]*)$", re.M)


def _colon_lines(
    doc: Doc, text: str, mentions: list[Mention], quotes: list[tuple[int, int]], sentence_of: list[int]
) -> list[Claim]:
    """ "Sanders: Brexit's message could ..." / "BOULDUAN: You guys ...": a line opened by a
    name and a colon gives the rest of the line to that name."""
    out = []
    for match in _COLON_LINE.finditer(text):
        s_start, s_end = match.span(1)
        name = match.group(1).strip()
        named = [
            m
            for m in mentions
            if s_start <= m.start_char and m.end_char <= s_end and m.label in {"PERSON", "ORG", "GPE", "NORP"}
        ]
        shouting = name.isupper() and len(name.split()) <= 3 and any(ch.isalpha() for ch in name)
        if not named and not shouting or len(name.split()) > 5:
            continue
        start, end = _trim(text, *match.span(2))
        if end - start < 15:
            continue
        entity_id = named[-1].entity_id if named else None
        kind = _kind(text, start, end, quotes)
        out.append(
            Claim(
                0,
                kind,
                name,
                entity_id,
                s_start,
                s_start + len(name),
                ":",
                match.end(1),
                text[start:end],
                start,
                end,
                _sentence_at(doc, sentence_of, start),
                CONFIDENCE[kind] if entity_id else CONFIDENCE[kind] - 0.15,
            )
        )
    return out


def _nominal(
    doc: Doc, text: str, mentions: list[Mention], quotes: list[tuple[int, int]], sentence_of: list[int]
) -> list[Claim]:
    """ "X's statement that ...", "her criticism of the deal", "a claim by X that ...": a
    reporting noun with a named holder (possessor, or "by"/"from" X) and a that-clause or
    prepositional object as the content."""
    out = []
    for noun in doc:
        if noun.pos_ != "NOUN" or noun.lemma_.lower() not in NOUN_CUES or _inside_any(noun.idx, quotes):
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
        start, end = _trim(text, *content)
        if end - start < 3:
            continue
        source = _np_span(holder)
        s_start, s_end = _trim(text, source.start_char, source.end_char)
        while s_end > s_start and text[s_end - 2 : s_end] in {"'s", "’s"}:
            s_end -= 2
        if s_end <= s_start:
            continue
        entity_id = _resolve_speaker(source, mentions, noun.idx)
        kind = _kind(text, start, end, quotes)
        out.append(
            Claim(
                0,
                kind,
                text[s_start:s_end],
                entity_id,
                s_start,
                s_end,
                noun.text,
                noun.idx,
                text[start:end],
                start,
                end,
                sentence_of[noun.i],
                CONFIDENCE[kind] - (0.1 if entity_id else 0.25),
            )
        )
    return out


def _noun_content(noun: Token) -> tuple[int, int] | None:
    """The that-clause (acl / ccomp / appos with "that") or the object of of/for/about/on/..."""
    for child in noun.children:
        if (
            child.dep_ in {"acl", "ccomp", "appos", "relcl"}
            and child.i > noun.i
            and any(m.dep_ == "mark" and m.lower_ == "that" for m in child.children)
        ):
            tokens = [t for t in child.subtree if not (t.dep_ == "mark" and t.i == child.left_edge.i)]
            return tokens[0].idx, _end(tokens[-1])
    for child in noun.children:
        if child.dep_ == "prep" and child.lower_ in NOUN_PREPS and child.i > noun.i:
            objects = [g for g in child.children if g.dep_ in {"pobj", "pcomp"}]
            if objects:
                return objects[0].left_edge.idx, _end(child.right_edge)
    return None


def _sentence_at(doc: Doc, sentence_of: list[int], offset: int) -> int:
    token = doc.char_span(offset, offset + 1, alignment_mode="expand")
    return sentence_of[token.start] if token is not None and len(token) else 0


def _renumber(claim: Claim, idx: int) -> Claim:
    from dataclasses import replace

    return replace(claim, claim_idx=idx)


def _speaker(verb: Token) -> tuple[Span | None, bool]:
    """(speaker span, unattributed?) for a cue verb."""
    children = list(verb.children)
    for child in children:
        if child.dep_ == "agent":
            objects = [c for c in child.children if c.dep_ == "pobj"]
            if objects:
                return _np_span(objects[0]), False
    for child in children:
        if child.dep_ in {"nsubj"}:
            if child.lower_ in RELATIVES and verb.dep_ == "relcl":
                return child.doc[child.i : child.i + 1], False  # "Trump, who said ...": the surface, as gold marks it
            if child.lower_ in {"it", "this", "that", "which", "who"}:
                return None, False
            return _np_span(child), False
        if child.dep_ == "nsubjpass":
            # "It has been confirmed that ..." with no agent: nobody is named.
            return None, child.lower_ == "it"
    # A conjoined verb shares its subject: "X met on Monday and said that ...";
    # so does a participle: "X criticised the plan, saying that ...".
    if verb.dep_ == "conj" or verb.dep_ in {"advcl", "xcomp"} and verb.tag_ == "VBG":
        return _speaker(verb.head)
    return None, False


def _antecedent(verb: Token) -> Span:
    """The phrase a relative pronoun speaks for: "Mr. Trump, who met Putin and said ..."
    climbs from "said" to the relative clause and on to "Mr. Trump"."""
    clause = verb
    while clause.dep_ != "relcl" and clause.head.i != clause.i:
        clause = clause.head
    return _np_span(clause.head)


def _hedged(verb: Token, text: str) -> tuple[int, int, None] | None:
    """(start, end, None) of an unattributed statement around a hedge or a passive
    report: subject through infinitive ("Sanders appears to have a slight lead"), or
    the that-clause after an expletive ("it appeared that ...")."""
    lemma = verb.lemma_.lower()
    subject = next((c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
    if lemma in HEDGES or lemma in PASSIVE_REPORTS and subject is not None and subject.dep_ == "nsubjpass":
        if subject is None or any(c.dep_ == "agent" for c in verb.children):
            return None
        xcomp = next((c for c in verb.children if c.dep_ == "xcomp" and c.i > verb.i), None)
        if xcomp is not None and subject.lower_ not in {"it", "there"} | RELATIVES:
            return (*_trim(text, subject.left_edge.idx, _end(xcomp.right_edge)), None)
        comp = next((c for c in verb.children if c.dep_ == "ccomp" and c.i > verb.i), None)
        if lemma in HEDGES and comp is not None and subject.lower_ == "it":
            tokens = [t for t in comp.subtree if not (t.dep_ == "mark" and t.i == comp.left_edge.i)]
            return (*_trim(text, tokens[0].idx, _end(tokens[-1])), None)
    return None


def _np_span(head: Token) -> Span:
    """The subject phrase without trailing relative clauses."""
    doc = head.doc
    left = head.left_edge.i
    right = head.i
    for child in head.rights:
        if child.dep_ in {"relcl", "acl"}:
            break
        right = max(right, child.right_edge.i)
    return doc[left : right + 1]


def _content(
    doc: Doc, text: str, verb: Token, sent: Span, quotes: list[tuple[int, int]], used: set[tuple[int, int]]
) -> tuple[int, int, str | None] | None:
    """(start, end, kind) of what the cue introduces; kind is None unless the shape decides it."""
    # A quote right after the cue: `said, "..."` / `said: "..."`.
    after = _adjacent_quote(text, verb.idx + len(verb.text), quotes, forward=True)
    before = None
    if after is None:
        # `"...," said X` / `"...," X said`: the quote closes just before the clause.
        clause_start = min(verb.left_edge.idx, verb.idx)
        subj = [c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}]
        if subj and subj[0].i > verb.i:
            clause_start = verb.idx
        elif subj:
            clause_start = subj[0].left_edge.idx
        before = after = _adjacent_quote(text, clause_start, quotes, forward=False)
    if after is not None and after not in used:
        used.add(after)
        if before is not None:
            # The sandwich: `"One," she said. "Two."` is one statement, both quotes.
            follow = _adjacent_quote(text, _clause_end(text, verb), quotes, forward=True, allow_break=True)
            if follow is not None and follow not in used:
                used.add(follow)
                return after[0], follow[1], "direct"
        if before is not None:
            # A lead-in before the quotation belongs to the statement:
            # `After the victories, "there is a sense of urgency," Law said`.
            lead = sent.start_char
            if lead < after[0] - 1 and "\n" not in text[lead : after[0]] and not _inside_any(lead, quotes):
                return _trim(text, lead, after[1])[0], after[1], None
        return (*after, None)
    # The parser sometimes files a that-clause as advcl ("reported ... that X").
    comps = [
        c
        for c in verb.children
        if c.dep_ == "ccomp" or c.dep_ == "advcl" and any(m.dep_ == "mark" and m.lower_ == "that" for m in c.children)
    ]
    if comps:
        comp = comps[0]
        tokens = [t for t in comp.subtree if not (t.dep_ == "mark" and t.i == comp.left_edge.i)]
        start = tokens[0].idx
        end = tokens[-1].idx + len(tokens[-1].text)
        if comp.i > verb.i and any(end < q_start <= _sentence_end(text, sent) for q_start, _ in quotes):
            # Reported speech after its cue runs on to a quotation later in the sentence
            # ("said he had offers, but “the offers were ...”").
            end = max(end, _sentence_end(text, sent))
        start, end = _trim(text, start, end)
        # A quotation that opens inside the content runs on to its closing mark.
        for q_start, q_end in quotes:
            if start <= q_start - 1 < end < q_end:
                end = q_end
                used.add((q_start, q_end))
        return (start, end, None) if end > start else None
    if verb.dep_ == "parataxis" and verb.head.i != verb.i:
        # A cue set inside its statement: "the two nations, Xi said, now have ...".
        clause = verb.head
        start, end = _trim(text, clause.left_edge.idx, _end(clause.right_edge))
        while end > start and text[end - 1] in ".!?":
            end -= 1
        if end - start >= 10:
            return start, end, None
    lemma = verb.lemma_.lower()
    if lemma in PREP_CUES:
        preps = [
            c
            for c in verb.children
            if c.dep_ == "prep"
            and c.lower_ in PREP_CUES[lemma]
            and c.i > verb.i
            and any(g.dep_ in {"pobj", "pcomp"} for g in c.children)
        ]
        if preps:
            start = min(g.left_edge.idx for g in preps[0].children if g.dep_ in {"pobj", "pcomp"})
            return (*_trim(text, start, _end(preps[0].right_edge)), None)
    if lemma in STANCE_CUES:
        objects = [c for c in verb.children if c.dep_ in {"dobj", "xcomp"} and c.i > verb.i]
        if objects:
            return (*_trim(text, objects[0].left_edge.idx, _end(objects[0].right_edge)), None)
    if lemma in {"show", "find"} and any(c.dep_ == "nsubj" and c.lemma_.lower() in EVIDENCE for c in verb.children):
        # "every recent poll has shown him trailing Trump": what the evidence shows.
        objects = [c for c in verb.children if c.dep_ in {"dobj", "dative", "ccomp", "xcomp"} and c.i > verb.i]
        if objects:
            right = max(
                t.i for c in verb.rights if c.i >= objects[0].i and c.dep_ not in CLAUSE_BREAKS for t in c.subtree
            )
            return (*_trim(text, objects[0].left_edge.idx, _end(verb.doc[right])), None)
    if lemma in WEAK_CUES:
        return None  # "think", "show", ... report speech only with a clause or a quote
    if lemma in {"tell", "ask", "urge"}:
        # "telling Christie to get on a plane": the infinitive is what was asked for.
        xcomps = [c for c in verb.children if c.dep_ in {"xcomp", "ccomp"} and c.i > verb.i]
        if xcomps:
            return (*_trim(text, xcomps[0].left_edge.idx, _end(xcomps[0].right_edge)), None)
    if lemma in OBJECT_SPAN_CUES:
        objects = [c for c in verb.children if c.dep_ in {"dobj", "dative"} and c.i > verb.i]
        if objects:
            right = max(
                t.i for c in verb.rights if c.i >= objects[0].i and c.dep_ not in CLAUSE_BREAKS for t in c.subtree
            )
            return (*_trim(text, objects[0].left_edge.idx, _end(doc[right])), None)
    if lemma in COMMISSIVE_CUES:
        xcomps = [c for c in verb.children if c.dep_ == "xcomp"]
        if xcomps:
            return (*_trim(text, xcomps[0].left_edge.idx, _end(xcomps[0].right_edge)), None)
    if lemma in OBJECT_CUES:
        objects = [c for c in verb.children if c.dep_ == "dobj"]
        if objects:
            return (*_trim(text, objects[0].left_edge.idx, _end(objects[0].right_edge)), None)
    return None


def _clause_end(text: str, verb: Token) -> int:
    """Just past the full stop that ends the cue's clause (`..., she said on Monday.`)."""
    start = verb.idx + len(verb.text)
    limit = min(len(text), start + 200)
    for i in range(start, limit):
        if text[i] in ".\n" or text[i] in OPENING or text[i] == '"':
            return i + 1 if text[i] in ".\n" else i
    return start


def _sentence_end(text: str, sent: Span) -> int:
    end = sent.end_char
    while end > sent.start_char and text[end - 1] in " \n.!?":
        end -= 1
    return end


def _adjacent_quote(
    text: str, offset: int, quotes: list[tuple[int, int]], forward: bool, allow_break: bool = False
) -> tuple[int, int] | None:
    """The quote separated from offset only by spaces and , : — marks (and a
    paragraph break, with allow_break)."""
    limit = 6 if allow_break else 4
    for q_start, q_end in quotes:
        gap = text[offset : q_start - 1] if forward else text[q_end + 1 : offset]
        if allow_break:
            gap = gap.replace("\n", "").replace(".", "")
        if (forward and q_start - 1 >= offset or not forward and q_end + 1 <= offset) and len(gap) <= limit:
            # Backwards, the quote must hand over to the cue: `"...," said X`, `"...?" X asked`.
            hands_over = forward or "," in gap or text[q_start:q_end].rstrip()[-1:] in {",", "?", "!", "—"}
            if hands_over and all(ch in " ,:—–-\n'" for ch in gap) and (forward or "\n" not in gap):
                start, end = _trim(text, q_start, q_end)
                return (start, end) if end > start else None
    return None


def _kind(text: str, start: int, end: int, quotes: list[tuple[int, int]]) -> str:
    covered = 0
    for q_start, q_end in quotes:
        lo, hi = max(start, q_start), min(end, q_end)
        if hi > lo:
            covered += hi - lo
    if covered == 0:
        return "indirect"
    outside = text[start:end]
    if covered >= len(outside.strip(" ,.;:“”\"'")) - 2:
        return "direct"
    return "partial"


def _resolve_speaker(span: Span, mentions: list[Mention], cue_offset: int) -> str | None:
    """The entity a speaker phrase names: a PERSON inside it (apposition, title + name),
    else the mention holding its head; a pronoun takes the nearest PERSON before it."""
    inside = [m for m in mentions if m.start_char >= span.start_char and m.end_char <= span.end_char]
    persons = [m for m in inside if m.label == "PERSON"]
    if persons:
        return persons[-1].entity_id
    head = span.root
    for m in inside:
        if m.start_char <= head.idx < m.end_char:
            return m.entity_id
    if inside:
        return inside[0].entity_id
    if head.lower_ in PRONOUNS:
        before = [m for m in mentions if m.label == "PERSON" and m.end_char <= cue_offset]
        return before[-1].entity_id if before else None
    return None


def _inside_any(offset: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in spans)


def _end(token: Token) -> int:
    return token.idx + len(token.text)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \n\t,;:“”\"‘'—–":
        start += 1
    while end > start and text[end - 1] in ' \n\t,;:“”"—–':
        end -= 1
    return start, end
