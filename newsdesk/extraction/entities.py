"""Pure: spaCy Doc -> cleaned entity mentions, canonicalized within the document.

The small English model makes systematic label errors on news: clubs tagged
PERSON or GPE ("Chelsea", "Barcelona"), team-sheet surnames tagged GPE, companies
tagged PERSON ("Argonaut Games"), one name tagged differently from one sentence to
the next. They are corrected here, after the model, rather than by an entity ruler
in the pipeline: the corrections need the whole article (is it about football? is
"Drogba" the surname of a person named earlier?), and doc.ents, which the quantity
extraction reads, stays exactly as the model made it.

Steps, in order:
1. Spans: the model's entities with clean edges: no trailing possessive or
   punctuation, no swallowed "(ACRONYM", no match score ("Liverpool 2-0 Everton" is
   two clubs). A leading "the" stays on the mention, as written and as gold corpora
   mark it, but not on the name.
2. Labels, from structure and curated lists first, then from the name's shape. In a
   football report a team sheet ("Chelsea: Cech, Terry, Lampard, Duff.") is a club and
   its players. Names in sports_orgs.csv are ORG: multi-word clubs and federations
   always, one-word clubs only in an article about team sport (never "in Liverpool"),
   F1 teams only in one about Formula One. "<Town> United/Rovers/FC/..." is a club, a
   company suffix ("Games", "plc", "Airways") or a following role ("Aston Martin chief
   executive ...") makes an ORG, and a title (Mr, Ms, Sir, President...) a PERSON.
3. Canonical names: the alias table; parenthesised acronyms ("United States (US)");
   titles left out of person names ("Sir Alex Ferguson" -> "Alex Ferguson"). A lone
   surname or given name, or a title and surname ("Ms Hutt"), resolves to the full
   PERSON name in the article ("Sir" and "Dame" go with a given name); a one-word name
   the model tagged otherwise ("Drogba" GPE) that is the surname of a person named in
   the article is that person, unless used as a place ("in Jordan"). A company's
   short form resolves to its longer name ("Argonaut" -> "Argonaut Games"), a club
   word to the article's one club with it ("United" -> "Manchester United"). A
   surname used with both a man's and a woman's title ("Mr Howard", "Mrs Howard")
   names two people: those mentions keep their titles.
4. One label per entity: the mentions of one canonical name vote, first on the label
   class (GPE, LOC and FAC are one place class), then on the label; ties follow
   TIE_ORDER, then the first mention. A label from a curated list, a team sheet or a
   following role is not outvoted.

Known trade-off: a company named after a person in the same article ("Dell" after
"Michael Dell") is taken for that person.

The entity id hashes the label class and the canonical name, so it is the same
across articles. Decisions read offsets and text only, never set or hash order:
the same text always gives the same rows.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from newsdesk.extraction.lemmas import lemma_of
from newsdesk.extraction.spans import SentenceIndex, tokens_where

if TYPE_CHECKING:
    from spacy.tokens import Doc

ALIASES = files("newsdesk.extraction") / "aliases.csv"  # package data: found in a wheel as in a checkout
SPORTS_ORGS = files("newsdesk.extraction") / "sports_orgs.csv"
ENTITY_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Labels that name the same kind of thing for identity purposes: the model
# often flips between GPE and LOC for one place.
LABEL_CLASS = {"GPE": "place", "LOC": "place", "FAC": "place"}
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
# A tied vote between labels (or label classes) of one entity goes to the earlier one
# here, then to the first mention. Read off the ties in BBC news: a town tagged GPE as
# often as ORG or PERSON is the town ("Glasgow", "Erfurt"); a surname tagged PERSON as
# often as ORG is the person ("Thanou"). Clubs and companies the model tags PERSON are
# settled by the rules before the vote.
TIE_ORDER = ("place", "GPE", "LOC", "FAC", "PERSON", "ORG", "NORP")
# Labels the model gives to clubs, companies and people by mistake; other labels
# (EVENT "the Athens Games", WORK_OF_ART "Mrs Brown") are left as they are.
MISLABEL_PRONE = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP"})

ALWAYS, TEAM_SPORT, MOTOR_SPORT = "always", "team_sport", "motor_sport"
# "<Town> United" is a club wherever it is written; "<Town> City" only in a sports
# article ("Mexico City", "Vatican City").
CLUB_SUFFIXES = frozenset({"United", "Rovers", "Athletic", "Wanderers", "Albion", "Hotspur", "Argyle", "FC", "AFC"})
SPORT_CLUB_SUFFIXES = frozenset({"City"})
NAME_JOINERS = frozenset({"and", "&", "of", "de", "la", "del"})  # "Brighton and Hove Albion"
# A company's short form leaves these off and names the same company ("Argonaut" for
# "Argonaut Games"); the other suffixes name a part of it ("Sony Pictures").
COMPANY_DESIGNATORS = frozenset(
    {
        *("Inc", "Incorporated", "Ltd", "Limited", "plc", "Plc", "PLC", "Corp", "Corporation", "Co", "Company"),
        *("Group", "Holdings", "AG", "SA", "NV", "GmbH", "LLC", "LLP"),
        *("Games", "Motors", "Motor", "Airways", "Airlines", "Technologies", "Systems", "Software"),
        *("Industries", "Pharmaceuticals", "Laboratories", "Foods", "Stores", "Petroleum", "Energy"),
        *("Telecom", "Communications"),
    }
)
COMPANY_SUFFIXES = COMPANY_DESIGNATORS | {
    *("Entertainment", "Studios", "Pictures", "Records", "Media", "Networks", "Capital", "Partners"),
    *("Securities", "Insurance", "Electronics", "Interactive", "Enterprises"),
}
_TITLE_WORDS = (
    r"Prime Minister|President|Chancellor|Senator|Sen\.|Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor"
    r"|Sir|Lord|Lady|Dame|Rev|Reverend"
)
# "Mrs Howard" and "Mr Howard" in one article are two people: neither is resolved
# to the full name, and both keep their titles.
MALE_TITLES = frozenset({"Mr", "Sir", "Lord"})
FEMALE_TITLES = frozenset({"Mrs", "Ms", "Miss", "Lady", "Dame"})
GIVEN_NAME_TITLES = frozenset({"Sir", "Dame"})  # "Sir Alan" is Alan Budd; "Mr Budd" takes the surname
# Titles before a name: kept on the mention as written, left out of the name.
_TITLES = re.compile(rf"^(?:(?:{_TITLE_WORDS})\.?\s+)+(?=[A-Z])")
_TITLE_BEFORE = re.compile(rf"\b({_TITLE_WORDS})\.?\s+$")
_ONLY_TITLES = re.compile(rf"^(?:(?:{_TITLE_WORDS})\.?\s*)+$")
_NAME_SHAPE = re.compile(r"^[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,2}$")
_LEADING = re.compile(r"^(?:the|The|THE)\s+")
_TRAILING = re.compile(r"(?:['’]s|['’])$|[\s,.;:!?\"“”‘’()\-–—]+$")
_LEADING_PUNCT = re.compile(r"^[\s,.;:!?\"“”‘’()\-–—]+")
_LEADING_POSSESSIVE = re.compile(r"^['’]s\b")
_SCORE = re.compile(r"\s+\d{1,2}-\d{1,2}(?:\s+|$)")  # inside a span: "Liverpool 2-0", "Liverpool 2-0 Everton"
_AFTER_IN = re.compile(r"\bin\s+$")  # "in Liverpool" is the city even in a football report
_AFTER_PLACE_WORD = re.compile(r"\b(?:in|at|from|to|into|near|across|outside|around|throughout|towards?)\s+$")
# "Aston Martin chief executive Ulrich Bez": what employs a person is no person.
_ROLE_AND_NAME_AFTER = re.compile(
    r" (?:chief executive|chief|boss|chairman|chairwoman|manager|coach|striker|midfielder|defender|goalkeeper"
    r"|winger|owner|spokesman|spokeswoman|executive|president) [A-Z]"
)
# "consultancy group Capgemini", "the airline Ryanair": a name right after what it is.
# Nouns that name what a company is, never a person's job ("developer", "publisher",
# "operator" are both: "games developer Peter Molyneux").
COMPANY_NOUNS = frozenset(
    "group firm company bank carrier airline retailer giant studio broadcaster consultancy insurer lender "
    "supermarket manufacturer conglomerate".split()
)
_ORG_NOUN_BEFORE = re.compile(rf"\b(?:{'|'.join(sorted(COMPANY_NOUNS))}) $")
# " United" right after a town the model tagged alone; not " City Council".
_CLUB_SUFFIX_AFTER = re.compile(rf" ({'|'.join(sorted(CLUB_SUFFIXES | SPORT_CLUB_SUFFIXES))})\b(?! [A-Z])")

# An article is about team sport when it has two pieces of evidence: two of these
# words, or one and a curated club, a match score or two one-word clubs. Words with
# everyday senses ("goal", "manager", "derby") are left out.
_TEAM_SPORT_CUES = re.compile(
    r"\b(?:football(?:er)?|striker|midfielder|defender|goalkeeper|winger|Premiership|Premier League"
    r"|Champions League|FA Cup|Uefa Cup|League Cup|Carling Cup|hat-trick|half-time|equaliser|kick-off|Subs"
    r"|fly-half|scrum-half|Six Nations|Heineken Cup|scored)\b"
)
_MATCH_SCORE = re.compile(r"\b\d{1,2}-\d{1,2}\b")
_FORMULA_ONE = re.compile(r"\b(?:Formula One|F1)\b")
_MOTOR_SPORT_CUES = re.compile(
    r"\b(?:Formula One|F1|Grand Prix|pole position|qualifying|pit lane|pit stop|constructors?|drivers?)\b"
)
# Team sheets in football reports: "Chelsea: Cech, Ferreira, Terry, Gallas, ...".
_PERSON_NAME = r"[A-Z][\w'’-]*(?: (?:[a-z]{1,3} )*[A-Z][\w'’-]*){0,3}"
_SHEET_ITEM = r"[A-Z][^,:.\n]{0,60}"
_TEAM_SHEET = re.compile(
    rf"(?:^|(?<=[.!?\"”] ))(?P<head>{_PERSON_NAME}): (?P<players>{_SHEET_ITEM}(?:, {_SHEET_ITEM}){{3,}})",
    re.MULTILINE,
)
_SHEET_PLAYER = re.compile(rf"(?:^|(?<=, )|(?<=\())(?P<name>{_PERSON_NAME})")
SHEET_HEADS_NOT_TEAMS = frozenset(
    {"Subs", "Subs Not Used", "Substitutes", "Booked", "Bookings", "Goals", "Scorers", "Referee", "Att", "Attendance"}
)


@dataclass(frozen=True)
class Alias:
    canonical: str
    label: str | None


@dataclass(frozen=True)
class AliasTable:
    merge: dict[str, Alias]
    block: frozenset[str]


@dataclass(frozen=True)
class SportsOrg:
    canonical: str
    context: str  # ALWAYS, TEAM_SPORT or MOTOR_SPORT


@dataclass(frozen=True)
class SportsOrgs:
    by_name: dict[str, SportsOrg]  # exact spelling -> organisation
    multi_word: re.Pattern[str]  # every multi-word name, longest first


@dataclass(frozen=True)
class SportContext:
    team: bool
    motor: bool

    def allows(self, context: str) -> bool:
        return context == ALWAYS or (context == TEAM_SPORT and self.team) or (context == MOTOR_SPORT and self.motor)


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


_Found = tuple[int, int, SportsOrg]  # a curated name found in the text: start, end, organisation


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    label: str
    fixed: bool = False  # set by a curated list or a team sheet: later guesses and the vote leave it alone


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


@lru_cache(maxsize=1)
def load_sports_orgs(path: Traversable | Path = SPORTS_ORGS) -> SportsOrgs:
    by_name: dict[str, SportsOrg] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(line for line in handle if not line.startswith("#")):
            name = row["name"].strip()
            by_name[name] = SportsOrg(row["canonical"].strip() or name, row["context"].strip())
    multi = sorted((name for name in by_name if " " in name), key=lambda name: (-len(name), name))
    # Apostrophes may follow ("Manchester United's"); no pattern when there is no name.
    pattern = r"(?<![\w-])(?:" + "|".join(map(re.escape, multi)) + r")(?![\w-])" if multi else r"(?!)"
    return SportsOrgs(by_name, re.compile(pattern))


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


def strip_title(name: str) -> str:
    """A person's name without the titles before it; a title alone stays."""
    match = _TITLES.match(name)
    if not match or _ONLY_TITLES.match(name[match.end() :]):
        return name
    return name[match.end() :]


