"""`newsdesk up`: the local stack as child processes, stopped in order on Ctrl-C.

Order matters: watch and serve stop first (serve finishes the run it is in),
then the Prefect server, if this command started it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from flows.settings import Settings


def api_healthy(api: str, timeout: float = 2) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


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


def run_stack(settings: Settings, console) -> int:
    api = settings.server_api
    ui = f"http://{settings.server_host}:{settings.server_port}"
    env = {**os.environ, "PREFECT_API_URL": api, "NEWSDESK_SEEDS": str(settings.seeds_dir),
           "NEWSDESK_WAREHOUSE": str(settings.warehouse_dir)}
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
        server = _start([sys.executable, "-m", "prefect", "server", "start", "--host", settings.server_host,
                         "--port", str(settings.server_port)], server_env)
        deadline = time.monotonic() + 120
        while not api_healthy(api):
            if stopping or server.poll() is not None or time.monotonic() > deadline:
                console.print("[red]the Prefect server did not start[/red]")
                stop_group(server, 30)
                return 1
            time.sleep(0.5)
    children = {
        "serve": _start([sys.executable, "-m", "flows.cli", "serve"], env),
        "watch": _start([sys.executable, "-m", "flows.cli", "watch"], env),
    }
    console.print(f"newsdesk is up. Prefect UI: {ui}   seeds: {settings.seeds_dir}   Ctrl-C stops everything.")
    exit_code = 0
    while not stopping:
        for name, proc in children.items():
            if proc.poll() is not None:
                console.print(f"[red]{name} exited with code {proc.returncode}; stopping the stack[/red]")
                stopping, exit_code = True, 1
        time.sleep(0.2)
    console.print("Stopping watch and serve ...")
    for name in ("watch", "serve"):
        stop_group(children[name], timeout=120)
    if server is not None:
        console.print("Stopping the Prefect server ...")
        stop_group(server, timeout=30)
    console.print("Stopped.")
    return exit_code
