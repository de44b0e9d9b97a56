"""Pure: numbers in text -> values with units.

"600,000 soldiers" -> 600000 soldier, "£50m" -> 5e7 GBP, "400m euros" -> 4e8 EUR,
"2.5 percentage points" -> 2.5 percentage point, "five-and-a-half years" -> 5.5 year,
"a 160GB hard drive" -> 160 GB, "the 400m hurdles" -> 400 metre, "a 5/1 shot" -> 5.0 odds.

spaCy's CARDINAL/MONEY/PERCENT/QUANTITY entities say where numbers are, but their spans
often drop the currency symbol or the "m"/"bn" suffix ("$28.5m" comes back as "28.5").
So an entity only says that a number is there: one grammar (`_QUANTITY`, compiled at
import), run once over the text, reads the whole phrase - currency prefix, digits or
number words, scale, currency or percent suffix, and a second number when it is a
range - and a phrase is kept when it overlaps a number entity. Phrases marked as
quantities (money, percent, a measure, million and up, "a quarter of") are kept without
one, as spaCy misses or mislabels them ("€1.2bn" gets no entity, "¥300bn" is a PERSON).

Decisions:
- Money is in ISO 4217 codes ("US$", "dollars" -> USD; "A$" AUD; "yuan" CNY; "Rs",
  "rupees", "crore" amounts -> INR; "Swiss francs" CHF, bare "francs" stays None as
  it is ambiguous). Minor units are read in the main unit: "50p" -> 0.5 GBP, and
  "20 cents" -> 0.2 USD (a guess: cents are assumed US). A currency word may be hyphened
  to the number: "a 4bn-euro hole" -> 4e9 EUR, "a 418bn-rand budget" -> ZAR.
- Measures have one spelling each, glued or spaced, symbol or word, and the row's text
  covers them ("2Mbps", "160 GB", "100 gigabytes", "70 miles per hour"): kbps Mbps Gbps,
  KB MB GB TB (bytes), kb Mb Gb (bits: "2Mb broadband"), km metre cm mm ft, kg g mg, litre
  ml, mph km/h, kW MW GW kWh MWh GWh TWh, kHz MHz GHz, second minute hour ("7.21secs");
  "500 square feet" -> square ft. Symbols are case-sensitive ("MW", not "mW"), one-letter
  ones ("5g", "2l") count only glued, and words only in lower case ("21 Grams" is a film).
  Other measure words keep their lemma ("20 tonnes" -> tonne).
- Letters glued to a number that are no scale, currency or measure make it part of a name:
  "3G", "4x100m", "2100GMT", "777-200LR" give no row.
- Glued "m" is million ("5m"), as news writes money, except in sport (`sport_distance`):
  metres on a standard race distance before a sport word or no plural noun ("the 400m
  hurdles", "won the women's 800m"), on any comma-grouped distance in a sport context ("the
  10,500m course"), with two decimals ("cleared 4.88m"), or on a race distance that heads a
  line before a colon in an athletics article, an event in a team list ("60m: A Person, B
  Person"); a glued "K" before a race word is km ("a 10K race" -> 10 km). With a currency it
  is always million.
- "N/M" in digits is one number, N/M: betting odds ("8/13" -> 0.615, unit "odds" when a
  betting word is within six tokens, else None). Dates ("12/5/2004"), seasons ("2004/05")
  and names ("24/7", "9/11", "7/7") give nothing; nor does a number with a leading zero
  ("007", "01.52" of a time): a code or a name.
- The counted noun is the word hyphened to the number ("a 12-nation bloc"), else the noun
  right after it, else the head of the noun phrase the number is `nummod` of, compounds
  skipped ("Three 50th Anniversary Special Awards" -> award), else the plural noun it is one
  or some "of", also past an aside in brackets ("one of the back windows" -> window, "half
  (55%) of the respondents" -> respondent); a fraction of a plural noun counts it, as one of
  them does ("two-thirds of voters" -> voter), also when that noun has a number of its own
  the parser hung the fraction on: "half of 2,000 people" -> people, the unit "2,000 people"
  gets. The climb from the noun right after the number to the head it is a compound of stops
  at punctuation, where an aside begins, and before a person's name: "five members - chair Ann
  Lee and ..." -> member, never a surname. A count's text keeps the words hyphened to it
  ("12-nation", "three-monthly" -> month); a noun's hyphened words are part of it ("four
  co-stars" -> co-star, "e-mails" -> e-mail), but not a number ("a half-point cut"). Plural
  proper nouns are made singular ("Awards" -> award), also those tagged singular that end in a
  lower-case "s" when counted by more than one ("100 Hard Rock Cafes" -> cafe; not "DS", nor a
  person's name). Words that stand for a noun said elsewhere ("three others", "those",
  "ones") and multipliers ("three times as many") give no unit, nor does a name after a
  pronoun "one" ("a game one Smith would love").
- Compound nouns: the unit is the head noun's lemma with the common nouns compounded right
  before it, as written ("three task forces" -> task force, "400 police officers" -> police
  officer, "300 electric delivery vans" -> delivery van); adjectives, names ("Three Labour
  MPs" -> mp) and number words are left out. "a 20-strong task force" counts the noun
  "strong" is put on: task force.
- Race times are one row in seconds: on a clock ("2:08:37" -> 7717, "3:49.78" -> 229.78),
  written in parts, larger units first ("2hr 5min" -> 7500, "14 minutes 32.93 seconds" ->
  872.93), or bare with two decimals after "in", "of", "clocked" or "(" near race words
  ("won the 60m in 7.48" -> 7.48); in a sentence on a long race (km, course, cross-country,
  marathon) a bare "33.22" is minutes.seconds (2002). A time of day ("10:30") gives no row.
  A glued "m" after "over", "for", "through" or "to" in a race's sentence is metres up to
  10,000 ("through 1200m"), as is a range of two race distances ("from 400m to 200m").
- A fraction of a scale is one number ("a quarter of a million" -> 250000); a scale with no
  number ("several hundred") gives no row. Digits joined by a hyphen right after a name are
  a model ("Boeing 737-800"): no row. A QUANTITY entity's measure is a word after its number.
- Rates written out are measures: "8 megabits a second" -> Mbps, "90 miles an hour" -> mph.
- A count right after "number", "No.", "page", "position", "track", "chapter", "room",
  "platform" or "lane" is a rank or an identifier ("fell to number four", "page 12"): no row.
- A count with no noun of its own takes the noun of the nearest counted number before it in
  its sentence when the two are coordinated or compared ("5.2 million adults play, while
  14.9 million do not" -> adult; "arrested 20 fans and charged 6" -> fan): the number must
  stand as a noun phrase (subject, object, conjunct, or after "from/to/than/with") in the
  same clause or one joined by conj/advcl, and not before a word it may modify. With no such
  number, it takes X of "the number of X" in its sentence on the same terms ("the number of
  films rose to 310 from 287" -> film); "a number of X" means "some X" and gives nothing.
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
- A count that is a day before a month ("after 11 September", where spaCy may label only the
  month DATE) or a number word capitalised after a word, inside a name ("the World at One",
  "BBC Two"), gives no row; money, percent and measures are kept even there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING

from newsdesk.extraction.lemmas import lemma_of
from newsdesk.extraction.spans import SentenceIndex

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
    "rand": ("ZAR", Fraction(1)),
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
# Measure symbols, case-sensitive ("5MW" megawatts, "5mW" is not read), glued or spaced:
# written form -> canonical unit.
_MEASURE_SYMBOLS = {
    **{s: "kbps" for s in ("kbps", "Kbps", "kb/s")},
    **{s: "Mbps" for s in ("Mbps", "mbps", "Mb/s")},
    **{s: "Gbps" for s in ("Gbps", "gbps", "Gb/s")},
    **{s: "KB" for s in ("KB", "kB")},
    **{s: "kb" for s in ("kb", "Kb")},  # bits: "a 512Kb line", "2Mb broadband"
    **{s: s for s in ("Mb", "Gb")},
    **{s: s for s in ("MB", "GB", "TB")},
    **{s: "km" for s in ("km", "Km", "kms")},
    **{s: "kg" for s in ("kg", "Kg", "kgs")},
    **{s: s for s in ("mg", "cm", "mm", "mph", "ft", "ml", "MW", "GW", "kWh", "MWh", "GWh", "TWh", "GHz", "MHz")},
    **{s: "km/h" for s in ("km/h", "kph", "kmh")},
    **{s: "kW" for s in ("kW", "KW")},
    "KWh": "kWh",
    **{s: "second" for s in ("secs", "sec")},  # "in 7.23secs"
    **{s: "minute" for s in ("mins", "min")},
    **{s: "hour" for s in ("hrs", "hr")},
}
# One letter is a measure only glued to digits: "5g", "2l"; "5 g" or "3G" (phones) is not.
_GLUED_SYMBOLS = {"g": "g", "l": "litre"}
# Measures written out in lower case, after a space: the same canonical units ("21 Grams", a
# title, is not one).
_MEASURE_NAMES = {
    **{f"{w}{s}": "km" for w in ("kilometre", "kilometer") for s in ("", "s")},
    **{f"{w}{s}": "kg" for w in ("kilogram", "kilogramme") for s in ("", "s")},
    **{f"{w}{s}": "g" for w in ("gram", "gramme") for s in ("", "s")},
    **{f"{w}{s}": "mg" for w in ("milligram", "milligramme") for s in ("", "s")},
    **{f"{w}{s}": "cm" for w in ("centimetre", "centimeter") for s in ("", "s")},
    **{f"{w}{s}": "mm" for w in ("millimetre", "millimeter") for s in ("", "s")},
    **{f"{w}{s}": "metre" for w in ("metre", "meter") for s in ("", "s")},
    **{f"{w}{s}": "ml" for w in ("millilitre", "milliliter") for s in ("", "s")},
    **{f"{w}{s}": "litre" for w in ("litre", "liter") for s in ("", "s")},
    "feet": "ft",  # not "foot": "one foot in the door"
    **{f"{w}{s}": u for w, u in (("megawatt", "MW"), ("gigawatt", "GW"), ("kilowatt", "kW")) for s in ("", "s")},
    **{f"kilowatt{h}hour{s}": "kWh" for h in (" ", "-") for s in ("", "s")},
    **{
        f"{w}{s}": u
        for w, u in (("kilobyte", "KB"), ("megabyte", "MB"), ("gigabyte", "GB"), ("terabyte", "TB"))
        for s in ("", "s")
    },
    "gigahertz": "GHz",
    "megahertz": "MHz",
    **{
        f"{w} {p} hour": u
        for w, u in (("miles", "mph"), ("kilometres", "km/h"), ("kilometers", "km/h"))
        for p in ("per", "an")
    },
    **{
        f"{w} {p} second": u
        for w, u in (("kilobits", "kbps"), ("megabits", "Mbps"), ("gigabits", "Gbps"))
        for p in ("per", "a")
    },
}
# Sport: a glued "m" is metres on a race distance ("the 400m hurdles", "a 1500m race")
# and a glued "K" kilometres before a race word ("a 10K run"); see `sport_distance`.
_LONGEST_TRACK = 10000  # metres: "through 1200m" in a race; more is a count
_RACE_DISTANCES = frozenset({50, 60, 100, 110, 200, 300, 400, 800, 1000, 1500, 2000, 3000, 5000, 10000})
_SPORT_WORDS = frozenset(
    """sprint sprints sprinter sprinters race races racing hurdles hurdle hurdler hurdlers relay relays
    champion champions championship championships title titles gold silver bronze medal medals medallist
    medallists final finals heat heats semi record records freestyle butterfly breaststroke backstroke
    medley individual event events runner runners run runs running world olympic olympics indoor indoors
    outdoor steeplechase walk swim swimmer dash specialist winner win victory best personal season crown
    road course""".split()
)
# Words that put a sentence in athletics or swimming, where "over 60m" is a distance.
_ATHLETICS_WORDS = frozenset(
    """hurdles hurdler sprint sprinter sprinters relay medal medals medallist olympic olympics athlete athletes
    athletics race races racing champion championships indoor indoors marathon metres freestyle butterfly
    breaststroke backstroke medley swimmer clocked clocking heats semi-finals""".split()
)
# A bare race time: two decimals after one of these words, in athletics ("clocked 7.48").
_RACE_TIME = re.compile(r"[1-9]?\d\.\d\d")
_TIME_WORDS = frozenset({"seconds", "secs", "finals", "heat", "heats", "semi", "pace", "lap", "laps", "cross"})
_TIME_CUES = frozenset({"in", "of", "clocked", "clocking", "clocks", "ran", "("})
# Where athletics writes minutes.seconds ("completing the 10km course in 33.22"), not seconds.
_LONG_RACE_WORDS = frozenset({"km", "marathon", "cross", "cross-country", "course", "5,000m", "10,000m", "10,500m"})
# Words that make a slash number betting odds ("a 5/1 shot", "8/13 favourite").
_ODDS_WORDS = frozenset(
    "odds favourite favourites favorite favorites shot shots chance chances bet bets bookmaker bookmakers "
    "bookie bookies outsider outsiders price".split()
)
_ODDS_WINDOW = 6  # tokens either side
# Slash numbers that are names, not fractions: "24/7", "9/11", "7/7".
_SLASH_NAMES = ("24/7", "9/11", "7/7")
# Heads that stand for a noun said elsewhere: "three others", "the two ones", "all three".
_NO_UNIT_HEADS = frozenset(
    "other others one ones those these that this more most fewer less all both each some many few several".split()
)
# A multiplier counts nothing: "three times as many people", "four times more".
_MULTIPLIERS = frozenset({"times"})
# A count right after one of these is a rank or an identifier, not a quantity: "number four",
# "employee number 31", "No. 10", "page 12", "platform 9".
_RANK_BEFORE = re.compile(
    r"(?:\b(?i:number|page|position|track|chapter|room|platform|lane)|\b[Nn]o\.)[\ \t\u00a0\u2009\u202f]*\Z"
)
# Spelled measures a QUANTITY entity or the parse gives as lemmas, to their canonical unit.
_MEASURE_LEMMAS = {
    **{name: unit for name, unit in _MEASURE_NAMES.items() if " " not in name},
    "foot": "ft",
}

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
# "a quarter of a million": a fraction of a scale (read_amount checks the fraction).
_AFTER_A_FRACTION = "|".join(rf"(?<={word})" for word in _FRACTIONS)
_OF_A_SCALE = rf"(?:{_AFTER_A_FRACTION}){_SP}+of{_SP}+an?{_SP}+{_SCALE}\b"
_WORD_NUMBER = rf"(?:{_ARTICLE})?{_WORD}(?:{_JOIN}{_WORD})*(?:{_OF_A_SCALE})?"
_DIGIT_NUMBER = (
    # A leading zero is a code or a name ("007"); digits before a slash are not read alone ("12/5/2004").
    r"(?!0\d)(?>\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?![/:]\d)"
    rf"(?:(?:{_alternatives(_GLUED_SCALES)}|{_PENCE})\b)?"  # "5bn", "50p"; "5km" is a measure below
    rf"(?:{_GAP}+and{_GAP}+an?{_GAP}+{_FRACTION}\b)?"
    rf"(?:{_SP}+{_SCALE}\b)*"
)
# "8/13", "5/1": one number (odds, a fraction); not a date ("12/5/2004"), a season ("2004/05") or a name.
_SLASH_NUMBER = rf"(?!(?:{_alternatives(_SLASH_NAMES)})(?![/\d]))[1-9]\d{{0,2}}/[1-9]\d{{0,2}}(?![/\d])"
_MEASURE = (
    rf"(?:{_SP}?(?-i:{_alternatives(_MEASURE_SYMBOLS)})|(?<=\d)(?-i:{_alternatives(_GLUED_SYMBOLS)})"
    rf"|{_SP}+(?-i:{_alternatives(_MEASURE_NAMES)}))(?![\w/])"
)
_PREFIX = rf"(?-i:{_alternatives(_CURRENCY_SYMBOLS)}|(?:{_alternatives(_CURRENCY_CODES)})\.?){_SP}?"
# A race time on a clock: "2:08:37" (h:mm:ss) or "3:49.78" (m:ss.hh); "10:30" alone is a time of day.
_CLOCK = r"[1-9]?\d:[0-5]\d(?::[0-5]\d(?:\.\d+)?|\.\d+)(?![:\d])"
# A time written in parts, each with its unit: "2hr 5min", "14 minutes 32.93 seconds", "one minute, 47.96secs".
_TIME_UNITS = {
    **{w: 3600 for w in ("hours", "hour", "hrs", "hr", "h")},
    **{w: 60 for w in ("minutes", "minute", "mins", "min")},
    **{w: 1 for w in ("seconds", "second", "secs", "sec", "s")},
}


def _time_part(size: int) -> str:
    """A number with a time unit of one size: "2hr", "14 minutes", "47.96secs"."""
    units = [word for word, seconds in _TIME_UNITS.items() if seconds == size]
    return rf"(?:\d+(?:\.\d+)?|{_WORD_NUMBER}){_SP}*(?:{_alternatives(units)})\b"


_TIME_PART = rf"(?:\d+(?:\.\d+)?|{_WORD_NUMBER}){_SP}*(?:{_alternatives(_TIME_UNITS)})\b"
_THEN = rf",?{_SP}+(?:and{_SP}+)?"
# Larger units first, each once: "7.62secs and 7.63secs" are two times.
_DURATION = (
    rf"(?:{_time_part(3600)}{_THEN}{_time_part(60)}(?:{_THEN}{_time_part(1)})?"
    rf"|(?:{_time_part(3600)}|{_time_part(60)}){_THEN}{_time_part(1)})"
)
# A letter glued to the amount that is no scale or measure makes it a name: "3G", "4x100m", "2100GMT".
_AMOUNT = (
    rf"(?:{_CLOCK}|{_DURATION}|{_SLASH_NUMBER}"
    rf"|(?:{_PREFIX})?(?:{_DIGIT_NUMBER}|{_WORD_NUMBER})(?:{_MEASURE}|{_SP}?%)?)(?![^\W\d_])"
)
_AFTER_A_SCALE = "|".join(rf"(?<={end})" for end in ("illion", r"\dm", r"\dmn", r"\dbn", r"\dtn"))
_SUFFIX = (
    rf"(?:{_SP}+(?:per{_GAP}?cent|percentage{_GAP}+points?"
    rf"|(?-i:{_alternatives(_CURRENCY_CODES)}))"
    rf"|(?:{_SP}+|-)(?:{_alternatives(_CURRENCY_NAMES.keys() - _AFTER_SCALE_ONLY)})"  # "a 4bn-euro hole"
    rf"|(?:{_AFTER_A_SCALE}){_SP}+(?:{_alternatives(_AFTER_SCALE_ONLY)}))\b"
)
_QUANTITY = re.compile(
    rf"""
    (?<![\w.,])(?<![\w.,]-)(?<!\d[/:])  # not inside a word or another number ("4-4-2", "Covid-19", "12/5", "10:30")
    (?:(?P<between>between){_SP}+)?
    (?P<low>{_AMOUNT})
    (?:
        (?P<sep>(?(between){_SP}+and{_SP}+|(?:{_SP}*[-–]{_SP}*|{_SP}+(?:to|or){_SP}+)))
        (?P<high>{_AMOUNT})
    )?
    (?P<suffix>{_SUFFIX})?
    (?![-–]\d)                          # nor the first half of a name ("777-200LR")
    """,
    re.IGNORECASE | re.VERBOSE,
)
_AMOUNT_TOKEN = re.compile(rf"{_alternatives(_CURRENCY_SYMBOLS)}|\d+/\d+|\d+(?:,\d{{3}})*(?:\.\d+)?|\.\d+|[A-Za-z]+|%")
_MEASURE_TAIL = re.compile(rf"(?:{_MEASURE})\Z")
_CLOCK_TIME = re.compile(_CLOCK)
_DURATION_TIME = re.compile(_DURATION, re.IGNORECASE)
_TIME_PART_UNIT = re.compile(rf"(.+?){_SP}*({_alternatives(_TIME_UNITS)})\Z", re.IGNORECASE)
_TIME_PART_SPLIT = re.compile(_TIME_PART, re.IGNORECASE)
_SLASH = re.compile(r"\d+/\d+")
_SPACES = " \t\u00a0\u2009\u202f"
_WHITESPACE_RUN = re.compile(r"\s+")
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
    fraction: bool  # a fraction word with its count ("a quarter", "two-thirds"), or "8/13"
    measure: str | None = None  # canonical measure unit ("160GB" -> "GB")


def read_measure(text: str) -> tuple[str, str | None]:
    """The amount without its measure, and the measure's canonical unit: "160 GB" -> ("160", "GB")."""
    tail = _MEASURE_TAIL.search(text)
    if tail is None:
        return text, None
    written = _WHITESPACE_RUN.sub(" ", tail.group().strip(_SPACES))
    unit = _MEASURE_SYMBOLS.get(written) or _GLUED_SYMBOLS.get(written) or _MEASURE_NAMES[written]
    return text[: tail.start()], unit