def _sport_context(text: str, spans: list[_Span], orgs: SportsOrgs, curated: list[_Found]) -> SportContext:
    """Which sport the article is about, from cue words and the clubs it names."""
    team_cues = {match.group().casefold() for match in _TEAM_SPORT_CUES.finditer(text)}  # only its size is read
    names = [_name(text[s.start : s.end]) for s in spans]
    known_club = any(org.context == ALWAYS for _, _, org in curated) or any(
        _org_in(orgs, name, ALWAYS) for name in names
    )
    town_clubs = len({name for name in names if _org_in(orgs, name, TEAM_SPORT)}) >= 2
    evidence = len(team_cues) + int(known_club) + int(town_clubs) + int(bool(_MATCH_SCORE.search(text)))
    motor_cues = {match.group().casefold() for match in _MOTOR_SPORT_CUES.finditer(text)}
    return SportContext(
        team=evidence >= 2,
        motor=bool(_FORMULA_ONE.search(text)) and len(motor_cues) >= 2,
    )


def extract_mentions(
    doc: Doc, aliases: AliasTable | None = None, text: str | None = None, sentences: SentenceIndex | None = None
) -> list[Mention]:
    """Entity mentions with clean edges, corrected labels and in-document canonical names."""
    aliases = aliases or load_aliases()
    orgs = load_sports_orgs()
    text = doc.text if text is None else text
    spans = _model_spans(doc, text, aliases)
    curated = [(match.start(), match.end(), orgs.by_name[match.group()]) for match in orgs.multi_word.finditer(text)]
    context = _sport_context(text, spans, orgs, curated)
    if context.team:
        spans = _apply_team_sheets(spans, text)
    spans = _apply_curated_names(spans, text, curated, context)
    spans = [_relabel(span, text, orgs, context) for span in _extend_clubs(spans, text, context)]
    spans = sorted(spans, key=lambda span: (span.start, span.end))
    named = _canonical_names(spans, text, aliases, orgs, context)
    labels = _vote_labels(named, spans)
    sentences = sentences or SentenceIndex.of(doc)
    return [
        Mention(
            mention_idx=idx,
            start_char=span.start,
            end_char=span.end,
            text=text[span.start : span.end],
            label=label,
            sentence_idx=sentences.at_offset(span.start),
            entity_id=entity_id_for(name, label),
            entity_name=name,
        )
        for idx, (span, (name, _), label) in enumerate(zip(spans, named, labels, strict=True))
    ]


