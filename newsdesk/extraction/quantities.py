"""Pure: numbers in text -> values with units.

"600,000 soldiers" -> 600000 soldier, "£50m" -> 5e7 GBP, "400m euros" -> 4e8 EUR,
"2.5 percentage points" -> 2.5 percentage point, "five-and-a-half years" -> 5.5 year.

spaCy's CARDINAL/MONEY/PERCENT/QUANTITY entities say where numbers are, but their spans
often drop the currency symbol or the "m"/"bn" suffix ("$28.5m" comes back as "28.5").
So an entity only says that a number is there: one grammar (`_QUANTITY`, compiled at
import), run once over the text, reads the whole phrase - currency prefix, digits or
number words, scale, currency or percent suffix, and a second number when it is a
range - and a phrase is kept when it overlaps a number entity. Phrases marked as
quantities (money, percent, million and up, "a quarter of") are kept without one, as
spaCy misses or mislabels them ("€1.2bn" gets no entity, "¥300bn" is a PERSON).

Decisions:
- Money is in ISO 4217 codes ("US$", "dollars" -> USD; "A$" AUD; "yuan" CNY; "Rs",
  "rupees", "crore" amounts -> INR; "Swiss francs" CHF, bare "francs" stays None as
  it is ambiguous). Minor units are read in the main unit: "50p" -> 0.5 GBP, and
  "20 cents" -> 0.2 USD (a guess: cents are assumed US).
- Glued "m" is million ("5m"), as news writes money; "100m sprint" is read so too.
- A range ("5-10%", "between 5 and 10 million", "$2bn-$3bn", "10 to 15 people",
  "one or two") gives two rows, low then high, each with the shared scale, currency and
  unit. Each row's text is its own number as written: the low row "5", the high row
  "10 million" - the shared words written once after the high number stay in its span.
- A hyphen between plain digits is a range only when it counts something plural
  ("10-15 people"); otherwise it is a score ("won 2-1", "a 2-1 win") and gives no row.
- Number words must compose: "twenty-five" is 25, "one-two" (a football pass) or
  "two three" gives nothing.
- A QUANTITY entity ("200 pounds") keeps its measure word as unit: currency words there
  are weights, not money.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

QUANTITY_LABELS = frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY"})


@dataclass(frozen=True)
class Quantity:
    """One number of an article: `text` is article[start_char:end_char]; `unit` an ISO
    4217 code, "percent", "percentage point", a measure or a counted noun, or None."""

    start_char: int
    end_char: int
    text: str
    value: float
    unit: str | None
    sentence_idx: int


# --- Rule tables -------------------------------------------------------------------

_NUMBER_WORDS = {
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
}
_FRACTIONS = {
    "half": Fraction(1, 2),
    "halves": Fraction(1, 2),
    "third": Fraction(1, 3),
    "thirds": Fraction(1, 3),
    "quarter": Fraction(1, 4),
    "quarters": Fraction(1, 4),
    "fifth": Fraction(1, 5),
    "fifths": Fraction(1, 5),
    "tenth": Fraction(1, 10),
    "tenths": Fraction(1, 10),
}
# Which number token may come right before a number word: "twenty-five", "three hundred
# and five", "two million three hundred thousand" compose; "one-two", "five six" do not.
_MAY_FOLLOW = {
    "unit": frozenset({None, "tens", "hundred", "scale"}),
    "teen": frozenset({None, "hundred", "scale"}),
    "tens": frozenset({None, "hundred", "scale"}),
}
# Words multiply what precedes them; "hundred" is kept apart as it nests ("three hundred thousand").
_SCALE_WORDS = {
    "thousand": 10**3,
    "lakh": 10**5,
    "million": 10**6,
    "crore": 10**7,
    "billion": 10**9,
    "trillion": 10**12,
    "dozen": 12,
}
# Only glued to digits ("2m", "1.2bn"): alone, "m" is a metre and "b" a letter.
_GLUED_SCALES = {"k": 10**3, "m": 10**6, "mn": 10**6, "b": 10**9, "bn": 10**9, "tn": 10**12}
_CURRENCY_SYMBOLS = {
    "$": "USD",
    "US$": "USD",
    "A$": "AUD",
    "AU$": "AUD",
    "C$": "CAD",
    "CA$": "CAD",
    "HK$": "HKD",
    "NZ$": "NZD",
    "S$": "SGD",
    "R$": "BRL",
    "£": "GBP",
    "€": "EUR",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
}
# Codes written as words, case-sensitive: "USD 5m", "5m EUR", "Rs 500 crore".
_CURRENCY_CODES = {
    **{
        code: code
        for code in ("USD GBP EUR JPY CHF CNY INR RUB KRW AUD CAD HKD NZD SGD BRL ZAR SEK NOK DKK MXN AED").split()
    },
    "RMB": "CNY",
    "Rs": "INR",
}
# Currency names after a number; a minor unit reads in hundredths of the main one.
_CURRENCY_NAMES: dict[str, tuple[str, Fraction]] = {
    "dollar": ("USD", Fraction(1)),
    "dollars": ("USD", Fraction(1)),
    "us dollars": ("USD", Fraction(1)),
    "australian dollars": ("AUD", Fraction(1)),
    "canadian dollars": ("CAD", Fraction(1)),
    "hong kong dollars": ("HKD", Fraction(1)),
    "new zealand dollars": ("NZD", Fraction(1)),
    "singapore dollars": ("SGD", Fraction(1)),
    "pound": ("GBP", Fraction(1)),
    "pounds": ("GBP", Fraction(1)),
    "pounds sterling": ("GBP", Fraction(1)),
    "sterling": ("GBP", Fraction(1)),
    "euro": ("EUR", Fraction(1)),
    "euros": ("EUR", Fraction(1)),
    "yen": ("JPY", Fraction(1)),
    "yuan": ("CNY", Fraction(1)),
    "renminbi": ("CNY", Fraction(1)),
    "rupee": ("INR", Fraction(1)),
    "rupees": ("INR", Fraction(1)),
    "rouble": ("RUB", Fraction(1)),
    "roubles": ("RUB", Fraction(1)),
    "ruble": ("RUB", Fraction(1)),
    "rubles": ("RUB", Fraction(1)),
    "won": ("KRW", Fraction(1)),
    "swiss franc": ("CHF", Fraction(1)),
    "swiss francs": ("CHF", Fraction(1)),
    "pence": ("GBP", Fraction(1, 100)),
    "cent": ("USD", Fraction(1, 100)),
    "cents": ("USD", Fraction(1, 100)),
}
_PENCE = "p"  # glued only: "50p"
_PERCENT_WORDS = {
    "percent": "percent",
    "per cent": "percent",
    "percentage point": "percentage point",
    "percentage points": "percentage point",
}
# Currency names that are also common words: money only after a scale ("2tn won", not
# "the three won medals").
_AFTER_SCALE_ONLY = frozenset({"won"})
# Scales large enough that a number carrying one is never a date or an ordinal.
_LARGE_SCALE = 10**5

# --- Grammar, compiled once --------------------------------------------------------


# A line break ends a sentence (see nlp.mark_line_breaks): no phrase reads across one.
_SP = r"[\ \t\u00a0\u2009\u202f]"
_GAP = r"[\ \t\u00a0\u2009\u202f-]"  # "twenty-five", "five-and-a-half"


def _alternatives(words: Iterable[str]) -> str:
    """Longest first, a space matching any run of spaces."""
    return "|".join(re.escape(w).replace(r"\ ", f"{_SP}+") for w in sorted(words, key=len, reverse=True))


_FRACTION = rf"(?:{_alternatives(_FRACTIONS)})"
_SCALE = rf"(?:hundred|{_alternatives(_SCALE_WORDS)})"
_WORD = rf"(?:{_alternatives(_NUMBER_WORDS)}|{_FRACTION}|{_SCALE})\b"
# "a" counts only before a fraction or scale: "a quarter", "half a million", not "a one-two".
_ARTICLE = rf"an?{_GAP}+(?={_FRACTION}\b|{_SCALE}\b)"
# "and" joins only "... and a half" and "hundred and fifty"; "five and six" is two numbers.
_JOIN = rf"(?:{_GAP}+and(?={_GAP}+(?:an?{_GAP}+)?{_FRACTION}\b)|(?<=hundred){_GAP}+and)?{_GAP}+(?:{_ARTICLE})?"
_WORD_NUMBER = rf"(?:{_ARTICLE})?{_WORD}(?:{_JOIN}{_WORD})*"
_DIGIT_NUMBER = (
    r"(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)"
    rf"(?:(?:{_alternatives(_GLUED_SCALES)}|{_PENCE})\b)?"  # "5bn", "50p"; "5km" reads 5
    rf"(?:{_GAP}+and{_GAP}+an?{_GAP}+{_FRACTION}\b)?"
    rf"(?:{_SP}+{_SCALE}\b)*"
)
_PREFIX = rf"(?-i:{_alternatives(_CURRENCY_SYMBOLS)}|(?:{_alternatives(_CURRENCY_CODES)})\.?){_SP}?"
_AMOUNT = rf"(?:{_PREFIX})?(?:{_DIGIT_NUMBER}|{_WORD_NUMBER})(?:{_SP}?%)?"
_AFTER_A_SCALE = "|".join(rf"(?<={end})" for end in ("illion", r"\dm", r"\dmn", r"\dbn", r"\dtn"))
_SUFFIX = (
    rf"(?:{_SP}+(?:per{_GAP}?cent|percentage{_GAP}+points?"
    rf"|{_alternatives(_CURRENCY_NAMES.keys() - _AFTER_SCALE_ONLY)}|(?-i:{_alternatives(_CURRENCY_CODES)}))"
    rf"|(?:{_AFTER_A_SCALE}){_SP}+(?:{_alternatives(_AFTER_SCALE_ONLY)}))\b"
)
_QUANTITY = re.compile(
    rf"""
    (?<![\w.,])(?<![\w.,]-)             # not inside a word or another number ("4-4-2", "Covid-19")
    (?:(?P<between>between){_SP}+)?
    (?P<low>{_AMOUNT})
    (?:
        (?P<sep>(?(between){_SP}+and{_SP}+|(?:{_SP}*[-–]{_SP}*|{_SP}+(?:to|or){_SP}+)))
        (?P<high>{_AMOUNT})
    )?
    (?P<suffix>{_SUFFIX})?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_AMOUNT_TOKEN = re.compile(rf"{_alternatives(_CURRENCY_SYMBOLS)}|\d+(?:,\d{{3}})*(?:\.\d+)?|\.\d+|[A-Za-z]+|%")
