"""Watcher: file changes in seeds/ -> one Prefect event per burst.

A file renamed into place is announced once it then held still for 0.1 s (Linux
inotify, `landings.py`), 0.15-0.2 s after the rename: it was written elsewhere and
moved in whole. Any other
file is announced once it has stopped changing for `watch_stable_seconds`, so a
file being copied in is not read half, unless its writer pauses longer than
that. The event
is a doorbell: the triggered run takes the files it names, then sweeps everything
else pending when no completed run has swept for `event_sweep_seconds` (a minute).
So that a file whose event was lost (or whose run failed) never waits for the cron
sweep, the watcher also rings once with no paths ("sweep") `event_sweep_seconds`
after the first announcement since its last ring, and once a folder moved in or out
has settled (its files raise no event of their own); never while a file is still
being written.

An event that reaches the server before the ingest deployment's trigger is
registered (by `newsdesk serve`, or `prefect deploy`) starts nothing. So the
watcher arms only once that trigger exists, however it was started (`newsdesk
up`, compose, or by hand next to serve), or after TRIGGER_WAIT_SECONDS with a
warning. Not closed: serve replaces the trigger each time it starts, and the
server's trigger evaluator loads a new trigger just after the API shows it; an
event in either moment (milliseconds) waits for the next event or the cron sweep.

Files that landed before the watch was armed raise no file-system event. So,
once armed, the watcher reports it (`newsdesk up` waits for that before it
says it is up), then rings once with no paths ("sweep") if seeds/ holds any
article file.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from newsdesk.pipeline.sources import ARTICLE_SUFFIXES, LEFTOVER_SUFFIXES, is_candidate, relative_inside, scan
from newsdesk.service.landings import LANDED, Heard, Landings
from newsdesk.settings import Settings

EVENT_NAME = "newsdesk.seeds.changed"
# Set by `newsdesk up`: the watcher creates this file once its watch is armed.
READY_FILE_ENV = "NEWSDESK_WATCH_READY_FILE"
log = logging.getLogger("newsdesk.watch")


# A file renamed into place must then hold still this long: a write right after the
# rename (a tool that moves a file in, then appends or sets its time) is seen first.
LANDED_QUIET_SECONDS = 0.1
# How often the loop wakes when nothing changes, so that a renamed file is announced
# at the first wake-up 0.1 s after its rename was heard, not at the next
# `watch_poll_ms` (0.2 s) one. A wake-up reads the inotify queue and stats the files
# about to be announced; files still being written are stat'ed every `watch_poll_ms`.
TICK_MS = 50


@dataclass
class StabilityTracker:
    """Pure: which changed paths are ready to announce.

    A path renamed into place is ready once unchanged for LANDED_QUIET_SECONDS after
    its rename was heard; any other (written in place, or nothing reports renames) once
    unchanged for stable_seconds. The caller looks at the `due` paths once more just
    before `ready`: a write nobody reported (through a hard link, or lost) shows there."""

    stable_seconds: float
    _seen: dict[str, tuple[tuple[int, int] | None, float]] = field(default_factory=dict)
    _landed: dict[str, float] = field(default_factory=dict)  # path -> when its rename was heard
    # Announced, path -> (stat, when): the file system's late reports of the same write
    # must not announce it a second time.
    _told: dict[str, tuple[tuple[int, int] | None, float]] = field(default_factory=dict)
    # No path is due before this (a lower bound, lowered wherever a path's due time
    # moves earlier), so a wake-up with thousands of files being written skips the scan
    # until one may be.
    _first_due: float = float("inf")

    def observe(self, path: str, stat: tuple[int, int] | None, now: float) -> None:
        """Record a path's (size, mtime_ns), or None when it is gone; any change restarts
        its clock, and a change after its rename means it is being written again."""
        prior = self._seen.get(path)
        told = self._told.get(path)
        if prior is None and told is not None and told[0] == stat and now - told[1] < self.stable_seconds:
            return
        if prior is None or prior[0] != stat:
            self._seen[path] = (stat, now)
            self._landed.pop(path, None)
            self._first_due = min(self._first_due, now + self.stable_seconds)

    def landed(self, path: str, stat: tuple[int, int] | None, now: float) -> None:
        """Renamed into place: complete as `stat` says (a path already announced with
        this stat is not taken again)."""
        self.observe(path, stat, now)
        if path in self._seen and stat is not None:
            self._landed[path] = now
            self._first_due = min(self._first_due, now + LANDED_QUIET_SECONDS)

    def writing(self, path: str, stat: tuple[int, int] | None, now: float) -> None:
        """Created or written to since its rename: it must hold still."""
        self.observe(path, stat, now)
        if self._landed.pop(path, None) is not None:  # judged by stillness now, maybe sooner
            self._first_due = min(self._first_due, self._seen[path][1] + self.stable_seconds)

    def forget_landings(self) -> None:
        """Rename reports were lost (a full event queue): judge every path by stillness."""
        self._landed.clear()
        self._first_due = float("-inf")  # some may be due sooner: the next wake-up scans

    def due(self, now: float) -> list[str]:
        """Paths whose clock has run out: ready unless a last look finds them changed."""
        if now < self._first_due:
            return []
        return sorted(path for path, (_, since) in self._seen.items() if self._is_ready(path, since, now))

    def ready(self, now: float) -> list[str]:
        """Paths ready now (see the class); they leave the tracker."""
        done = self.due(now)
        if now >= self._first_due:
            self._told = {p: told for p, told in self._told.items() if now - told[1] < self.stable_seconds}
        for path in done:
            self._told[path] = (self._seen.pop(path)[0], now)
            self._landed.pop(path, None)
        if now >= self._first_due:
            self._first_due = min(
                (self._due_at(path, since) for path, (_, since) in self._seen.items()), default=float("inf")
            )
        return done

    def _due_at(self, path: str, since: float) -> float:
        if path in self._landed:
            return self._landed[path] + LANDED_QUIET_SECONDS
        return since + self.stable_seconds

    def _is_ready(self, path: str, since: float, now: float) -> bool:
        return now >= self._due_at(path, since)

    def pending(self) -> list[str]:
        return sorted(self._seen)

    def has_pending(self) -> bool:
        return bool(self._seen)


def stat_of(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None  # vanished: announced too, so the run marks it deleted
    return st.st_size, st.st_mtime_ns


def resource_id(settings: Settings) -> str:
    return f"newsdesk.seeds.{settings.seeds_dir.name}"


def emit_changed(settings: Settings, paths: list[str]) -> None:
    """Send one event and wait until the server has it; raises when it cannot."""
    import anyio
    from prefect.events import Event
    from prefect.events.clients import get_events_client

    event = Event(event=EVENT_NAME, resource={"prefect.resource.id": resource_id(settings)}, payload={"paths": paths})

    async def send() -> None:
        async with get_events_client(reconnection_attempts=0) as client:
            await client.emit(event)

    anyio.run(send)


def deliver(
    send: Callable[[list[str]], None], paths: list[str], stop: Callable[[], bool], max_delay: float = 30.0
) -> bool:
    """Send with exponential backoff until it goes through or we are told to stop."""
    delay = 0.5
    while not stop():
        try:
            send(paths)
            return True
        except Exception as exc:  # the server may be down or restarting: keep the paths, retry
            log.warning("could not announce %d file(s) (%s); retrying in %.1f s", len(paths), exc, delay)
            _sleep_unless_stopped(delay, stop)
            delay = min(delay * 2, max_delay)
    return False


def _folders_changed(root: Path, changed: Iterable[str]) -> bool:
    """Whether a change was a folder's (made, moved in or out: its files raise no event
    of their own), judged by what is there now: a folder, or nothing under a name that
    is no article file."""
    for path in changed:
        relative = relative_inside(root, path)
        if relative is None or relative == "." or any(part.startswith(".") for part in relative.split("/")):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            return True
        name = relative.rsplit("/", 1)[-1]
        if not os.path.lexists(path) and not name.lower().endswith(ARTICLE_SUFFIXES + LEFTOVER_SUFFIXES):
            return True
    return False


def _relevant(root: Path, changed: Iterable[str]) -> list[str]:
    return [relative for relative in map(partial(_relevant_one, root), changed) if relative is not None]


def _relevant_one(root: Path, path: str) -> str | None:
    """An article file's seeds/-relative path, or None for anything else."""
    relative = relative_inside(root, path)
    if relative is None or relative == ".":
        return None
    parts = relative.split("/")
    if any(part.startswith(".") for part in parts) or not is_candidate(parts[-1]):
        return None
    return relative


