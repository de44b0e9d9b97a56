from datetime import UTC, datetime

import pytest

from newsdesk.extraction.parse import (
    ParseError,
    decode,
    normalize,
    paragraph_spans,
    parse_article,
    parse_published,
    split_metadata,
)


@pytest.mark.parametrize(
    "raw, text, encoding",
    [
        ("Caf\u00e9 £5".encode("utf-8"), "Café £5", "utf-8"),
        (b"\xef\xbb\xbf" + "Caf\u00e9".encode("utf-8"), "Café", "utf-8-sig"),
        ("Caf\u00e9 £5".encode("utf-16"), "Café £5", "utf-16"),
        ("Caf\u00e9 £5 \u201cq\u201d".encode("cp1252"), "Café £5 “q”", "cp1252"),
    ],
)
def test_decode_picks_the_encoding(raw, text, encoding):
    assert decode(raw) == (text, encoding)


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty"),
        (b"   \n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\nrest", "PNG"),
        (b"PK\x03\x04zipdata", "zip"),
        (b"Headline\nbody \x00 with NUL", "NUL"),
        (b"Just a headline\n", "headline only"),
        (b"---\ntitle: x\nno closing fence\n", "front matter"),
        (b"---\nthis is not a key value line\n---\nHeadline\nBody.\n", "front matter"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(raw, reason):
    with pytest.raises(ParseError, match=reason):
        parse_article(raw)


def test_normalize_nfc_lf_and_trailing_space():
    assert normalize("e\u0301 one  \r\ntwo\t\rthree\n\n") == "\u00e9 one\ntwo\nthree"


def test_inner_whitespace_is_kept_so_spacing_variants_are_distinct_articles():
    a = parse_article(b"Head\nBody  text.\n")
    b = parse_article(b"Head\nBody text.\n")
    assert a.article_id != b.article_id


def test_line_endings_do_not_change_identity():
    assert parse_article(b"Head\r\nBody.\r\n").article_id == parse_article(b"Head\nBody.\n").article_id


def test_front_matter_becomes_metadata_and_leaves_the_text():
    article = parse_article(
        b"---\nurl: https://example.org/a\nauthor: 'Jane Roe'\npublished: 2024-10-21\n---\nHeadline here\nBody line.\n"
    )
    assert article.metadata["url"] == "https://example.org/a"
    assert article.metadata["author"] == "Jane Roe"
    assert article.published_at.isoformat().startswith("2024-10-21")
    assert article.text == "Headline here\nBody line."
    assert article.title == "Headline here"


def test_leading_key_value_lines_are_metadata():
    meta, text = split_metadata("Source: BBC\nURL: http://x\nHeadline\nBody")
    assert meta == {"source": "BBC", "url": "http://x"}
    assert text == "Headline\nBody"


def test_a_headline_with_a_colon_is_not_metadata():
    article = parse_article(b"Breaking: markets fall\nStocks fell on Monday.\n")
    assert article.title == "Breaking: markets fall"
    assert article.metadata == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Head\n\nPara one\nstill one\n\nPara two", ["Head", "Para one\nstill one", "Para two"]),
        ("Head\nPara one\nPara two", ["Head", "Para one", "Para two"]),
    ],
)
def test_paragraphs_by_blank_lines_or_single_newlines(text, expected):
    assert [text[s:e] for s, e in paragraph_spans(text)] == expected


def test_latin1_bbc_style_file_keeps_the_pound_sign():
    article = parse_article("Prize\n\nHe won \u00a3100 today.\n".encode("latin-1"))
    assert "£100" in article.text
    assert article.encoding == "cp1252"


# --- YAML front matter -------------------------------------------------------


def _with_front_matter(block: str) -> bytes:
    return f"---\n{block}---\nCouncil approves new bridge\nWork starts in the spring.\n".encode()


@pytest.mark.parametrize(
    "block, expected",
    [
        ("summary: >\n  The council voted\n  seven to two.\n", {"summary": "The council voted seven to two."}),
        ("summary: |\n  First line.\n  Second line.\n", {"summary": "First line.\nSecond line."}),
        ("tags:\n  - transport\n  - local politics\n", {"tags": "transport, local politics"}),
        ("og_image2: bridge.png\n", {"og_image2": "bridge.png"}),
        ("author:\n  name: Sam Lee\n  desk: metro\n", {"author": '{"name": "Sam Lee", "desk": "metro"}'}),
        ("note: |\n  above the line\n  ---\n  below the line\n", {"note": "above the line\n---\nbelow the line"}),
        ("published: !!timestamp 2024-02-12 10:00:00\n", {"published": "2024-02-12T10:00:00"}),
    ],
    ids=["folded", "literal", "block-list", "digit-key", "nested-mapping", "fence-in-block", "yaml-timestamp"],
)
def test_valid_yaml_front_matter_is_read(block, expected):
    assert parse_article(_with_front_matter(block)).metadata == expected