# --- 1. Spans ---------------------------------------------------------------------------


def _model_spans(doc: Doc, text: str, aliases: AliasTable) -> list[_Span]:
    spans = []
    for ent in doc.ents:
        if ent.label_ not in ENTITY_LABELS:
            continue
        start, end = ent.start_char, ent.end_char
        # The model sometimes swallows a following "(ACRONYM": keep the name alone.
        paren = text.find(" (", start, end)
        if paren != -1:
            end = paren
        for piece_start, piece_end in _around_score(text, start, end):
            # The mention keeps its article ("the White House", as written and as gold
            # corpora mark it); the entity's name drops it.
            piece_start, piece_end = trim_span(text, piece_start, piece_end, article=False)
            surface = _name(text[piece_start:piece_end])
            if not surface or not any(ch.isalpha() for ch in surface) or surface.casefold() in aliases.block:
                continue
            spans.append(_Span(piece_start, piece_end, ent.label_))
    spans += _titled_names(text, spans)
    return _appositive_companies(doc, spans)


def _appositive_companies(doc: Doc, spans: list[_Span]) -> list[_Span]:
    """A name with a company noun in apposition is an organisation, whatever the model
    said: "Parmalat, the Italian food group, said ..." (untagged, so added), "Brenora,
    the Danish shipping group" (tagged PERSON, so relabelled)."""
    out = list(spans)
    for appositive in tokens_where(doc, "DEP", frozenset({"appos"})):
        if appositive.head.pos_ != "PROPN" or appositive.i < appositive.head.i:
            continue
        token = appositive.head
        if not token.text[:1].isupper() or lemma_of(appositive).lower() not in COMPANY_NOUNS:
            continue
        first = token
        while first.i > 0 and doc[first.i - 1].dep_ == "compound" and doc[first.i - 1].pos_ == "PROPN":
            first = doc[first.i - 1]
        start, end = first.idx, token.idx + len(token.text)
        overlapping = [i for i, span in enumerate(out) if span.start < end and start < span.end]
        if not overlapping:
            out.append(_Span(start, end, "ORG", fixed=True))
        for i in overlapping:
            exact = out[i].start == start and out[i].end == end
            if exact and out[i].label in MISLABEL_PRONE and not _personal_name(doc.text[start:end]):
                out[i] = replace(out[i], label="ORG", fixed=True)
    return out