def _hear_landings(root: Path, tracker: StabilityTracker, heard: Heard, now: float) -> None:
    """Tell the tracker which files were renamed into place and which were written to
    since; or that such reports were lost."""
    if heard.lost:
        tracker.forget_landings()
    for path, word in heard.words.items():
        relative = _relevant_one(root, path)
        if relative is not None:
            told = tracker.landed if word == LANDED else tracker.writing
            told(relative, stat_of(root / relative), now)


@dataclass
class SweepBell:
    """Pure: when to ring once with no paths (a sweep).

    An event run skips its sweep while a recent one stands (`event_sweep_seconds`), so
    one run must sweep for what the events missed that long after the first
    announcement since the last ring, however many follow (with 0 every event run
    sweeps already). A folder moved in or out
    raises one event for the folder and none for its files: a sweep once it settled.
    Never while a file is still being written: a sweep would read it half."""

    event_sweep_seconds: float
    stable_seconds: float
    ring_at: float | None = None

    def announced(self, now: float) -> None:
        if self.event_sweep_seconds > 0:
            self._ring_by(now + self.event_sweep_seconds)

    def folder_changed(self, now: float) -> None:
        self._ring_by(now + self.stable_seconds)

    def _ring_by(self, at: float) -> None:
        # An earlier ring serves both: its run queues behind the runs of what was announced.
        self.ring_at = at if self.ring_at is None else min(self.ring_at, at)

    def due(self, now: float, files_settling: bool) -> bool:
        return self.ring_at is not None and now >= self.ring_at and not files_settling

    def rang(self) -> None:
        self.ring_at = None