@pytest.mark.parametrize(
    "block, expected",
    [
        ("language: no\n", {"language": "no"}),
        ("story_id: 0123\n", {"story_id": "0123"}),
        ("slot: 12:30\n", {"slot": "12:30"}),
        ("author:\nsource: ~\n", {"author": "", "source": ""}),
    ],
)
def test_front_matter_scalars_keep_their_written_text(block, expected):
    """Guard: YAML 1.1 implicit typing would turn these into False, 83, 750 and None."""
    assert parse_article(_with_front_matter(block)).metadata == expected


@pytest.mark.parametrize(
    "block, title, expected",
    [
        ("title: Update: roads reopen\nauthor: Ada\n", "Update: roads reopen", {"author": "Ada"}),
        ("source: *Morning Post*\n", "Council approves new bridge", {"source": "*Morning Post*"}),
    ],
)
def test_simple_key_value_lines_that_are_not_yaml_still_read(block, title, expected):
    """Guard: front matter the line parser accepted before YAML is not quarantined now."""
    article = parse_article(_with_front_matter(block))
    assert (article.title, article.metadata) == (title, expected)


@pytest.mark.parametrize(
    "block, reason",
    [
        ("headline: 'never closed\n  and a second line\n", "unexpected end of stream (line 2"),
        ("- first\nkey: value\n", "expected <block end>"),
        ("- first\n- second\n", "not a mapping"),
        ("box:\n  " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 20 levels"),
        ("box:\n" + "  - x\n" * 5000, "more than 1,000 values"),
    ],
    ids=["unclosed-quote", "list-then-key", "list", "deep-nesting", "too-many-values"],
)
def test_invalid_front_matter_is_quarantined_with_a_one_line_reason(block, reason):
    with pytest.raises(ParseError, match="front matter") as caught:
        parse_article(_with_front_matter(block))
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message and len(message) <= 120


def test_front_matter_over_64_kib_is_refused_before_yaml_parses_it(monkeypatch):
    import newsdesk.extraction.parse

    monkeypatch.setattr(
        newsdesk.extraction.parse.yaml, "load", lambda *a, **k: pytest.fail("YAML parsed an oversize block")
    )
    block = "".join(f"field{i}: {'w' * 60}\n" for i in range(1100))
    size = len(block.encode()) - 1  # the final newline belongs to the closing fence line
    with pytest.raises(ParseError, match=f"front matter is {size:,} bytes, over the 65,536-byte limit"):
        parse_article(_with_front_matter(block))


def _laughs(block_style: bool) -> str:
    lines = ["lol0: &lol0 lol"]
    for i in range(1, 10):
        refs = [f"*lol{i - 1}"] * 10
        if block_style:
            lines.append(f"lol{i}: &lol{i}\n" + "".join(f"  - {ref}\n" for ref in refs).rstrip("\n"))
        else:
            lines.append(f"lol{i}: &lol{i} [{', '.join(refs)}]")
    return "\n".join(lines) + "\n"


def test_anchors_and_aliases_in_front_matter_are_refused():
    with pytest.raises(ParseError, match="anchors and aliases are not allowed"):
        parse_article(_with_front_matter(_laughs(block_style=True)))


@pytest.mark.parametrize("block_style", [True, False], ids=["block", "flow"])
def test_a_billion_laughs_is_refused_or_stays_small(block_style):
    block = _laughs(block_style)
    try:
        article = parse_article(_with_front_matter(block))
    except ParseError:
        return
    assert sum(len(k) + len(v) for k, v in article.metadata.items()) <= len(block)


def test_metadata_values_and_titles_are_capped_at_1000_characters():
    article = parse_article(_with_front_matter(f"title: {'T' * 3000}\nsummary: {'s' * 5000}\n"))
    assert article.title == "T" * 1000
    assert article.metadata["summary"] == "s" * 1000
    long_headline = parse_article(("H" * 3000 + "\nBody text.\n").encode())
    assert long_headline.title == "H" * 1000


# --- dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Mon, 12 Feb 2024 10:00:00 GMT", datetime(2024, 2, 12, 10, tzinfo=UTC)),
        ("Mon, 12 Feb 2024 11:00:00 +0100", datetime(2024, 2, 12, 10, tzinfo=UTC)),
        ("12 February 2024", datetime(2024, 2, 12, tzinfo=UTC)),
        ("February 12, 2024", datetime(2024, 2, 12, tzinfo=UTC)),
        ("12 Feb 2024", datetime(2024, 2, 12, tzinfo=UTC)),
        ("2024-02-12", datetime(2024, 2, 12, tzinfo=UTC)),
        ("2024-02-12T10:00:00Z", datetime(2024, 2, 12, 10, tzinfo=UTC)),
        ("2024-02-12 10:00", datetime(2024, 2, 12, 10, tzinfo=UTC)),
        ("  12 Feb 2024 ", datetime(2024, 2, 12, tzinfo=UTC)),
    ],
)
def test_common_date_formats_parse_to_aware_datetimes(value, expected):
    parsed = parse_published(value)
    assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize(
    "value", ["03/04/2024", "12/02/2024", "2024-02-30", "sometime last week", "Mon, 12 Feb 99999 10:00:00 GMT", ""]
)
def test_ambiguous_or_impossible_dates_stay_unparsed(value):
    assert parse_published(value) is None


