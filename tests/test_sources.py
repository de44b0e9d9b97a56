import os

import pytest

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


def _tricky_tree(tmp_path):
    """Every kind of entry scan has a rule for, plus some paths that name nothing."""
    root = tmp_path / "seeds"
    (root / "desk" / "deep").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (tmp_path / "outside").mkdir()
    for name in ("a.txt", "desk/b.md", "desk/deep/c.txt", ".hidden/d.txt", "desk/.e.txt", "desk/f.txt.swp", "g.pdf"):
        (root / name).write_text("Headline\n\nA body of our own.\n")
    (tmp_path / "outside" / "x.txt").write_text("Headline\n\nOutside.\n")
    (root / "inside_link.txt").symlink_to(root / "a.txt")
    (root / "outside_link.txt").symlink_to(tmp_path / "outside" / "x.txt")
    (root / "linked_folder").symlink_to(tmp_path / "outside")
    (root / "folder.txt").mkdir()
    (root / "bad\udcff.txt").write_text("x\n\ny\n")  # not valid UTF-8 on disk: stored as bad\xff.txt
    return root


NAMED = [
    "a.txt",
    "desk/b.md",
    "desk/deep/c.txt",
    ".hidden/d.txt",
    "desk/.e.txt",
    "desk/f.txt.swp",
    "g.pdf",
    "inside_link.txt",
    "outside_link.txt",
    "linked_folder/x.txt",
    "folder.txt",
    "missing.txt",
    "desk/../a.txt",
    "/etc/passwd.txt",
    "bad\\xff.txt",
]


@pytest.mark.parametrize("named", [[name] for name in NAMED] + [NAMED])
def test_scan_named_finds_exactly_what_the_walk_finds(tmp_path, named):
    """An event's files are stat'ed one by one, not walked: the same rules must hold."""
    from newsdesk.pipeline.sources import scan_named

    root = _tricky_tree(tmp_path)
    walked = {stat for stat in scan(root) if stat.path in set(named)}
    assert set(scan_named(root, named)) == walked
    found = {stat.path for stat in scan_named(root, NAMED)}
    assert found == {"a.txt", "desk/b.md", "desk/deep/c.txt", "inside_link.txt", "bad\\xff.txt"}


def test_plan_of_named_paths_sees_only_them(tmp_path):
    """Deletions among the named paths count; a deletion elsewhere waits for a sweep."""
    from newsdesk.pipeline.sources import scan_named

    root = _tricky_tree(tmp_path)
    known = {
        "gone.txt": KnownSource(3, 3, "ingested", "h"),
        "also_gone.txt": KnownSource(3, 3, "ingested", "h"),
    }
    named = ["a.txt", "gone.txt"]
    planned = plan(scan_named(root, named), {p: k for p, k in known.items() if p in named}, set(named))
    assert [s.path for s in planned.pending] == ["a.txt"]
    assert planned.deleted == ("gone.txt",)
