"""The newest-first reports join only the newest articles when those hold enough rows: each
answer, on warehouses shaped to take that path, the fallback and the edges between them,
against a plain query of what the report promises."""

from __future__ import annotations

import pytest

from newsdesk.settings import Settings
from newsdesk.warehouse import lake
from newsdesk.warehouse.files import reports

WHO_SAID_WHAT = """
select coalesce(e.name, c.speaker), c.speaker, c.cue, c.kind, c.content, a.title, c.confidence
from claims as c
join articles as a using (article_id)
left join entities as e on e.entity_id = c.speaker_entity_id
where c.kind <> 'unattributed'
order by a.ingested_at desc, c.article_id, c.claim_idx
limit 1000
"""
NUMERIC_CLAIMS = """
select q.value, q.unit, q.text, coalesce(e.name, c.speaker, '(unattributed)'), c.cue, c.content, a.title
from quantities as q
join claims as c using (article_id, claim_idx)
join articles as a using (article_id)
left join entities as e on e.entity_id = c.speaker_entity_id
order by a.ingested_at desc, q.article_id, q.claim_idx, q.value desc, q.quantity_idx
limit 1000
"""
CLAIMS_BY_SPEAKER = """
select coalesce(e.name, c.speaker), c.cue, c.kind, c.content, a.title
from claims as c
join articles as a using (article_id)
left join entities as e on e.entity_id = c.speaker_entity_id
where contains(lower(coalesce(e.name, c.speaker)), lower($speaker))
order by a.ingested_at desc, c.article_id, c.claim_idx
limit 1000
"""

# Shapes: articles, how many share each ingested_at, which articles hold attributed claims
# and numbers (by age rank: 0 is the newest), and whether some have no ingested_at.
SHAPES = {
    # 1,500 articles with an attributed claim and a number in it each: the 1,000 newest are
    # enough (the cutoff)
    "cutoff": dict(articles=1500, tie=1, busy=lambda rank: True, nulls=False),
    # the same, with 250 articles to a timestamp: the cutoff takes every article tied with the 1,000th
    "ties": dict(articles=1500, tie=250, busy=lambda rank: True, nulls=False),
    # the 1,000 newest hold no attributed claim and no number: every article is read
    "fallback": dict(articles=2100, tie=1, busy=lambda rank: rank >= 1000, nulls=False),
    # one short of enough among the 1,000 newest: every article is read
    "one_short": dict(articles=1300, tie=1, busy=lambda rank: rank != 500, nulls=False),
    # articles without an ingested_at come last
    "nulls": dict(articles=1200, tie=1, busy=lambda rank: True, nulls=True),
}


def build(settings: Settings, articles: int, tie: int, busy, nulls: bool) -> None:
    """Article i is ingested at minute i // tie (the highest is the newest). A busy article
    has an attributed claim (resolved to one of five speakers, or unresolved) with a number
    in it; every article has an unattributed claim and two numbers outside any claim."""
    con = lake.connect(settings)
    try:
        rows = []
        for i in range(articles):
            rank = articles - 1 - i  # 0: the newest
            stamp = None if nulls and i % 7 == 0 else "2026-01-01 00:00:00+00:00"
            minutes = i // tie
            rows.append((f"a{i:05d}", f"Title {i}", stamp, minutes, bool(busy(rank))))
        con.execute("create temp table plan (article_id varchar, title varchar, stamp timestamptz, m int, busy bool)")
        con.executemany("insert into temp.plan values (?, ?, ?, ?, ?)", rows)
        con.execute("begin transaction")
        con.execute(
            "insert into articles (article_id, title, ingested_at) "
            "select article_id, title, stamp + to_minutes(m) from temp.plan"
        )
        con.execute(
            "insert into claims (article_id, claim_idx, kind, speaker, speaker_entity_id, cue, content, confidence) "
            "select article_id, k, case when k = 1 then 'unattributed' else 'direct' end, "
            "  case when m % 3 = 0 then 'an aide' else 'Speaker ' || (m % 5) end, "
            "  case when m % 3 = 0 then null else 'e' || (m % 5) end, "
            "  'said', 'words ' || article_id || ' ' || k, 0.5 "
            "from temp.plan, range(2) as r(k) where busy or k = 1"
        )
        con.execute(
            "insert into quantities (article_id, quantity_idx, claim_idx, value, unit, text) "
            "select article_id, k, case when k = 0 then 0 end, (m * 7 + k) % 11, 'USD', 'n' || k "
            "from temp.plan, range(3) as r(k) where busy or k > 0"
        )
        con.execute(
            "insert into mentions (article_id, mention_idx, entity_id, entity_name, text, label, first_in_article) "
            "select article_id, 0, 'e' || (m % 5), 'Speaker ' || (m % 5), 'Speaker', 'PERSON', true "
            "from temp.plan where busy"
        )
        lake.rebuild_entity_spellings(con)  # what the batch commit keeps for the reports
        con.execute("commit")
    finally:
        con.close()


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shaped(request, tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp(request.param)
    settings = Settings(seeds=root / "seeds", warehouse=root / "warehouse")
    build(settings, **SHAPES[request.param])
    return settings


def answers(settings: Settings, report: str, plain: str, params: dict | None = None) -> tuple[list, list]:
    con = lake.open_reader(settings)
    try:
        found = lake.query(con, reports(None)[report].text, params)[1]
        expected = con.execute(plain, params).fetchall()
    finally:
        con.close()
    return found, expected


def test_who_said_what_is_the_newest_thousand_attributed_claims(shaped):
    found, expected = answers(shaped, "who_said_what", WHO_SAID_WHAT)
    assert len(expected) == 1000
    assert found == expected


def test_numeric_claims_is_the_newest_thousand_numbers_in_claims(shaped):
    found, expected = answers(shaped, "numeric_claims", NUMERIC_CLAIMS)
    assert len(expected) == 1000
    assert found == expected


@pytest.mark.parametrize("speaker", ["speaker 3", "aide", "", "nobody"])
def test_claims_by_speaker_is_the_newest_thousand_of_that_name(shaped, speaker):
    found, expected = answers(shaped, "claims_by_speaker", CLAIMS_BY_SPEAKER, {"speaker": speaker})
    assert found == expected