def seconds(amount: Fraction) -> Amount:
    """A race time, in seconds."""
    return Amount(amount, 1, None, False, False, True, False, "second")


def read_time(text: str) -> Amount | None:
    """A race time on a clock or in parts, in seconds: "2:08:37" -> 7717, "3:49.78" -> 229.78,
    "14 minutes 32.93 seconds" -> 872.93; None when it is neither."""
    if _CLOCK_TIME.fullmatch(text):
        total = Fraction(0)
        for part in text.split(":"):
            total = total * 60 + Fraction(part)
        return seconds(total)
    if not _DURATION_TIME.fullmatch(text):
        return None
    total = Fraction(0)
    for part in _TIME_PART_SPLIT.findall(text):
        split = _TIME_PART_UNIT.fullmatch(part)
        amount = read_amount(split[1]) if split else None
        if split is None or amount is None:
            return None
        total += amount.value * _TIME_UNITS[split[2].lower()]
    return seconds(total)


def read_amount(text: str) -> Amount | None:
    """The value of one amount phrase ("US$5bn", "one and a half million", "8/13",
    "2Mbps", "2:08:37"), or None when its number words do not compose ("one-two")."""
    time = read_time(text)
    if time is not None:
        return time
    if _SLASH.fullmatch(text):
        numerator, denominator = text.split("/")
        return Amount(Fraction(int(numerator), int(denominator)), 1, None, False, False, True, True)
    text, measure = read_measure(text)
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
        if word == "of":
            if last != "fraction":
                return None  # only "a quarter of a million"
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
            if current is None and not article and last is None:
                return None  # "several hundred": no number said
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
    return Amount(total + (current or Fraction(0)), scale, currency, minor, percent, digits, fraction, measure)


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
    fraction: bool = False  # a fraction word or a slash ("two-thirds", "8/13")


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
    words = _WHITESPACE.sub(" ", words).strip()  # "-euro" as in "a 4bn-euro hole"
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
    """What is written on the number itself: its currency, "%", or its measure."""
    return amount.currency or ("%" if amount.percent else None) or amount.measure