_WORDS_ONLY = re.compile(r"\s*[^\W\d_]+(?:\s+[^\W\d_]+)*")
_FOLLOWED_BY_OF = re.compile(r"\s+of\b", re.IGNORECASE)
_WHITESPACE = re.compile(r"[\s-]+")
_DASHES = frozenset("-–")

# --- Reading one number ------------------------------------------------------------


@dataclass(frozen=True)
class Amount:
    """One number as written: its value (scale applied) and what was glued to it."""

    value: Fraction
    scale: int  # the trailing scale word's factor, 1 without one ("10 million" -> 10**6)
    currency: str | None
    minor: bool  # "50p": hundredths of the currency
    percent: bool
    digits: bool  # written in digits, not words
    fraction: bool  # a fraction word with its count ("a quarter", "two-thirds")


def read_amount(text: str) -> Amount | None:
    """The value of one amount phrase ("US$5bn", "one and a half million"), or None
    when its number words do not compose ("one-two")."""
    currency, minor, percent, digits, fraction = None, False, False, False, False
    total, current = Fraction(0), None
    last: str | None = None  # kind of the previous number token
    article = joined = False
    scale = 1
    for token in _AMOUNT_TOKEN.findall(text):
        word = token.lower()
        if token in _CURRENCY_SYMBOLS or token in _CURRENCY_CODES:
            currency = _CURRENCY_SYMBOLS.get(token) or _CURRENCY_CODES[token]
            continue
        if token == "%":
            percent = True
            continue
        if word in {"a", "an"}:
            article = True
            continue
        if word == "and":
            joined = True
            continue
        scale = 1
        if token[0].isdigit() or token[0] == ".":
            if last is not None:
                return None
            current, last, digits = Fraction(token.replace(",", "")), "digits", True
        elif word in _NUMBER_WORDS:
            value = _NUMBER_WORDS[word]
            kind = "unit" if value < 10 else "teen" if value < 20 else "tens"
            if last not in _MAY_FOLLOW[kind]:
                return None  # "one-two", "two three": not one number
            current = (current or Fraction(0)) + value if last in {"hundred", "tens"} else Fraction(value)
            last = kind
        elif word == "hundred":
            current, last = (current if current is not None else Fraction(1)) * 100, "hundred"
        elif word in _SCALE_WORDS or (word in _GLUED_SCALES and last == "digits"):
            if current is None and not article:
                return None  # "million" alone
            scale = _SCALE_WORDS.get(word) or _GLUED_SCALES[word]
            total += (current if current is not None else Fraction(1)) * scale
            current, last = None, "scale"
        elif word == _PENCE and last == "digits":
            currency, minor = "GBP", True
        elif word in _FRACTIONS:
            part = _FRACTIONS[word]
            if last == "scale":
                return None  # "a million and a half": rare, and not worth a rule
            if article or joined:  # "a quarter", "five and a half"
                current, fraction = (current or Fraction(0)) + part, True
            elif last in {"digits", "unit", "teen", "tens"} and current is not None:  # "two-thirds"
                current, fraction = current * part, True
            elif last is None:  # "half"
                current = part
            else:
                return None
            last = "fraction"
        else:
            return None
        article = joined = False
    if last is None:
        return None
    return Amount(total + (current or Fraction(0)), scale, currency, minor, percent, digits, fraction)


