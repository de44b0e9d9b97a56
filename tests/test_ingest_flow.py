"""End-to-end: the real ingest flow, a real (temporary) Prefect server, a real DuckLake."""

from __future__ import annotations

import shutil

import pytest

from helpers import SAMPLE, rows
from newsdesk.flows.ingest import ingest

pytestmark = pytest.mark.usefixtures("prefect_server")


def run(settings, **kwargs):
    return ingest(seeds=str(settings.seeds_dir), warehouse=str(settings.warehouse_dir), **kwargs)


def snapshot_count(settings) -> int:
    return len(rows(settings, "select snapshot_id from news.snapshots()"))


def test_shipped_seeds_end_to_end(workspace):
    counts = run(workspace)
    assert counts["added"] == 1 and counts["quarantined"] == 0
    assert rows(workspace, "select count(*) from articles")[0][0] == 1
    title, text = rows(workspace, "select title, text from articles")[0]
    assert title == "South Korea vows to respond to North Korea aiding Russia"
    # every mention's text is the text at its offsets
    bad = rows(
        workspace,
        "select count(*) from mentions m join articles a using (article_id) "
        "where substring(a.text, m.start_char + 1, m.end_char - m.start_char) <> m.text",
    )
    assert bad == [(0,)]
    people = {r[0] for r in rows(workspace, "select name from entities where label = 'PERSON'")}
    # mentions keep "the United States" as written; the entity's aliases drop the article
    assert rows(workspace, "select aliases from entities where name = 'United States'") == [(["US", "United States"],)]
    assert {"Mark Rutte", "Yoon Suk Yeol", "Volodymyr Zelenskyy", "Boris Pistorius", "John Healey"} <= people
    speakers = [
        r[0]
        for r in rows(workspace, "select e.name from claims c join entities e on e.entity_id = c.speaker_entity_id")
    ]
    assert speakers.count("Mark Rutte") == 3
    assert {
        "Yoon Suk Yeol",
        "Boris Pistorius",
        "John Healey",
        "United States",
        "Russia",
        "US Department of the Treasury",
        "South Korea",
    } <= set(speakers)
    tied = {r[0] for r in rows(workspace, "select value from quantities where claim_idx is not null")}
    assert {600000.0, 3000.0, 10000.0} <= tied
    assert not rows(workspace, "select * from claims where content like '%monitor the enforcement%'")
    # rows live in Parquet files, not inlined in the catalog
    assert list((workspace.warehouse_dir / "lake").rglob("*.parquet"))
    run_rows = rows(workspace, "select status, articles_added from runs")
    assert run_rows == [("completed", 1)]


def test_second_run_changes_nothing(workspace):
    run(workspace)
    before = snapshot_count(workspace)
    counts = run(workspace)
    assert counts["files_pending"] == 0 and counts["unchanged"] == 1 and counts["added"] == 0
    assert rows(workspace, "select count(*) from articles")[0][0] == 1
    # only the run record itself is written
    assert snapshot_count(workspace) - before <= 2


def test_edited_file_replaces_its_rows_and_deleted_file_keeps_history(workspace):
    run(workspace)
    (old_id,) = rows(workspace, "select article_id from articles")[0]
    path = workspace.seeds_dir / SAMPLE.name
    path.write_text(path.read_text(encoding="utf-8").replace("Mark Rutte", "Mark Rutte Jr"), encoding="utf-8")
    counts = run(workspace)
    assert counts["added"] == 1 and counts["retired"] == 1
    ids = rows(workspace, "select article_id from articles")
    assert len(ids) == 1 and ids[0][0] != old_id
    for table in ("mentions", "claims", "quantities"):
        assert rows(workspace, f"select count(*) from {table} where article_id = ?", [old_id]) == [(0,)]
    assert rows(workspace, "select article_id, status from sources") == [(ids[0][0], "ingested")]

    path.unlink()
    counts = run(workspace)
    assert counts["deleted"] == 1
    assert rows(workspace, "select status from sources") == [("deleted",)]
    assert rows(workspace, "select count(*) from articles") == [(1,)]


