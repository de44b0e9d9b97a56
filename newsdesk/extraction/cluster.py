"""Extraction batches on an existing Dask cluster (NEWSDESK_DASK_ADDRESS).

`distributed` is used directly rather than as the flow's task runner (prefect-dask's
DaskTaskRunner): only extraction belongs on the cluster. The flow's other steps hold
the warehouse connection and its write lock, and must stay in the flow's process.
Each worker loads the spaCy model once, when it joins (a worker plugin), and keeps
it in its process (`load_model` caches per process).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from newsdesk.extraction.nlp import ModelError


class ClusterError(RuntimeError):
    """The Dask cluster cannot take the work; the message says why."""

    exit_code = 2


class ClusterUnreachable(ClusterError):
    exit_code = 3


def check_cluster(address: str, connect_seconds: float) -> None:
    """The scheduler answers (before a run starts anything)."""
    DaskBatches(address, None, connect_seconds).close()


class DaskBatches:
    """Submits batch functions to the cluster; its futures answer `.result()` and `.cancel()`."""

    def __init__(self, address: str, model_name: str | None, connect_seconds: float) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError("NEWSDESK_DASK_ADDRESS needs the scale extra: pip install 'newsdesk[scale]'") from None
        self.address = address
        try:
            self.client = Client(address, timeout=connect_seconds, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterUnreachable(f"cannot reach the Dask scheduler at {address}: {_first_line(exc)}") from None
        try:
            self.threads = max(1, sum(self.client.nthreads().values()))
            if model_name is not None:
                self._register(model_name)
        except BaseException:
            self.close()
            raise

    def _register(self, model_name: str) -> None:
        from newsdesk.extraction.dask_plugin import LoadModel

        name = f"newsdesk-model-{model_name}"
        try:
            self.client.register_plugin(LoadModel(model_name), name=name)
        except Exception as exc:  # a worker could not load the model: its reason, one line
            # The scheduler keeps a plugin it failed to set up and would skip it next time.
            try:
                self.client.unregister_worker_plugin(name)
            except Exception:  # noqa: BLE001 - the registration's error is the one to report
                pass
            if isinstance(exc, ModelError):
                raise
            raise ClusterError(f"a Dask worker could not load the model {model_name!r}: {_first_line(exc)}") from None

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        return _Result(self.client.submit(function, *args, pure=False), self.address)

    def close(self) -> None:
        self.client.close()


class _Result:
    """A Dask future whose `result()` turns a lost cluster into ClusterUnreachable (one
    line, exit 3) rather than distributed's own errors; the batch is not committed."""

    def __init__(self, future: Any, address: str) -> None:
        self.future, self.address = future, address

    def result(self) -> Any:
        from distributed.comm.core import CommClosedError

        try:
            return self.future.result()
        except (CommClosedError, OSError, TimeoutError) as exc:
            raise ClusterUnreachable(f"lost the Dask scheduler at {self.address}: {_first_line(exc)}") from None
        except Exception as exc:
            if type(exc).__name__ in ("FutureCancelledError", "CancelledError"):
                raise ClusterUnreachable(f"lost the Dask scheduler at {self.address}: {_first_line(exc)}") from None
            raise

    def cancel(self) -> Any:
        return self.future.cancel()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