def parse_number(text: str) -> float | None:
    """The value of the first number phrase in the text, or None when it has none."""
    for match in _QUANTITY.finditer(text):
        for phrase in read_match(match):
            return phrase[0].value
    return None


# --- Reading a matched phrase: one number, or a range --------------------------------


@dataclass(frozen=True)
class Reading:
    """One value of a matched phrase, before the parse adds a counted noun."""

    value: float
    unit: str | None  # currency code or percent unit; None: a count, its noun comes from the parse
    start: int
    end: int
    named_currency: bool  # the currency is only a word after it ("200 pounds" may be a weight)
    marked: bool  # money, percent, a large scale or "a quarter of": a quantity even if spaCy missed it
    score_like: bool  # "2-1": plain digits joined by a hyphen


Phrase = list[Reading]  # one number, or the low and high ends of a range


@dataclass(frozen=True)
class Suffix:
    """What the words after a number say: "euros", "cents", "per cent"."""

    currency: str | None = None
    factor: Fraction = Fraction(1)
    percent: str | None = None


def read_suffix(words: str | None) -> Suffix:
    """Unit of the suffix group matched by the grammar, so always in the tables."""
    if not words:
        return Suffix()
    words = _WHITESPACE.sub(" ", words.strip())
    lowered = words.lower()
    if lowered in _PERCENT_WORDS:
        return Suffix(percent=_PERCENT_WORDS[lowered])
    if words in _CURRENCY_CODES:
        return Suffix(currency=_CURRENCY_CODES[words])
    currency, factor = _CURRENCY_NAMES[lowered]
    return Suffix(currency, factor)


