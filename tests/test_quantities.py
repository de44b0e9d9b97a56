import pytest

from newsdesk.extraction.quantities import extract_quantities, parse_number


@pytest.mark.parametrize(
    "text, value",
    [
        ("600,000", 600000.0),
        ("3 million", 3_000_000.0),
        ("an additional 10,000", 10000.0),
        ("£5bn", 5e9),
        ("1.5 billion", 1.5e9),
        ("15%", 15.0),
        ("three", 3.0),
        ("twenty five", 25.0),
        ("a dozen", 12.0),
        ("2m", 2e6),
        ("some", None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_quantities_carry_values_units_and_offsets(nlp):
    doc = nlp("Officials said 3,000 troops arrived and the deal cost $2 billion, up 15%.")
    found = {q.value: q for q in extract_quantities(doc)}
    assert found[3000.0].unit == "troop"
    assert found[2e9].unit == "USD"
    assert found[15.0].unit == "percent"
    for q in found.values():
        assert doc.text[q.start_char : q.end_char] == q.text
