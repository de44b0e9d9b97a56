"""Untrusted input: SQL from users, article text in artifacts and terminals,
paths from events."""

from __future__ import annotations

import os

import pytest

from helpers import newsdesk, rows
from newsdesk.pipeline.summary import RunSummary, markdown_table, md_escape, run_markdown

HOSTILE = "<script>alert(1)</script> [click](javascript:alert(1)) | col | **bold** ![img](http://x/y.png)"


def test_markdown_escape_neutralizes_markup():
    escaped = md_escape(HOSTILE)
    for raw in ("<script>", "](javascript", "| col |", "**bold**", "![img]"):
        assert raw not in escaped
    assert "\n" not in md_escape("line one\n# heading\nline two")


def test_run_markdown_keeps_hostile_titles_inside_their_cells():
    summary = RunSummary(run_id="r1", trigger="manual", failures=[("evil|name.txt", HOSTILE)])
    text = run_markdown(summary, [(HOSTILE, "PERSON", 1, 1)], [(HOSTILE, "said", "direct", HOSTILE, HOSTILE)])
    table_rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert "<script>" not in text and "](javascript" not in text
    # a cell's own pipes are escaped, so every row keeps its column count
    assert all(line.replace("\\|", "").count("|") in (3, 5, 6) for line in table_rows), table_rows
    assert markdown_table(["a"], []) == "_none_\n"


def test_terminal_output_strips_control_sequences():
    from newsdesk.cli import _cell

    cell = _cell("Title \x1b[31mred\x1b[0m \x07 bell [bold]markup[/bold]")
    assert "\x1b" not in cell.plain and "\x07" not in cell.plain
    assert "[bold]markup[/bold]" in cell.plain  # shown literally, never as Rich markup


@pytest.mark.usefixtures("prefect_server")
def test_event_paths_outside_seeds_read_nothing(workspace, tmp_path):
    from newsdesk.flows.ingest import ingest

    outside = tmp_path / "outside.txt"
    outside.write_text("Outside 9c1e\nThe mayor said that nothing should be read.\n")
    os.symlink(outside, workspace.seeds_dir / "inside-link.txt")
    hostile = ["../../etc/passwd", "/etc/passwd", str(outside), "inside-link.txt", "../outside.txt"]
    counts = ingest(
        seeds=str(workspace.seeds_dir),
        warehouse=str(workspace.warehouse_dir),
        paths=hostile,
        trigger="event",
        sweep=False,
    )
    assert counts["files_pending"] == 0 and counts["added"] == 0
    # as a doorbell (the default), the run sweeps seeds/ and still never follows them
    counts = ingest(
        seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir), paths=hostile, trigger="event"
    )
    assert counts["added"] == 1  # the shipped sample, nothing else
    assert rows(workspace, "select count(*) from articles where text like '%9c1e%' or text like '%root:%'") == [(0,)]


@pytest.mark.usefixtures("prefect_server")
def test_event_paths_inside_seeds_are_ingested(workspace):
    from newsdesk.flows.ingest import ingest

    (workspace.seeds_dir / "sub").mkdir()
    (workspace.seeds_dir / "sub" / "new.txt").write_text("Named by an event\nThe mayor said that it worked.\n")
    counts = ingest(
        seeds=str(workspace.seeds_dir),
        warehouse=str(workspace.warehouse_dir),
        paths=[str(workspace.seeds_dir / "sub" / "new.txt")],
        trigger="event",
        sweep=False,
    )
    assert counts["added"] == 1 and counts["files_pending"] == 1  # the sample was not named


@pytest.mark.usefixtures("prefect_server")
def test_report_parameters_are_bound(workspace):
    from newsdesk.flows.ingest import ingest

    ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    args = ["report", "claims_by_speaker", "--warehouse", str(workspace.warehouse_dir), "-f", "csv"]
    hostile = newsdesk(*args, "--param", "speaker=x' or 1=1; drop table articles; --")
    assert hostile.returncode == 0 and hostile.stdout.strip().splitlines() == ["speaker,cue,kind,content,article"]
    rutte = newsdesk(*args, "--param", "speaker=Rutte")
    assert len(rutte.stdout.strip().splitlines()) == 4
    assert rows(workspace, "select count(*) from articles") == [(1,)]
