"""seeds/ discovery: which files exist, what changed since the warehouse last saw them.

Only stats here; contents are read once, by `read_source`, for the files that
changed. Paths are POSIX paths relative to seeds/.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat as stat_mode
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from newsdesk.warehouse.records import KnownSource, RecordedStat

log = logging.getLogger("newsdesk.sources")
ARTICLE_SUFFIXES = (".txt", ".md")
# Editor swap files, backups and partial downloads are never read.
LEFTOVER_SUFFIXES = (".swp", ".swo", ".swx", "~", ".part", ".crdownload", ".partial", ".tmp", ".download")


class FileStat(NamedTuple):
    """A NamedTuple, not a frozen dataclass: a scan makes one per file, and at 100,000
    files the dataclass's __init__ cost 0.15 s of a warm run."""

    path: str  # relative to seeds/, POSIX separators; always valid UTF-8 (see storable_path)
    size_bytes: int
    mtime_ns: int
    ctime_ns: int | None = None  # inode change time: a chmod changes it, not mtime
    os_path: str | None = None  # the name on disk, when it is not valid UTF-8 and `path` escapes it


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


class Unreadable(ValueError):
    """What is at the path is not a regular file inside seeds/: quarantined, never read."""


def storable_path(os_relative: str) -> str:
    """Any file name -> a path the warehouse can store (valid UTF-8).

    Linux names are bytes; Python decodes the invalid ones to lone surrogates,
    which no UTF-8 writer accepts. Those bytes become visible `\\xff` escapes,
    so `bad\\xff.txt` is stored, shown and queried like any other name.
    """
    return os_relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def printable(text: str) -> str:
    """A name or message safe for a terminal or a log line: control characters
    (ESC, BEL, C1 codes, newlines) shown as escapes, never sent raw."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def is_candidate(name: str) -> bool:
    """An article file name: .txt/.md, not hidden, not an editor or download leftover."""
    lower = name.lower()
    return not name.startswith(".") and lower.endswith(ARTICLE_SUFFIXES) and not lower.endswith(LEFTOVER_SUFFIXES)


def scan(root: Path) -> Iterator[FileStat]:
    """Every article file under root, recursively. Symlinks are followed only when
    they resolve inside root; hidden folders are skipped; only regular files count.

    Relative names are built as strings beside the walk: a pathlib `relative_to` per
    file was most of a warm run's time at 100,000 files."""
    root = root.resolve()
    stack = [(str(root), "")]  # (folder on disk, its path relative to root with a trailing "/")
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue  # vanished since it was listed
        except OSError as exc:  # unreadable, or a path too long for the system
            log.warning("not read: folder %s: %s", printable(folder), exc.strerror or exc)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink() and not _resolves_inside(Path(entry.path), root):
                    continue  # leads outside seeds/, or nowhere (a loop)
                if entry.is_dir():
                    if not entry.is_symlink():
                        stack.append((entry.path, f"{prefix}{entry.name}/"))
                    continue
                if not entry.is_file() or not is_candidate(entry.name):
                    continue
                st = entry.stat()
            except OSError:
                continue  # deleted between listing and stat
            on_disk = prefix + entry.name
            rel = on_disk if on_disk.isascii() else storable_path(on_disk)
            if rel != on_disk and os.path.lexists(root / rel):
                log.warning("not read: %s escapes to the name of another file; rename it", rel)
                continue  # the escaped name is some other file's real name: that file keeps it
            yield FileStat(rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, on_disk if rel != on_disk else None)


def plan(
    files: Iterable[FileStat],
    known: Mapping[str, RecordedStat] | Mapping[str, KnownSource],
    only: set[str] | None = None,
    force: frozenset[str] = frozenset(),
) -> Plan:
    """Pure: compare the scan with what the warehouse knows. `only` narrows the
    pending set to some paths, never the deletions' view; `force` makes paths
    pending even when unchanged (re-extraction)."""
    pending, seen, unchanged = [], set(), 0
    for stat in files:
        seen.add(stat.path)
        prior = known.get(stat.path)
        if stat.path not in force and prior is not None and _unchanged(prior, stat):
            unchanged += 1
        elif only is None or stat.path in only:
            pending.append(stat)
    deleted = tuple(sorted(p for p, k in known.items() if k.status != "deleted" and p not in seen))
    if only is not None:
        deleted = tuple(p for p in deleted if p in only)
    return Plan(tuple(sorted(pending, key=lambda s: s.path)), deleted, unchanged)


def _unchanged(prior: RecordedStat | KnownSource, stat: FileStat) -> bool:
    """Same size and mtime as recorded. A quarantined file must also keep its inode
    change time: `chmod 644` on an unreadable file changes only that."""
    if prior.status == "deleted" or (prior.size_bytes, prior.mtime_ns) != (stat.size_bytes, stat.mtime_ns):
        return False
    return prior.status != "quarantined" or prior.ctime_ns is None or prior.ctime_ns == stat.ctime_ns


