"""Plain helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsdesk.settings import PREFECT_SERVER_DEFAULTS, Settings

ROOT = Path(__file__).resolve().parent.parent  # the repository
SAMPLE = ROOT / "seeds" / "000_cad65338f8a7906b.txt"
CORPORA = ROOT.parent / "shared" / "corpora"


def rows(settings: Settings, query: str, params: list | None = None) -> list[tuple]:
    from newsdesk.warehouse import lake

    con = lake.open_reader(settings)
    try:
        return lake.query(con, query, params)[1]
    finally:
        con.close()


def ingest_argv(settings: Settings, *extra: str) -> list[str]:
    """The real `newsdesk ingest` of a workspace, as a subprocess argument list."""
    import sys

    return [
        sys.executable,
        "-m",
        "newsdesk.cli",
        "ingest",
        "--seeds",
        str(settings.seeds_dir),
        "--warehouse",
        str(settings.warehouse_dir),
        *extra,
    ]


def newsdesk(*args: str, env: dict | None = None, timeout: float = 600):
    """Run the real CLI in a subprocess, as a user would."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "newsdesk.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def write_variants(seeds: Path, count: int, prefix: str = "variant") -> None:
    """`count` distinct articles made from the sample's paragraphs (rotated)."""
    paragraphs = SAMPLE.read_text(encoding="utf-8").split("\n")[1:]
    for i in range(count):
        shift = i % len(paragraphs)
        body = "\n".join(paragraphs[shift:] + paragraphs[:shift])
        (seeds / f"{prefix}_{i:03}.txt").write_text(f"{prefix} {i} headline\n{body}\n", encoding="utf-8")


def table_counts(settings: Settings) -> dict[str, int]:
    return {
        t: rows(settings, f"select count(*) from {t}")[0][0]
        for t in ("articles", "mentions", "claims", "stances", "quantities", "sources")
    }


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_prefect_server(port: int, home: Path, timeout: float = 120):
    """A real `prefect server start` on loopback; returns (process, api_url) once healthy."""
    import subprocess
    import sys
    import time

    import httpx

    api = f"http://127.0.0.1:{port}/api"
    # The UI asks the API at PREFECT_UI_API_URL, which otherwise assumes port 4200.
    env = {
        **PREFECT_SERVER_DEFAULTS,  # as the server `newsdesk up` starts
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_UI_API_URL": api,
    }
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return proc, api
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    stop_group(proc)
    pytest.fail(f"prefect server did not start on port {port}")


def stop_group(proc, timeout: float = 30) -> None:
    """Stop a child started with start_new_session=True, and everything it started."""
    from newsdesk.service.stack import stop_group as stop

    stop(proc, timeout)