# "Dr Vancheshwar", "Mr Learmount": a title and a capitalised word the model left untagged.
_TITLED_NAME = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Lord|Lady|Dame)\.? ([A-Z][a-z][\w'’-]*(?: [A-Z][a-z][\w'’-]*)?)"
)


# "Theresa May", "Jane Hutt": a known first name and a capitalised word, both untagged
# (the model reads "May" as a month). Not inside a longer name: "the Finance Bill Committee".
_GIVEN_AND_SURNAME = re.compile(r"(?<![\w'’-])([A-Z][a-z]+) ([A-Z][a-z][\w'’-]*)\b(?! [A-Z])")
_CAPITALISED_WORD_BEFORE = re.compile(r"\b[A-Z][\w'’-]* $")


@lru_cache(maxsize=1)
def first_name_genders() -> dict[str, str]:
    """Common first names -> the gender a news pronoun usually takes for them (m | f)."""
    with (files("newsdesk.extraction") / "first_names.csv").open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["name"]: row["gender"] for row in rows}


def _titled_names(text: str, spans: list[_Span]) -> list[_Span]:
    """Names the model missed: after a personal title ("Dr Vancheshwar"), or a known
    first name before a capitalised word; only where no model entity covers them."""
    given = first_name_genders()
    found = [
        _Span(*match.span(1), "PERSON") for match in _TITLED_NAME.finditer(text) if not _covered(spans, *match.span(1))
    ]
    for match in _GIVEN_AND_SURNAME.finditer(text):
        inside_a_name = _CAPITALISED_WORD_BEFORE.search(text, max(0, match.start() - 40), match.start())
        if match.group(1).lower() in given and not inside_a_name and not _covered(spans + found, *match.span()):
            found.append(_Span(*match.span(), "PERSON"))
    return found