def has_candidates(root: Path) -> bool:
    """Whether seeds/ holds at least one article file (stops at the first)."""
    return next(iter(scan(root)), None) is not None


def report_armed(path: Path | None) -> None:
    """Tell whoever started us (`newsdesk up`) that the watch is armed: create the
    file it named (NEWSDESK_WATCH_READY_FILE), if any."""
    if path is not None:
        path.write_text(f"{os.getpid()}\n", encoding="utf-8")


# Long enough for serve to load the model and register; after it the watcher arms
# anyway (an ingest deployment named otherwise, a trigger turned off in the UI), as
# the cron sweep still finds every file.
TRIGGER_WAIT_SECONDS = 600.0


def wait_for_ingest_trigger(
    has_trigger: Callable[[], bool],
    stop: Callable[[], bool],
    interval: float = 1.0,
    limit: float = TRIGGER_WAIT_SECONDS,
    say_every: float = 30.0,
) -> bool:
    """Block until `has_trigger()` holds, we are told to stop, or `limit` seconds pass,
    saying now and then what we wait for and why. False only when told to stop."""
    start = time.monotonic()
    next_say = start
    while not stop():
        try:
            if has_trigger():
                return True
            why = "not registered yet"
        except Exception as exc:  # the API is down, refuses us, or is not where it is said to be
            why = f"cannot ask the Prefect API: {type(exc).__name__}: {exc}"
        now = time.monotonic()
        if now - start >= limit:
            log.warning(
                "no event trigger for the ingest deployment after %.0f s (%s): arming anyway; "
                "until it exists, only the cron sweep ingests new files",
                limit,
                why,
            )
            return True
        if now >= next_say:
            log.info("waiting for the ingest deployment's event trigger before arming (%s)", why)
            next_say = now + say_every
        _sleep_unless_stopped(interval, stop)
    return False