def test_an_edited_file_keeps_when_it_was_first_seen_and_the_plan_recalls_only_it(workspace):
    from newsdesk.pipeline.pending import discover_pending, pending_work, plan_pending, scan_ahead
    from newsdesk.warehouse import lake

    (workspace.seeds_dir / "other.txt").write_text("Another story\nThe mayor said that the bridge would reopen.\n")
    run(workspace)
    first_seen = dict(rows(workspace, "select path, first_seen_at from sources"))
    (old_id,) = rows(workspace, "select article_id from sources where path = ?", [SAMPLE.name])[0]
    path = workspace.seeds_dir / SAMPLE.name
    path.write_text(path.read_text(encoding="utf-8").replace("Mark Rutte", "Mark Rutte Jr"), encoding="utf-8")
    con = lake.connect(workspace, read_only=True)
    try:
        planned, known = discover_pending(workspace, con)
        ahead = plan_pending(workspace, con, scanned=scan_ahead(workspace.seeds_dir))
    finally:
        con.close()
    assert ahead == planned == pending_work(workspace)  # the walk in a thread of its own plans the same
    # the whole tree is planned from stats; the full row is fetched for the edited file only
    assert [stat.path for stat in planned.pending] == [SAMPLE.name] and planned.unchanged == 1
    assert set(known) == {SAMPLE.name}
    assert known[SAMPLE.name].article_id == old_id and known[SAMPLE.name].first_seen_at == first_seen[SAMPLE.name]
    counts = run(workspace)
    assert counts["added"] == 1 and counts["retired"] == 1
    assert dict(rows(workspace, "select path, first_seen_at from sources")) == first_seen


@pytest.fixture(params=["asked per batch", "fetched whole"])
def known_articles_way(request, monkeypatch):
    """A run that fits in one batch asks about its own articles; a longer one fetches
    every id: both ways must decide the same."""
    from newsdesk.flows import ingest as flow

    if request.param == "fetched whole":
        real = flow.known_articles_for
        monkeypatch.setattr(flow, "known_articles_for", lambda con, files, _, reextract: real(con, files, 0, reextract))
    return request.param


def test_duplicate_content_is_one_article_with_two_sources(workspace, known_articles_way):
    shutil.copy(workspace.seeds_dir / SAMPLE.name, workspace.seeds_dir / "copy.txt")
    (workspace.seeds_dir / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    counts = run(workspace)
    assert counts["added"] == 1 and counts["existing"] == 1 and counts["quarantined"] == 1
    assert rows(workspace, "select count(*) from articles") == [(1,)]
    assert rows(workspace, "select count(distinct article_id), count(*) from sources where status = 'ingested'") == [
        (1, 2)
    ]
    (error,) = rows(workspace, "select error from sources where path = 'broken.txt'")[0]
    assert "PNG" in error


def test_data_checks_pass_and_can_fail(workspace):
    from newsdesk.warehouse import lake

    run(workspace)
    (run_id,) = rows(workspace, "select run_id from articles")[0]
    con = lake.connect(workspace)
    try:
        checks = lake.run_checks(con, run_id)
        assert set(checks) >= {
            "mention_offsets_out_of_range",
            "mention_text_mismatch",
            "claim_offsets_mismatch",
            "empty_claim_content",
            "speaker_without_mention",
            "quantity_claim_missing",
        }
        assert all(bad == 0 for bad in checks.values()), checks
        con.execute("update mentions set text = 'not the text' where mention_idx = 0")
        con.execute("update claims set content = '' where claim_idx = 0")
        con.execute("update quantities set claim_idx = 9999 where quantity_idx = 0")
        broken = lake.run_checks(con, run_id)
        assert broken["mention_text_mismatch"] == 1 and broken["empty_claim_content"] == 1
        assert broken["quantity_claim_missing"] == 1
    finally:
        con.close()


def test_a_few_files_ask_only_about_their_own_articles_and_find_stored_content(workspace, monkeypatch):
    from newsdesk.warehouse import lake

    (workspace.seeds_dir / "second.txt").write_text("Another story\nThe mayor said that the bridge would reopen.\n")
    run(workspace)
    stored = dict(rows(workspace, "select path, article_id from sources"))
    asked: list[list[str] | None] = []
    real = lake.known_article_ids

    def recording(con, ids=None):
        asked.append(None if ids is None else sorted(ids))
        return real(con, ids)

    monkeypatch.setattr(lake, "known_article_ids", recording)
    shutil.copy(workspace.seeds_dir / SAMPLE.name, workspace.seeds_dir / "copy.txt")  # content already stored
    counts = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir), paths=["copy.txt"])
    assert counts["added"] == 0 and counts["existing"] == 1
    # its own article, not every id in the warehouse; the commit asks nothing more, as
    # the run retired no article
    assert asked == [[stored[SAMPLE.name]]]
    assert rows(workspace, "select article_id from sources where path = 'copy.txt'") == [(stored[SAMPLE.name],)]


DANGLING = (  # ingested files whose article is not stored
    "select count(*) from sources where status = 'ingested' and article_id not in (select article_id from articles)"
)