def _personal_name(surface: str) -> bool:
    """A known first name, or a title, in front: "John Smith", "Mr Molyneux"."""
    words = surface.split()
    return len(words) > 1 and (words[0].lower() in first_name_genders() or _ONLY_TITLES.match(words[0]) is not None)


def _covered(spans: list[_Span], start: int, end: int) -> bool:
    return any(span.start < end and start < span.end for span in spans)


def _around_score(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The model takes a match score into the clubs: "Liverpool 2-0" is Liverpool,
    "Liverpool 2-0 Everton" is two clubs."""
    score = _SCORE.search(text, start, end)
    if score:
        return [(start, score.start()), (score.end(), end)]
    return [(start, end)]


def _name(surface: str) -> str:
    """A mention's text as a name: without its leading article."""
    start, end = trim_span(surface, 0, len(surface))
    return surface[start:end]


def _overlay(spans: list[_Span], new: _Span, text: str) -> list[_Span]:
    """`new` replaces the spans it overlaps; what a replaced span held outside it stays
    as its own span ("Manchester United: Carroll" -> "Carroll")."""
    overlapping = [s for s in spans if s.start < new.end and new.start < s.end]
    if any(s.fixed for s in overlapping):
        return spans  # a team sheet or an earlier curated name decided here already
    if any(s.start <= new.start and new.end <= s.end and s.label not in MISLABEL_PRONE for s in overlapping):
        return spans  # a longer name that holds it ("the Manchester United Foundation" EVENT)
    for span in overlapping:
        article = _LEADING.match(text[span.start : new.start])
        if article and span.start + article.end() == new.start:
            new = replace(new, start=span.start)  # the mention keeps its "the", as written
    kept = [s for s in spans if s not in overlapping]
    for span in overlapping:
        for piece in ((span.start, new.start), (new.end, span.end)):
            rest = _remainder(text, *piece)
            if rest:
                kept.append(_Span(*rest, span.label))
    return [*kept, new]


def _remainder(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name left in [start, end) once a club is cut out of a span, if any."""
    if start >= end:
        return None
    possessive = _LEADING_POSSESSIVE.match(text[start:end])
    start, end = trim_span(text, start + (possessive.end() if possessive else 0), end, article=False)
    return (start, end) if _name(text[start:end])[:1].isupper() else None


# --- 2. Labels ----------------------------------------------------------------------------


def _apply_team_sheets(spans: list[_Span], text: str) -> list[_Span]:
    """A team sheet's head is the club and every listed name a player."""
    for sheet in _TEAM_SHEET.finditer(text):
        head = sheet.group("head")
        if head in SHEET_HEADS_NOT_TEAMS:
            new = []
        else:
            new = [_Span(sheet.start("head"), sheet.end("head"), "ORG", fixed=True)]
        offset = sheet.start("players")
        for player in _SHEET_PLAYER.finditer(sheet.group("players")):
            new.append(_Span(offset + player.start("name"), offset + player.end("name"), "PERSON", fixed=True))
        region_start, region_end = sheet.start(), sheet.end()
        spans = [s for s in spans if s.end <= region_start or region_end <= s.start] + new
    return spans


def _apply_curated_names(spans: list[_Span], text: str, curated: list[_Found], context: SportContext) -> list[_Span]:
    """Multi-word curated names are found in the text itself: the model may have cut
    one in two ("Newcastle" GPE, "United" ORG) or missed it."""
    for start, end, org in curated:
        if context.allows(org.context):
            spans = _overlay(spans, _Span(start, end, "ORG", fixed=True), text)
    return spans


def _extend_clubs(spans: list[_Span], text: str, context: SportContext) -> list[_Span]:
    """Spans followed by a club suffix grow to hold it; a span for the suffix alone goes."""
    extended = [_extend_club(span, text, context) for span in spans]
    grown = [new for old, new in zip(spans, extended, strict=True) if new != old]
    return [span for span in extended if span in grown or not any(_inside(span, big) for big in grown)]


def _inside(span: _Span, other: _Span) -> bool:
    return other.start <= span.start and span.end <= other.end


def _extend_club(span: _Span, text: str, context: SportContext) -> _Span:
    """A town the model tagged alone, then " United": the club "Newcastle United"."""
    if span.fixed or span.label not in MISLABEL_PRONE:
        return span
    after = _CLUB_SUFFIX_AFTER.match(text, span.end)
    if not after or (after.group(1) in SPORT_CLUB_SUFFIXES and not context.team):
        return span
    return _Span(span.start, after.end(), "ORG", fixed=True)


def _relabel(span: _Span, text: str, orgs: SportsOrgs, context: SportContext) -> _Span:
    """The label a span's own name implies: a curated club, a club or company name, a title."""
    if span.fixed:
        return span
    surface = _name(text[span.start : span.end])
    org = orgs.by_name.get(surface)
    if org and context.allows(org.context) and (org.context == ALWAYS or not _follows(text, span.start, _AFTER_IN)):
        return replace(span, label="ORG", fixed=True)
    if _is_club_name(surface, context):
        return replace(span, label="ORG", fixed=True)
    if span.label == "PERSON" and _ROLE_AND_NAME_AFTER.match(text, span.end):
        return replace(span, label="ORG", fixed=True)
    if (
        span.label in MISLABEL_PRONE
        and span.label != "ORG"
        and not _personal_name(surface)
        and _ORG_NOUN_BEFORE.search(text, max(0, span.start - 20), span.start)
    ):
        return replace(span, label="ORG", fixed=True)
    if span.label != "PERSON" and len(surface.split()) == 1 and _title_before(text, span.start):
        return replace(span, label="PERSON")  # "Mr | Straw" tagged PRODUCT: a title outside the span names a person
    if span.label not in MISLABEL_PRONE:
        return span
    if span.label != "ORG" and _has_company_suffix(surface):
        return replace(span, label="ORG")
    if span.label != "PERSON" and _is_titled_name(surface):
        return replace(span, label="PERSON")
    return span


def _org_in(orgs: SportsOrgs, name: str, context: str) -> bool:
    org = orgs.by_name.get(name)
    return org is not None and org.context == context


def _follows(text: str, start: int, pattern: re.Pattern[str]) -> bool:
    return bool(pattern.search(text, max(0, start - 14), start))


def _is_club_name(name: str, context: SportContext) -> bool:
    words = name.split()
    # A name, not a phrase the model ran together ("Stockport beat Gateshead United").
    if len(words) < 2 or not all(word[:1].isupper() or word in NAME_JOINERS for word in words):
        return False
    suffix = words[-1]
    return suffix in CLUB_SUFFIXES or words[0] in {"FC", "AFC"} or (context.team and suffix in SPORT_CLUB_SUFFIXES)


def _has_company_suffix(name: str) -> bool:
    words = name.split()
    return len(words) > 1 and words[-1] in COMPANY_SUFFIXES


def _is_titled_name(name: str) -> bool:
    rest = strip_title(name)
    return rest != name and bool(_NAME_SHAPE.match(rest))


# --- 3. Canonical names -----------------------------------------------------------------


@dataclass(frozen=True)
class _Named:
    """A span's name and label from the tables, before resolving short forms."""

    span: _Span
    written: str  # the name as written, without a leading article
    name: str
    label: str
    from_table: bool  # an alias, acronym or curated short form decided the name
    title: str | None = None  # a person's title, inside the mention or just before it ("Mr" Bez)


@dataclass(frozen=True)
class _ArticleNames:
    """The longer names an article gives, which its short forms resolve to."""

    full_names: list[tuple[int, str]]  # (offset, name) of PERSON names of two words or more
    # Multi-word names under another label: a team-sheet player may be named in full
    # only as "Rio Ferdinand" GPE.
    other_full_names: list[tuple[int, str]]
    shared_surnames: frozenset[str]  # used with a man's and a woman's title (membership only)
    companies: list[str]  # multi-word ORG names, first mention first
    clubs: list[str]


def _canonical_names(
    spans: list[_Span], text: str, aliases: AliasTable, orgs: SportsOrgs, context: SportContext
) -> list[tuple[str, str]]:
    """(name, label) of every span, resolved within the article."""
    acronyms = _acronym_aliases(spans, text, aliases)
    named = [_from_tables(span, text, aliases, acronyms, orgs, context) for span in spans]
    article = _article_names(named, orgs, context)
    return [_resolve(item, article, text) for item in named]


def _from_tables(
    span: _Span,
    text: str,
    aliases: AliasTable,
    acronyms: dict[str, tuple[str, str]],
    orgs: SportsOrgs,
    context: SportContext,
) -> _Named:
    """A span's name from the in-article acronyms, the alias table or the curated sports
    names; else the written name, without titles for a person."""
    written = _name(text[span.start : span.end])
    key = written.casefold()
    if key in acronyms:
        return _Named(span, written, *acronyms[key], from_table=True)
    alias = aliases.merge.get(key)
    if alias:
        return _Named(span, written, alias.canonical, alias.label or span.label, from_table=True)
    org = orgs.by_name.get(written)
    if org and span.label == "ORG" and context.allows(org.context):
        return _Named(span, written, org.canonical, "ORG", from_table=org.canonical != written)
    if span.label == "PERSON":
        name = strip_title(written)
        title = written[: len(written) - len(name)].strip().rstrip(".") or None
        return _Named(span, written, name, "PERSON", from_table=False, title=title or _title_before(text, span.start))
    return _Named(span, written, written, span.label, from_table=False)


def _title_before(text: str, start: int) -> str | None:
    """The title the model left outside a person's mention: "Mr" in "Mr Bez"."""
    match = _TITLE_BEFORE.search(text, max(0, start - 16), start)
    return match.group(1).rstrip(".") if match else None


def _article_names(named: list[_Named], orgs: SportsOrgs, context: SportContext) -> _ArticleNames:
    multi_word = [item for item in named if len(item.name.split()) > 1]
    companies = _unique(item.name for item in multi_word if item.label == "ORG")
    return _ArticleNames(
        full_names=[(item.span.start, item.name) for item in multi_word if item.label == "PERSON"],
        other_full_names=[
            (item.span.start, item.name)
            for item in multi_word
            if item.label != "PERSON" and item.label in MISLABEL_PRONE and not item.span.fixed
        ],
        shared_surnames=_shared_surnames(named),
        companies=companies,
        clubs=[name for name in companies if _is_club_name(name, context) or name in orgs.by_name],
    )


def _shared_surnames(named: list[_Named]) -> frozenset[str]:
    titles: dict[str, set[str]] = {}
    for item in named:
        if item.title:
            titles.setdefault(item.name.split()[-1], set()).add(item.title)
    return frozenset(surname for surname, used in titles.items() if used & MALE_TITLES and used & FEMALE_TITLES)


def _resolve(item: _Named, article: _ArticleNames, text: str) -> tuple[str, str]:
    """A short form to the longer name it stands for in this article."""
    words = item.name.split()
    if item.from_table:
        return item.name, item.label
    if item.title and words[-1] in article.shared_surnames:
        return f"{item.title} {item.name}", "PERSON"
    if len(words) == 1:
        person = _person_for(item, article, text)
        if person:
            return person, "PERSON"
        club = _club_for(item.name, article.clubs, town=item.span.fixed and item.label == "ORG")
        if club:
            return club, "ORG"
    if item.label in {"ORG", "PERSON"} and item.name == item.written:
        company = _company_for(words, article.companies)
        if company:
            return company, "ORG"
    return item.name, item.label


def _person_for(item: _Named, article: _ArticleNames, text: str) -> str | None:
    """The full name of the person a one-word name stands for, if it is one."""
    at = item.span.start
    if item.label == "PERSON":
        # "Ms Hutt": a surname, never a given name.
        surname_only = item.title is not None and item.title not in GIVEN_NAME_TITLES
        full = _full_name_for(item.name, at, article.full_names, surname_only=surname_only)
        if full is None and item.span.fixed:  # a team-sheet player
            full = _full_name_for(item.name, at, article.other_full_names, surname_only=True)
        return full
    if item.span.fixed or item.label not in MISLABEL_PRONE or item.name.isupper():
        return None
    # "Drogba" GPE where "Didier Drogba" is a PERSON, but "in Jordan" stays the place.
    if item.label in PLACE_LABELS and _follows(text, at, _AFTER_PLACE_WORD):
        return None
    return _full_name_for(item.name, at, article.full_names, surname_only=True)


def _full_name_for(surface: str, at: int, full_names: list[tuple[int, str]], surname_only: bool = False) -> str | None:
    """The full name a lone surname (or given name) at offset `at` stands for: the one
    mentioned last before it, else the first after it. Decided by position alone, so
    the same text always gives the same rows."""
    matches = [
        (start, name)
        for start, name in full_names
        if name.split()[-1] == surface or (not surname_only and name.split()[0] == surface)
    ]
    before = [match for match in matches if match[0] < at]
    if before:
        return max(before)[1]
    return min(matches)[1] if matches else None


def _company_for(words: list[str], org_names: list[str]) -> str | None:
    """The first longer company name that is these words and designators ("Games", "plc")."""
    for longer in org_names:
        rest = longer.split()
        if len(rest) > len(words) and rest[: len(words)] == words:
            if all(word in COMPANY_DESIGNATORS for word in rest[len(words) :]):
                return longer
    return None


def _club_for(word: str, clubs: list[str], town: bool) -> str | None:
    """The article's one club a single word stands for: its suffix ("United") or, for a
    curated one-word club, its town ("Newcastle" for "Newcastle United")."""
    if word in CLUB_SUFFIXES or word in SPORT_CLUB_SUFFIXES:
        matches = [club for club in clubs if club.split()[-1] == word]
    elif town:
        matches = [club for club in clubs if club.split()[0] == word]
    else:
        return None
    return matches[0] if len(matches) == 1 else None


def _acronym_aliases(spans: list[_Span], text: str, aliases: AliasTable) -> dict[str, tuple[str, str]]:
    """Acronyms within this doc: "United States (US)" makes US an alias; so does an
    organisation's initials written alone ("Athletics Kenya" ... "AK"), unless the
    alias table already says what the letters stand for."""
    acronyms: dict[str, tuple[str, str]] = {}
    for span in spans:
        after = re.match(r"\s*\(([A-Z][A-Za-z.&]{1,9})\)", text[span.end : span.end + 14])
        if after:
            short = after.group(1)
            name = _name(text[span.start : span.end])
            if _acronym(name.split()) == short.replace(".", ""):
                acronyms.setdefault(short.casefold(), (name, span.label))
    written = {_name(text[span.start : span.end]) for span in spans}
    for span in spans:
        name = _name(text[span.start : span.end])
        if span.label != "ORG" or len(name.split()) < 2:
            continue
        short = _acronym(name.split())
        key = short.casefold()
        if len(short) >= 2 and short in written and key not in aliases.merge and key not in acronyms:
            acronyms[key] = (name, span.label)
    return acronyms


def _acronym(words: list[str]) -> str:
    return "".join(w[0] for w in words if w[:1].isupper())


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))  # first-seen order, never set order