@pytest.mark.parametrize(
    "header, raw, unreadable",
    [
        ("published: 12 February 2024\n", "12 February 2024", False),
        ("date: 03/04/2024\n", "03/04/2024", True),
        ("date: the day before yesterday\n", "the day before yesterday", True),
        ("author: Ada\n", None, False),
        (f"published: {'9' * 500}\n", "9" * 200, True),
    ],
)
def test_the_raw_date_is_kept_and_unreadable_dates_are_flagged(header, raw, unreadable):
    article = parse_article(_with_front_matter(header))
    assert article.published_raw == raw
    assert article.date_unreadable is unreadable


def test_legacy_date_line_is_kept_raw_too():
    article = parse_article(b"Published: Mon, 12 Feb 2024 10:00:00 GMT\nHeadline\nBody.\n")
    assert article.published_raw == "Mon, 12 Feb 2024 10:00:00 GMT"
    assert article.published_at == datetime(2024, 2, 12, 10, tzinfo=UTC)


# --- invisible characters and mojibake -----------------------------------------

INVISIBLE = [
    ("Tony\u200d Blair", "Tony Blair"),
    ("Gor\u200bdon Brown", "Gordon Brown"),
    ("Angela\u200c Merkel", "Angela Merkel"),
    ("Emmanuel\u2060 Macron", "Emmanuel Macron"),
    ("Jacinda\ufeff Ardern", "Jacinda Ardern"),
    ("co\u00adoperation", "cooperation"),
]
MOJIBAKE = [
    ("\u00e2\u20ac\u0153We are ready,\u00e2\u20ac\x9d the coach said.", "\u201cWe are ready,\u201d the coach said."),
    ("the team\u00e2\u20ac\u2122s captain", "the team\u2019s captain"),
    ("Caf\u00c3\u00a9 owners", "Caf\u00e9 owners"),
    ("\u00c3\u00adndice de precios", "\u00edndice de precios"),
    ("tickets cost \u00c2\u00a320", "tickets cost \u00a320"),
    ("Caf\u00c3\u200b\u00a9", "Caf\u00e9"),  # an invisible character inside the mojibake pair
    ("a latin-1 \x93quote\x94 here", "a latin-1 \u201cquote\u201d here"),
]
UNTOUCHED = [
    "\u201ccurly\u201d and \u2018single\u2019 quotes stay curly",
    "\ufb01nal \uff21\uff22\uff23 fish &amp; chips",
    "S\u00e3o Paulo, \u00c6r\u00f8 and \u00d0akovo",
    "\u00c5ngstr\u00f6m na\u00efve caf\u00e9 \u20ac5 \u2014 dash",
    "one\u2028two",
]


@pytest.mark.parametrize("text, expected", INVISIBLE)
def test_invisible_characters_are_removed(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("text, expected", MOJIBAKE)
def test_mojibake_is_repaired(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("text", UNTOUCHED)
def test_encoding_repair_leaves_legitimate_text_alone(text):
    """Guard on the fixer settings: no uncurling, ligatures, widths, entities or line breaks."""
    assert normalize(text) == text


@pytest.mark.parametrize(
    "text",
    [t for t, _ in INVISIBLE + MOJIBAKE]
    + UNTOUCHED
    + ["e\u200b\u0301 composed", "line one \r\nCaf\u00c3\u00a9 \r\n\n", "A\u030a\u00a1 pair made by NFC"],
)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


def test_a_joiner_inside_a_name_no_longer_changes_the_article():
    plain = parse_article(b"Visit\nTony Blair spoke in Leeds.\n")
    joined = parse_article("Visit\nTony\u200d Blair spoke in Leeds.\n".encode())
    assert joined.text == plain.text and joined.article_id == plain.article_id


def test_utf8_file_with_one_stray_cp1252_byte_keeps_its_quotes():
    raw = "Caf\u00e9 reopens\nThe owner\u2019s \u2018big day\u2019 came.".encode() + b" A stray \x96 byte.\n"
    article = parse_article(raw)
    assert article.encoding == "cp1252"
    assert article.text == "Caf\u00e9 reopens\nThe owner\u2019s \u2018big day\u2019 came. A stray \u2013 byte."


def test_double_encoded_file_is_repaired():
    mojibake = "Caf\u00e9 reopens\nThe owner\u2019s \u201cbig day\u201d came.\n".encode().decode("cp1252", "replace")
    article = parse_article(mojibake.replace("\ufffd", "\x9d").encode())
    assert article.title == "Caf\u00e9 reopens"
    assert article.text == "Caf\u00e9 reopens\nThe owner\u2019s \u201cbig day\u201d came."