def share_scale(low: Amount, high: Amount) -> Amount:
    """The low end of "5-10 million" takes the high end's scale, unless it already
    exceeds the high end's count ("between 500 and 2 million" keeps 500)."""
    if low.scale != 1 or high.scale == 1 or low.value >= high.value / high.scale:
        return low
    return replace(low, value=low.value * high.scale, scale=high.scale)


def mark(amount: Amount) -> str | None:
    """What is written on the number itself: its currency, or "%"."""
    return amount.currency or ("%" if amount.percent else None)


def is_range(low: Amount, high: Amount) -> bool:
    """Whether "X-Y" or "X to Y" is one range. The high end may carry a "%" the low end
    lacks ("5-10%", "20-30p") and the low end a currency the high end lacks ("$5-10m"); marks that
    differ or a fraction make two numbers ("fell 3.2% to £4.5bn", "a fifth to £600m")."""
    if low.fraction or high.fraction:
        return False
    if mark(low) == "%":
        return mark(high) == "%"
    if mark(low) is not None:
        return mark(high) in {None, mark(low)}
    return mark(high) in {None, "%"} or high.minor  # "20-30p"


def read_match(match: re.Match[str]) -> list[Phrase]:
    """Phrases of one grammar match: a number, a range, two numbers ("fell 3.2% to
    £4.5bn"), or none when its words are no number ("one-two")."""
    low = read_amount(match["low"])
    high = read_amount(match["high"]) if match["high"] else None
    if low is None or (match["high"] and high is None):
        return []
    suffix = read_suffix(match["suffix"])
    low_span = (match.start("low"), match.end("low"))
    if high is None:
        return [phrase_of(match, [low], [(low_span[0], match.end())], suffix, as_range=False)]
    # Each row spans its own number; the shared words after the high one stay in its span.
    high_span = (match.start("high"), match.end())
    if not is_range(low, high):
        return [
            phrase_of(match, [low], [low_span], Suffix(), as_range=False),
            phrase_of(match, [high], [high_span], suffix, as_range=False),
        ]
    return [phrase_of(match, [share_scale(low, high), high], [low_span, high_span], suffix, as_range=True)]