def is_range(low: Amount, high: Amount) -> bool:
    """Whether "X-Y" or "X to Y" is one range. The high end may carry a "%", measure or minor unit
    the low end lacks ("5-10%", "5-10km", "20-30p") and the low end a currency the high end lacks
    ("$5-10m"); marks that differ or a fraction make two numbers ("fell 3.2% to £4.5bn", "a fifth
    to £600m", "from 4/1 to 5/2")."""
    if low.fraction or high.fraction:
        return False
    if mark(low) == "%":
        return mark(high) == "%"
    if mark(low) is not None:
        return mark(high) in {None, mark(low)}
    return mark(high) in {None, "%"} or high.minor or high.measure is not None  # "20-30p", "5-10km"


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
    measure = next((a.measure for a in amounts if a.measure), None)
    unit = currency or percent or measure
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
            float(a.value * minor_factor(a, shared_minor)),
            a.currency or unit,
            start,
            end,
            named,
            marked,
            score_like,
            a.fraction,
        )
        for a, (start, end) in zip(amounts, spans, strict=True)
    ]


def minor_factor(amount: Amount, shared_minor: bool) -> Fraction:
    """1/100 for pence and cents: the amount's own "p", or the range's when it has no
    currency of its own ("20-30p"; but "5p to £1" keeps £1)."""
    return Fraction(1, 100) if amount.minor or (shared_minor and amount.currency is None) else Fraction(1)


