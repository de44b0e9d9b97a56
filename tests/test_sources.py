import os

from newsdesk.pipeline.sources import FileStat, KnownSource, is_candidate, plan, resolve_inside, scan


def test_scan_finds_articles_and_skips_leftovers(tmp_path):
    root = tmp_path / "seeds"
    (root / "sub").mkdir(parents=True)
    for name in [
        "a.txt",
        "b.md",
        "sub/c.txt",
        "d.txt.swp",
        "e.txt~",
        "f.txt.part",
        "g.crdownload",
        ".hidden.txt",
        "notes.pdf",
        "name with space ü.txt",
        "-dash.txt",
    ]:
        (root / name).write_text("x")
    (root / "folder.txt").mkdir()
    (root / ".git").mkdir()
    (root / ".git" / "h.txt").write_text("x")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, root / "link-out.txt")
    os.symlink(root / "a.txt", root / "link-in.txt")
    found = sorted(s.path for s in scan(root))
    assert found == ["-dash.txt", "a.txt", "b.md", "link-in.txt", "name with space ü.txt", "sub/c.txt"]


def test_plan_skips_unchanged_by_stat_and_finds_deletions():
    files = [FileStat("same.txt", 10, 1), FileStat("changed.txt", 11, 2), FileStat("new.txt", 5, 3)]
    known = {
        "same.txt": KnownSource(10, 1, "ingested", "h1"),
        "changed.txt": KnownSource(10, 2, "ingested", "h2"),
        "gone.txt": KnownSource(3, 3, "ingested", "h3"),
        "gone-before.txt": KnownSource(3, 3, "deleted", "h4"),
    }
    result = plan(files, known)
    assert [s.path for s in result.pending] == ["changed.txt", "new.txt"]
    assert result.deleted == ("gone.txt",)
    assert result.unchanged == 1


def test_a_quarantined_file_that_changes_is_pending_again():
    known = {"bad.txt": KnownSource(3, 1, "quarantined", "h")}
    assert plan([FileStat("bad.txt", 3, 1)], known).pending == ()
    assert [s.path for s in plan([FileStat("bad.txt", 4, 2)], known).pending] == ["bad.txt"]


def test_resolve_inside_refuses_escapes(tmp_path):
    assert resolve_inside(tmp_path, "../../etc/passwd") is None
    assert resolve_inside(tmp_path, "a/b.txt") == tmp_path / "a" / "b.txt"


def test_is_candidate():
    assert is_candidate("x.TXT") and is_candidate("y.md")
    assert not any(map(is_candidate, [".x.txt", "x.txt.tmp", "x.swp", "x.csv"]))
