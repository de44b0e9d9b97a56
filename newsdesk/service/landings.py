"""Which files under seeds/ a writer has just finished: Linux inotify, read directly.

A file copied or saved into seeds/ is complete when its writer closes it
(IN_CLOSE_WRITE) or renames it into place (IN_MOVED_TO). The watcher's own
events (watchfiles) say only that something changed, so without this it waits
for a file to hold still for `watch_stable_seconds` (a second) before it
announces it. With it, a closed file is announced at once, and a file still
open for writing is held back however long its writer pauses.

It is only an accelerator: whatever it misses (another OS, a full event queue,
no watch left, a hard link, a file still held open) is announced once it held
still, as before.
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

log = logging.getLogger("newsdesk.watch")

# <sys/inotify.h>
IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
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
IN_CLOEXEC = 0o2000000
WATCHED = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
_EVENT_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)

LANDED = "landed"  # closed by its writer, or renamed into place: complete as it stands
WRITING = "writing"  # written to since: wait for the next close, or for it to hold still


class Landings:
    """An inotify watch over every folder under root (hidden ones skipped, as the scan
    does), read without blocking. `drain()` gives each file's last word since the last
    drain: LANDED or WRITING, keyed by absolute path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1: " + os.strerror(ctypes.get_errno()))
        self._fd = fd
        self._folders: dict[int, str] = {}
        self._full = False
        self._watch_tree(str(root.resolve()))

    @classmethod
    def open(cls, root: Path) -> Landings | None:
        """None where inotify is not to be had: the watcher then waits for files to hold still."""
        if not sys.platform.startswith("linux"):
            return None
        try:
            return cls(root)
        except OSError as exc:
            log.info("no close events from the OS (%s): files are announced once they hold still", exc)
            return None

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
            log.warning("no inotify watch left for %s: its files are announced once they hold still", folder)
        # ENOENT, ENOTDIR: gone or replaced since it was listed; nothing to watch

    def drain(self) -> dict[str, str]:
        """Each file's last word since the last drain (later events overwrite earlier)."""
        last: dict[str, str] = {}
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return last
            except OSError as exc:  # nothing more can be read: fall back to stillness
                log.warning("reading inotify events failed (%s)", exc)
                return last
            self._take(data, last)

    def _take(self, data: bytes, last: dict[str, str]) -> None:
        offset = 0
        while offset + _EVENT_HEADER.size <= len(data):
            wd, mask, _, length = _EVENT_HEADER.unpack_from(data, offset)
            raw_name = data[offset + _EVENT_HEADER.size : offset + _EVENT_HEADER.size + length].rstrip(b"\0")
            offset += _EVENT_HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                log.info("inotify queue overflowed: some files are announced once they hold still")
                continue
            folder = self._folders.get(wd)
            if mask & IN_IGNORED:
                self._folders.pop(wd, None)
                continue
            if folder is None or not raw_name:
                continue
            path = os.path.join(folder, os.fsdecode(raw_name))
            if mask & IN_ISDIR:
                self._folder_event(path, mask)
            elif mask & (IN_CLOSE_WRITE | IN_MOVED_TO):
                last[path] = LANDED
            elif mask & (IN_MODIFY | IN_CREATE):
                last[path] = WRITING
            else:  # moved out or deleted: the watcher's own events announce that
                last.pop(path, None)

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