def _store_then_copy_and_edit(workspace, monkeypatch) -> None:
    """One file a batch; a.txt (content X) stored, then copied to z.txt and edited."""
    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "1")
    shutil.copy(workspace.seeds_dir / SAMPLE.name, workspace.seeds_dir / "a.txt")
    (workspace.seeds_dir / SAMPLE.name).unlink()
    run(workspace)
    shutil.copy(workspace.seeds_dir / "a.txt", workspace.seeds_dir / "z.txt")
    with open(workspace.seeds_dir / "a.txt", "a", encoding="utf-8") as handle:
        handle.write("The minister said the talks would resume in May.\n")


def test_a_copy_of_content_retired_earlier_in_the_run_is_read_again_not_left_dangling(workspace, monkeypatch):
    """a.txt holds content X. It is copied to z.txt and then edited. One file a batch:
    a.txt's commit retires X (no stored file points at it), after z.txt was judged
    "X is stored, no extraction". z.txt must not be stored pointing at X."""
    _store_then_copy_and_edit(workspace, monkeypatch)
    counts = run(workspace)
    assert counts["added"] == 1 and counts["retired"] == 1 and counts["retry_later"] == 1
    assert rows(workspace, DANGLING) == [(0,)]
    again = run(workspace)
    assert again["added"] == 1 and again["files_pending"] == 1
    assert rows(workspace, DANGLING) == [(0,)]
    assert rows(workspace, "select count(*) from sources where status = 'ingested'") == [(2,)]


def test_content_retired_by_the_run_is_extracted_again_by_a_batch_read_after(workspace, monkeypatch):
    """As above, with a file between: z.txt's batch is read after a.txt's commit retired
    X (one batch in flight), so the run extracts X again instead of leaving z.txt for
    the next run."""
    monkeypatch.setenv("NEWSDESK_N_PROCESS", "1")
    _store_then_copy_and_edit(workspace, monkeypatch)
    (workspace.seeds_dir / "m.txt").write_text("Harbour news\nThe harbour master said the quay would close.\n")
    counts = run(workspace)
    assert counts["added"] == 3 and counts["retired"] == 1 and counts["retry_later"] == 0
    assert rows(workspace, "select count(*) from sources where status = 'ingested'") == [(3,)]
    assert rows(workspace, DANGLING) == [(0,)]


def test_a_file_whose_article_another_writer_retired_is_read_again_by_the_next_sweep(workspace):
    """Another writer retired a file's article between this run's read of the file and
    its commit (simulated: the article's rows deleted behind the run's back). The next
    run's plan of the tree takes the file as pending and stores its article again;
    a deleted file's row naming a missing article, and a quarantined one naming none,
    are left as they are."""
    from newsdesk.warehouse import lake

    (workspace.seeds_dir / "bad.txt").write_bytes(b"")  # quarantined: empty
    (workspace.seeds_dir / "gone.txt").write_text("Old story\nThe clerk said the office had moved.\n")
    run(workspace)
    (workspace.seeds_dir / "gone.txt").unlink()
    run(workspace)
    stored = dict(rows(workspace, "select path, article_id from sources where article_id is not null"))
    article_id = stored[SAMPLE.name]
    con = lake.connect(workspace)
    try:  # the sample's article, and the deleted file's
        missing = [{"article_id": article_id}, {"article_id": stored["gone.txt"]}]
        con.register("batch_replaced", lake._table(missing, ["article_id"]))
        lake.transaction(con, workspace, lambda: lake._delete_batch_articles(con))
        con.unregister("batch_replaced")
    finally:
        con.close()
    assert rows(workspace, DANGLING) == [(1,)]
    statuses = dict(rows(workspace, "select path, status from sources"))
    assert statuses == {SAMPLE.name: "ingested", "bad.txt": "quarantined", "gone.txt": "deleted"}
    again = run(workspace)
    assert again["files_pending"] == 1 and again["added"] == 1 and again["retired"] == 0
    assert again["deleted"] == 0 and again["quarantined"] == 0
    assert rows(workspace, DANGLING) == [(0,)]
    assert rows(workspace, "select count(*) from articles where article_id = ?", [article_id]) == [(1,)]
    assert dict(rows(workspace, "select path, status from sources")) == statuses
    assert run(workspace)["files_pending"] == 0


