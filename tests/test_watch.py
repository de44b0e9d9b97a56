"""The watcher's logic, called directly: settling, filtering and delivery with backoff."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from newsdesk.service.watch import StabilityTracker, _relevant, deliver
from newsdesk.settings import Settings


def test_a_file_is_ready_only_after_it_stops_changing():
    tracker = StabilityTracker(stable_seconds=1.0)
    tracker.observe("a.txt", (10, 1), now=0.0)
    tracker.observe("a.txt", (20, 2), now=0.8)  # still growing: the clock restarts
    assert tracker.ready(now=1.5) == []
    tracker.observe("a.txt", (20, 2), now=1.6)  # unchanged: the clock keeps running
    assert tracker.ready(now=1.9) == ["a.txt"]
    assert tracker.pending() == []


def test_a_vanished_file_is_announced_too():
    tracker = StabilityTracker(stable_seconds=0.5)
    tracker.observe("gone.txt", None, now=0.0)
    assert tracker.ready(now=0.6) == ["gone.txt"]


def test_a_burst_settles_into_one_announcement():
    tracker = StabilityTracker(stable_seconds=1.0)
    for i in range(200):
        tracker.observe(f"f{i:03}.txt", (1, i), now=i / 1000)
    assert tracker.ready(now=0.5) == []
    assert len(tracker.ready(now=1.3)) == 200


def test_due_paths_are_those_a_last_look_decides_and_a_later_path_is_not_skipped():
    """`due` is what the watcher stats once more before `ready`; a path observed after
    an earlier one (a later clock) is still found once its own time comes."""
    tracker = StabilityTracker(stable_seconds=1.0)
    tracker.observe("early.txt", (1, 1), now=0.0)
    tracker.observe("late.txt", (1, 1), now=0.5)
    tracker.landed("moved.txt", (1, 1), now=0.6)
    assert tracker.due(now=0.65) == []
    assert tracker.due(now=0.7) == ["moved.txt"]
    assert tracker.ready(now=0.7) == ["moved.txt"]
    assert tracker.due(now=0.99) == []
    tracker.observe("early.txt", (2, 2), now=1.0)  # the last look found it changed
    assert tracker.ready(now=1.0) == []
    assert tracker.ready(now=1.5) == ["late.txt"]
    assert tracker.ready(now=1.99) == []
    assert tracker.ready(now=2.0) == ["early.txt"]
    assert not tracker.has_pending()


def test_a_write_after_a_rename_judges_the_path_by_stillness_from_then_not_later():
    """Renamed in at 0.95 s with the stat it had since 0.0 s, then a write that changes
    nothing: judged by stillness again, it is due at 1.0 s, as if never renamed; a
    lost rename queue does the same for every path."""
    tracker = StabilityTracker(stable_seconds=1.0)
    tracker.observe("a.txt", (1, 1), now=0.0)
    tracker.landed("a.txt", (1, 1), now=0.95)
    assert tracker.ready(now=1.0) == []  # its rename's quiet runs to 1.05
    tracker.writing("a.txt", (1, 1), now=1.01)
    assert tracker.ready(now=1.01) == ["a.txt"]
    tracker.observe("b.txt", (1, 1), now=2.0)
    tracker.landed("b.txt", (1, 1), now=2.95)
    assert tracker.ready(now=3.0) == []
    tracker.forget_landings()
    assert tracker.ready(now=3.01) == ["b.txt"]


def test_only_article_files_inside_seeds_are_relevant(tmp_path):
    changed = [
        str(tmp_path / "a.txt"),
        str(tmp_path / "b.md"),
        str(tmp_path / ".hidden.txt"),
        str(tmp_path / "c.txt.part"),
        str(tmp_path / "d.swp"),
        str(tmp_path / "sub" / "e.txt"),
        str(tmp_path / ".git" / "f.txt"),
        "/etc/passwd",
        str(tmp_path / ".." / "x.txt"),
    ]
    assert _relevant(tmp_path, changed) == ["a.txt", "b.md", "sub/e.txt"]


def test_delivery_retries_with_backoff_until_the_server_answers(monkeypatch):
    import newsdesk.service.watch as watch

    monkeypatch.setattr(watch.time, "sleep", lambda s: None)
    attempts = []

    def flaky(paths):
        attempts.append(list(paths))
        if len(attempts) < 4:
            raise ConnectionError("server down")

    assert deliver(flaky, ["a.txt"], stop=lambda: False, max_delay=0.0) is True
    assert attempts == [["a.txt"]] * 4


def test_delivery_gives_up_only_when_stopped():
    def down(paths):
        raise ConnectionError("server down")

    assert deliver(down, ["a.txt"], stop=lambda: True) is False


def test_waiting_for_the_ingest_trigger_ends_when_it_exists():
    import newsdesk.service.watch as watch

    answers = iter([False, False, True])
    asked = []

    def has_trigger() -> bool:
        asked.append(1)
        return next(answers)

    assert watch.wait_for_ingest_trigger(has_trigger, stop=lambda: False, interval=0.0) is True
    assert len(asked) == 3


def test_an_api_error_while_waiting_for_the_trigger_is_logged_and_asked_again(caplog):
    import newsdesk.service.watch as watch

    answers = iter([PermissionError("401 Unauthorized"), True])

    def has_trigger() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with caplog.at_level("INFO", logger="newsdesk.watch"):
        assert watch.wait_for_ingest_trigger(has_trigger, stop=lambda: False, interval=0.0) is True
    assert "cannot ask the Prefect API: PermissionError: 401 Unauthorized" in caplog.text


def test_waiting_for_the_trigger_is_bounded_and_says_so(caplog):
    import newsdesk.service.watch as watch

    with caplog.at_level("INFO", logger="newsdesk.watch"):
        assert watch.wait_for_ingest_trigger(lambda: False, stop=lambda: False, interval=0.01, limit=0.2) is True
    assert "no event trigger for the ingest deployment after 0 s (not registered yet): arming anyway" in caplog.text


def test_waiting_for_the_ingest_trigger_gives_up_when_stopped():
    import newsdesk.service.watch as watch

    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 5

    assert watch.wait_for_ingest_trigger(lambda: False, stop=stop, interval=0.01, limit=60) is False


def test_the_watch_arms_and_announces_only_once_the_trigger_exists(tmp_path):
    import threading
    import time

    from newsdesk.service.watch import watch
    from newsdesk.settings import Settings

    settings = Settings(seeds=tmp_path, warehouse=tmp_path / "wh", watch_stable_seconds=0.2, watch_poll_ms=50)
    registered = threading.Event()
    sent: list[list[str]] = []
    armed: list[list[list[str]]] = []
    done = threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(settings, sent.append, done.is_set),
        kwargs={"on_armed": lambda: armed.append(list(sent)), "has_trigger": registered.is_set},
        daemon=True,
    )
    thread.start()
    try:
        (tmp_path / "early.txt").write_text("Ferry timetable changes\nThe council said the ferry would run hourly.\n")
        time.sleep(1.5)  # settled long ago: an armed watch would have announced it
        assert (armed, sent) == ([], [])
        registered.set()
        assert _wait(lambda: sent)
        assert (armed, sent) == ([[]], [[]])  # armed, then one sweep for what landed meanwhile
    finally:
        done.set()
        thread.join(timeout=5)


@pytest.mark.parametrize("stable", [0.5])
def test_watch_announces_a_settled_file(tmp_path, stable):
    """The real watcher over a real folder, with a recording sender instead of Prefect."""
    import threading
    import time

    from newsdesk.service.watch import watch
    from newsdesk.settings import Settings

    settings = Settings(seeds=tmp_path, warehouse=tmp_path / "wh", watch_stable_seconds=stable, watch_poll_ms=50)
    sent: list[list[str]] = []
    done = threading.Event()
    thread = threading.Thread(target=watch, args=(settings, sent.append, done.is_set), daemon=True)
    thread.start()
    time.sleep(0.5)
    with open(tmp_path / "big.txt", "w") as handle:  # written in pieces, like a slow copy
        for _ in range(5):
            handle.write("x" * 1000)
            handle.flush()
            time.sleep(0.05)
    (tmp_path / "ignored.txt.part").write_text("partial")
    deadline = time.monotonic() + 10
    while not sent and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    thread.join(timeout=5)
    assert sent == [["big.txt"]]


def _run_watch(settings, sent, armed, done):
    import threading

    from newsdesk.service.watch import watch

    thread = threading.Thread(
        target=watch,
        args=(settings, sent.append, done.is_set),
        kwargs={"on_armed": lambda: armed.append(list(sent))},
        daemon=True,
    )
    thread.start()
    return thread


@contextmanager
def _armed_watch(settings: Settings) -> Iterator[list[list[str]]]:
    """The real watcher over settings.seeds_dir in a thread, once armed: what it announces."""
    sent: list[list[str]] = []
    armed: list[list[list[str]]] = []
    done = threading.Event()
    thread = _run_watch(settings, sent, armed, done)
    try:
        assert _wait(lambda: armed)
        yield sent
    finally:
        done.set()
        thread.join(timeout=5)


def _wait(condition, timeout: float = 10) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_files_there_before_the_watch_is_armed_get_one_sweep_announcement(tmp_path):
    """A file that landed before the watch was armed raised no event: on arming, the
    watcher reports it is armed, then rings once with no paths (the run sweeps)."""
    import threading

    from newsdesk.settings import Settings

    (tmp_path / "early.txt").write_text("Ferry timetable changes\nThe council said the ferry would run hourly.\n")
    settings = Settings(seeds=tmp_path, warehouse=tmp_path / "wh", watch_stable_seconds=0.3, watch_poll_ms=50)
    sent: list[list[str]] = []
    armed: list[list[list[str]]] = []
    done = threading.Event()
    thread = _run_watch(settings, sent, armed, done)
    try:
        assert _wait(lambda: sent), "no announcement at arm time"
        assert armed == [[]]  # armed was reported first, before anything was sent
        assert sent == [[]]
        (tmp_path / "later.txt").write_text("Harbour bridge to reopen\nThe mayor said the bridge would reopen.\n")
        assert _wait(lambda: len(sent) == 2)
        assert sent == [[], ["later.txt"]]
    finally:
        done.set()
        thread.join(timeout=5)


def test_an_empty_seeds_folder_announces_nothing_on_arming(tmp_path):
    import time

    (tmp_path / "notes.txt.part").write_text("partial")  # not an article file
    settings = Settings(seeds=tmp_path, warehouse=tmp_path / "wh", watch_stable_seconds=0.3, watch_poll_ms=50)
    with _armed_watch(settings) as sent:
        time.sleep(0.5)
        assert sent == []


def test_armed_is_reported_through_the_file_newsdesk_up_names(tmp_path, monkeypatch):
    import os

    from newsdesk.service.watch import READY_FILE_ENV, report_armed
    from newsdesk.settings import Settings

    report_armed(Settings().watch_ready_file)  # not started by `newsdesk up`: nothing to do
    ready = tmp_path / "watch.armed"
    monkeypatch.setenv(READY_FILE_ENV, str(ready))
    report_armed(Settings().watch_ready_file)  # the setting `newsdesk up` passes to the watcher
    assert ready.read_text() == f"{os.getpid()}\n"


def test_the_sweep_bell_rings_after_the_last_announcement_or_a_folder_and_never_mid_copy():
    from newsdesk.service.watch import SweepBell

    bell = SweepBell(event_sweep_seconds=60, stable_seconds=1)
    assert not bell.due(1000.0, files_settling=False)  # nothing announced since the last sweep
    bell.announced(100.0)
    assert not bell.due(159.0, files_settling=False)
    assert bell.due(160.0, files_settling=False)
    assert not bell.due(160.0, files_settling=True)  # a sweep would read the file half
    bell.folder_changed(120.0)  # sooner: its files raised no event
    assert bell.due(121.0, files_settling=False)
    bell.announced(121.5)  # the earlier ring serves both
    assert bell.due(121.5, files_settling=False)
    bell.rang()
    assert not bell.due(10_000.0, files_settling=False)
    never = SweepBell(event_sweep_seconds=0, stable_seconds=1)
    never.announced(0.0)  # 0: every event run sweeps already
    assert not never.due(10_000.0, files_settling=False)
    never.folder_changed(0.0)  # but a folder's files raised no event at all
    assert never.due(1.0, files_settling=False)


def _stamped_watch(settings, stamps, armed, done):
    import threading
    import time

    from newsdesk.service.watch import watch

    thread = threading.Thread(
        target=watch,
        args=(settings, lambda paths: stamps.append((time.monotonic(), paths)), done.is_set),
        kwargs={"on_armed": armed.set},
        daemon=True,
    )
    thread.start()
    return thread


def test_the_watcher_rings_for_a_sweep_once_after_its_last_announcement(tmp_path):
    """An event run skips its sweep while a recent one stands; the watcher rings once
    with no paths event_sweep_seconds after it last announced files, and only once."""
    import threading
    import time

    from newsdesk.settings import Settings

    settings = Settings(
        seeds=tmp_path, warehouse=tmp_path / "wh", watch_stable_seconds=0.2, watch_poll_ms=50, event_sweep_seconds=1.0
    )
    stamps: list[tuple[float, list[str]]] = []
    armed, done = threading.Event(), threading.Event()
    thread = _stamped_watch(settings, stamps, armed, done)
    try:
        assert armed.wait(10)
        (tmp_path / "a.txt").write_text("Ferry timetable changes\nThe council said the ferry would run hourly.\n")
        # (a file written as the watch arms may also get the arming sweep, before it)
        assert _wait(lambda: ["a.txt"] in [paths for _, paths in stamps], 10), stamps
        arming = [paths for _, paths in stamps].index(["a.txt"])
        assert arming in (0, 1) and stamps[:arming] in ([], [(stamps[0][0], [])])
        assert _wait(lambda: len(stamps) >= arming + 2, 10), stamps
        (announced, first), (rang, second) = stamps[arming : arming + 2]
        assert (first, second) == (["a.txt"], []) and rang - announced >= 1.0
        time.sleep(2.5)
        assert [paths for _, paths in stamps[arming:]] == [["a.txt"], []]  # one ring, not one a second
    finally:
        done.set()
        thread.join(timeout=5)


def test_a_folder_moved_in_gets_a_sweep_though_its_files_raise_no_event(tmp_path):
    import os
    import threading

    from newsdesk.settings import Settings

    seeds, staging = tmp_path / "seeds", tmp_path / "staging"
    (staging / "batch").mkdir(parents=True)
    seeds.mkdir()
    (staging / "batch" / "b.txt").write_text("Bridge works\nThe engineer said the bridge would reopen.\n")
    settings = Settings(seeds=seeds, warehouse=tmp_path / "wh", watch_stable_seconds=0.2, watch_poll_ms=50)
    stamps: list[tuple[float, list[str]]] = []
    armed, done = threading.Event(), threading.Event()
    thread = _stamped_watch(settings, stamps, armed, done)
    try:
        assert armed.wait(10)
        os.replace(staging / "batch", seeds / "batch")
        assert _wait(lambda: [] in [paths for _, paths in stamps], 10), stamps
    finally:
        done.set()
        thread.join(timeout=5)


def test_a_renamed_file_is_ready_after_a_short_quiet_unless_it_changed_or_was_written_again():
    from newsdesk.service.watch import LANDED_QUIET_SECONDS

    quiet = LANDED_QUIET_SECONDS
    tracker = StabilityTracker(stable_seconds=10.0)
    tracker.observe("a.txt", (10, 1), now=0.0)
    tracker.landed("a.txt", (10, 1), now=0.1)  # renamed into place
    tracker.landed("b.txt", (5, 1), now=0.1)
    tracker.observe("b.txt", (9, 2), now=0.1 + quiet / 2)  # appended to right after
    tracker.landed("c.txt", (3, 1), now=0.1)
    tracker.writing("c.txt", (3, 1), now=0.1 + quiet / 2)  # written to, size not yet moved
    assert tracker.ready(now=0.1 + quiet / 2) == []  # not quiet long enough yet
    assert tracker.ready(now=0.1 + quiet) == ["a.txt"]
    assert tracker.pending() == ["b.txt", "c.txt"]
    assert tracker.ready(now=9.9) == []
    assert tracker.ready(now=10.2) == ["b.txt", "c.txt"]  # held still: the usual rule


def test_lost_rename_reports_leave_every_file_to_stillness():
    from newsdesk.service.landings import Heard
    from newsdesk.service.watch import _hear_landings

    tracker = StabilityTracker(stable_seconds=1.0)
    tracker.landed("a.txt", (1, 1), now=0.0)
    _hear_landings(Path("/nowhere"), tracker, Heard({}, True), now=0.05)  # the queue overflowed
    assert tracker.ready(now=0.5) == []
    assert tracker.ready(now=1.0) == ["a.txt"]


def test_a_landing_of_a_file_already_gone_waits_for_the_fallback():
    tracker = StabilityTracker(stable_seconds=1.0)
    tracker.landed("gone.txt", None, now=0.0)
    assert tracker.ready(now=0.5) == []
    assert tracker.ready(now=1.0) == ["gone.txt"]


def test_late_reports_of_an_announced_write_neither_announce_it_again_nor_leave_a_stale_landing():
    tracker = StabilityTracker(stable_seconds=1.0)
    tracker.landed("a.txt", (10, 1), now=0.0)
    assert tracker.ready(now=0.2) == ["a.txt"]
    tracker.observe("a.txt", (10, 1), now=0.3)  # the same rename, reported late
    tracker.landed("a.txt", (10, 1), now=0.3)
    assert tracker.pending() == []
    tracker.observe("a.txt", (12, 2), now=0.4)  # written again in place
    assert tracker.ready(now=0.6) == []  # no landing left over from before: stillness decides
    assert tracker.ready(now=1.5) == ["a.txt"]


def _landings(tmp_path):
    from newsdesk.service.landings import Landings

    landings = Landings.open(tmp_path)
    if landings is None:
        pytest.skip("no inotify here")
    return landings


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_landings_tell_files_renamed_in_from_ones_written_in_place(tmp_path):
    import os

    from newsdesk.service.landings import LANDED, WRITING, Heard

    seeds, aside = tmp_path / "seeds", tmp_path / "aside"
    seeds.mkdir()
    aside.mkdir()
    landings = _landings(seeds)
    try:
        (seeds / "in_place.txt").write_text("The mayor said the bridge would reopen.\n")
        (aside / "whole.txt").write_text("Saved aside, then renamed into place.\n")
        os.replace(aside / "whole.txt", seeds / "renamed.txt")
        (seeds / "staged.tmp").write_text("Staged in seeds/ under a leftover name.\n")
        os.replace(seeds / "staged.tmp", seeds / "staged.txt")
        (seeds / "gone.txt").write_text("here, then not\n")
        (seeds / "gone.txt").unlink()
        root = str(seeds.resolve())
        assert landings.drain() == Heard(
            {f"{root}/in_place.txt": WRITING, f"{root}/renamed.txt": LANDED, f"{root}/staged.txt": LANDED}, False
        )
        (seeds / "new").mkdir()
        assert landings.drain() == Heard({}, False)  # the new folder is watched from here on
        os.replace(seeds / "renamed.txt", seeds / "new" / "inside.txt")
        assert landings.drain() == Heard({f"{root}/new/inside.txt": LANDED}, False)
        os.rename(seeds / "new", seeds / "moved")
        assert landings.drain() == Heard({}, False)
        (aside / "later.txt").write_text("Under the folder's new name.\n")
        os.replace(aside / "later.txt", seeds / "moved" / "later.txt")
        assert landings.drain() == Heard({f"{root}/moved/later.txt": LANDED}, False)
    finally:
        landings.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_an_overflowed_event_queue_is_reported_and_the_tree_watched_afresh(tmp_path):
    import os

    from newsdesk.service.landings import LANDED, Heard

    queue = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    if queue > 50_000:
        pytest.skip(f"the kernel queues {queue} events: too many files to overflow it here")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    landings = _landings(seeds)
    try:
        for i in range(queue // 2 + 100):  # a create and a modify each
            (seeds / f"f{i}.txt").write_bytes(b"x")
        (seeds / "sub").mkdir()  # made after the overflow: only a fresh watch sees into it
        assert landings.drain() == Heard({}, True)
        (tmp_path / "after.txt").write_text("Heard again once watched afresh.\n")
        os.replace(tmp_path / "after.txt", seeds / "sub" / "after.txt")
        root = str(seeds.resolve())
        assert landings.drain() == Heard({f"{root}/sub/after.txt": LANDED}, False)
    finally:
        landings.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_the_watcher_announces_a_renamed_file_at_once_and_one_written_in_place_once_still(tmp_path):
    """Stillness takes 3 s here: a file renamed in is announced well before; one written
    in place (and closed) waits for it, as its writer may open it again."""
    import os
    import time

    seeds = tmp_path / "seeds"
    settings = Settings(seeds=seeds, warehouse=tmp_path / "wh", watch_stable_seconds=3.0, watch_poll_ms=50)
    with _armed_watch(settings) as sent:
        (tmp_path / "quick.txt").write_text("The minister said the plan was ready.\n")
        started = time.monotonic()
        os.replace(tmp_path / "quick.txt", seeds / "quick.txt")
        (seeds / "in_place.txt").write_text("The council said the ferry would run hourly.\n")
        assert _wait(lambda: sent, timeout=8)
        assert sent == [["quick.txt"]]
        assert time.monotonic() - started < 2.5
        assert _wait(lambda: len(sent) == 2, timeout=10)
        assert sent[1] == ["in_place.txt"]
        assert time.monotonic() - started >= 3.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_a_renamed_file_does_not_wait_for_the_slow_recheck_of_files_being_written(tmp_path):
    """Files being written are looked at again every watch_poll_ms (1 s here); a file
    renamed in is announced at the loop's next wake-up after its quiet 0.1 s, well
    before that (it waited for the 1 s wake-up when the loop woke at that pace only)."""
    import os
    import time

    seeds = tmp_path / "seeds"
    settings = Settings(seeds=seeds, warehouse=tmp_path / "wh", watch_stable_seconds=3.0, watch_poll_ms=1000)
    with _armed_watch(settings) as sent:
        time.sleep(0.3)  # past the arming's own wake-ups
        (tmp_path / "moved.txt").write_text("The mayor said the bridge would reopen in May.\n")
        started = time.monotonic()
        os.replace(tmp_path / "moved.txt", seeds / "moved.txt")
        assert _wait(lambda: sent, timeout=8)
        assert sent == [["moved.txt"]]
        assert time.monotonic() - started < 0.8


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_a_file_written_through_another_name_is_looked_at_once_more_before_it_is_announced(tmp_path):
    """seeds/a.txt is a hard link to a staging file that its writer keeps appending to
    through the staging name: no watch on seeds/ hears those writes. Files being written
    are re-stat'ed every watch_poll_ms (2 s here); the file must still not be announced
    on a stale stat while the writer goes on, only once it held still."""
    import os
    import time

    seeds = tmp_path / "seeds"
    staging = tmp_path / "staging"
    staging.mkdir()
    settings = Settings(seeds=seeds, warehouse=tmp_path / "wh", watch_stable_seconds=0.3, watch_poll_ms=2000)
    with _armed_watch(settings) as sent:
        source = staging / "a.txt"
        source.write_text("The port said that ships would wait.\n")
        os.link(source, seeds / "a.txt")
        last_write = time.monotonic()
        for i in range(12):  # 1.2 s of writes, each 0.1 s apart, none heard on seeds/
            time.sleep(0.1)
            with open(source, "a", encoding="utf-8") as handle:
                handle.write(f"The port said that ship {i} would wait.\n")
            last_write = time.monotonic()
            assert sent == [], f"announced while still being written, {i} writes in"
        assert _wait(lambda: sent, timeout=8)
        assert sent == [["a.txt"]]
        assert time.monotonic() - last_write >= 0.3
