import pytest

from flows.parse import ParseError, decode, normalize, paragraph_spans, parse_article, split_metadata


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