def test_an_event_run_naming_a_file_whose_article_another_writer_retired_reads_it_again(workspace):
    """As above, through the named-paths lookup an event's run (or `--path`) plans with."""
    from newsdesk.warehouse import lake

    run(workspace)
    (article_id,) = rows(workspace, "select article_id from articles")[0]
    con = lake.connect(workspace)
    try:
        con.register("batch_replaced", lake._table([{"article_id": article_id}], ["article_id"]))
        lake.transaction(con, workspace, lambda: lake._delete_batch_articles(con))
        con.unregister("batch_replaced")
    finally:
        con.close()
    again = run(workspace, paths=[SAMPLE.name], sweep=False)
    assert again["files_pending"] == 1 and again["added"] == 1
    assert rows(workspace, DANGLING) == [(0,)]
    assert rows(workspace, "select count(*) from mentions where article_id = ?", [article_id])[0][0] > 0


def test_reextract_redoes_only_rows_from_an_older_extractor(workspace, known_articles_way):
    from newsdesk.extraction.pool import EXTRACTOR_VERSION
    from newsdesk.warehouse import lake

    shutil.copy(workspace.seeds_dir / SAMPLE.name, workspace.seeds_dir / "second.txt")
    (workspace.seeds_dir / "second.txt").write_text("Another story\nThe mayor said that the bridge would reopen.\n")
    run(workspace)
    before = rows(workspace, "select count(*) from mentions")[0][0]
    con = lake.connect(workspace)
    try:
        con.execute("update articles set extractor_version = 'old' where title like 'South Korea%'")
    finally:
        con.close()
    assert run(workspace)["files_pending"] == 0  # a plain run leaves old rows alone
    counts = run(workspace, reextract=True)
    assert counts["files_pending"] == 1 and counts["added"] == 0 and counts["replaced"] == 1
    assert rows(workspace, "select distinct extractor_version from articles") == [(EXTRACTOR_VERSION,)]
    assert rows(workspace, "select count(*) from mentions")[0][0] == before
    assert rows(workspace, "select count(distinct extractor_version) from mentions") == [(1,)]


@pytest.mark.parametrize(("merge_every", "live_files"), [(0, 7), (4, 4), (3, 2)])
def test_a_long_run_merges_its_small_files_as_it_goes(workspace, monkeypatch, merge_every, live_files):
    """One commit a file: without merging, every commit leaves a file per table it writes."""
    from helpers import write_variants
    from newsdesk.settings import Settings
    from newsdesk.warehouse import lake
    from newsdesk.warehouse.files import sql

    write_variants(workspace.seeds_dir, 6)  # 7 files with the sample: 7 commits
    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "1")
    monkeypatch.setenv("NEWSDESK_MERGE_EVERY_COMMITS", str(merge_every))
    counts = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert counts["added"] == 7
    articles_files = (
        "select count(*) from __ducklake_metadata_news.ducklake_data_file as f "
        "join __ducklake_metadata_news.ducklake_table as t using (table_id) "
        "where t.table_name = 'articles' and f.end_snapshot is null and t.end_snapshot is null"
    )
    con = lake.connect(Settings(seeds=workspace.seeds_dir, warehouse=workspace.warehouse_dir))
    try:
        live = con.execute(articles_files).fetchone()[0]
        assert con.execute(sql("live_data_files")).fetchone()[0] > 0
    finally:
        con.close()
    # every 4: one file for commits 1-4, then 5, 6 and 7 alone; every 3: one for 1-6, then 7
    assert live == live_files
    assert rows(workspace, "select count(*), count(distinct article_id) from articles") == [(7, 7)]


def test_a_failed_merge_is_a_warning_and_the_run_goes_on(workspace, monkeypatch, caplog):
    from helpers import write_variants
    from newsdesk.warehouse import lake

    def broken(settings):
        raise lake.WarehouseError("the warehouse's small files were not merged: disk full")

    monkeypatch.setattr(lake, "merge_small_files", broken)
    write_variants(workspace.seeds_dir, 3)
    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "1")
    monkeypatch.setenv("NEWSDESK_MERGE_EVERY_COMMITS", "2")
    counts = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert counts["added"] == 4
    assert rows(workspace, "select status, articles_added from runs") == [("completed", 4)]
    assert "were not merged: disk full; the run goes on" in caplog.text


def test_extraction_results_leave_no_per_article_links_in_the_flow_run():
    """Prefect links each element of a task's result to its state for the whole flow run:
    per article, that grew a 100,000-file run's memory by a GB."""
    from prefect import flow
    from prefect.context import FlowRunContext

    from newsdesk.extraction.pool import Extractor
    from newsdesk.flows.ingest import extract_batch
    from newsdesk.settings import Settings

    texts = [(f"id{i}", f"The mayor said on Monday that {i + 2} bridges would close.") for i in range(12)]

    @flow
    def extract_all() -> tuple[int, int]:
        with Extractor(Settings().model, 1, 4) as extractor:
            extractions = extract_batch.submit(texts, extractor).result().unquote()
        return len(extractions), len(FlowRunContext.get().run_results)

    extracted, links = extract_all()
    assert extracted == 12
    assert links <= 3  # the quote and its list, not one per article