def scan_named(root: Path, paths: Iterable[str]) -> Iterator[FileStat]:
    """The files among `paths` (seeds/-relative, as stored) that `scan` would yield,
    found by a stat of each, not a walk of the tree: an event's one file among 100,000
    is planned in milliseconds. The rules are scan's: no hidden name on the way, no
    symlinked folder on the way, a symlink only when it resolves inside root, regular
    article files only. A name with an escape (not valid UTF-8 on disk) is looked up
    by the walk, which is what knows its name on disk."""
    root = root.resolve()
    wanted = set(paths)
    if any("\\" in path for path in wanted):
        yield from (stat for stat in scan(root) if stat.path in wanted)
        return
    for path in sorted(wanted):
        stat = _stat_named(root, path)
        if stat is not None:
            yield stat


def _stat_named(root: Path, relative: str) -> FileStat | None:
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None  # scan never enters a hidden folder nor lists a hidden file
    folder = str(root)
    try:
        for part in parts[:-1]:
            if not os.access(folder, os.R_OK | os.X_OK):
                return None  # scan cannot list it, so it never sees what is inside
            folder = os.path.join(folder, part)
            if not stat_mode.S_ISDIR(os.lstat(folder).st_mode):
                return None  # a file, or a symlinked folder: scan does not descend into it
        if not os.access(folder, os.R_OK | os.X_OK):
            return None
        full = os.path.join(folder, parts[-1])
        if stat_mode.S_ISLNK(os.lstat(full).st_mode) and not _resolves_inside(Path(full), root):
            return None
        st = os.stat(full)
    except OSError:
        return None  # not there (deleted), or unreadable on the way
    if not stat_mode.S_ISREG(st.st_mode) or not is_candidate(parts[-1]):
        return None
    return FileStat(relative, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def resolve_inside(root: Path, relative: str) -> Path | None:
    """A path named by an event or a user, if and only if it lies inside root."""
    root = root.resolve()
    candidate = _real(root / relative)
    return candidate if candidate is not None and _inside(candidate, root) else None


def relative_inside(root: Path, named: str) -> str | None:
    """An event's path (absolute or relative to root) as a seeds/-relative POSIX
    path, or None when it points outside root. Symlinks are judged by where they lead."""
    root = root.resolve()
    given = Path(named)
    lexical = Path(os.path.normpath(given if given.is_absolute() else root / given))
    if not _inside(lexical, root) or not _resolves_inside(lexical, root):
        return None
    return storable_path(lexical.relative_to(root).as_posix())


def read_source(
    root: Path, stat: FileStat, max_bytes: int, after_read: Callable[[Path], None] | None = None
) -> tuple[bytes, str, FileStat]:
    """Read a file whole and hash it, checking it did not change under us.
    Returns the bytes, their sha256 and the stat they were read at.

    Every check is made on the opened descriptor, never on the path again: what
    was scanned may since have been swapped for a symlink out of seeds/ or a FIFO.
    `after_read` is a fault-injection point for tests (a writer racing the read).
    """
    path = root / (stat.os_path or stat.path)
    try:
        fd = open_inside(root, path)
    except FileNotFoundError:
        raise SourceChanged("file vanished before it could be read") from None
    try:
        before = os.fstat(fd)
        if before.st_size > max_bytes:
            raise OversizeError(f"file is {before.st_size:,} bytes, over the {max_bytes:,}-byte limit")
        raw = _read_at_most(fd, max_bytes + 1)
        if after_read is not None:
            after_read(path)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise OversizeError(f"file grew over the {max_bytes:,}-byte limit while being read")
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(raw) != after.st_size:
        raise SourceChanged("file changed while being read")
    fresh = FileStat(stat.path, after.st_size, after.st_mtime_ns, after.st_ctime_ns, stat.os_path)
    return raw, hashlib.sha256(raw).hexdigest(), fresh


# O_NONBLOCK: opening a FIFO swapped in for a file must not wait for a writer.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_PROC_FD = Path("/proc/self/fd")


def open_inside(root: Path, path: Path) -> int:
    """Open a seed file for reading: a descriptor of a regular file inside root, or
    Unreadable. Containment is judged on what was opened (its /proc/self/fd link),
    so a symlink or folder swapped in after the scan cannot lead the read outside.
    Without /proc, symlinks are not followed at all."""
    flags = _OPEN_FLAGS | (0 if _PROC_FD.is_dir() else getattr(os, "O_NOFOLLOW", 0))
    fd = os.open(path, flags)
    try:
        opened = os.fstat(fd)
        if not stat_mode.S_ISREG(opened.st_mode):
            raise Unreadable(f"not a regular file ({_kind(opened.st_mode)}): not read")
        if _PROC_FD.is_dir():
            target = Path(os.readlink(_PROC_FD / str(fd)))
            if not _inside(target, root.resolve()):
                raise Unreadable("leads outside seeds/: not read")
        os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, remaining = [], limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    for test, name in (
        (stat_mode.S_ISFIFO, "a FIFO"),
        (stat_mode.S_ISDIR, "a folder"),
        (stat_mode.S_ISSOCK, "a socket"),
        (stat_mode.S_ISCHR, "a character device"),
        (stat_mode.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


class OversizeError(ValueError):
    """The file is over the size limit: quarantined without being read."""


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _real(path: Path) -> Path | None:
    """Where a path leads, or None when it leads nowhere: Python 3.11 raises
    RuntimeError, not OSError, on a symlink loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # ValueError: an embedded NUL from an event's path
        return None


def _resolves_inside(path: Path, root: Path) -> bool:
    real = _real(path)
    return real is not None and _inside(real, root)
