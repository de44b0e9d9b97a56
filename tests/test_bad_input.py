"""A newsroom drops anything into seeds/: every file ends ingested or quarantined
with a reason, and the rest of its batch goes on."""

from __future__ import annotations

import os

import pytest

from helpers import newsdesk, rows
from newsdesk.pipeline.sources import FileStat, SourceChanged, read_source

pytestmark = pytest.mark.usefixtures("prefect_server")

BODY = "The mayor said on Monday that the bridge would reopen in May.\n"
BAD = {
    "empty.txt": (b"", "empty"),
    "blank.txt": (b"  \n\t \n", "empty"),
    "headline-only.txt": (b"Only a headline\n", "headline only"),
    "image.txt": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG"),
    "archive.md": (b"PK\x03\x04" + bytes(64), "zip"),
    "nul.txt": (b"Headline\nText with a \x00 NUL byte\n", "NUL"),
    "bad-front-matter.md": (b"---\nurl: http://x\nno closing fence\nHeadline\n", "front matter"),
    "huge-line.txt": (b"x" * (20 * 1024 * 1024), "over the"),
}
GOOD = {
    "utf16.txt": "Utility prices\n".encode("utf-16") + BODY.encode("utf-16")[2:],
    "latin1.txt": "Prize of £100\n".encode("latin-1") + BODY.encode("latin-1"),
    "mixed-endings.txt": b"Mixed endings\r\nFirst line.\rSecond line.\n" + BODY.encode(),
    "name with spaces.txt": b"Spaces\n" + BODY.encode(),
    "caf\u00e9 \u00fcber.txt": b"Non-ASCII name\n" + BODY.encode() + b"More.\n",
    "-leading-dash.txt": b"Dash\n" + BODY.encode() + b"Dash.\n",
    "new\nline.txt": b"Newline in name\n" + BODY.encode() + b"Newline.\n",
    "front-matter.md": b"---\nurl: https://example.org/x\nauthor: Jo\n---\nWith metadata\n" + BODY.encode(),
}


def test_every_bad_file_is_quarantined_and_the_rest_is_ingested(workspace):
    from newsdesk.flows.ingest import ingest

    seeds = workspace.seeds_dir
    for name, (data, _) in BAD.items():
        (seeds / name).write_bytes(data)
    for name, data in GOOD.items():
        (seeds / name).write_bytes(data)
    (seeds / "folder.txt").mkdir()
    (seeds / "draft.txt.swp").write_bytes(b"Swap\n" + BODY.encode())
    (seeds / "notes.txt~").write_bytes(b"Backup\n" + BODY.encode())
    (seeds / "download.txt.part").write_bytes(b"Partial\n" + BODY.encode())
    (seeds / "x.crdownload").write_bytes(b"Partial\n" + BODY.encode())
    (seeds / ".hidden.txt").write_bytes(b"Hidden\n" + BODY.encode())
    secret = workspace.seeds_dir.parent / "secret.txt"
    secret.write_bytes(b"Hidden 7f3a-outside\n" + BODY.encode())
    os.symlink(secret, seeds / "escape.txt")

    counts = ingest(seeds=str(seeds), warehouse=str(workspace.warehouse_dir))

    status = dict(rows(workspace, "select path, status from sources"))
    errors = dict(rows(workspace, "select path, error from sources where status = 'quarantined'"))
    for name, (_, reason) in BAD.items():
        assert status[name] == "quarantined", name
        assert reason in errors[name], (name, errors[name])
    for name in GOOD:
        assert status[name] == "ingested", name
    assert counts["quarantined"] == len(BAD)
    ignored = {
        "folder.txt",
        "draft.txt.swp",
        "notes.txt~",
        "download.txt.part",
        "x.crdownload",
        ".hidden.txt",
        "escape.txt",
    }
    assert not ignored & set(status)
    assert "7f3a-outside" not in " ".join(r[0] for r in rows(workspace, "select text from articles"))
    texts = dict(rows(workspace, "select s.path, a.text from sources s join articles a using (article_id)"))
    assert texts["latin1.txt"].startswith("Prize of £100")
    assert texts["utf16.txt"].startswith("Utility prices\nThe mayor")
    assert "\r" not in texts["mixed-endings.txt"]
    assert rows(workspace, "select url, author from articles where title = 'With metadata'") == [
        ("https://example.org/x", "Jo")
    ]


