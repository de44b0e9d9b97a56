"""Pure extraction (Article + Doc -> rows) and the pool that runs spaCy over batches.

Workers load the model once per process (a long run renews its processes now and
then) and return plain dataclasses, so the parent process never needs the model
when n_process > 1.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsdesk.extraction.claims import Claim, extract_attributions
from newsdesk.extraction.entities import Mention, extract_mentions
from newsdesk.extraction.matmul import single_blas_thread
from newsdesk.extraction.nlp import load_model, model_label, pipe
from newsdesk.extraction.quantities import Quantity, extract_quantities
from newsdesk.extraction.spans import SentenceIndex
from newsdesk.lifeline import die_with_parent

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from newsdesk.extraction.cluster import DaskBatches

# Bump when extraction rules change: rows record the version that made them.
EXTRACTOR_VERSION = "2026.11.28"  # numpy's BLAS: the same rows on every text tried, not proven for all


@dataclass(frozen=True)
class Extraction:
    article_id: str
    model: str
    mentions: tuple[Mention, ...]
    claims: tuple[Claim, ...]
    quantities: tuple[tuple[Quantity, int | None], ...]  # (quantity, claim_idx)
    stances: tuple[Claim, ...] = ()


def extract_doc(article_id: str, doc: Doc, model: str) -> Extraction:
    text = doc.text  # rebuilt from the tokens on every access: once per document
    sentences = SentenceIndex.of(doc)  # one sentence index for entities, claims and quantities
    mentions = extract_mentions(doc, text=text, sentences=sentences)
    claims, stances = extract_attributions(doc, mentions, text, sentences)
    quantities = tuple((q, claim_for(q, claims)) for q in extract_quantities(doc, text, sentences))
    return Extraction(article_id, model, tuple(mentions), tuple(claims), quantities, tuple(stances))


def claim_for(quantity: Quantity, claims: list[Claim]) -> int | None:
    """The claim whose content holds the number, else a claim in the same sentence."""
    for claim in claims:
        if claim.content_start <= quantity.start_char and quantity.end_char <= claim.content_end:
            return claim.claim_idx
    return None


def extract_texts(model_name: str, items: list[tuple[str, str]], batch_size: int) -> list[Extraction]:
    """(article_id, text) pairs -> extractions, in order. Runs in a worker or inline."""
    nlp = load_model(model_name)
    label = model_label(nlp)
    docs = pipe(nlp, (text for _, text in items), batch_size)
    return [extract_doc(article_id, doc, label) for (article_id, _), doc in zip(items, docs, strict=False)]


def extract_texts_then_trim(model_name: str, items: list[tuple[str, str]], batch_size: int) -> list[Extraction]:
    """extract_texts, then hand the freed heap back: what every pool task and inline run does."""
    try:
        return extract_texts(model_name, items, batch_size)
    finally:
        release_freed_heap()


def release_freed_heap() -> None:
    """Give the memory a task freed back to the system (glibc's malloc_trim).

    glibc keeps freed blocks for reuse, and spaCy's per-batch arrays come in many sizes,
    so a worker between tasks stayed near its last task's high. Two workers are rarely
    at their highs at once, so the tree's peak is one worker's high plus the other's
    level between tasks: the trim lowers the second. A heap walk: under 1 ms a task."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


_LIBC = _glibc()


def _warm(model_name: str) -> None:
    load_model(model_name)


def workers_for(items: int, n_process: int, batch_size: int) -> int:
    """Worker processes pay off only when a run has more than one batch."""
    return n_process if items > batch_size else 1


@dataclass
class _Head:
    """Work begun before a run's Extractor exists: model loads, and with worker
    processes the run's first batches (keyed by their article ids)."""

    pool: ProcessPoolExecutor | None
    loads: list[Future[None]] | list[threading.Thread]  # model loads: in the pool, or a thread
    early: dict[tuple[str, ...], list[Future[list[Extraction]]]]


# At most one head start, taken over by the next Extractor of the same shape.
_prestarted: dict[tuple[str, int], _Head] = {}


def prestart(model_name: str, n_process: int) -> None:
    """Begin loading the model now, in the worker processes (or on a thread for
    one process), so the load overlaps Prefect's start-up instead of following it."""
    discard_prestarted()
    if n_process > 1:
        pool = _spawn_pool(n_process)
        _prestarted[(model_name, n_process)] = _Head(
            pool, [pool.submit(_warm, model_name) for _ in range(n_process)], {}
        )
    else:
        loader = threading.Thread(target=_load_ignoring_errors, args=(model_name,), daemon=True)
        loader.start()
        _prestarted[(model_name, 1)] = _Head(None, [loader], {})


def prefetch(batches: list[list[tuple[str, str]]], batch_size: int) -> None:
    """Start extracting a run's first batches on the prestarted workers, so they work
    while Prefect starts (5-10 s, one core) instead of idling; the run's extract tasks
    collect these results when they ask for the same articles."""
    for (model_name, _), head in _prestarted.items():
        if head.pool is not None:
            for items in batches:
                if items:
                    head.early[_key(items)] = _submit(head.pool, model_name, items, batch_size)


def _key(items: list[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(article_id for article_id, _ in items)  # the id is a hash of the text


def _submit(
    pool: ProcessPoolExecutor | DaskBatches, model_name: str, items: list[tuple[str, str]], batch_size: int
) -> list[Future[list[Extraction]]]:
    # nlp.pipe-sized pieces, so the last batch of a run keeps every worker busy.
    size = batch_size * 2
    return [
        pool.submit(extract_texts_then_trim, model_name, items[i : i + size], batch_size)
        for i in range(0, len(items), size)
    ]


def connect_cluster(address: str | None, model_name: str, connect_seconds: float) -> DaskBatches | None:
    """The Dask cluster at `address` with the model loading on its workers, or None for local processes."""
    if address is None:
        return None
    from newsdesk.extraction.cluster import DaskBatches

    return DaskBatches(address, model_name, connect_seconds)


def _load_ignoring_errors(model_name: str) -> None:
    try:
        load_model(model_name)
    except Exception:  # noqa: BLE001 - the Extractor loads again and reports the error itself
        pass


def discard_prestarted() -> None:
    """Stop a head start no run took over (the run failed first, or needed none)."""
    for head in _prestarted.values():
        if head.pool is not None:
            head.pool.shutdown(wait=False, cancel_futures=True)
    _prestarted.clear()


def _start_worker(parent_pid: int) -> None:
    die_with_parent(parent_pid)
    single_blas_thread()  # the pool's processes are the parallelism


def _load_in_workers(
    pool: ProcessPoolExecutor, model_name: str, n_process: int, started: Sequence[object] = ()
) -> None:
    """The model loaded in every worker of the pool (a head start's loads, when given):
    a missing model fails here, with its own message."""
    for warm in started or [pool.submit(_warm, model_name) for _ in range(n_process)]:
        assert isinstance(warm, Future)  # a pool's head start loads in the pool
        warm.result()


def _spawn_pool(n_process: int) -> ProcessPoolExecutor:
    # spawn, not fork: the parent runs Prefect's threads and event loop.
    # Workers end with this process, even when it is killed with kill -9.
    return ProcessPoolExecutor(
        max_workers=n_process,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


class ExtractorClosed(RuntimeError):
    """The Extractor was closed, or its workers could not be renewed: no more batches."""

    exit_code = 3  # nothing for the user to fix in the input: run again


class Extractor:
    """Runs extraction on n_process worker processes, or inline (one at a time) for 1."""

    def __init__(
        self,
        model_name: str,
        n_process: int,
        batch_size: int,
        dask: DaskBatches | None = None,
        renew_after_chars: int = 0,
    ) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | DaskBatches | None = None
        self.parallelism = n_process  # batches worth keeping in flight (a Dask cluster's threads)
        self._n_process = n_process  # local worker processes, for a renewal
        self._renew_after_chars = renew_after_chars
        self._chars_on_pool = 0
        self.renewals = 0
        self._stopped: str | None = None  # why no more batches are taken
        if dask is not None:  # an existing cluster: its workers load the model themselves
            discard_prestarted()
            self._early, self._pool, self.parallelism = {}, dask, dask.threads
            return
        head = _prestarted.pop((model_name, n_process), None) or _Head(None, [], {})
        discard_prestarted()  # started for another shape of run: not needed
        self._early = head.early
        started = head.loads
        if n_process > 1:
            self._pool = head.pool or _spawn_pool(n_process)
            # Load the model in every worker now, so a missing model fails here
            # with its own message rather than as a broken pool later.
            try:
                _load_in_workers(self._pool, model_name, n_process, started)
            except BaseException:
                self.close()
                raise
        else:
            for loader in started:
                assert isinstance(loader, threading.Thread)  # one process: the head start is a thread
                loader.join()  # wait for it rather than load a second copy
            load_model(model_name)  # fail fast, before any batch is read

    def run(self, items: list[tuple[str, str]]) -> list[Extraction]:
        if not items:
            return []
        if self._pool is None:
            with self._lock:
                if self._stopped:
                    raise ExtractorClosed(self._stopped)
                return extract_texts_then_trim(self.model_name, items, self.batch_size)
        # Local workers: submitting threads take turns, so a renewal sees every task
        # and close() cannot slip in between. A Dask client needs no turns.
        local = isinstance(self._pool, ProcessPoolExecutor)
        with self._lock if local else nullcontext():
            if self._stopped:
                raise ExtractorClosed(self._stopped)
            futures = self._early.pop(_key(items), None)
            if futures is None:
                self._drop_guesses()
                if local:
                    self._renew_when_due()
                futures = _submit(self._pool, self.model_name, items, self.batch_size)
            if local:  # a head start's batch ran on these workers too
                self._chars_on_pool += sum(len(text) for _, text in items)
        return [extraction for future in futures for extraction in future.result()]

    def _renew_when_due(self) -> None:
        """Replace the worker processes with fresh ones once the pool was given
        `renew_after_chars` characters of text (among all its workers).

        A worker's memory only grows over a long run (spaCy's vocabulary and string
        store keep every new word; the heap fragments), and the two workers are about
        two fifths of the process tree's peak. Counted in characters, not tasks:
        one-paragraph files teach a worker fewer words a task. Python 3.11's own
        max_tasks_per_child can deadlock the pool (CPython gh-115634), so the pool is
        renewed whole: the old one finishes what it was given first, so old and new
        workers never hold memory side by side. Costs a model load (about 3.5 s) per
        renewal. New workers that cannot load the model (killed for memory, the
        package gone) stop the Extractor with one line, rather than leave a broken
        pool for every later batch."""
        if not (self._renew_after_chars and self._chars_on_pool >= self._renew_after_chars):
            return
        assert isinstance(self._pool, ProcessPoolExecutor)  # only local workers are renewed
        self._pool.shutdown(wait=True)
        try:
            self._pool = _spawn_pool(self._n_process)  # close() stops it, whatever happens next
            _load_in_workers(self._pool, self.model_name, self._n_process)
        except Exception as exc:
            self._stopped = f"the extraction workers could not be renewed: {type(exc).__name__}: {exc}"
            self._pool.shutdown(wait=True, cancel_futures=True)  # the old pool, when the spawn failed
            raise ExtractorClosed(self._stopped) from exc
        self._chars_on_pool = 0
        self.renewals += 1

    def _drop_guesses(self) -> None:
        """A batch the head start did not guess (a file changed meanwhile): the other
        guesses are stale too, so stop them rather than let them delay real work."""
        stale, self._early = self._early, {}
        for futures in stale.values():
            for future in futures:
                future.cancel()

    def close(self) -> None:
        # Under the lock: a task thread still submitting after the run ended (Ctrl-C, a
        # failed commit) must neither start a renewal nor find a pool shutting down.
        with self._lock:
            self._stopped = self._stopped or "the extraction pool is closed"
            if isinstance(self._pool, ProcessPoolExecutor):
                self._pool.shutdown(wait=True, cancel_futures=True)
        # a Dask cluster's client belongs to whoever connected it

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Extracted:
    """One text's extraction, with the normalized text its offsets point into."""

    text: str
    mentions: tuple[Mention, ...]
    claims: tuple[Claim, ...]
    quantities: tuple[tuple[Quantity, int | None], ...]  # (quantity, claim_idx)
    stances: tuple[Claim, ...] = ()  # what someone thinks, wants or backs: no statements


def extract_one(text: str, model_name: str) -> Extracted:
    """Normalize one text as the pipeline does, then extract it in this process."""
    from newsdesk.extraction.parse import article_id_for, normalize

    clean = normalize(text)
    (result,) = extract_texts(model_name, [(article_id_for(clean), clean)], batch_size=1)
    return Extracted(clean, result.mentions, result.claims, result.quantities, result.stances)