# --- Units from the parse -----------------------------------------------------------

_NOT_A_MEASURE = frozenset({*_NUMBER_WORDS, *_FRACTIONS, *_SCALE_WORDS, *_GLUED_SCALES, "hundred", "a", "an", "and"})
_GLUED_M = re.compile(r"(\d+(?:,\d{3})*)(?:\.(\d+))?m")
_GLUED_K = re.compile(r"(\d+)[kK]")
_YEAR = re.compile(r"(?:19|20)\d\d")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
_LIST_JOINER = re.compile(r"(?:\s*,)?\s+(?:and|or|to)\s+|\s*,\s*")
_FRACTION_WORD = re.compile(rf"\b{_FRACTION}\b", re.IGNORECASE)
_NOUNS = frozenset({"NOUN", "PROPN"})
_PARTICIPLE = re.compile(r"[^e]ed\Z")
# How a number with no noun of its own stands in its clause: as a noun phrase ("while 14.9
# million do not", "and charged 6"); after a preposition only when compared ("up from 350").
_STANDALONE = frozenset({"nsubj", "nsubjpass", "dobj", "attr", "conj", "appos", "pobj"})
_COMPARING = frozenset({"from", "to", "than", "with"})
# A day number before one of these is a date ("the 11 September attacks"), though spaCy may
# label the number CARDINAL and only the month DATE.
_MONTHS = frozenset(
    """January February March April May June July August September October November December
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec""".split()
)
# A word hyphened to a count is kept in its text ("a four-nation tour"); these give a period.
_NUMBER_IDIOM = re.compile(r"(?i:one|(?:a\s+)?half)-(?:way|off|click|sided|liner|hearted|decent|baked)\b")
_HYPHENED_WORDS = re.compile(r"(?:-[^\W\d_]+)+")
_PERIODIC = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month", "yearly": "year"}


def canonical(unit: str) -> str:
    """One spelling per measure: "kilometre" -> "km", "gigabyte" -> "GB"; other words as they are."""
    return _MEASURE_LEMMAS.get(unit, unit)


def measure_unit(ent: Span) -> str | None:
    """The measure word of a QUANTITY entity: "20 tonnes" -> tonne, "5 kilometres" -> km,
    "500 square feet" -> square ft."""
    first = next((t.i for t in ent if t.like_num), ent.start)  # "Between 1.1 and 1.5 million": no measure
    words = [lemma_of(t).lower() for t in ent if t.i > first and t.is_alpha and t.lower_ not in _NOT_A_MEASURE]
    if not words:
        return None
    if len(words) > 1 and words[-2] in {"square", "cubic"}:
        return f"{words[-2]} {canonical(words[-1])}"
    return canonical(words[-1])


