"""Which files under seeds/ were just renamed into place: Linux inotify, read directly.

A file renamed into seeds/ (or within it) is complete as it stands: it was
written elsewhere and moved in whole (rsync, a download manager, an editor's
save, `mv` from a staging folder). The watcher's own events (watchfiles) say
only that something changed, so without this it waits for every file to hold
still for `watch_stable_seconds` (a second) before it announces it. With it, a
renamed file is announced 0.1 s after its rename if unchanged since
(`watch.StabilityTracker` has the rules). A file written in place is still
announced once it has held still: a close says nothing about whether its writer
will open it again.

It is only an accelerator: whatever it misses (another OS, a full event queue,
no inotify watch left, a folder made just before its first file) is announced
once it held still, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import struct
import sys
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger("newsdesk.watch")

# <sys/inotify.h>
IN_MODIFY = 0x00000002
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
WATCHED = IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
_EVENT_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)

LANDED = "landed"  # renamed into place: complete as it stands
WRITING = "writing"  # created or written to since: it must hold still


class Heard(NamedTuple):
    words: dict[str, str]  # absolute path -> LANDED or WRITING, the last word since the last drain
    lost: bool  # events were dropped (a full queue, a read error): words heard before may be stale


class Landings:
    """An inotify watch over every folder under root (hidden ones skipped, as the scan
    does), read without blocking by `drain()`."""

    def __init__(self, root: Path) -> None:
        self.root = str(root.resolve())
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._fd = -1
        self._broken = False
        self._start()

    def _start(self) -> None:
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1: " + os.strerror(ctypes.get_errno()))
        self._fd = fd
        self._folders: dict[int, str] = {}
        self._full = False
        try:
            self._watch_tree(self.root)
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, root: Path) -> Landings | None:
        """None where inotify is not to be had: the watcher then waits for files to hold still."""
        if not sys.platform.startswith("linux"):
            return None
        try:
            landings = cls(root)
        except OSError as exc:
            log.info("no rename events from the OS (%s): files are announced once they hold still", exc)
            return None
        if landings._full:
            landings._give_up("no inotify watch left for every folder")
            return None
        return landings

    def _watch_tree(self, top: str) -> None:
        self._watch_folder(top)
        for folder, subfolders, _ in os.walk(top):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            for name in subfolders:
                self._watch_folder(os.path.join(folder, name))

    def _watch_folder(self, folder: str) -> None:
        if self._full:
            return
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), WATCHED | IN_ONLYDIR | IN_DONT_FOLLOW)
        if wd >= 0:
            self._folders[wd] = folder
            return
        code = ctypes.get_errno()
        if code == errno.ENOSPC:  # the user's inotify watches are used up
            self._full = True
        else:  # ENOENT, ENOTDIR: gone or replaced since it was listed; EACCES: not ours to read
            log.debug("no inotify watch on %s: %s", folder, os.strerror(code))

    def drain(self) -> Heard:
        """Each file's last word since the last drain (later events overwrite earlier)."""
        last: dict[str, str] = {}
        if self._broken:
            return Heard(last, False)
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return Heard(last, False)
            except OSError as exc:  # cannot read any more
                self._give_up(f"reading inotify events failed ({exc})")
                return Heard({}, True)
            if self._full:
                self._give_up("no inotify watch left for every folder")
                return Heard({}, True)
            if not self._take(data, last):
                # The kernel dropped events: what was heard may be stale, folders made or
                # moved meanwhile are not watched. Start again on the tree as it is now.
                log.info("inotify queue overflowed: watching %s afresh", self.root)
                self.close()
                try:
                    self._start()
                except OSError as exc:
                    self._give_up(f"cannot watch afresh ({exc})")
                return Heard({}, True)

    def _give_up(self, why: str) -> None:
        """Stillness decides from here on; the watches go back to the user's budget,
        which watchfiles draws on too."""
        log.warning("%s: files are announced once they hold still", why)
        self.close()
        self._broken = True

    def _take(self, data: bytes, last: dict[str, str]) -> bool:
        """Read a buffer of events into `last`; False at an overflow."""
        offset = 0
        while offset + _EVENT_HEADER.size <= len(data):
            wd, mask, _, length = _EVENT_HEADER.unpack_from(data, offset)
            raw_name = data[offset + _EVENT_HEADER.size : offset + _EVENT_HEADER.size + length].rstrip(b"\0")
            offset += _EVENT_HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                return False
            folder = self._folders.get(wd)
            if mask & IN_IGNORED:
                self._folders.pop(wd, None)
                continue
            if folder is None or not raw_name:
                continue
            path = os.path.join(folder, os.fsdecode(raw_name))
            if mask & IN_ISDIR:
                self._folder_event(path, mask)
            elif mask & IN_MOVED_TO:
                last[path] = LANDED
            elif mask & (IN_MODIFY | IN_CREATE):
                last[path] = WRITING
            else:  # moved out or deleted: the watcher's own events announce that
                last.pop(path, None)
        return True

    def _folder_event(self, path: str, mask: int) -> None:
        if mask & (IN_CREATE | IN_MOVED_TO) and not os.path.basename(path).startswith("."):
            self._watch_tree(path)
        elif mask & (IN_MOVED_FROM | IN_DELETE):
            # Its watches now name a place that is gone (a moved folder keeps them under
            # its old name): drop them; a folder moved back in is watched afresh.
            prefix = path + os.sep
            for wd, folder in list(self._folders.items()):
                if folder == path or folder.startswith(prefix):
                    self._libc.inotify_rm_watch(self._fd, wd)
                    del self._folders[wd]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