def phrase_of(
    match: re.Match[str], amounts: list[Amount], spans: list[tuple[int, int]], suffix: Suffix, as_range: bool
) -> Phrase:
    """Readings of one number, or of both ends of a range, which share what is written
    once: "$5-10m" is dollars, "20-30p" pence, "5-10%" percent."""
    written_currency = next((a.currency for a in amounts if a.currency), None)
    currency = written_currency or suffix.currency
    shared_minor = any(a.minor for a in amounts) or suffix.factor != 1
    percent = suffix.percent or ("percent" if any(a.percent for a in amounts) else None)
    unit = currency or percent
    fraction_of = any(a.fraction and not a.digits for a in amounts) and bool(
        _FOLLOWED_BY_OF.match(match.string, spans[-1][1])
    )
    marked = unit is not None or fraction_of or any(a.scale >= _LARGE_SCALE for a in amounts)
    score_like = (
        as_range
        and match["sep"].strip() in _DASHES
        and unit is None
        and all(a.digits and a.scale == 1 for a in amounts)
    )
    named = written_currency is None and suffix.currency is not None
    return [
        Reading(
            float(a.value * minor_factor(a, shared_minor)), a.currency or unit, start, end, named, marked, score_like
        )
        for a, (start, end) in zip(amounts, spans, strict=True)
    ]


def minor_factor(amount: Amount, shared_minor: bool) -> Fraction:
    """1/100 for pence and cents: the amount's own "p", or the range's when it has no
    currency of its own ("20-30p"; but "5p to £1" keeps £1)."""
    return Fraction(1, 100) if amount.minor or (shared_minor and amount.currency is None) else Fraction(1)


# --- Units from the parse -----------------------------------------------------------

_NOT_A_MEASURE = frozenset({*_NUMBER_WORDS, *_FRACTIONS, *_SCALE_WORDS, *_GLUED_SCALES, "hundred", "a", "an", "and"})


def measure_unit(ent: Span) -> str | None:
    """The measure word of a QUANTITY entity: "20 tonnes" -> tonne."""
    words = [t.lemma_.lower() for t in ent if t.is_alpha and t.lower_ not in _NOT_A_MEASURE]
    return words[-1] if words else None