def singular(word: str) -> str:
    """A plural proper noun made singular, which spaCy's lemmatizer leaves as it is ("Awards")."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):  # not "zes": "Prizes" -> prize
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def noun_unit(noun: Token, many: bool = True) -> str | None:
    """The unit a counted noun gives: its lemma ("soldiers" -> soldier, "Awards" -> award), with
    the words hyphened before it ("co-stars" -> co-star), or None for a word that stands for a noun
    said elsewhere ("three others") or a multiplier ("three times as many"). `many`: the count is
    not one, so a name that looks plural is one ("100 Hard Rock Cafes" -> cafe)."""
    if noun.lower_ in _NO_UNIT_HEADS or lemma_of(noun).lower() in _NO_UNIT_HEADS or noun.lower_ in _MULTIPLIERS:
        return None
    prefix = "".join(f"{part.lower_}-" for part in hyphened_parts(noun))
    if noun.pos_ == "PROPN":
        plural = noun.tag_ == "NNPS" or (many and looks_plural(noun))
        return prefix + (singular(noun.lower_) if plural else noun.lower_)
    head = prefix + canonical(lemma_of(noun).lower())
    return " ".join([*compound_words(noun), head])


def looks_plural(name: Token) -> bool:
    """Whether a name the tagger called singular (NNP) reads as a plural when counted by more than
    one: a lower-case "s" ends it ("Cafes", "MPs"); not capitals ("DS") nor a person's name."""
    return name.text.endswith("s") and name.ent_type_ != "PERSON"


def glued_hyphen(token: Token) -> bool:
    """Whether a token is a hyphen inside a word: no space either side ("co-stars", not "2 - 1")."""
    doc = token.doc
    return (
        token.text == "-" and not token.whitespace_ and 0 < token.i < len(doc) - 1 and not doc[token.i - 1].whitespace_
    )


def hyphened_parts(noun: Token) -> list[Token]:
    """The words hyphened before a noun, which make one word with it: "co" of "co-stars", "e" of
    "e-mails". A number is no part ("a two-time winner" counts times, "a half-point cut" points),
    nor is a word after a gap ("hip-hop acts": "hop" is a separate word of the compound)."""
    doc = noun.doc
    parts: list[Token] = []
    i = noun.i
    while i >= 2 and glued_hyphen(doc[i - 1]) and is_word_part(doc[i - 2]):
        parts.insert(0, doc[i - 2])
        i -= 2
    return parts


def is_word_part(token: Token) -> bool:
    """Whether a token may be part of a hyphened noun: a word that is no number ("two", "half")."""
    return token.is_alpha and not token.like_num and token.lower_ not in _NOT_A_MEASURE


def hyphened_head(noun: Token) -> Token:
    """The last word of a hyphened noun the parser split up: "stars" of "four co-stars", where
    "co" is taken for the noun; the unit reads the whole word (`hyphened_parts`)."""
    doc = noun.doc
    while (
        noun.i + 2 < len(doc)
        and glued_hyphen(doc[noun.i + 1])
        and doc[noun.i + 2].is_alpha
        and doc[noun.i + 2].pos_ in _NOUNS
    ):
        noun = doc[noun.i + 2]
    return noun


def compound_words(noun: Token) -> list[str]:
    """The common nouns compounded right before a counted noun, as written: "task" of "three task
    forces", "police" of "3,000 police officers"; names ("Three Labour MPs"), numbers ("1.2m homes")
    and words before a gap are left out."""
    doc = noun.doc
    words: list[str] = []
    parts = hyphened_parts(noun)
    i = (parts[0].i if parts else noun.i) - 1  # before the whole hyphened word ("co-stars")
    while i >= 0 and doc[i].dep_ == "compound" and doc[i].head.i == noun.i:
        word = doc[i]
        if word.pos_ != "NOUN" or not word.is_alpha or not word.is_lower or word.lower_ in _NOT_A_MEASURE:
            break
        if i > 0 and doc[i - 1].tag_ == "HYPH":
            break  # "hip-hop acts": half a hyphened word is no modifier
        words.insert(0, word.lower_)
        i -= 1
    return words


def counted_noun(span: Span) -> Token | None:
    """The noun a number counts, after it. A noun hyphened to the number is it ("a 12-nation
    bloc", "a two-time winner"); then the noun right after the number ("600,000 soldiers"):
    the parser often reads a glued "m" as the noun ("1.2m homes" gives "m" as the object,
    "homes" beside it); then the head of the noun phrase the number modifies ("three 50th
    anniversary special awards"). Compounds in between are skipped ("3,000 police officers")."""
    doc = span.doc
    after = doc[span.end] if span.end < len(doc) else None
    if after is not None and after.tag_ == "HYPH" and not doc[span.end - 1].whitespace_ and span.end + 1 < len(doc):
        joined = doc[span.end + 1]
        if not after.whitespace_:  # "one-off gains": the number counts no noun
            if joined.lower_ == "strong" and joined.head.i > joined.i and joined.head.pos_ == "NOUN":
                return joined.head  # "a 20-strong task force" counts members of the force
            return joined if joined.pos_ in _NOUNS else None
    heads = [t.head for t in span if t.dep_ in {"nummod", "quantmod"} and t.head.i >= span.end]
    if after is not None and after.pos_ == "NOUN":
        noun = hyphened_head(after)  # "four co-stars": the parser may take "co" for the noun
    elif heads:
        noun = heads[-1]
    else:
        return None
    # Up to the head noun: over compounds, and over an ordinal the number was hung on ("40th"),
    # but not into an aside nor from a common noun onto a person's name (`climbs_to_head`).
    while noun.head.i > noun.i and climbs_to_head(noun):
        noun = noun.head
    if noun.pos_ not in _NOUNS or (_PARTICIPLE.search(noun.lower_) and lemma_of(noun) == noun.lower_):
        return None  # "the 301 submitted": a participle the parser took for a noun
    return noun


def climbs_to_head(noun: Token) -> bool:
    """Whether the counted noun is rather the word a noun after a number was hung on: over a
    compound ("three task forces" -> forces) or an ordinal ("three 40th birthdays"). Not past
    punctuation, as the head is then in an aside ("five members - chair Ann Lee and ..." counts
    members), nor from a common noun onto a person's name the parser took it to be a compound of."""
    head = noun.head
    if not (
        (noun.dep_ == "compound" and noun.pos_ in _NOUNS)
        or (_ORDINAL.fullmatch(noun.lower_) and noun.dep_ in {"compound", "amod", "nmod"})
    ):
        return False
    doc = noun.doc
    if any(t.is_punct and not glued_hyphen(t) for t in doc[noun.i + 1 : head.i]):
        return False
    return not (noun.pos_ == "NOUN" and head.pos_ == "PROPN" and head.ent_type_ == "PERSON")


def partitive_noun(span: Span) -> Token | None:
    """The plural noun a number or a fraction is one or some of: "one of the back windows" ->
    windows, "one of its senior engineers" -> engineers, "two-thirds of voters" -> voters, also
    past an aside in brackets ("half (55%) of the respondents"); not "page 12 of the report" (a
    nummod, and a singular noun), "one of them", nor a ratio ("one in 10 of the users")."""
    doc = span.doc
    number = span.root
    after = past_brackets(doc, span.end)
    if after >= len(doc) or doc[after].lower_ != "of":
        return None
    if span.start > 1 and doc[span.start - 1].lower_ == "in" and doc[span.start - 2].like_num:
        return None
    if number.dep_ in {"nummod", "quantmod"}:
        return counted_of_a_count(number, after)
    of = doc[after]
    if not span.start <= of.head.i < span.end or of.dep_ != "prep":  # "two-thirds": "of" may hang on "thirds"
        return None
    nouns = [t for t in of.children if t.dep_ == "pobj" and t.pos_ in _NOUNS and t.tag_ in {"NNS", "NNPS"}]
    return nouns[0] if nouns else None


