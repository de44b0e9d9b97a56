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
for _name in [k for k in os.environ if k.startswith("NEWSDESK_")]:
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

    with prefect_test_harness(server_startup_timeout=90):
        yield PREFECT_API_URL.value()


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SAMPLE, seeds / SAMPLE.name)
    return Settings(seeds=seeds, warehouse=tmp_path / "warehouse", n_process=1)
