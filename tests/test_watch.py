"""The watcher's logic, called directly: settling, filtering and delivery with backoff."""

from __future__ import annotations

import pytest

from flows.watch import StabilityTracker, _relevant, deliver


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


def test_only_article_files_inside_seeds_are_relevant(tmp_path):
    changed = [str(tmp_path / "a.txt"), str(tmp_path / "b.md"), str(tmp_path / ".hidden.txt"),
               str(tmp_path / "c.txt.part"), str(tmp_path / "d.swp"), str(tmp_path / "sub" / "e.txt"),
               str(tmp_path / ".git" / "f.txt"), "/etc/passwd", str(tmp_path / ".." / "x.txt")]
    assert _relevant(tmp_path, changed) == ["a.txt", "b.md", "sub/e.txt"]


def test_delivery_retries_with_backoff_until_the_server_answers(monkeypatch):
    import flows.watch as watch

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


@pytest.mark.parametrize("stable", [0.5])
def test_watch_announces_a_settled_file(tmp_path, stable):
    """The real watcher over a real folder, with a recording sender instead of Prefect."""
    import threading
    import time

    from flows.settings import Settings
    from flows.watch import watch

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