def counted_of_a_count(number: Token, of: int) -> Token | None:
    """The plural noun a number or a fraction is some of when that noun has a number of its own,
    on which the parser hung the first one: "half of 2,000 people" -> people, as "2,000 people"
    counts. Not "page 12 of the report": the number is then hung on no number after "of"."""
    doc = number.doc
    start = of + 1
    if start < len(doc) and doc[start].dep_ == "det":
        start += 1  # "half of the 2,000 people"
    end = start
    while end < len(doc) and doc[end].like_num:
        end += 1  # "2,000", "2 million"
    if end == start or not start <= number.head.i < end:
        return None
    noun = counted_noun(doc[start:end])
    return noun if noun is not None and noun.tag_ in {"NNS", "NNPS"} else None


def past_brackets(doc: Doc, i: int) -> int:
    """The token after an aside in brackets that starts at i ("half (55%) of them"), else i. The
    aside must close in the sentence; it is no part of what the number is of."""
    if i >= len(doc) or doc[i].text != "(":
        return i
    for token in doc[i + 1 : doc[i].sent.end]:
        if token.text == ")":
            return token.i + 1
        if token.text == "(":
            return i  # nested: not one short aside
    return i


def is_a_rank(readings: Phrase, noun: Token | None, text: str) -> bool:
    """Whether a count is a rank or an identifier: right after "number", "No.", "page",
    "position", "track", "chapter", "room" or "platform" ("fell to number four", "No. 10",
    "page 12"). Money, percent, measures, large scales and counts of a plural noun stay."""
    if any(r.unit is not None or r.marked for r in readings):
        return False
    if noun is not None and noun.tag_ in {"NNS", "NNPS"}:
        return False  # "held the position two years"
    start = readings[0].start
    return _RANK_BEFORE.search(text, max(0, start - 20), start) is not None


def pronoun_before_a_name(span: Span, noun: Token) -> bool:
    """Whether a number word right before a capitalised singular noun is a pronoun, not its
    count: the noun is not what the number modifies, or it is the subject of a clause put
    after a form of "be" or right after a noun ("That game is one Smith would be delighted to
    see", "The plan is one Labour would reject"). "Police said one Briton was killed" counts
    a Briton."""
    if noun.i != span.end or any(t.like_num and t.text[0].isdigit() for t in span):
        return False
    if not noun.text[0].isupper() or noun.is_sent_start or noun.tag_ not in {"NNP", "NN"}:
        return False
    if not any(t.head.i == noun.i and t.dep_ in {"nummod", "quantmod"} for t in span):
        return True
    verb = noun.head
    return (
        noun.dep_ in {"nsubj", "nsubjpass"}
        and verb.i > noun.i
        and verb.dep_ in {"ccomp", "relcl"}
        and verb.head.i < span.start
        and (lemma_of(verb.head) == "be" or (verb.head.pos_ in _NOUNS and verb.head.i == span.start - 1))
    )


def in_a_name_or_date(readings: Phrase, span: Span, text: str) -> bool:
    """Whether a count is part of a date or a name, not a quantity: a day before a month ("the
    11 September attacks", where spaCy may label only the month DATE), or a number word
    capitalised after a word inside a title ("the World at One", "BBC Two")."""
    if any(r.unit is not None for r in readings):
        return False  # money, percent, a measure: a quantity even inside a name
    doc = span.doc
    after = doc[span.end] if span.end < len(doc) else None
    written = [text[r.start : r.end] for r in readings]
    if after is not None and after.text in _MONTHS and all(w.isdigit() and 1 <= int(w) <= 31 for w in written):
        return True
    first = span[0]
    before = doc[span.start - 1] if span.start > 0 else None
    return (
        first.is_alpha
        and first.text[0].isupper()
        and not first.text.isupper()
        and not first.is_sent_start
        and before is not None
        and before.is_alpha
        and not any(r.marked for r in readings)
    )


def race_distance(written: str) -> bool:
    """Whether a number with a glued "m" is a standard race distance: "400m", "1,500m"."""
    glued = _GLUED_M.fullmatch(written)
    return glued is not None and glued[2] is None and int(glued[1].replace(",", "")) in _RACE_DISTANCES


def athletics(span: Span) -> bool:
    """Whether the number's sentence is about athletics or swimming ("hurdles", "relay", "Olympic")."""
    return any(t.lower_ in _ATHLETICS_WORDS for t in span.sent)


def about_a_race(token: Token) -> bool:
    """Whether a word puts its sentence in a race: "hurdles", "heats", "400m" (one token or two)."""
    if token.lower_ in _ATHLETICS_WORDS or token.lower_ in _TIME_WORDS or race_distance(token.text):
        return True
    return token.lower_ == "m" and token.i > 0 and race_distance(token.doc[token.i - 1].text + "m")


def race_time(written: str, span: Span) -> tuple[float, str] | None:
    """A bare two-decimal number after "in", "of", "clocked" or "(" in athletics is a race time:
    seconds ("won the 60m in 7.48", "a season's best of 20.94"), or minutes and seconds where the
    sentence is about a long race ("completing the 10km course in 33.22" -> 2002 s)."""
    doc = span.doc
    if not _RACE_TIME.fullmatch(written) or span.start == 0 or doc[span.start - 1].lower_ not in _TIME_CUES:
        return None
    after = next_word(span, span.end_char)
    if after is not None and after.pos_ in _NOUNS:
        return None
    sentence = span.sent
    context = doc[max(0, sentence.start - 40) : sentence.end]  # the sentence and what leads up to it
    if not any(about_a_race(t) for t in context):
        return None
    whole, hundredths = written.split(".")
    if any(t.lower_ in _LONG_RACE_WORDS for t in sentence):
        return (float(int(whole) * 60 + int(hundredths)), "second") if int(hundredths) < 60 else None
    return float(written), "second"


def race_distances(readings: Phrase, text: str) -> bool:
    """Whether both ends of a range are race distances with a glued "m": "from 400m to 200m"."""
    return len(readings) == 2 and all(race_distance(text[r.start : r.end]) for r in readings)


def in_a_race(span: Span) -> bool:
    """Whether the number's sentence is about athletics or swimming, or gives race times ("secs")."""
    return any(t.lower_ in _ATHLETICS_WORDS or t.lower_ in _TIME_WORDS for t in span.sent)


def next_word(span: Span, end_char: int) -> Token | None:
    """The token after a number in its sentence; None when punctuation is glued to the number
    ("400m." is one token) or the sentence ends."""
    doc = span.doc
    if span.end_char != end_char or span.end >= len(doc) or doc[span.end].is_sent_start:
        return None
    return doc[span.end]


