"""Reports on rows the pipeline seldom writes, put straight into a real warehouse: each
answer against a plain query of what the report promises."""

from __future__ import annotations

import pytest

from newsdesk.settings import Settings
from newsdesk.warehouse import lake
from newsdesk.warehouse.files import reports

ARTICLES = [("a1", "First", "2026-01-02"), ("a2", "Second", "2026-01-01")]
CLAIMS = [  # article, idx, speaker as written, resolved entity
    ("a1", 0, "Mark Rutte", "e9"),  # resolved to an entity no mention names
    ("a1", 1, "Rutte", "e1"),
    ("a1", 2, "he", "e1"),  # a pronoun resolved to Rutte
    ("a2", 0, "Rutte aide", "e2"),  # written "Rutte", resolved to someone else
    ("a2", 1, "a Rutte ally", None),  # unresolved
    ("a2", 2, "Jones", None),
]
MENTIONS = [  # article, entity, name: e3's names tie, and the tie goes to the first in order
    ("a1", "e1", "Mark Rutte"),
    ("a1", "e1", "Mark Rutte"),
    ("a2", "e2", "Anne Smith"),
    ("a1", "e3", "Zed Ruttenberg"),
    ("a2", "e3", "Anna Ruttenberg"),
]


@pytest.fixture
def warehouse(tmp_path) -> Settings:
    settings = Settings(seeds=tmp_path / "seeds", warehouse=tmp_path / "warehouse")
    con = lake.connect(settings)
    try:
        for article_id, title, day in ARTICLES:
            con.execute(
                "insert into articles (article_id, title, ingested_at) values (?, ?, ?)", [article_id, title, day]
            )
        for i, (article_id, entity_id, name) in enumerate(MENTIONS):
            con.execute(
                "insert into mentions (article_id, mention_idx, entity_id, entity_name, text, label) "
                "values (?, ?, ?, ?, ?, 'PERSON')",
                [article_id, i, entity_id, name, name],
            )
        for article_id, idx, speaker, entity_id in CLAIMS:
            con.execute(
                "insert into claims (article_id, claim_idx, kind, speaker, speaker_entity_id, cue, content) "
                "values (?, ?, 'direct', ?, ?, 'said', 'words')",
                [article_id, idx, speaker, entity_id],
            )
        lake.rebuild_entity_spellings(con)  # what the batch commit keeps for the reports
    finally:
        con.close()
    return settings


def run(settings: Settings, query: str, params: dict | list | None = None) -> list[tuple]:
    con = lake.open_reader(settings)
    try:
        return lake.query(con, query, params)[1]
    finally:
        con.close()


@pytest.mark.parametrize("text", ["rutte", "RUTTE", "smith", "jones", "ruttenberg", "", "nobody"])
def test_claims_by_speaker_lists_every_claim_whose_speaker_name_holds_the_text(warehouse, text):
    expected = run(
        warehouse,
        "select coalesce(e.name, c.speaker) as speaker, c.content from claims as c "
        "left join entities as e on e.entity_id = c.speaker_entity_id "
        "where contains(lower(coalesce(e.name, c.speaker)), lower(?))",
        [text],
    )
    found = run(warehouse, reports(None)["claims_by_speaker"].text, {"speaker": text})
    assert sorted((row[0], row[3]) for row in found) == sorted(expected)


def test_claims_by_speaker_names_and_orders_as_promised(warehouse):
    found = run(warehouse, reports(None)["claims_by_speaker"].text, {"speaker": "rutte"})
    # newest article first; e9 has no mention, so its claim keeps the written name
    assert [(row[0], row[4]) for row in found] == [
        ("Mark Rutte", "First"),
        ("Mark Rutte", "First"),
        ("Mark Rutte", "First"),
        ("a Rutte ally", "Second"),
    ]


def test_a_tied_name_is_the_same_in_the_entities_view_and_every_report(warehouse):
    names = run(warehouse, "select name from entities where entity_id = 'e3'")
    assert names == [("Anna Ruttenberg",)]  # the first of the tied names, whatever the row order


def test_top_entities_counts_articles_as_a_plain_distinct_count(tmp_path):
    """top_entities counts an entity's articles by the first_in_article flag the commit sets:
    the same as counting distinct articles, including an entity mentioned twice in one article."""
    settings = Settings(seeds=tmp_path / "seeds", warehouse=tmp_path / "warehouse")
    mentions = [  # article, entity: e1 twice in a1, e2 in both articles, e3 once
        ("a1", "e1"),
        ("a1", "e2"),
        ("a1", "e1"),
        ("a2", "e2"),
        ("a2", "e3"),
        ("a2", "e2"),
    ]
    con = lake.connect(settings)
    try:
        lake.commit_batch(
            con,
            settings,
            lake.BatchRows(
                sources=[],
                articles=[{"article_id": a, "title": a, "text": "x", "run_id": "r"} for a in ("a1", "a2")],
                mentions=[
                    {"article_id": a, "mention_idx": i, "entity_id": e, "entity_name": e, "text": e, "label": "ORG"}
                    for i, (a, e) in enumerate(mentions)
                ],
                claims=[],
                quantities=[],
                previous_article_ids=[],
            ),
        )
    finally:
        con.close()
    flagged = run(settings, "select article_id, mention_idx from mentions where first_in_article order by all")
    assert flagged == [("a1", 0), ("a1", 1), ("a2", 3), ("a2", 4)]
    report = run(settings, reports(None)["top_entities"].text)
    plain = run(
        settings,
        "select entity_id, count(distinct article_id), count(*) from mentions group by all order by 2 desc, 3 desc, 1",
    )
    assert [(name, articles, count) for name, _, articles, count, *_ in report] == plain
