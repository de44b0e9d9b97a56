"""entity_spellings, the counts the reports name entities by, against the mentions they count:
after new, replaced and retired articles, after `maintain`, and on a warehouse from before it."""

from __future__ import annotations

import pytest

from helpers import newsdesk
from newsdesk.settings import Settings
from newsdesk.warehouse import lake
from newsdesk.warehouse.files import reports

# What the spellings must sum to: one figure per spelling, taken from mentions alone.
FROM_MENTIONS = """
select entity_id, entity_name, label, text, count(*) as mentions
from mentions where entity_id is not null group by all order by all
"""
FROM_SPELLINGS = """
select entity_id, entity_name, label, text, sum(mentions)::bigint as mentions
from entity_spellings group by all having sum(mentions) > 0 order by all
"""
ARTICLES_FROM_MENTIONS = """
select entity_id, count(distinct article_id) from mentions where entity_id is not null group by all order by all
"""
ARTICLES_FROM_SPELLINGS = """
select entity_id, sum(articles)::bigint from entity_spellings group by all having sum(mentions) > 0 order by all
"""


def batch(articles: dict[str, list[tuple[str, str, str]]], files: dict[str, str], previous=()) -> lake.BatchRows:
    """articles: id -> mentions as (entity, name, text); files: path -> the article it now holds."""
    return lake.BatchRows(
        sources=[
            {
                "path": path,
                "content_sha256": path,
                "size_bytes": 1,
                "mtime_ns": 1,
                "article_id": article_id,
                "status": "ingested",
                "encoding": "utf-8",
                "run_id": "r",
            }
            for path, article_id in files.items()
        ],  # fmt: skip
        articles=[{"article_id": a, "title": a, "text": "x", "run_id": "r"} for a in articles],
        mentions=[
            {"article_id": a, "mention_idx": i, "entity_id": e, "entity_name": name, "text": text, "label": "PERSON"}
            for a, found in articles.items()
            for i, (e, name, text) in enumerate(found)
        ],
        claims=[
            {
                "article_id": a,
                "claim_idx": 0,
                "kind": "direct",
                "speaker": found[0][2],
                "speaker_entity_id": found[0][0],
                "cue": "said",
                "content": "words",
            }
            for a, found in articles.items()
            if found
        ],  # fmt: skip
        quantities=[],
        previous_article_ids=list(previous),
    )


def history(settings: Settings) -> None:
    """New articles, an article replaced with other mentions, and one retired."""
    con = lake.connect(settings)
    try:
        lake.commit_batch(
            con,
            settings,
            batch(
                {
                    "a1": [("e1", "Mark Rutte", "Mark Rutte"), ("e1", "Mark Rutte", "Rutte"), ("e2", "Ann Lee", "Lee")],
                    "a2": [("e1", "Rutte", "Rutte"), ("e2", "Ann Lee", "Ann Lee")],
                    "a3": [("e3", "Bo Diaz", "Diaz"), (None, None, "it")],
                },
                {"a1.txt": "a1", "a2.txt": "a2", "a3.txt": "a3"},
            ),
        )
        # a1 written again with other mentions: "Mark Rutte" must lose its two
        lake.commit_batch(con, settings, batch({"a1": [("e1", "Rutte", "Rutte"), ("e2", "A. Lee", "A. Lee")]}, {}))
        # a3.txt now holds a4: a3 is retired, and Diaz with it
        lake.commit_batch(con, settings, batch({"a4": [("e2", "A. Lee", "Lee")]}, {"a3.txt": "a4"}, previous=["a3"]))
    finally:
        con.close()


def rows(settings: Settings, statement: str) -> list[tuple]:
    con = lake.open_reader(settings)
    try:
        return con.execute(statement).fetchall()
    finally:
        con.close()


def speaker_reports(settings: Settings) -> tuple[list, list, list]:
    """who_said_what, claims_by_speaker for "rutte", and top_entities: their rows."""
    con = lake.open_reader(settings)
    try:
        return (
            lake.query(con, reports(None)["who_said_what"].text)[1],
            lake.query(con, reports(None)["claims_by_speaker"].text, {"speaker": "rutte"})[1],
            lake.query(con, reports(None)["top_entities"].text)[1],
        )
    finally:
        con.close()


@pytest.fixture
def settings(tmp_path) -> Settings:
    found = Settings(seeds=tmp_path / "seeds", warehouse=tmp_path / "warehouse")
    history(found)
    return found