def _sleep_unless_stopped(seconds: float, stop: Callable[[], bool]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop():
        time.sleep(min(0.1, seconds))


def _api_has_ingest_trigger() -> bool:
    from newsdesk.service.serve import ask_ingest_trigger_ids

    return bool(ask_ingest_trigger_ids())


def watch(
    settings: Settings,
    send: Callable[[list[str]], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    on_armed: Callable[[], None] | None = None,
    has_trigger: Callable[[], bool] | None = None,
) -> None:
    """Run until `stop()`; announce each burst of settled changes as one event.

    First, when announcing to Prefect (or given `has_trigger`): wait for the ingest
    trigger. Once the watch is armed: `on_armed()`, then one announcement with no
    paths if seeds/ already holds article files (they may have landed unseen)."""
    import threading

    import watchfiles

    root = settings.seeds_dir
    root.mkdir(parents=True, exist_ok=True)
    if send is None:
        import prefect.events.clients  # noqa: F401  imported now, not on the first file

        send = partial(emit_changed, settings)
        has_trigger = has_trigger or _api_has_ingest_trigger
    if has_trigger is not None and not wait_for_ingest_trigger(has_trigger, stop):
        return
    tracker = StabilityTracker(settings.watch_stable_seconds)
    stop_event = threading.Event()
    bell = SweepBell(settings.event_sweep_seconds, settings.watch_stable_seconds)
    armed = False
    landings: Landings | None = None
    restated_at = float("-inf")
    try:
        for changes in watchfiles.watch(
            root,
            recursive=True,
            debounce=settings.watch_poll_ms,
            step=50,
            rust_timeout=min(TICK_MS, settings.watch_poll_ms),
            yield_on_timeout=True,
            stop_event=stop_event,
            raise_interrupt=False,
            force_polling=None,
        ):
            now = time.monotonic()
            if not armed:
                # The first yield: the OS watch is in place, so from here on nothing lands
                # unseen; what landed before is found by the sweep this announcement starts.
                armed = True
                # Opened once watchfiles has its watches: where the user's inotify watches
                # run short, the accelerator goes without, not the watch itself.
                landings = Landings.open(root)
                log.info("watching %s", root)
                (on_armed or partial(report_armed, settings.watch_ready_file))()
                if has_candidates(root):
                    log.info("article files already in %s: announcing one sweep", root)
                    deliver(send, [], stop)
            changed = [p for _, p in changes]
            for relative in _relevant(root, changed):
                tracker.observe(relative, stat_of(root / relative), now)
            if landings is not None:
                _hear_landings(root, tracker, landings.drain(), now)
            if _folders_changed(root, changed):
                bell.folder_changed(now)
            # Look again at files still being written every watch_poll_ms, and at every
            # wake-up at those due: the last look before they are announced.
            restating = now - restated_at >= settings.watch_poll_ms / 1000
            restated_at = now if restating else restated_at
            for relative in tracker.pending() if restating else tracker.due(now):
                tracker.observe(relative, stat_of(root / relative), now)
            ready = tracker.ready(now)
            if ready:
                log.info("announcing %d settled file(s)", len(ready))
                if deliver(send, ready, stop):
                    bell.announced(time.monotonic())
            elif bell.due(now, files_settling=tracker.has_pending()):
                log.info("announcing one sweep (for what no event named)")
                if deliver(send, [], stop):
                    bell.rang()
            if stop():
                stop_event.set()
                break
    finally:
        if landings is not None:
            landings.close()
