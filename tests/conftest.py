"""Shared fixtures. Every test is isolated: its own seeds/, warehouse and PREFECT_HOME."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

# Prefect reads these at import time: set them before anything imports it.
_PREFECT_HOME = tempfile.mkdtemp(prefix="newsdesk-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)
# Nor a developer's own settings, cloud credentials or database logins.
for _name in [k for k in os.environ if k.startswith(("NEWSDESK_", "AWS_", "PG"))]:
    os.environ.pop(_name)
# A developer's own `newsdesk up` must not receive the tests' runs.
os.environ["NEWSDESK_USE_RUNNING_SERVER"] = "false"
# Started as a background job (`cmd &` in a script), the suite inherits SIGINT ignored, and
# so would every child: the Ctrl-C tests would wait on processes deaf to it. A handler
# (unlike "ignore") is reset to the default in each child, so children hear SIGINT again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from helpers import SAMPLE  # noqa: E402
from newsdesk.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def nlp():
    from newsdesk.extraction.nlp import load_model

    return load_model(Settings().model)


@pytest.fixture(scope="session")
def sample_text() -> str:
    from newsdesk.extraction.parse import parse_article

    return parse_article(SAMPLE.read_bytes()).text


@pytest.fixture(scope="session")
def sample_doc(nlp, sample_text):
    return nlp(sample_text)


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for the whole session; yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield PREFECT_API_URL.value()


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SAMPLE, seeds / SAMPLE.name)
    return Settings(seeds=seeds, warehouse=tmp_path / "warehouse", n_process=1)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (skips, saying why, where it cannot start)."""
    from services import Unavailable, postgres_server

    try:
        server = postgres_server()
        found = server.__enter__()
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL cannot start here: {exc}")
    yield found
    server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def s3():
    from services import s3_server

    with s3_server() as found:
        yield found


@pytest.fixture(scope="session")
def dask():
    from services import dask_cluster

    with dask_cluster(2) as found:
        yield found


@pytest.fixture
def remote_env(postgres, s3, monkeypatch) -> dict[str, str]:
    """A new warehouse on PostgreSQL + S3: the environment that selects it, also set in
    this process (Settings() and the CLI subprocesses read it)."""
    import uuid

    from services import BUCKET, PASSWORD

    env = {
        "NEWSDESK_CATALOG": postgres.catalog(postgres.new_database()),
        "NEWSDESK_DATA_PATH": f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}/",
        "PGPASSWORD": PASSWORD,
        **s3.env(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