def test_commits_keep_the_spellings_equal_to_the_mentions(settings):
    assert rows(settings, "select count(*) from articles") == [(3,)]  # a1, a2, a4: a3 was retired
    assert rows(settings, FROM_SPELLINGS) == rows(settings, FROM_MENTIONS)
    assert rows(settings, ARTICLES_FROM_SPELLINGS) == rows(settings, ARTICLES_FROM_MENTIONS)
    # the replaced and retired rows were taken off, not merely left out of a later sum
    assert ("e1", "Mark Rutte") not in {row[:2] for row in rows(settings, FROM_SPELLINGS)}
    assert "e3" not in {row[0] for row in rows(settings, FROM_SPELLINGS)}
    assert rows(settings, "select count(*) from entity_spellings where mentions < 0")[0][0] > 0


def test_reports_name_speakers_as_the_entities_view_does(settings):
    view = dict(rows(settings, "select entity_id, name from entities"))
    assert view == {"e1": "Rutte", "e2": "A. Lee"}  # after the replacement, not before it
    said, by_speaker, top = speaker_reports(settings)
    assert sorted(row[0] for row in said) == sorted(view[e] for e in ("e1", "e1", "e2"))
    assert [row[0] for row in by_speaker] == ["Rutte", "Rutte"]
    expected = rows(
        settings,
        "select name, article_count, mention_count from entities order by article_count desc, mention_count desc, name",
    )
    assert [(name, articles, count) for name, _, articles, count, *_ in top] == expected


def test_maintain_collapses_the_rows_and_keeps_the_sums(settings):
    before = rows(settings, FROM_SPELLINGS)
    con = lake.connect(settings)
    try:
        lake.maintain(con, settings)
    finally:
        con.close()
    assert rows(settings, FROM_SPELLINGS) == before == rows(settings, FROM_MENTIONS)
    assert rows(settings, "select count(*) from entity_spellings")[0][0] == len(before)  # one row per spelling
    assert rows(settings, "select count(*) from entity_spellings where mentions <= 0") == [(0,)]


def test_maintain_mends_spellings_that_drifted(settings):
    con = lake.connect(settings)
    try:
        con.execute("insert into entity_spellings values ('e9', 'Nobody', 'PERSON', 'Nobody', 5, 5)")
        lake.maintain(con, settings)
    finally:
        con.close()
    assert rows(settings, FROM_SPELLINGS) == rows(settings, FROM_MENTIONS)


def test_a_warehouse_from_before_the_table_is_named_by_reports_and_filled_by_maintain(settings):
    con = lake.connect(settings)
    try:
        con.execute("drop table entity_spellings")
    finally:
        con.close()
    con = lake.open_reader(settings)
    try:  # a reader does not upgrade: a report says what to do, in one line
        with pytest.raises(lake.OutdatedWarehouse, match="lacks entity_spellings: run `newsdesk maintain`"):
            lake.query(con, reports(None)["top_entities"].text)
        assert lake.query(con, "select count(*) from mentions")[1] == [(5,)]  # what does not need it still runs
    finally:
        con.close()
    said = newsdesk("report", "who_said_what", "--warehouse", str(settings.warehouse_dir))
    assert said.returncode == 2 and len(said.stderr.strip().splitlines()) == 1
    assert "newsdesk maintain" in said.stderr
    upkeep = newsdesk("maintain", "--warehouse", str(settings.warehouse_dir))
    assert upkeep.returncode == 0, upkeep.stderr
    assert rows(settings, FROM_SPELLINGS) == rows(settings, FROM_MENTIONS)
    assert rows(settings, ARTICLES_FROM_SPELLINGS) == rows(settings, ARTICLES_FROM_MENTIONS)


def test_a_migrated_warehouse_has_the_same_spellings(settings, tmp_path):
    target = Settings(seeds=tmp_path / "seeds", warehouse=tmp_path / "moved")
    lake.migrate(settings, target)
    assert rows(target, FROM_SPELLINGS) == rows(settings, FROM_SPELLINGS)


def test_a_name_left_null_counts_for_nothing_as_in_the_entities_view(tmp_path):
    """mode() skips nulls: two unnamed mentions do not outvote one name."""
    settings = Settings(seeds=tmp_path / "seeds", warehouse=tmp_path / "warehouse")
    mentions = [("e1", None, "he"), ("e1", None, "him"), ("e1", "Mark Rutte", "Rutte"), ("e5", None, "it")]
    con = lake.connect(settings)
    try:
        lake.commit_batch(con, settings, batch({"a1": mentions}, {"a1.txt": "a1"}))
    finally:
        con.close()
    view = rows(settings, "select name, article_count, mention_count from entities order by all")
    assert view == [("Mark Rutte", 1, 3), (None, 1, 1)]
    said, by_speaker, top = speaker_reports(settings)
    assert [row[0] for row in said] == ["Mark Rutte"]
    assert [row[0] for row in by_speaker] == ["Mark Rutte"]
    assert sorted(((name, articles, count) for name, _, articles, count, *_ in top), key=str) == sorted(view, key=str)