def counted_noun(doc: Doc, start: int, end: int) -> Token | None:
    """The noun a number counts, after it: "600,000 soldiers" -> soldiers. The noun right
    after the number comes first: the parser often reads a glued "m" as the noun
    ("1.2m homes" gives "m" as the object, "homes" beside it)."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return None
    if span.end < len(doc) and doc[span.end].pos_ == "NOUN":
        noun = doc[span.end]
        while noun.dep_ == "compound" and noun.head.i > noun.i:  # "3,000 police officers"
            noun = noun.head
        return noun
    heads = [
        t.head
        for t in span
        if t.dep_ in {"nummod", "quantmod"} and t.head.i >= span.end and t.head.pos_ in {"NOUN", "PROPN"}
    ]
    return heads[-1] if heads else None


# --- Whole document -----------------------------------------------------------------


def is_score(readings: Phrase, noun: Token | None) -> bool:
    """Plain digits joined by a hyphen are a score ("won 2-1", "a 2-1 win"), unless
    they rise and count something plural ("10-15 people")."""
    low, high = readings[0], readings[-1]
    counts_plural = noun is not None and noun.tag_ in {"NNS", "NNPS"}
    return low.score_like and not (low.value < high.value and counts_plural)


def with_entity_words(text: str, end: int, ent: Span) -> int:
    """Where a MONEY or QUANTITY row ends: the entity's words after the number stay in
    its text ("5 kilometres", "10km", "3m francs"), its punctuation does not."""
    if ent.label_ not in {"MONEY", "QUANTITY"} or ent.end_char <= end:
        return end
    words_only = _WORDS_ONLY.fullmatch(text, end, ent.end_char) and not _QUANTITY.search(text, end, ent.end_char)
    return ent.end_char if words_only else end


def rows_of(readings: Phrase, text: str, doc: Doc, sentence_idx: int, ent: Span | None) -> list[Quantity]:
    """Quantities of one phrase's readings; `ent` is the spaCy entity it widens, None
    when spaCy missed the number."""
    noun = counted_noun(doc, readings[0].start, readings[-1].end)
    if is_score(readings, noun):
        return []
    rows = []
    for reading in readings:
        end, unit = reading.end, reading.unit
        if ent is not None and reading is readings[-1]:
            end = with_entity_words(text, end, ent)
        if ent is not None and ent.label_ == "QUANTITY" and (unit is None or reading.named_currency):
            unit = measure_unit(ent)
        if unit is None and noun is not None and not (ent is not None and ent.label_ == "MONEY"):
            unit = noun.lemma_.lower()  # money in a currency we do not know stays without unit
        rows.append(Quantity(reading.start, end, text[reading.start : end], reading.value, unit, sentence_idx))
    return rows


def extract_quantities(doc: Doc, text: str | None = None) -> list[Quantity]:
    """Every number of the document with its value and unit, in text order.

    One pass of the grammar over the text; a phrase counts when it overlaps a number
    entity of spaCy's, or when it is marked as a quantity (money, percent, a large
    scale, "a quarter of") which spaCy missed or labelled otherwise ("€1.2bn")."""
    from newsdesk.extraction.nlp import sentence_map

    _, sentence_of = sentence_map(doc)
    text = doc.text if text is None else text  # doc.text rebuilds the string on every access
    numbers = [ent for ent in doc.ents if ent.label_ in QUANTITY_LABELS]
    rows: list[Quantity] = []
    for match in _QUANTITY.finditer(text):
        for phrase in read_match(match):
            start, end = phrase[0].start, phrase[-1].end
            ents = [ent for ent in numbers if ent.start_char < end and ent.end_char > start]
            if not (ents or phrase[0].marked):
                continue  # nothing says this is a quantity ("in 2004")
            first = ents[0] if ents else doc.char_span(start, end, alignment_mode="expand")
            if first is not None:
                rows += rows_of(phrase, text, doc, sentence_of[first.start], ents[-1] if ents else None)
    return rows