def test_quarantine_lists_and_retry_requeues(workspace):
    from newsdesk.flows.ingest import ingest

    bad = workspace.seeds_dir / "bad.txt"
    bad.write_bytes(b"Only a headline\n")
    ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    args = ["--warehouse", str(workspace.warehouse_dir)]
    listing = newsdesk("quarantine", *args, "--format", "csv")
    assert listing.returncode == 0 and "bad.txt" in listing.stdout and "headline only" in listing.stdout
    # unchanged, it stays put
    again = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert again["files_pending"] == 0
    retry = newsdesk("quarantine", *args, "--retry")
    assert retry.returncode == 0 and "1 quarantined file" in retry.stdout
    again = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert again["files_pending"] == 1 and again["quarantined"] == 1


def test_a_quarantined_file_whose_content_changes_is_picked_up(workspace):
    from newsdesk.flows.ingest import ingest

    bad = workspace.seeds_dir / "fixme.txt"
    bad.write_bytes(b"")
    ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    bad.write_bytes(b"Fixed now\n" + BODY.encode())
    counts = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert counts["added"] == 1
    assert rows(workspace, "select status, error from sources where path = 'fixme.txt'") == [("ingested", None)]


def test_file_over_the_size_limit_is_not_read(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2000)
    from newsdesk.pipeline.sources import OversizeError

    with pytest.raises(OversizeError, match="over the 1,000-byte limit"):
        read_source(
            tmp_path,
            FileStat("big.txt", 2000, 0),
            max_bytes=1000,
            after_read=lambda p: pytest.fail("an oversize file was read"),
        )


def test_file_changed_while_read_is_left_for_the_next_run(workspace):
    """A writer appends while we read: the hash would not match the stat, so the
    file is not recorded at all and the next run reads it again."""
    from newsdesk.flows.ingest import ingest
    from newsdesk.pipeline.batches import read_batch
    from newsdesk.pipeline.pending import KnownArticles
    from newsdesk.pipeline.sources import scan

    target = workspace.seeds_dir / "growing.txt"
    target.write_bytes(b"Growing\n" + BODY.encode())
    stat = next(s for s in scan(workspace.seeds_dir) if s.path == "growing.txt")

    def append(path):
        with open(path, "ab") as handle:
            handle.write(b"More text arrives.\n")

    with pytest.raises(SourceChanged):
        read_source(workspace.seeds_dir, stat, 10_000, after_read=append)

    target.unlink()  # deleted between discovery and reading
    prepared = read_batch([stat], workspace, KnownArticles())
    assert prepared.outcomes == [] and prepared.retry_later == 1
    counts = ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    assert counts["quarantined"] == 0


def test_text_too_long_for_the_model_is_quarantined(workspace, monkeypatch):
    from newsdesk.flows.ingest import ingest

    monkeypatch.setenv("NEWSDESK_MAX_TEXT_CHARS", "5000")
    (workspace.seeds_dir / "long.txt").write_text("Long one\n" + "word " * 2000, encoding="utf-8")
    ingest(seeds=str(workspace.seeds_dir), warehouse=str(workspace.warehouse_dir))
    (error,) = rows(workspace, "select error from sources where path = 'long.txt'")[0]
    assert "5,000-character limit" in error


@pytest.mark.slow
def test_ten_thousand_tiny_files(tmp_path):
    from newsdesk.flows.ingest import ingest
    from newsdesk.settings import Settings

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i in range(10_000):
        (seeds / f"t{i:05}.txt").write_text(f"Tiny note {i}\nThe council said that {i} people came.\n")
    settings = Settings(seeds=seeds, warehouse=tmp_path / "wh")
    counts = ingest(seeds=str(seeds), warehouse=str(settings.warehouse_dir))
    assert counts["added"] == 10_000 and counts["quarantined"] == 0
    assert rows(settings, "select count(*), count(distinct path) from sources") == [(10_000, 10_000)]
    again = ingest(seeds=str(seeds), warehouse=str(settings.warehouse_dir))
    assert again["files_pending"] == 0 and again["unchanged"] == 10_000
