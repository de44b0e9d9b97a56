"""What a hostile or careless user does to seeds/: races, odd names, loops, fixes.

Each test here failed before the hardening it covers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers import newsdesk, rows
from newsdesk.pipeline.sources import (
    FileStat,
    KnownSource,
    Unreadable,
    plan,
    printable,
    read_source,
    relative_inside,
    resolve_inside,
    scan,
    storable_path,
)

BODY = b"The harbour master said on Friday that the new pier would open in June.\n"


def _stat_of(root: Path, rel: str) -> FileStat:
    return next(s for s in scan(root) if s.path == rel)


# --- the read opens what the scan judged, or nothing -------------------------------------------


def test_a_symlink_swapped_in_after_the_scan_is_not_followed_out(tmp_path):
    root, secret = tmp_path / "seeds", tmp_path / "secret.txt"
    root.mkdir()
    secret.write_bytes(b"Secret 51d0\n" + BODY)
    (root / "x.txt").write_bytes(b"Pending\n" + BODY)
    stat = _stat_of(root, "x.txt")
    (root / "x.txt").unlink()
    os.symlink(secret, root / "x.txt")  # the race: after "files seen", before the read
    with pytest.raises(Unreadable, match="outside seeds"):
        read_source(root, stat, 10_000)


def test_a_folder_swapped_for_a_symlink_out_is_not_followed(tmp_path):
    root, elsewhere = tmp_path / "seeds", tmp_path / "elsewhere"
    (root / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    (elsewhere / "x.txt").write_bytes(b"Elsewhere\n" + BODY)
    (root / "sub" / "x.txt").write_bytes(b"Pending\n" + BODY)
    stat = _stat_of(root, "sub/x.txt")
    (root / "sub" / "x.txt").unlink()
    (root / "sub").rmdir()
    os.symlink(elsewhere, root / "sub")
    with pytest.raises(Unreadable, match="outside seeds"):
        read_source(root, stat, 10_000)


def test_a_fifo_swapped_in_is_refused_without_hanging(tmp_path):
    root = tmp_path / "seeds"
    root.mkdir()
    (root / "x.txt").write_bytes(b"Pending\n" + BODY)
    stat = _stat_of(root, "x.txt")
    (root / "x.txt").unlink()
    os.mkfifo(root / "x.txt")
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            read_source(root, stat, 10_000)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what we assert
            outcome.append(exc)

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "opening a FIFO hung"
    assert outcome and isinstance(outcome[0], Unreadable) and "FIFO" in str(outcome[0])


def test_a_symlink_inside_seeds_is_still_read(tmp_path):
    root = tmp_path / "seeds"
    root.mkdir()
    (root / "a.txt").write_bytes(b"Target\n" + BODY)
    os.symlink(root / "a.txt", root / "link.txt")
    raw, _, fresh = read_source(root, _stat_of(root, "link.txt"), 10_000)
    assert raw.startswith(b"Target") and fresh.path == "link.txt"


# --- any file name --------------------------------------------------------------------------------


def test_a_name_that_is_not_utf8_gets_a_storable_escaped_path(tmp_path):
    root = tmp_path / "seeds"
    root.mkdir()
    bad = os.fsdecode(b"bad\xff\xfename.txt")
    (root / bad).write_bytes(b"Odd name\n" + BODY)
    (found,) = list(scan(root))
    assert found.path == "bad\\xff\\xfename.txt" and found.path.encode("utf-8")
    raw, _, fresh = read_source(root, found, 10_000)
    assert raw.startswith(b"Odd name") and fresh.path == found.path


def test_an_escaped_name_never_takes_another_files_real_name(tmp_path):
    root = tmp_path / "seeds"
    root.mkdir()
    (root / os.fsdecode(b"n\xff.txt")).write_bytes(b"Undecodable\n" + BODY)
    (root / "n\\xff.txt").write_bytes(b"Literal backslash\n" + BODY)
    found = [s for s in scan(root)]
    assert [s.path for s in found] == ["n\\xff.txt"] and found[0].os_path is None


@pytest.mark.parametrize(
    "name, shown",
    [
        ("evil\x1b]0;PWNED\x07\x1b[2J.txt", "evil\\x1b]0;PWNED\\x07\\x1b[2J.txt"),
        ("line\nbreak.txt", "line\\nbreak.txt"),
        ("csi\x9b31m.txt", "csi\\x9b31m.txt"),
        ("café ü.txt", "café ü.txt"),
    ],
)
def test_printable_escapes_control_characters(name, shown):
    assert printable(name) == shown


def test_storable_path_keeps_valid_names():
    assert storable_path("sub/café ü.txt") == "sub/café ü.txt"


# --- loops and fixes ------------------------------------------------------------------------------


def test_a_symlink_loop_does_not_stop_the_scan(tmp_path):
    root = tmp_path / "seeds"
    root.mkdir()
    (root / "good.txt").write_bytes(b"Good\n" + BODY)
    os.symlink(root / "loop-b.txt", root / "loop-a.txt")
    os.symlink(root / "loop-a.txt", root / "loop-b.txt")
    os.symlink(root / "self", root / "self")
    assert [s.path for s in scan(root)] == ["good.txt"]
    assert relative_inside(root, "loop-a.txt") is None
    assert resolve_inside(root, "self") is None


def test_a_quarantined_file_fixed_by_chmod_is_pending_again():
    known = {"locked.txt": KnownSource(10, 1, "quarantined", None, ctime_ns=100)}
    assert plan([FileStat("locked.txt", 10, 1, ctime_ns=100)], known).pending == ()
    assert [s.path for s in plan([FileStat("locked.txt", 10, 1, ctime_ns=200)], known).pending] == ["locked.txt"]
    # an ingested file is judged by size and mtime alone: a chmod does not re-read it
    known = {"fine.txt": KnownSource(10, 1, "ingested", "h", ctime_ns=100)}
    assert plan([FileStat("fine.txt", 10, 1, ctime_ns=200)], known).pending == ()


# --- through the flow -----------------------------------------------------------------------------


@pytest.mark.usefixtures("prefect_server")
def test_odd_names_and_loops_never_block_the_rest(workspace):
    from newsdesk.flows.ingest import ingest

    seeds = workspace.seeds_dir
    (seeds / os.fsdecode(b"bad\xff\xfename.txt")).write_bytes(b"Undecodable name\n" + BODY)
    (seeds / "evil\x1b]0;PWNED\x07\x1b[2J.txt").write_bytes(b"Escapes in the name\n" + BODY)
    (seeds / "good.txt").write_bytes(b"Good one\n" + BODY)
    os.symlink(seeds / "loop-b.txt", seeds / "loop-a.txt")
    os.symlink(seeds / "loop-a.txt", seeds / "loop-b.txt")
    # even a run narrowed to one path scans the tree first
    narrowed = ingest(seeds=str(seeds), warehouse=str(workspace.warehouse_dir), paths=["good.txt"], sweep=False)
    assert narrowed["added"] == 1
    counts = ingest(seeds=str(seeds), warehouse=str(workspace.warehouse_dir))
    assert counts["quarantined"] == 0 and counts["added"] == 3  # the sample and the two odd names
    paths = {p for (p,) in rows(workspace, "select path from sources where status = 'ingested'")}
    assert {"bad\\xff\\xfename.txt", "evil\x1b]0;PWNED\x07\x1b[2J.txt", "good.txt"} <= paths
    again = ingest(seeds=str(seeds), warehouse=str(workspace.warehouse_dir))
    assert again["files_pending"] == 0


@pytest.mark.usefixtures("prefect_server")
def test_a_file_that_vanishes_alone_in_its_batch_leaves_the_run_green(workspace, monkeypatch):
    from newsdesk.flows import ingest as ingest_module

    monkeypatch.setenv("NEWSDESK_BATCH_SIZE", "1")
    (workspace.seeds_dir / "zz-gone.txt").write_bytes(b"Gone soon\n" + BODY)
    from newsdesk.pipeline import batches

    real_read = batches.read_source

    def vanish_first(root, stat, *args, **kwargs):
        if stat.path == "zz-gone.txt":
            (root / stat.path).unlink(missing_ok=True)
        return real_read(root, stat, *args, **kwargs)

    monkeypatch.setattr(batches, "read_source", vanish_first)
    counts = ingest_module.ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert counts["added"] == 1 and counts["retry_later"] == 1
    assert rows(workspace, "select status from runs") == [("completed",)]


@pytest.mark.usefixtures("prefect_server")
def test_a_quarantined_file_is_read_again_after_chmod(workspace, monkeypatch):
    from newsdesk.flows.ingest import ingest

    big = workspace.seeds_dir / "big.txt"
    big.write_bytes(b"Big one\n" + BODY * 80)
    monkeypatch.setenv("NEWSDESK_MAX_FILE_BYTES", "5000")
    assert ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))["quarantined"] == 1
    monkeypatch.setenv("NEWSDESK_MAX_FILE_BYTES", "100000")
    assert ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))["files_pending"] == 0
    big.chmod(0o600)  # what fixing a permission looks like: only the inode change time moves
    counts = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert counts["files_pending"] == 1 and counts["added"] == 1
    assert rows(workspace, "select status from sources where path = 'big.txt'") == [("ingested",)]


# --- runs left at `running` -----------------------------------------------------------------------


def test_only_runs_whose_process_is_gone_are_closed_as_abandoned(workspace):
    import fcntl

    from newsdesk.warehouse import lake

    con = lake.connect(workspace)
    try:
        for run_id in ("dead", "live", "elsewhere"):
            params = {
                "run_id": run_id,
                "flow_run_id": None,
                "trigger": "manual",
                "started_at": None,
                "files_seen": 0,
                "files_pending": 0,
            }
            lake.transaction(con, workspace, lambda p=params: con.execute(lake.sql("start_run"), p))
        locks = workspace.warehouse_dir / ".runs"
        locks.mkdir(exist_ok=True)
        (locks / "dead.lock").touch()  # its process died: nobody holds the lock
        with open(locks / "live.lock", "a+b") as live:  # a run in progress holds its lock
            fcntl.flock(live, fcntl.LOCK_EX)
            closed = lake.close_abandoned_runs(con, workspace)
        # "elsewhere" has no lock file here: a run on another host, never judged from this one
        assert closed == ["dead"]
        status = dict(con.execute("select run_id, status from runs").fetchall())
        assert status == {"dead": "abandoned", "live": "running", "elsewhere": "running"}
        assert not (locks / "dead.lock").exists()
    finally:
        con.close()


def test_a_run_that_fails_is_recorded_failed_and_holds_no_lock(workspace):
    from newsdesk.warehouse import lake

    con = lake.connect(workspace)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            with lake.recorded_run(con, workspace, "r1", None, "manual", 1, 1, lambda: {"added": 0}):
                raise RuntimeError("boom")
        assert con.execute("select status, error from runs").fetchall() == [("failed", "RuntimeError: boom")]
        assert not (workspace.warehouse_dir / ".runs" / "r1.lock").exists()
    finally:
        con.close()


@pytest.mark.usefixtures("prefect_server")
def test_dates_are_read_or_kept_raw_and_counted(workspace):
    from newsdesk.flows.ingest import ingest

    (workspace.seeds_dir / "rfc.md").write_bytes(b"---\npublished: Mon, 12 Feb 2024 10:00:00 GMT\n---\nDated\n" + BODY)
    (workspace.seeds_dir / "odd.md").write_bytes(b"---\npublished: sometime in spring\n---\nUndated\n" + BODY)
    counts = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert counts["dates_unreadable"] == 1
    dated = dict(
        (t, (str(p), r))
        for t, p, r in rows(
            workspace,
            "select title, published_at at time zone 'UTC', published_raw from articles "
            "where title in ('Dated', 'Undated')",
        )
    )
    assert dated["Dated"] == ("2024-02-12 10:00:00", "Mon, 12 Feb 2024 10:00:00 GMT")
    assert dated["Undated"] == ("None", "sometime in spring")


@pytest.mark.parametrize("value", ["!!timestamp foo", "!!bool maybe", "!!int ''", "!!float ''", "!!int x"])
def test_front_matter_with_a_bad_tagged_value_is_text_or_quarantined_never_a_crash(value):
    from newsdesk.extraction.parse import ParseError, parse_article

    simple = f"---\npublished: {value}\n---\nHeadline\n\nThe mayor said it was fine.\n".encode()
    assert parse_article(simple).published_raw == value  # simple key: value lines: kept as written
    nested = f"---\npublished: {value}\ntags:\n  - [unclosed\n---\nHeadline\n\nThe mayor said so.\n".encode()
    with pytest.raises(ParseError, match="front matter"):
        parse_article(nested)


def test_a_parser_failure_on_one_file_quarantines_only_that_file(workspace, monkeypatch):
    from newsdesk.pipeline import batches as ingest_module

    (workspace.seeds_dir / "a.txt").write_bytes(b"First\n" + BODY)
    (workspace.seeds_dir / "b.txt").write_bytes(b"Second\n" + BODY)
    real_parse = ingest_module.parse_article

    def parse(raw: bytes):
        if raw.startswith(b"First"):
            raise KeyError("a parser bug")
        return real_parse(raw)

    monkeypatch.setattr(ingest_module, "parse_article", parse)
    stats = sorted(scan(workspace.seeds_dir), key=lambda s: s.path)
    prepared = ingest_module.read_batch(stats, workspace, ingest_module.KnownArticles())
    errors = {o.stat.path: o.error for o in prepared.outcomes}
    assert "cannot parse (KeyError)" in errors["a.txt"] and errors["b.txt"] is None


def test_an_event_path_with_a_nul_is_refused_not_a_crash(tmp_path):
    assert relative_inside(tmp_path, "a\x00.txt") is None and resolve_inside(tmp_path, "a\x00.txt") is None


def test_a_run_whose_failure_cannot_be_recorded_is_closed_by_the_next(workspace, monkeypatch):
    from newsdesk.warehouse import lake

    con = lake.connect(workspace)
    try:
        monkeypatch.setattr(lake, "_finish_run", _disk_full)
        with pytest.raises(RuntimeError):
            with lake.recorded_run(con, workspace, "r-full", None, "manual", 1, 1, dict):
                raise RuntimeError("no space left on device")
        monkeypatch.undo()
        assert con.execute("select status from runs").fetchall() == [("running",)]
        assert lake.close_abandoned_runs(con, workspace) == ["r-full"]
    finally:
        con.close()


def _disk_full(*args, **kwargs):
    raise lake_error("cannot write the warehouse: No space left on device")


def lake_error(message: str):
    from newsdesk.warehouse.lake import WarehouseError

    return WarehouseError(message)


_CONNECT_FRESH = """
import sys
from pathlib import Path
from newsdesk.settings import Settings
from newsdesk.warehouse import lake
settings = Settings(seeds=Path(sys.argv[1]) / "seeds", warehouse=Path(sys.argv[1]) / "warehouse")
lake.connect(settings).close()
"""


def test_first_runs_at_once_all_create_the_same_warehouse(tmp_path):
    # CI caught two first runs at once failing "database is locked" while both
    # created the catalog: the writers' ATTACH is serialized under the write lock.
    procs = [
        subprocess.Popen([sys.executable, "-c", _CONNECT_FRESH, str(tmp_path)], stderr=subprocess.PIPE)
        for _ in range(6)
    ]
    errors = [proc.communicate(timeout=120)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 6, errors


@pytest.mark.usefixtures("prefect_server")
def test_a_warehouse_from_before_stances_upgrades_on_its_first_write(workspace):
    """A warehouse made before the stances table and the content gap columns: status reads
    it, and the first ingest that writes adds both (a review found it failed instead)."""
    from newsdesk.flows.ingest import ingest
    from newsdesk.warehouse import lake

    ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    con = lake.connect(workspace)
    for statement in (
        "drop table stances",
        "alter table claims drop column content_gap_start",
        "alter table claims drop column content_gap_end",
        "alter table mentions drop column first_in_article",
        "alter table runs drop column swept_at",
    ):
        con.execute(statement)
    con.close()
    status = newsdesk("status", "--warehouse", str(workspace.warehouse_dir))
    assert status.returncode == 0 and "not yet" in status.stdout, status.stderr
    (workspace.seeds_dir / "new.txt").write_text(
        'Quotes galore\n\n"We will win," said Ann Pryce. "The others will not."\n\nShe believes the plan will work.\n'
    )
    counts = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert counts["added"] == 1
    assert rows(workspace, "select count(*) from stances")[0][0] >= 1
    assert rows(workspace, "select count(*) from runs where swept_at is not null")[0][0] == 1  # this run's
    assert rows(workspace, "select count(*) from claims where content_gap_start is not null")[0][0] == 1
    # mentions written before first_in_article keep null, the new article's are flagged, and
    # top_entities counts both as a plain count of distinct articles does
    old_null, new_flagged = rows(
        workspace,
        "select count(*) filter (where first_in_article is null), count(*) filter (where first_in_article is not null) "
        "from mentions",
    )[0]
    assert old_null > 20 and new_flagged > 0
    from newsdesk.warehouse.files import reports

    report = rows(workspace, reports(None)["top_entities"].text)
    plain = rows(
        workspace,
        "select count(distinct article_id), count(*) from mentions group by entity_id order by 1 desc, 2 desc limit 5",
    )
    assert [(articles, count) for _, _, articles, count, *_ in report[:5]] == plain
