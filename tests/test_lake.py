"""The warehouse layer: read-only queries and atomic batch commits."""

from __future__ import annotations

import pytest

from newsdesk.warehouse import lake


@pytest.fixture
def warehouse(workspace):
    con = lake.connect(workspace)
    con.close()
    return workspace


@pytest.mark.parametrize(
    "statement",
    [
        "delete from articles",
        "insert into runs (run_id) values ('x')",
        "drop table articles",
        "create table evil (x int)",
        "attach ':memory:' as other",
        "copy articles to '/tmp/out.csv'",
        "install httpfs",
        "load httpfs",
        "set enable_external_access = true",
        "select 1; delete from articles",
        "update sources set status = 'x'",
    ],
)
def test_read_only_path_refuses_changes(warehouse, statement):
    con = lake.open_reader(warehouse)
    try:
        with pytest.raises((lake.ReadOnlyViolation, Exception)) as info:
            lake.query(con, statement)
        assert isinstance(info.value, lake.ReadOnlyViolation) or "read-only" in str(info.value).lower()
    finally:
        con.close()


def test_reader_cannot_read_files_outside_the_lake(warehouse):
    import duckdb

    con = lake.open_reader(warehouse)
    try:
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            lake.query(con, "select * from read_csv('/etc/passwd')")
    finally:
        con.close()


def _rows(article_id: str) -> lake.BatchRows:
    return lake.BatchRows(
        sources=[
            {
                "path": f"{article_id}.txt",
                "content_sha256": "x",
                "size_bytes": 1,
                "mtime_ns": 1,
                "modified_at": None,
                "article_id": article_id,
                "status": "ingested",
                "error": None,
                "encoding": "utf-8",
                "first_seen_at": None,
                "last_seen_at": None,
                "run_id": "r",
            }
        ],
        articles=[{"article_id": article_id, "title": "t", "text": "t", "run_id": "r"}],
        mentions=[{"article_id": article_id, "mention_idx": 0, "start_char": 0, "end_char": 1, "text": "t"}],
        claims=[],
        quantities=[],
        previous_article_ids=[],
    )


def test_a_failed_batch_leaves_nothing(warehouse):
    con = lake.connect(warehouse)
    try:
        lake.commit_batch(con, warehouse, _rows("a1"))
        bad = _rows("a2")
        bad.claims = [{"article_id": "a2", "claim_idx": "not-an-int"}]
        with pytest.raises(lake.QueryError):  # a bad value: DuckDB refuses the cast
            lake.commit_batch(con, warehouse, bad)
        assert con.execute("select article_id from articles").fetchall() == [("a1",)]
        assert con.execute("select count(*) from mentions").fetchall() == [(1,)]
        assert con.execute("select path from sources").fetchall() == [("a1.txt",)]
    finally:
        con.close()


def test_committing_the_same_batch_twice_is_idempotent(warehouse):
    con = lake.connect(warehouse)
    try:
        lake.commit_batch(con, warehouse, _rows("a1"))
        lake.commit_batch(con, warehouse, _rows("a1"))
        for table in ("articles", "mentions", "sources"):
            assert con.execute(f"select count(*) from {table}").fetchall() == [(1,)]
    finally:
        con.close()


def test_the_commit_sets_first_in_article_whatever_the_batch_says(warehouse):
    """Rows copied from the warehouse carry the flag; the commit computes it anew."""
    con = lake.connect(warehouse)
    try:
        rows = _rows("a1")
        rows.mentions = [
            {**rows.mentions[0], "entity_id": "e1", "first_in_article": False},
            {**rows.mentions[0], "mention_idx": 1, "entity_id": "e1", "first_in_article": True},
        ]
        lake.commit_batch(con, warehouse, rows)
        flags = con.execute("select mention_idx, first_in_article from mentions order by 1").fetchall()
        assert flags == [(0, True), (1, False)]
    finally:
        con.close()


def _mentions_row_groups(con) -> list[int]:
    files = [row[0] for row in con.execute("select data_file from ducklake_list_files('news', 'mentions')").fetchall()]
    return [
        row[0]
        for row in con.execute(
            "select row_group_num_rows from parquet_metadata($files)"
            " group by file_name, row_group_id, row_group_num_rows",
            {"files": files},
        ).fetchall()
    ]


