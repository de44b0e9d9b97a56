import pytest

from flows.entities import entity_id_for, extract_mentions, load_aliases, trim_span


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the Korean Peninsula", "Korean Peninsula"),
        ("North Korea’s", "North Korea"),
        ("Germany's", "Germany"),
        ("“NATO,", "NATO"),
        ("Mark Rutte", "Mark Rutte"),
    ],
)
def test_trim_span(text, expected):
    start, end = trim_span(text, 0, len(text))
    assert text[start:end] == expected


def test_sample_article_people_are_entities(sample_doc):
    mentions = extract_mentions(sample_doc)
    people = {m.entity_name for m in mentions if m.label == "PERSON"}
    assert {"Mark Rutte", "Yoon Suk Yeol", "Volodymyr Zelenskyy", "Boris Pistorius", "John Healey"} <= people


def test_every_rutte_is_mark_rutte(sample_doc):
    rutte = [m for m in extract_mentions(sample_doc) if "Rutte" in m.text]
    assert len(rutte) >= 3
    assert {m.entity_name for m in rutte} == {"Mark Rutte"}
    assert len({m.entity_id for m in rutte}) == 1


def test_us_and_united_states_are_one_entity(sample_doc):
    mentions = extract_mentions(sample_doc)
    ids = {m.entity_id for m in mentions if m.text in {"US", "the United States"}}
    texts = {m.text for m in mentions if m.entity_name == "United States"}
    # The mention keeps its article as written; the entity's name has none.
    assert {"US", "the United States"} <= texts
    assert len(ids) == 1


def test_mention_text_is_the_surface_at_its_offsets(sample_doc):
    for m in extract_mentions(sample_doc):
        assert sample_doc.text[m.start_char : m.end_char] == m.text
        assert not m.entity_name.lower().startswith("the ")  # the name drops the article; the text keeps it
        assert not m.text.endswith(("’s", "'s"))


def test_parenthesised_acronym_is_an_in_document_alias(nlp):
    doc = nlp("The World Health Organization (WHO) warned on Monday. Later WHO said cases rose.")
    mentions = extract_mentions(doc)
    who = [m for m in mentions if m.text == "WHO"]
    assert who and all(m.entity_name == "World Health Organization" for m in who)


def test_entity_ids_are_stable_across_documents(nlp):
    one = extract_mentions(nlp("Mark Rutte spoke in Brussels on Monday about NATO."))
    two = extract_mentions(nlp("NATO chief Mark Rutte met the press."))
    id_one = {m.entity_id for m in one if m.entity_name == "Mark Rutte"}
    id_two = {m.entity_id for m in two if m.entity_name == "Mark Rutte"}
    assert id_one == id_two == {entity_id_for("Mark Rutte", "PERSON")}


def test_gpe_and_loc_share_an_identity():
    assert entity_id_for("Europe", "GPE") == entity_id_for("Europe", "LOC")
    assert entity_id_for("Europe", "GPE") != entity_id_for("Europe", "ORG")


def test_alias_table_loads_merges_and_blocks():
    table = load_aliases()
    assert table.merge["us"].canonical == "United States"
    assert "monday" in table.block