def sport_distance(written: str, span: Span, end_char: int) -> tuple[float, str] | None:
    """A glued "m" or "K" that is a distance, not a scale, on a number without a currency.

    "m" is metres (1) on a standard race distance (`_RACE_DISTANCES`) followed by a sport word
    ("the 400m hurdles", "the European 100m champion"), or followed by no plural noun and
    modified by a determiner, possessive, adjective or noun ("won the 100m.", "the women's
    800m in 2:01", "the world 200m"); (2) on a number with two decimals followed by no noun
    ("cleared 4.88m"). "over" or "for" also count as a modifier in a sentence about athletics
    ("won over 60m at the indoor championships"). So "£100m", "2m people", "a 5m fine", "400m
    viewers" and "rose to 100m" stay millions. A comma-grouped distance that is no standard one
    is metres too when the next word or the sentence is about sport ("the 10,500m course").
    "K" is km before a sport word ("a 10K race", "a 5K road run")."""
    doc = span.doc
    after = next_word(span, end_char)
    sport_next = after is not None and after.lower_ in _SPORT_WORDS
    if _GLUED_K.fullmatch(written):
        return (float(written[:-1]), "km") if sport_next else None
    glued = _GLUED_M.fullmatch(written)
    if glued is None:
        return None
    number = float(written[:-1].replace(",", ""))
    noun_next = after is not None and after.pos_ in _NOUNS
    plural_next = noun_next and after is not None and after.tag_ in {"NNS", "NNPS"}
    before = doc[span.start - 1] if span.start > 0 else None
    # Any comma-grouped distance in sport: "the 10,500m course" (a count would be "10.5bn").
    race = race_distance(written) or (
        glued[2] is None and "," in glued[1] and (sport_next or athletics(span)) and not plural_next
    )
    modified = (
        before is not None
        and (before.pos_ in {"DET", "ADJ", "PROPN", "NOUN"} or before.tag_ in {"POS", "PRP$"})
        and before.lower_ not in {"number", "numbers"}  # "net users number 100m": a verb
    )
    # "won over 60m", "through 1200m", "stepped down to 200m": a distance in a race's sentence.
    over = before is not None and before.lower_ in {"over", "for", "through", "to"} and in_a_race(span)
    if race and (sport_next or ((modified or over) and not plural_next) or heads_an_entry_list(span, after)):
        return number, "metre"
    if over and glued[2] is None and number <= _LONGEST_TRACK and not noun_next:
        return number, "metre"
    if glued[2] is not None and len(glued[2]) == 2 and not noun_next:
        return number, "metre"
    return None


def heads_an_entry_list(span: Span, after: Token | None) -> bool:
    """Whether a number starts a line and a colon follows it, in an article about athletics or
    swimming: the heading of an event in a team or entry list ("60m: A Person, B Person")."""
    doc = span.doc
    if after is None or after.text != ":":
        return False
    line_start = span.start == 0 or "\n" in doc[span.start - 1].text_with_ws
    return line_start and any(t.lower_ in _ATHLETICS_WORDS for t in doc)


def odds_unit(span: Span) -> str | None:
    """ "odds" for a slash number near a betting word ("a 5/1 shot", "8/13 favourite")."""
    sentence = span.sent
    start, end = max(sentence.start, span.start - _ODDS_WINDOW), min(sentence.end, span.end + _ODDS_WINDOW)
    near = span.doc[start:end]
    return "odds" if any(t.lower_ in _ODDS_WORDS or lemma_of(t).lower() in _ODDS_WORDS for t in near) else None


def stands_alone(span: Span) -> bool:
    """Whether a number is a noun phrase of its own: not before a word it may modify, though the
    parser did not say so ("a 5m fine", "fine" taken for an adjective), nor a ratio ("one in eight")."""
    doc = span.doc
    if span.end < len(doc) and doc[span.end].pos_ in {"NOUN", "PROPN", "ADJ", "NUM"}:
        return False
    if span.end + 1 < len(doc) and doc[span.end].lower_ in {"in", "of", "out"}:
        following = doc[span.end + 1]
        return not (following.like_num and not _YEAR.fullmatch(following.text))
    return True


def is_odds(doc: Doc, text: str, start: int, end: int) -> bool:
    """Whether a phrase spaCy gave no number entity is betting odds ("given the film 4/9")."""
    if not _SLASH.fullmatch(text, start, end):
        return False
    span = doc.char_span(start, end, alignment_mode="expand")
    return span is not None and odds_unit(span) is not None


def clause_of(token: Token) -> Token:
    """The verb of the clause a token stands in."""
    while token.pos_ not in {"VERB", "AUX"} and token.head.i != token.i:
        token = token.head
    return token


def hangs_from(lower: Token, upper: Token) -> bool:
    """Whether a clause is joined to another by "and" or "while": conj or advcl links up to it."""
    while lower.dep_ in {"conj", "advcl"} and lower.head.i != lower.i:
        lower = lower.head
        if lower.i == upper.i:
            return True
    return False


def coordinated(number: Token, noun: Token) -> bool:
    """Whether a number with no noun stands beside a counted one: "5.2 million adults play,
    while 14.9 million do not", "arrested 20 fans and charged 6", "400 members, up from 350"."""
    if number.dep_ not in _STANDALONE or (number.dep_ == "pobj" and number.head.lower_ not in _COMPARING):
        return False
    mine, theirs = clause_of(number), clause_of(noun)
    if any(child.dep_ == "dative" for child in mine.children):
        return False  # "hired 200 engineers and paid them 5 each": 5 is paid, not counted
    return mine.i == theirs.i or hangs_from(mine, theirs) or hangs_from(theirs, mine)


# --- Whole document -----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A quantity with what the parse said of it, for sharing a counted noun."""

    quantity: Quantity
    number: Token | None  # the number's head token
    noun: Token | None  # the plural counted noun its unit came from
    bare: bool  # a count with no unit and no noun of its own
    race: bool = False  # "400m" left as millions: metres if listed with a distance ("the 800m and 1500m")


def is_score(readings: Phrase, noun: Token | None) -> bool:
    """Plain digits joined by a hyphen are a score ("won 2-1", "a 2-1 win"), unless
    they rise and count something plural ("10-15 people")."""
    low, high = readings[0], readings[-1]
    counts_plural = noun is not None and noun.tag_ in {"NNS", "NNPS"}
    return low.score_like and not (low.value < high.value and counts_plural)


def is_a_model(readings: Phrase, span: Span | None) -> bool:
    """Digits joined by a hyphen right after a name are a model, not a range: "Boeing 737-800"."""
    if span is None or not readings[0].score_like or span.start == 0:
        return False
    return span.doc[span.start - 1].pos_ == "PROPN"


def with_entity_words(text: str, end: int, ent: Span) -> int:
    """Where a MONEY or QUANTITY row ends: the entity's words after the number stay in
    its text ("5 kilometres", "10km", "3m francs"), its punctuation does not."""
    if ent.label_ not in {"MONEY", "QUANTITY"} or ent.end_char <= end:
        return end
    words_only = _WORDS_ONLY.fullmatch(text, end, ent.end_char) and not _QUANTITY.search(text, end, ent.end_char)
    return ent.end_char if words_only else end


