"""The extraction pool's head start: work begun before a run (model loads, first
batches) is taken over by the run's Extractor, and a wrong guess costs nothing; every
task hands the memory it freed back."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import SAMPLE, Settings
from newsdesk.extraction import pool as extract
from newsdesk.extraction.parse import parse_article
from newsdesk.extraction.pool import Extractor, extract_texts, prefetch, prestart


def _items() -> list[tuple[str, str]]:
    base = parse_article(SAMPLE.read_bytes()).text
    texts = [base, base.replace("Rutte", "Stoltenberg"), "Pistorius said the ministry would respond."]
    return [(f"a{i}", text) for i, text in enumerate(texts)]


def test_prefetched_batch_is_collected_by_the_run_and_matches_inline_extraction():
    model, items = Settings().model, _items()
    inline = extract_texts(model, items, 16)
    prestart(model, 2)
    prefetch([items], 16)
    with Extractor(model, 2, 16) as extractor:
        assert set(extractor._early) == {("a0", "a1", "a2")}
        assert extractor.run(items) == inline
        assert extractor._early == {}  # taken, not extracted a second time


def test_a_wrong_guess_is_ignored():
    model, items = Settings().model, _items()
    prestart(model, 2)
    prefetch([items[:1]], 16)
    with Extractor(model, 2, 16) as extractor:
        assert extractor.run(items[1:]) == extract_texts(model, items[1:], 16)
        assert extractor._early == {}  # the stale guess was dropped, not left to delay real work


def test_a_head_start_of_another_shape_is_discarded():
    model = Settings().model
    prestart(model, 2)
    with Extractor(model, 1, 16) as extractor:
        assert extractor._pool is None and not extract._prestarted
        assert [e.article_id for e in extractor.run(_items())] == ["a0", "a1", "a2"]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_workers_are_renewed_after_their_text_budget_and_give_the_same_rows():
    model, items = Settings().model, _items()
    inline = extract_texts(model, items, 1)
    budget = sum(len(text) for _, text in items)
    with Extractor(model, 2, 1, renew_after_chars=budget) as extractor:
        first = set(extractor._pool._processes)
        assert extractor.run(items) == inline  # the budget is spent, not yet renewed
        assert extractor.renewals == 0
        assert extractor.run(items) == inline
        assert extractor.renewals == 1
        assert first and not first & set(extractor._pool._processes)  # fresh workers
        assert all(_gone(pid) for pid in first)  # the old ones have ended


def test_a_head_starts_batches_count_towards_the_renewal():
    """The first batches, extracted while Prefect starts, were text for these workers too."""
    model, items = Settings().model, _items()
    prestart(model, 2)
    prefetch([items], 1)
    with Extractor(model, 2, 1, renew_after_chars=sum(len(text) for _, text in items)) as extractor:
        assert extractor.run(items) == extract_texts(model, items, 1)  # the head start's batch
        assert extractor._early == {} and extractor.renewals == 0
        extractor.run(items[:1])
        assert extractor.renewals == 1


def test_renewal_under_concurrent_batches_loses_and_mixes_nothing():
    model, items = Settings().model, _items()
    batches = [[(f"{n}-{article_id}", text) for article_id, text in items] for n in range(6)]
    budget = sum(len(text) for _, text in items) * 2  # every second batch
    with Extractor(model, 2, 1, renew_after_chars=budget) as extractor, ThreadPoolExecutor(3) as threads:
        results = list(threads.map(extractor.run, batches))
        assert extractor.renewals == 2  # at the third and the fifth batch: none lost to a race
    assert [[e.article_id for e in result] for result in results] == [[a for a, _ in b] for b in batches]
    inline = extract_texts(model, items, 1)
    assert all([e.mentions for e in result] == [e.mentions for e in inline] for result in results)


def _live_workers() -> set[int]:
    """This process's spawned pool workers that have not exited, from /proc."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                state, parent = stat.read().rsplit(")", 1)[1].split()[:2]
                command = cmdline.read()
        except OSError:
            continue
        if int(parent) == os.getpid() and state != "Z" and b"spawn_main" in command:
            found.add(int(entry))
    return found


def test_workers_that_cannot_be_renewed_stop_the_extractor_with_one_line():
    model, items = Settings().model, _items()
    before = _live_workers()  # an earlier test's pool may still be exiting
    with Extractor(model, 2, 1, renew_after_chars=1) as extractor:
        extractor.run(items)
        assert _live_workers() - before
        extractor.model_name = "no_such_model_package"  # what a renewal loads: gone
        with pytest.raises(extract.ExtractorClosed, match="could not be renewed") as failed:
            extractor.run(items)
        assert "\n" not in str(failed.value)
        from newsdesk.cli import _exit_code

        assert _exit_code(failed.value) == 3  # the CLI's code for "run again", not 2 ("fix your input")
        with pytest.raises(extract.ExtractorClosed, match="could not be renewed"):
            extractor.run(items)  # every later batch says why, not a broken pool
    assert not _live_workers() - before  # neither the old workers nor the new ones are left


def test_a_closed_extractor_takes_no_batch_and_starts_no_workers():
    model, items = Settings().model, _items()
    before = _live_workers()
    with Extractor(model, 2, 1, renew_after_chars=1) as extractor:
        extractor.run(items)  # the budget is spent: the next batch would renew
        extractor.close()
        with pytest.raises(extract.ExtractorClosed, match="closed"):
            extractor.run(items)
    assert extractor.renewals == 0 and not _live_workers() - before


def test_a_closed_inline_extractor_takes_no_batch():
    extractor = Extractor(Settings().model, 1, 16)
    extractor.close()
    with pytest.raises(extract.ExtractorClosed, match="closed"):
        extractor.run(_items())


def test_workers_are_never_renewed_with_no_budget():
    model, items = Settings().model, _items()
    with Extractor(model, 2, 1) as extractor:
        first = set(extractor._pool._processes)
        for _ in range(3):
            extractor.run(items)
        assert extractor.renewals == 0 and set(extractor._pool._processes) == first


HEAP_PROBE = """
import numpy
from newsdesk.extraction.pool import release_freed_heap

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))

arrays = [numpy.ones(12_000) for _ in range(4000)]  # 96 KB each: under malloc's mmap threshold, on the heap
last = arrays[-1]  # one live block at the top: the heap cannot simply shrink
del arrays
freed = rss_mb()
release_freed_heap()
print(freed, rss_mb())
"""


@pytest.mark.skipif(extract._LIBC is None, reason="glibc's malloc_trim only")
def test_release_freed_heap_hands_freed_memory_back():
    """glibc keeps a freed heap resident; release_freed_heap gives it back."""
    # malloc as it is by default: no tuned mmap threshold, no other allocator preloaded
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_TUNABLES", "LD_PRELOAD"))}
    result = subprocess.run([sys.executable, "-c", HEAP_PROBE], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    freed, trimmed = map(int, result.stdout.split())
    assert freed - trimmed > 200, (freed, trimmed)  # ~370 MB was freed but still resident


class _RecordingPool:
    def __init__(self) -> None:
        self.functions: list[object] = []

    def submit(self, function, *args):
        self.functions.append(function)


def test_every_pool_task_trims_after_it():
    pool = _RecordingPool()
    extract._submit(pool, "model", [(f"a{i}", "text") for i in range(40)], 16)  # type: ignore[arg-type]
    assert pool.functions == [extract.extract_texts_then_trim] * 2  # pieces of 32