def _many_mentions(article_id: str, count: int) -> lake.BatchRows:
    rows = _rows(article_id)
    rows.mentions = [{**rows.mentions[0], "mention_idx": i} for i in range(count)]
    return rows


def test_a_runs_merges_write_small_row_groups_and_maintain_big_ones(warehouse):
    """A merge holds up to a row group in memory: a long run's merges write small ones
    (DuckDB's 122,880 rows were the run's peak) and put the lake back to 122,880, so
    later sessions and `maintain` write the big ones readers scan fastest."""
    half = lake.RUN_MERGE_ROW_GROUP_ROWS // 2 + 100
    option = {"name": "parquet_row_group_size"}
    con = lake.connect(warehouse)
    try:
        lake.commit_batch(con, warehouse, _many_mentions("a1", half))
        lake.commit_batch(con, warehouse, _many_mentions("a2", half))
        lake.merge_small_files(warehouse)
        groups = _mentions_row_groups(con)
        files = con.execute("select count(*) from ducklake_list_files('news', 'mentions')").fetchone()
        # DuckDB closes a row group at the first 2,048-row vector that reaches the size.
        assert files == (1,) and len(groups) == 2 and max(groups) < lake.RUN_MERGE_ROW_GROUP_ROWS + 2048, groups
        stored = "select value from news.options() where option_name = $name and scope = 'GLOBAL'"
        assert con.execute(stored, option).fetchall() == [(str(lake.READER_ROW_GROUP_ROWS),)]
    finally:
        con.close()
    con = lake.connect(warehouse)  # a later session: it must not load the merge's size
    try:
        lake.commit_batch(con, warehouse, _many_mentions("a3", half))
        lake.maintain(con, warehouse)
        assert _mentions_row_groups(con) == [3 * half]  # one row group: under 122,880 rows
    finally:
        con.close()


def _mention(article_id: str, idx: int, name: str, label: str) -> dict:
    return {
        "article_id": article_id,
        "mention_idx": idx,
        "start_char": 0,
        "end_char": 1,
        "text": "t",
        "entity_id": name.lower(),
        "entity_name": name,
        "label": label,
    }


@pytest.mark.parametrize("slice_articles", [1, 4, lake.RUN_SLICE_ARTICLES])
def test_run_highlights_count_articles_mentions_and_the_usual_label_of_this_run_only(warehouse, slice_articles):
    """The report artifact's top entities, against the same counts made in Python, however
    many articles each slice of the run holds (an entity spans slices)."""
    import random
    from collections import Counter

    rnd = random.Random(7)
    names = {"Ann Pryce": ("PERSON",), "Harbour Board": ("ORG", "GPE"), "Elmfield": ("GPE", "LOC", "ORG")}
    mentions = []
    con = lake.connect(warehouse)
    try:
        for number in range(30):
            rows = _rows(f"a{number}")
            rows.articles[0]["run_id"] = "other" if number >= 25 else "r"
            rows.mentions = [
                _mention(f"a{number}", idx, name, rnd.choice(names[name]))
                for idx, name in enumerate(rnd.choices(sorted(names), k=rnd.randint(0, 6)))
            ]
            mentions += [m for m in rows.mentions if number < 25]
            lake.commit_batch(con, warehouse, rows)
        top, _ = lake.run_highlights(con, "r", entities=2, slice_articles=slice_articles)
    finally:
        con.close()

    def usual_label(name: str) -> str:
        counts = Counter(m["label"] for m in mentions if m["entity_name"] == name)
        return min(counts, key=lambda label: (-counts[label], label))

    expected = sorted(
        (
            (
                name,
                usual_label(name),
                len({m["article_id"] for m in mentions if m["entity_name"] == name}),
                sum(1 for m in mentions if m["entity_name"] == name),
            )
            for name in {m["entity_name"] for m in mentions}
        ),
        key=lambda row: (-row[2], -row[3], row[0]),
    )[:2]
    assert [tuple(row) for row in top] == expected


def _article_in_run(article_id: str, run_id: str) -> lake.BatchRows:
    rows = _rows(article_id)
    rows.sources[0]["path"] = f"{run_id}/{article_id}.txt"
    rows.articles[0].update(run_id=run_id, text="tea")
    return rows


