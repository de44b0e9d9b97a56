"""seeds/ discovery: which files exist, what changed since the warehouse last saw them.

Only stats here; contents are read once, by `read_source`, for the files that
changed. Paths are POSIX paths relative to seeds/.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ARTICLE_SUFFIXES = (".txt", ".md")
# Editor swap files, backups and partial downloads are never read.
LEFTOVER_SUFFIXES = (".swp", ".swo", ".swx", "~", ".part", ".crdownload", ".partial", ".tmp", ".download")


@dataclass(frozen=True)
class FileStat:
    path: str  # relative to seeds/, POSIX separators
    size_bytes: int
    mtime_ns: int


@dataclass(frozen=True)
class KnownSource:
    """What the `sources` table remembers of a path."""

    size_bytes: int | None
    mtime_ns: int | None
    status: str
    content_sha256: str | None
    article_id: str | None = None
    first_seen_at: object | None = None  # datetime; kept as it was first recorded


@dataclass(frozen=True)
class Plan:
    pending: tuple[FileStat, ...]  # new or changed: must be read
    deleted: tuple[str, ...]  # known paths no longer present
    unchanged: int

    @property
    def has_work(self) -> bool:
        return bool(self.pending or self.deleted)


class SourceChanged(RuntimeError):
    """The file changed or vanished while it was being read; the next run retries it."""


def is_candidate(name: str) -> bool:
    """An article file name: .txt/.md, not hidden, not an editor or download leftover."""
    lower = name.lower()
    return (
        not name.startswith(".")
        and lower.endswith(ARTICLE_SUFFIXES)
        and not lower.endswith(LEFTOVER_SUFFIXES)
    )


def scan(root: Path) -> Iterator[FileStat]:
    """Every article file under root, recursively. Symlinks are followed only when
    they resolve inside root; hidden folders are skipped; only regular files count."""
    root = root.resolve()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # vanished or unreadable folder: nothing to ingest there
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink() and not _inside(Path(entry.path).resolve(), root):
                    continue
                if entry.is_dir():
                    if not entry.is_symlink():
                        stack.append(Path(entry.path))
                    continue
                if not entry.is_file() or not is_candidate(entry.name):
                    continue
                st = entry.stat()
            except OSError:
                continue  # deleted between listing and stat
            rel = Path(entry.path).relative_to(root).as_posix()
            yield FileStat(rel, st.st_size, st.st_mtime_ns)


def plan(files: Iterable[FileStat], known: Mapping[str, KnownSource], only: set[str] | None = None,
         force: frozenset[str] = frozenset()) -> Plan:
    """Pure: compare the scan with what the warehouse knows. `only` narrows the
    pending set to some paths, never the deletions' view; `force` makes paths
    pending even when unchanged (re-extraction)."""
    pending, seen, unchanged = [], set(), 0
    for stat in files:
        seen.add(stat.path)
        prior = known.get(stat.path)
        if (
            stat.path not in force
            and prior is not None
            and prior.status != "deleted"
            and prior.size_bytes == stat.size_bytes
            and prior.mtime_ns == stat.mtime_ns
        ):
            unchanged += 1
        elif only is None or stat.path in only:
            pending.append(stat)
    deleted = tuple(sorted(p for p, k in known.items() if k.status != "deleted" and p not in seen))
    if only is not None:
        deleted = tuple(p for p in deleted if p in only)
    return Plan(tuple(sorted(pending, key=lambda s: s.path)), deleted, unchanged)


def resolve_inside(root: Path, relative: str) -> Path | None:
    """A path named by an event or a user, if and only if it lies inside root."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    return candidate if _inside(candidate, root) else None


def relative_inside(root: Path, named: str) -> str | None:
    """An event's path (absolute or relative to root) as a seeds/-relative POSIX
    path, or None when it points outside root. Symlinks are judged by where they lead."""
    root = root.resolve()
    given = Path(named)
    lexical = Path(os.path.normpath(given if given.is_absolute() else root / given))
    if not _inside(lexical, root) or not _inside(lexical.resolve(), root):
        return None
    return lexical.relative_to(root).as_posix()


def read_source(root: Path, stat: FileStat, max_bytes: int,
                after_read: Callable[[Path], None] | None = None) -> tuple[bytes, str, FileStat]:
    """Read a file whole and hash it, checking it did not change under us.
    Returns the bytes, their sha256 and the stat they were read at.
    `after_read` is a fault-injection point for tests (a writer racing the read)."""
    path = root / stat.path
    try:
        before = path.stat()
        if before.st_size > max_bytes:
            raise OversizeError(f"file is {before.st_size:,} bytes, over the {max_bytes:,}-byte limit")
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
        if after_read is not None:
            after_read(path)
        after = path.stat()
    except FileNotFoundError:
        raise SourceChanged("file vanished before it could be read") from None
    if len(raw) > max_bytes:
        raise OversizeError(f"file grew over the {max_bytes:,}-byte limit while being read")
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(raw) != after.st_size:
        raise SourceChanged("file changed while being read")
    return raw, hashlib.sha256(raw).hexdigest(), FileStat(stat.path, after.st_size, after.st_mtime_ns)


class OversizeError(ValueError):
    """The file is over the size limit: quarantined without being read."""


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
