"""How Prefect runs inside a newsdesk process (the CLI, serve): the layer that owns
Prefect owns these."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from newsdesk.lifeline import reap_with_us

log = logging.getLogger("newsdesk.flows")


@contextmanager
def in_process_run_settings() -> Iterator[None]:
    """Prefect settings for the flow runs newsdesk executes in its own process (CLI, serve).

    Flow-run heartbeats are off: they serve only a zombie-detection automation,
    which newsdesk does not create, and at the end of every run Prefect waits up
    to 1 s for the heartbeat thread to wake (py-spy: 0.5-0.8 s of a 1.2 s
    one-file run in serve).
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def reap_temporary_prefect_server() -> None:
    """Give every temporary Prefect server this process starts a reaper.

    Prefect starts it with a plain Popen we cannot pass options to, so its
    starter is wrapped; if Prefect's internals change, we only lose the reaper."""
    try:
        from prefect.server.api.server import SubprocessASGIServer
    except ImportError:
        return
    start = getattr(SubprocessASGIServer, "_run_uvicorn_command", None)
    if start is None or getattr(start, "_newsdesk_reaped", False):
        return

    def start_reaped(self: SubprocessASGIServer) -> subprocess.Popen[Any]:
        process = start(self)
        try:
            reap_with_us(process.pid)
        except OSError as exc:
            log.warning("no reaper for the temporary Prefect server: %s", exc)
        return process

    start_reaped._newsdesk_reaped = True  # type: ignore[attr-defined]
    setattr(SubprocessASGIServer, "_run_uvicorn_command", start_reaped)  # noqa: B010 - a method, replaced