# --- 4. One label per entity ------------------------------------------------------------


def _vote_labels(named: list[tuple[str, str]], spans: list[_Span]) -> list[str]:
    """Every mention of one canonical name gets the entity's label."""
    members: dict[str, list[int]] = {}
    for idx, (name, _) in enumerate(named):
        members.setdefault(name.casefold(), []).append(idx)
    labels = [label for _, label in named]
    for indices in members.values():
        winner = _winning_label([named[i][1] for i in indices], [spans[i].fixed for i in indices])
        for i in indices:
            labels[i] = winner
    return labels


def _winning_label(labels: list[str], fixed: list[bool]) -> str:
    """Majority of the label class, then of the label within it; a tie goes to the
    class (label) earlier in TIE_ORDER, then to the earliest mention. A curated or
    team-sheet label wins outright."""
    pinned = [label for label, is_fixed in zip(labels, fixed, strict=True) if is_fixed]
    if pinned:
        return pinned[0]
    classes = [LABEL_CLASS.get(label, label) for label in labels]
    best_class = _majority(classes)
    return _majority([label for label, cls in zip(labels, classes, strict=True) if cls == best_class])


def _majority(values: list[str]) -> str:
    counts = Counter(values)

    def rank(value: str) -> tuple[int, int, int]:
        order = TIE_ORDER.index(value) if value in TIE_ORDER else len(TIE_ORDER)
        return counts[value], -order, -values.index(value)

    return max(counts, key=rank)