def test_a_runs_slices_hold_each_of_its_articles_once_whatever_the_id(warehouse):
    """The end of a run reads its articles by slices of ids: every id of the run, of any
    form (empty, digits, upper and lower case, accents), falls in exactly one slice."""
    ids = ["", "10", "9", "Zeta", "alpha", "alpha-2", "\u00e4hnlich", "\u00c4", "~tilde", "a" * 40, "b c"]
    con = lake.connect(warehouse)
    try:
        for article_id in ids:
            lake.commit_batch(con, warehouse, _article_in_run(article_id, "r"))
        lake.commit_batch(con, warehouse, _article_in_run("other-run", "s"))
        for size in (1, 2, 3, 100):
            slices = lake.run_slices(con, "r", size)
            assert len(slices) == -(-len(ids) // size)
            held = [
                con.execute(
                    "select article_id from articles where run_id = 'r' and article_id between $first and $last",
                    {"first": first, "last": last},
                ).fetchall()
                for first, last in slices
            ]
            assert all(len(rows) <= size for rows in held), (size, held)
            assert sorted(row[0] for rows in held for row in rows) == sorted(ids), size
        assert lake.run_slices(con, "no such run", 10) == []
    finally:
        con.close()


@pytest.mark.parametrize("slice_articles", [1, 2, lake.RUN_SLICE_ARTICLES])
def test_data_checks_count_every_bad_row_of_the_run_in_any_slice(warehouse, slice_articles):
    """Bad rows in different slices are all counted, once each, and rows of another run
    (between the same ids) are not."""
    con = lake.connect(warehouse)
    try:
        for number in range(5):
            lake.commit_batch(con, warehouse, _article_in_run(f"a{number}", "r"))
        lake.commit_batch(con, warehouse, _article_in_run("a25", "s"))
        assert set(lake.run_checks(con, "r", slice_articles).values()) == {0}
        # mention text that is not the article's text at its offsets: a0, a2, a4 and the other run's a25
        con.execute("update mentions set text = 'x' where article_id in ('a0', 'a2', 'a4', 'a25')")
        # offsets past the end of the text: a3
        con.execute("update mentions set end_char = 99 where article_id = 'a3'")
        bad = lake.run_checks(con, "r", slice_articles)
        assert bad["mention_text_mismatch"] == 4 and bad["mention_offsets_out_of_range"] == 1, bad
        assert sum(bad.values()) == 5, bad
        assert lake.run_checks(con, "s", slice_articles)["mention_text_mismatch"] == 1
    finally:
        con.close()


def test_run_highlights_skip_missing_labels_and_names_and_count_an_article_stored_twice_once(warehouse):
    """A mention without a label gives none (the label comes from those that have one), one
    without a name is no entity, and an article row stored twice in the run counts once."""
    con = lake.connect(warehouse)
    try:
        for number in range(3):
            rows = _article_in_run(f"a{number}", "r")
            rows.mentions = [
                _mention(f"a{number}", 0, "Ann Pryce", "PERSON"),
                _mention(f"a{number}", 1, "Ann Pryce", None),
                _mention(f"a{number}", 2, "Ann Pryce", None),
                {**_mention(f"a{number}", 3, "x", "ORG"), "entity_name": None, "entity_id": None},
            ]
            lake.commit_batch(con, warehouse, rows)
        con.execute("insert into articles select * from articles where article_id = 'a1'")
        for size in (1, 2, lake.RUN_SLICE_ARTICLES):
            top, _ = lake.run_highlights(con, "r", slice_articles=size)
            assert top == [("Ann Pryce", "PERSON", 3, 9)], (size, top)
            assert len(lake.run_slices(con, "r", size)) == -(-3 // size)
        assert con.execute(
            "select count(*) from duckdb_tables() where table_name = 'run_entity_counts'"
        ).fetchone() == (0,)
    finally:
        con.close()


# One way to break each data check, each on an article of its own (a0, a1, ...).
_BREAK_EACH_CHECK = {
    "claim_offsets_mismatch": "update claims set content_start = 1 where article_id = $id",
    "empty_claim_content": "update claims set content = '', content_end = 0 where article_id = $id",
    "mention_offsets_out_of_range": "update mentions set end_char = 0, text = '' where article_id = $id",
    "mention_text_mismatch": "update mentions set text = 'x' where article_id = $id",
    "quantity_claim_missing": "update quantities set claim_idx = 99 where article_id = $id",
    "quantity_text_mismatch": "update quantities set text = 'zzz' where article_id = $id",
    "speaker_without_mention": "update claims set speaker_entity_id = 'nobody' where article_id = $id",
    "stance_offsets_mismatch": "update stances set content = 'x' where article_id = $id",
}


@pytest.mark.parametrize("slice_articles", [1, 3, lake.RUN_SLICE_ARTICLES])
def test_every_data_check_finds_its_bad_row_in_whichever_slice_it_falls(warehouse, slice_articles):
    """Each check's bad row is in a different article, so in different slices; a copy of
    every fault in another run's article, between the same ids, is not this run's."""
    assert set(_BREAK_EACH_CHECK) == set(lake.checks())
    con = lake.connect(warehouse)
    try:
        ids = [f"a{number}" for number in range(len(_BREAK_EACH_CHECK))]
        for article_id, run_id in [*((i, "r") for i in ids), ("a35", "s")]:
            lake.commit_batch(con, warehouse, _article_in_run(article_id, run_id))
            # the text is "tea pot": a claim "tea", its number "pot", a stance "pot"
            params = {"id": article_id}
            con.execute("update articles set text = 'tea pot' where article_id = $id", params)
            con.execute(
                "insert into claims (article_id, claim_idx, content, content_start, content_end)"
                " values ($id, 0, 'tea', 0, 3)",
                params,
            )
            con.execute(
                "insert into quantities (article_id, quantity_idx, claim_idx, text, start_char, end_char)"
                " values ($id, 0, 0, 'pot', 4, 7)",
                params,
            )
            con.execute(
                "insert into stances (article_id, stance_idx, content, content_start, content_end)"
                " values ($id, 0, 'pot', 4, 7)",
                params,
            )
        assert set(lake.run_checks(con, "r", slice_articles).values()) == {0}
        for article_id, statement in zip(ids, _BREAK_EACH_CHECK.values(), strict=True):
            con.execute(statement, {"id": article_id})
        for statement in _BREAK_EACH_CHECK.values():
            con.execute(statement, {"id": "a35"})
        assert lake.run_checks(con, "r", slice_articles) == dict.fromkeys(_BREAK_EACH_CHECK, 1)
    finally:
        con.close()


def test_a_prepared_session_is_taken_by_one_connect_only_and_works_as_a_new_one(warehouse):
    """serve loads the next run's extensions ahead, in a thread (`prepare_session`); the
    next connect takes that session, attaches the lake on it and writes; the one after
    makes its own, and a reader on a spare is as locked down as on a new session."""
    import threading

    import duckdb

    key = lake._extensions_needed((warehouse,))
    for leftover in [lake._spare_sessions.pop(key, None)]:
        if leftover is not None:
            leftover.close()
    threads = [threading.Thread(target=lake.prepare_session, args=(warehouse,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spare = lake._spare_sessions[key]  # one spare, however often asked at once
    con = lake.connect(warehouse)
    try:
        assert con is spare and key not in lake._spare_sessions
        extensions = con.execute("select extension_name from duckdb_extensions() where loaded").fetchall()
        loaded = {row[0] for row in extensions}
        assert {"ducklake", "sqlite_scanner"} <= loaded
        con.execute("insert into runs (run_id, status) values ('prepared', 'completed')")
        second = lake.connect(warehouse, read_only=True)
        try:
            assert second is not spare
            assert second.execute("select status from runs where run_id = 'prepared'").fetchall() == [("completed",)]
        finally:
            second.close()
    finally:
        con.close()
    lake.prepare_session(warehouse)
    spare = lake._spare_sessions[key]
    reader = lake.open_reader(warehouse)
    try:
        assert reader is spare
        with pytest.raises(duckdb.Error):
            reader.execute("set enable_external_access = true")
        assert reader.execute("select count(*) from runs where run_id = 'prepared'").fetchall() == [(1,)]
    finally:
        reader.close()