def rows_of(readings: Phrase, text: str, doc: Doc, sentence_idx: int, ent: Span | None) -> list[Row]:
    """Quantities of one phrase's readings; `ent` is the spaCy entity it widens, None
    when spaCy missed the number."""
    span = doc.char_span(readings[0].start, readings[-1].end, alignment_mode="expand")
    noun = counted_noun(span) if span is not None else None
    if span is not None and noun is not None and pronoun_before_a_name(span, noun):
        noun = None  # "a game one Smith would love": "one" is a pronoun
    elif span is not None and noun is None:
        noun = partitive_noun(span)  # "one of the windows", "half (55%) of the respondents"
    if is_score(readings, noun) or is_a_rank(readings, noun, text) or is_a_model(readings, span):
        return []
    if _NUMBER_IDIOM.match(text, readings[0].start):
        return []  # "a one-way link", "a half-decent mark": an adjective, no number
    if span is not None and in_a_name_or_date(readings, span, text):
        return []
    rows = []
    many = any(r.value != 1 for r in readings)  # "100 Hard Rock Cafes" are cafes; "one Williams" is a name
    for reading in readings:
        end, unit, value = reading.end, reading.unit, reading.value
        written = text[reading.start : reading.end]
        from_noun = None
        if ent is not None and reading is readings[-1]:
            end = with_entity_words(text, end, ent)
        distance = None
        if unit is None and span is not None and len(readings) == 1:
            distance = sport_distance(written, span, reading.end) or race_time(written, span)
        elif unit is None and span is not None and race_distances(readings, text) and in_a_race(span):
            distance = value / _GLUED_SCALES["m"], "metre"  # "stepped down from 400m to 200m"
        if _SLASH.fullmatch(written):
            unit = odds_unit(span) if span is not None else None  # odds or a fraction: nothing counted
        elif distance is not None:
            value, unit = distance
        else:
            if ent is not None and ent.label_ == "QUANTITY" and (unit is None or reading.named_currency):
                unit = measure_unit(ent)
            if unit is None and noun is not None and not (ent is not None and ent.label_ == "MONEY"):
                unit = noun_unit(noun, many)  # money in a currency we do not know stays without unit
                from_noun = noun if unit is not None and noun.tag_ in {"NNS", "NNPS"} else None
        hyphened = None
        if reading is readings[-1] and reading.unit is None and distance is None and end == reading.end:
            hyphened = _HYPHENED_WORDS.match(text, end)  # "a four-nation tour", "a three-monthly report"
        if hyphened is not None and not _SLASH.fullmatch(written):
            end = hyphened.end()
            unit = unit or _PERIODIC.get(hyphened.group().rsplit("-", 1)[-1].lower())
        bare = (
            unit is None
            and noun is None
            and hyphened is None
            and span is not None
            and stands_alone(span)
            and len(readings) == 1
            and not reading.fraction
            and not _FRACTION_WORD.search(written)
            and ent is not None
            and ent.label_ == "CARDINAL"
            and not _YEAR.fullmatch(written)
        )
        rows.append(
            Row(
                Quantity(reading.start, end, text[reading.start : end], value, unit, sentence_idx),
                span.root if span is not None else None,
                from_noun,
                bare,
                unit is None and race_distance(written),
            )
        )
    return rows


def share_race_distances(rows: list[Row], text: str) -> list[Row]:
    """A race distance listed with one read as metres is metres too: "the 800m and 1500m",
    "his 100m, 200m and 400m titles"."""
    rows = list(rows)
    for order in (range(1, len(rows)), range(len(rows) - 2, -1, -1)):
        for i in order:
            j = i - 1 if order.step == 1 else i + 1
            row, other = rows[i], rows[j]
            first, second = sorted((row.quantity, other.quantity), key=lambda q: q.start_char)
            listed = _LIST_JOINER.fullmatch(text, first.end_char, second.start_char) is not None
            if row.race and other.quantity.unit == "metre" and listed:
                quantity = replace(row.quantity, value=row.quantity.value / _GLUED_SCALES["m"], unit="metre")
                rows[i] = replace(row, quantity=quantity, race=False)
    return rows


def number_of(sentence: Span) -> Token | None:
    """The plural noun of "the number of X" in a sentence: what its bare counts count ("the number
    of films rose to 310 from 287"). "a number of X" means "some X" and names no count."""
    for token in sentence:
        if token.lower_ not in {"number", "numbers"} or not any(
            child.dep_ == "det" and child.lower_ == "the" for child in token.children
        ):
            continue
        for of in token.children:
            if of.dep_ == "prep" and of.lower_ == "of":
                nouns = [t for t in of.children if t.dep_ == "pobj" and t.tag_ in {"NNS", "NNPS"}]
                return nouns[0] if nouns else None
    return None


def share_counted_nouns(rows: list[Row]) -> list[Quantity]:
    """A count with no noun of its own takes the counted noun of the nearest number before it in
    its sentence when the two are coordinated or compared ("5.2 million adults play sport, while
    14.9 million do not" -> adult); failing that, the noun of "the number of X" in its sentence
    when it stands in that clause ("the number of films rose to 310 from 287" -> film)."""
    quantities = []
    for i, row in enumerate(rows):
        quantity = row.quantity
        if row.bare and row.number is not None:
            sentence = quantity.sentence_idx
            before = (r for r in reversed(rows[:i]) if r.quantity.sentence_idx == sentence and r.noun is not None)
            source = next(before, None)
            if source is not None and source.noun is not None and coordinated(row.number, source.noun):
                quantity = replace(quantity, unit=source.quantity.unit)
            elif (counted := number_of(row.number.sent)) is not None and coordinated(row.number, counted):
                quantity = replace(quantity, unit=noun_unit(counted))
        quantities.append(quantity)
    return quantities


def extract_quantities(doc: Doc, text: str | None = None, sentences: SentenceIndex | None = None) -> list[Quantity]:
    """Every number of the document with its value and unit, in text order.

    One pass of the grammar over the text; a phrase counts when it overlaps a number
    entity of spaCy's, or when it is marked as a quantity (money, percent, a measure, a
    large scale, "a quarter of") which spaCy missed or labelled otherwise ("€1.2bn")."""
    sentence_of = (sentences or SentenceIndex.of(doc)).of_token
    text = doc.text if text is None else text  # doc.text rebuilds the string on every access
    numbers = [ent for ent in doc.ents if ent.label_ in QUANTITY_LABELS]
    rows: list[Row] = []
    for match in _QUANTITY.finditer(text):
        for phrase in read_match(match):
            start, end = phrase[0].start, phrase[-1].end
            ents = [ent for ent in numbers if ent.start_char < end and ent.end_char > start]
            if not (ents or phrase[0].marked or is_odds(doc, text, start, end)):
                continue  # nothing says this is a quantity ("in 2004")
            first = ents[0] if ents else doc.char_span(start, end, alignment_mode="expand")
            if first is not None:
                rows += rows_of(phrase, text, doc, sentence_of[first.start], ents[-1] if ents else None)
    return share_counted_nouns(share_race_distances(rows, text))