def test_an_events_files_are_stored_before_the_sweep_of_the_rest(workspace, monkeypatch):
    """Named paths go first (a stat each), then the sweep takes everything else pending;
    the runs row counts the whole tree."""
    from helpers import write_variants

    write_variants(workspace.seeds_dir, 3)
    (workspace.seeds_dir / "old.txt").write_text("Old headline\n\nA story of our own that will be deleted.\n")
    assert run(workspace)["added"] == 5  # the sample article, three variants, old.txt
    (workspace.seeds_dir / "old.txt").unlink()
    write_variants(workspace.seeds_dir, 3, prefix="fresh")
    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "1")
    monkeypatch.setenv("NEWSDESK_EVENT_SWEEP_SECONDS", "0")  # the first run's sweep was just now
    counts = run(workspace, paths=["fresh_002.txt"], trigger="event")
    assert (counts["added"], counts["deleted"], counts["files_pending"], counts["files_seen"]) == (3, 1, 3, 7)
    assert counts["unchanged"] == 4
    order = [
        path
        for (path,) in rows(
            workspace,
            "select s.path from sources s join articles a using (article_id) "
            "where s.path like 'fresh%' order by a.ingested_at, s.path",
        )
    ]
    assert order[0] == "fresh_002.txt"
    assert rows(workspace, "select files_seen, files_pending, deleted from runs where trigger = 'event'") == [(7, 3, 1)]


def test_an_event_run_sweeps_only_when_no_run_has_swept_lately(workspace, monkeypatch):
    """A walk of a large seeds/ takes seconds: an event run skips it while a recent one
    stands, and sweeps once the last is older than event_sweep_seconds."""
    from helpers import write_variants

    assert run(workspace)["added"] == 1
    ((swept_at,),) = rows(workspace, "select swept_at from runs")
    assert swept_at is not None  # a run without named files walks the whole tree
    write_variants(workspace.seeds_dir, 2, prefix="fresh")
    monkeypatch.setenv("NEWSDESK_EVENT_SWEEP_SECONDS", "3600")
    counts = run(workspace, paths=["fresh_001.txt"], trigger="event")
    assert (counts["added"], counts["files_pending"]) == (1, 1)
    assert rows(workspace, "select path from sources where path like 'fresh%'") == [("fresh_001.txt",)]
    assert rows(workspace, "select count(*) from runs where trigger = 'event' and swept_at is null") == [(1,)]

    monkeypatch.setenv("NEWSDESK_EVENT_SWEEP_SECONDS", "0")
    counts = run(workspace, paths=["fresh_001.txt"], trigger="event")
    assert (counts["added"], counts["files_seen"]) == (1, 3)  # fresh_000.txt, by the sweep
    latest = rows(workspace, "select swept_at from runs where trigger = 'event' order by started_at desc limit 1")
    assert latest[0][0] is not None and latest[0][0] > swept_at
    # a failed run's sweep does not count: only completed runs say seeds/ was walked
    write_variants(workspace.seeds_dir, 2, prefix="late")
    monkeypatch.setenv("NEWSDESK_EVENT_SWEEP_SECONDS", "3600")
    _change_runs(workspace, "update runs set status = 'failed'")
    counts = run(workspace, paths=["late_001.txt"], trigger="event")
    assert counts["added"] == 2  # late_001 and, by the sweep, late_000
    # a sweep stamped in the future (another host's clock ahead) says nothing: due
    write_variants(workspace.seeds_dir, 2, prefix="ahead")
    _change_runs(workspace, "update runs set status = 'completed', swept_at = now() + interval 1 hour")
    counts = run(workspace, paths=["ahead_001.txt"], trigger="event")
    assert counts["added"] == 2  # ahead_001 and, by the sweep, ahead_000


def _change_runs(settings, statement: str) -> None:
    """Rewrite the runs table's history, as another host or a failure would leave it."""
    from newsdesk.warehouse import lake

    con = lake.connect(settings)
    try:
        con.execute(statement)
    finally:
        con.close()


def test_without_a_sweep_an_event_run_sees_only_its_files(workspace):
    from helpers import write_variants

    run(workspace)
    write_variants(workspace.seeds_dir, 2, prefix="fresh")
    counts = run(workspace, paths=["fresh_001.txt", "never_there.txt"], sweep=False, trigger="event")
    assert (counts["added"], counts["files_pending"], counts["deleted"]) == (1, 1, 0)
    assert rows(workspace, "select count(*) from sources where path like 'fresh%'") == [(1,)]
