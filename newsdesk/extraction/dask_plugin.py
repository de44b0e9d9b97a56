"""The worker plugin that loads the spaCy model on each Dask worker (the scale extra).

A module of its own: importing `distributed` takes a second, which a run without
NEWSDESK_DASK_ADDRESS should not pay.
"""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from newsdesk.extraction.matmul import single_blas_thread
from newsdesk.extraction.nlp import load_model


class LoadModel(WorkerPlugin):
    """Load the model as the worker starts (or joins later): a batch never waits for
    it, and a missing model fails at registration, not in the middle of a run."""

    idempotent = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def setup(self, worker: Any) -> None:
        single_blas_thread()  # the cluster's workers and threads are the parallelism
        load_model(self.model_name)
