import pytest

from newsdesk.extraction.entities import entity_id_for, extract_mentions, load_aliases, trim_span


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


COLLINS = (
    "James Collins opened the meeting in Leeds on Monday. Later Danny Collins spoke about the budget. "
    "Collins said the council would vote next week."
)


def test_a_lone_surname_goes_to_the_last_full_name_before_it(nlp):
    lone = [m for m in extract_mentions(nlp(COLLINS)) if m.text == "Collins"]
    assert [m.entity_name for m in lone] == ["Danny Collins"]


def test_same_text_same_entities_whatever_the_hash_seed():
    """Set order follows PYTHONHASHSEED: a rule that read it gave different rows per process."""
    import subprocess
    import sys

    code = (
        "import sys; from newsdesk.extraction.nlp import load_model; from newsdesk.settings import Settings; "
        "from newsdesk.extraction.entities import extract_mentions; nlp = load_model(Settings().model); "
        "print([(m.text, m.entity_name) for m in extract_mentions(nlp(sys.argv[1]))])"
    )
    text = (
        "Danny Collins and James Collins met Rutte. "
        + COLLINS.replace("Danny ", "").replace("James ", "")
        + " Then James Collins, Danny Collins and Collins left."
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, text],
            stdout=subprocess.PIPE,
            text=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)},
        )
        for seed in range(4)
    ]
    outputs = {proc.communicate(timeout=120)[0] for proc in runs}
    assert len(outputs) == 1, outputs


@pytest.mark.parametrize(
    "surface, at, expected",
    [
        ("Collins", 50, "Danny Collins"),  # the last full name before it
        ("Collins", 5, "James Collins"),  # none before: the first after
        ("James", 50, "James Collins"),  # a given name
        ("Smith", 50, None),
    ],
)
def test_full_name_for(surface, at, expected):
    from newsdesk.extraction.entities import _full_name_for

    assert _full_name_for(surface, at, [(10, "James Collins"), (30, "Danny Collins")]) == expected
