"""Upkeep after the service's normal life: many one-file runs, each its own small commits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdesk.settings import Settings
from newsdesk.warehouse import lake
from newsdesk.warehouse.files import reports

RUNS = 20


def _rows(article_id: str, run_id: str) -> lake.BatchRows:
    """One article with a mention, a claim by it and a number, as a one-file run commits it."""
    speaker = {"entity_id": "e-blair", "entity_name": "Blair", "label": "PERSON"}
    return lake.BatchRows(
        sources=[
            {
                "path": f"{article_id}.txt",
                "content_sha256": article_id,
                "size_bytes": 1,
                "mtime_ns": 1,
                "article_id": article_id,
                "status": "ingested",
                "encoding": "utf-8",
                "run_id": run_id,
            }
        ],
        articles=[
            {
                "article_id": article_id,
                "title": f"title {article_id}",
                "text": "Blair said 3 things.",
                "run_id": run_id,
                "ingested_at": datetime.now(UTC),
                "word_count": 4,
            }
        ],
        mentions=[
            {
                "article_id": article_id,
                "mention_idx": 0,
                "start_char": 0,
                "end_char": 5,
                "text": "Blair",
                "sentence_idx": 0,
                **speaker,
            }
        ],
        claims=[
            {
                "article_id": article_id,
                "claim_idx": 0,
                "kind": "indirect",
                "speaker": "Blair",
                "speaker_entity_id": "e-blair",
                "speaker_start": 0,
                "speaker_end": 5,
                "cue": "said",
                "cue_start": 6,
                "content": "3 things",
                "content_start": 11,
                "content_end": 19,
                "sentence_idx": 0,
                "confidence": 0.75,
            }
        ],
        quantities=[
            {
                "article_id": article_id,
                "quantity_idx": 0,
                "claim_idx": 0,
                "value": 3.0,
                "text": "3",
                "start_char": 11,
                "end_char": 12,
                "sentence_idx": 0,
            }
        ],
        previous_article_ids=[],
    )


def _one_file_run(con: lake.Connection, settings: Settings, article_id: str) -> None:
    run_id = str(uuid.uuid4())
    with lake.recorded_run(con, settings, run_id, None, "test", 1, 1, lambda: {"added": 1}):
        lake.commit_batch(con, settings, _rows(article_id, run_id))


def _report_answers(settings: Settings) -> dict[str, list[str]]:
    con = lake.open_reader(settings)
    try:
        answers = {}
        for name, found in reports(None).items():
            params = {"speaker": "Blair"} if "speaker" in lake.parameters_of(found.text) else None
            answers[name] = sorted(map(repr, lake.query(con, found.text, params)[1]))
        return answers
    finally:
        con.close()


def _parquet_files(settings: Settings) -> set[Path]:
    return set((settings.warehouse_dir / "lake").rglob("*.parquet"))


@pytest.fixture
def lived(workspace) -> Settings:
    """RUNS one-file runs, then five of those files edited (their rows replaced: deletes)."""
    con = lake.connect(workspace)
    try:
        for i in range(RUNS):
            _one_file_run(con, workspace, f"a{i:03}")
        for i in range(5):
            _one_file_run(con, workspace, f"a{i:03}")
    finally:
        con.close()
    return workspace


def _maintain(settings: Settings) -> dict[str, int]:
    con = lake.connect(settings)
    try:
        return lake.maintain(con, settings)
    finally:
        con.close()


def test_maintain_merges_many_small_commits_and_keeps_answers_and_history(lived):
    answers = _report_answers(lived)
    assert answers["who_said_what"] and answers["top_entities"]
    on_disk = _parquet_files(lived)
    counts = _maintain(lived)
    # each table's many one-run files become one; the answers do not change
    assert counts["data_files_before"] > 5 * RUNS
    assert counts["data_files_after"] <= 7
    assert _report_answers(lived) == answers
    # within the retention nothing is expired: an early snapshot still reads as it was
    assert counts["snapshots_after"] >= counts["snapshots_before"]
    con = lake.open_reader(lived)
    try:
        early = con.execute(
            "select min(snapshot_id) from news.snapshots() where changes['tables_inserted_into'] is not null"
        ).fetchone()[0]
        assert con.execute(f"select count(*) from articles at (version => {early})").fetchone()[0] <= 1
    finally:
        con.close()
    # the files the merge replaced wait out the grace period: a reader may still scan them
    assert on_disk <= _parquet_files(lived)
    assert counts["catalog_bytes_after"] < counts["catalog_bytes_before"]


def test_maintain_with_no_retention_expires_every_old_snapshot(lived):
    answers = _report_answers(lived)
    counts = _maintain(lived.model_copy(update={"snapshot_retention_days": 0}))
    assert counts["snapshots_before"] > 3 * RUNS
    assert counts["snapshots_after"] <= 3  # the last one, and what maintain itself commits
    assert counts["data_files_after"] <= 7
    assert _report_answers(lived) == answers


def test_edits_after_a_merge_leave_no_delete_files(lived):
    """An edited file deletes a row from a merged file: the next upkeep rewrites that
    file rather than letting delete files and unmergeable files pile up."""
    _maintain(lived)
    con = lake.connect(lived)
    try:
        for i in range(10):
            _one_file_run(con, lived, f"a{i:03}")
    finally:
        con.close()
    answers = _report_answers(lived)
    counts = _maintain(lived)
    assert counts["delete_files_before"] > 0
    assert counts["delete_files_after"] == 0
    assert counts["data_files_after"] <= 7
    assert _report_answers(lived) == answers


def test_cleanup_time_never_takes_a_younger_file(workspace):
    """A SQLite catalog compares `older_than` as text, matching its whole UTC day:
    maintain passes the end of the day before, never later than asked."""
    moment = datetime(2026, 3, 4, 0, 30, tzinfo=UTC)
    cutoff = lake._catalog_time(workspace, moment)
    assert cutoff < moment and cutoff.date() == moment.date() - timedelta(days=1)
    remote = workspace.model_copy(update={"catalog": "postgres:dbname=news"})
    assert lake._catalog_time(remote, moment) == moment
