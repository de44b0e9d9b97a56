"""`newsdesk up`: the local stack as child processes, stopped in order on Ctrl-C.

"newsdesk is up" is printed only once it is true, and start-up is ordered so
that no file dropped from then on waits for the cron sweep:

1. the Prefect server answers (started here unless one already does);
2. serve has registered the ingest deployment and its event trigger: an event
   that reaches the server before the trigger exists starts nothing, and
   serve replaces the trigger each time it starts;
3. watch has armed its file-system watch: a file that lands before that
   raises no event, so the watcher rings once on arming if seeds/ holds any
   article file.

Each wait is bounded; a child that exits or is not ready in time stops the
stack with one line saying which, and a non-zero exit code.

Stop order: watch and serve first (serve finishes the run it is in), then the
Prefect server, if this command started it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from newsdesk.settings import Settings

SERVER_START_SECONDS = 120
SERVE_READY_SECONDS = 180  # imports, model load, registering the deployments
WATCH_READY_SECONDS = 120


def api_healthy(api: str, timeout: float = 2) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def ingest_triggers(api: str) -> set[str] | None:
    """Ids of the enabled automations that run the ingest deployment on the watcher's
    event; None when the API does not answer."""
    from newsdesk.service.serve import ask_ingest_trigger_ids

    try:
        return ask_ingest_trigger_ids(api)
    except Exception:  # down, restarting, or not a Prefect API: "not yet"
        return None


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # Own process group: Ctrl-C reaches only us, and we stop the children in order.
    return subprocess.Popen(args, env=env, start_new_session=True)


def stop_group(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGINT a child's process group, SIGKILL it if it does not stop in time."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)  # Prefect workers ignore SIGTERM; SIGINT stops them cleanly
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def wait_ready(
    name: str,
    what: str,
    children: dict[str, subprocess.Popen],
    ready: Callable[[], bool],
    timeout: float,
    stopping: Callable[[], bool],
    interval: float = 0.1,
) -> str | None:
    """Poll `ready()` until it holds. None when it does (or when we are told to stop);
    otherwise one line saying why not: a child exited, or `name` was not ready in time."""
    deadline = time.monotonic() + timeout
    while True:
        if stopping():
            return None
        for child, proc in children.items():
            if proc.poll() is not None:
                return f"{child} exited with code {proc.returncode} during start-up"
        if ready():
            return None
        if time.monotonic() > deadline:
            return f"{name} did not {what} within {timeout:g} s"
        time.sleep(interval)


def run_stack(settings: Settings, console) -> int:
    from newsdesk.service.watch import READY_FILE_ENV

    api = settings.server_api
    ui = f"http://{settings.server_host}:{settings.server_port}"
    env = {
        **os.environ,
        "PREFECT_API_URL": api,
        "NEWSDESK_SEEDS": str(settings.seeds_dir),
        "NEWSDESK_WAREHOUSE": str(settings.warehouse_dir),
    }
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    server = None
    if api_healthy(api):
        console.print(f"Using the Prefect server already at {ui}")
    else:
        console.print(f"Starting a Prefect server on {ui} ...")
        # The UI finds the API through PREFECT_UI_API_URL, which otherwise assumes port 4200.
        server_env = {**{k: v for k, v in env.items() if k != "PREFECT_API_URL"}, "PREFECT_UI_API_URL": api}
        server = _start(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                settings.server_host,
                "--port",
                str(settings.server_port),
            ],
            server_env,
        )
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not api_healthy(api):
            if stopping or server.poll() is not None or time.monotonic() > deadline:
                console.print("[red]the Prefect server did not start[/red]")
                stop_group(server, 30)
                return 1
            time.sleep(0.5)
    console.print(f"Prefect UI: {ui}   starting serve, then watch ...")
    children: dict[str, subprocess.Popen] = {}
    ready_dir = Path(tempfile.mkdtemp(prefix="newsdesk-up-"))
    exit_code = 0
    try:
        # serve replaces the ingest trigger when it registers: a new automation id means it is done.
        earlier = ingest_triggers(api) or set()
        children["serve"] = _start([sys.executable, "-m", "newsdesk.cli", "serve"], env)
        failure = wait_ready(
            "serve",
            "register the ingest deployment and its trigger",
            children,
            lambda: bool((ingest_triggers(api) or set()) - earlier),
            SERVE_READY_SECONDS,
            lambda: stopping,
        )
        if failure is None and not stopping:
            armed = ready_dir / "watch.armed"
            children["watch"] = _start(
                [sys.executable, "-m", "newsdesk.cli", "watch"], {**env, READY_FILE_ENV: str(armed)}
            )
            failure = wait_ready(
                "watch",
                f"arm its watch on {settings.seeds_dir}",
                children,
                armed.exists,
                WATCH_READY_SECONDS,
                lambda: stopping,
            )
        if failure is not None:
            console.print(f"[red]newsdesk did not come up: {failure}; stopping the stack[/red]")
            stopping, exit_code = True, 1
        elif not stopping:
            console.print(f"newsdesk is up. Prefect UI: {ui}   seeds: {settings.seeds_dir}   Ctrl-C stops everything.")
        while not stopping:
            for name, proc in children.items():
                if proc.poll() is not None:
                    console.print(f"[red]{name} exited with code {proc.returncode}; stopping the stack[/red]")
                    stopping, exit_code = True, 1
            time.sleep(0.2)
    finally:
        console.print("Stopping watch and serve ...")
        for name in ("watch", "serve"):
            if name in children:
                stop_group(children[name], timeout=120)
        if server is not None:
            console.print("Stopping the Prefect server ...")
            stop_group(server, timeout=30)
        shutil.rmtree(ready_dir, ignore_errors=True)
        console.print("Stopped.")
    return exit_code
