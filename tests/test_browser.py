"""The Prefect UI as a person sees it: headless Chromium loads the flow run page
and the run's report. Skipped when Chromium is absent (`apt-get install chromium`)."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys

import httpx
import pytest

from helpers import SAMPLE, free_port, start_prefect_server, stop_group

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
HOSTILE_TITLE = 'Budget <img src="x" onerror="alert(1)"> [link](javascript:alert(2)) vote'


def rendered_text(url: str, profile) -> tuple[str, str]:
    """(DOM, its visible text) after the page's scripts ran."""
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    dom = result.stdout
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", dom, flags=re.S))
    return dom, " ".join(html.unescape(text).split())


def test_flow_run_page_and_its_report(tmp_path):
    server, api = start_prefect_server(free_port(), tmp_path / "prefect-home")
    try:
        seeds = tmp_path / "seeds"
        seeds.mkdir()
        shutil.copy(SAMPLE, seeds / SAMPLE.name)
        (seeds / "hostile.txt").write_text(f"{HOSTILE_TITLE}\nThe minister said that the vote would pass.\n")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "newsdesk.cli",
                "ingest",
                "--seeds",
                str(seeds),
                "--warehouse",
                str(tmp_path / "warehouse"),
            ],
            env={**os.environ, "PREFECT_API_URL": api},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        (run,) = httpx.post(f"{api}/flow_runs/filter", json={}).json()
        (artifact,) = httpx.post(
            f"{api}/artifacts/filter", json={"artifacts": {"key": {"any_": ["ingest-summary"]}}}
        ).json()

        _, page = rendered_text(f"{api[:-4]}/runs/flow-run/{run['id']}", tmp_path / "profile-run")
        assert run["name"] in page and run["name"].startswith("manual-2-files")
        assert "Completed" in page and "trigger:manual" in page and "Artifacts" in page

        dom, report = rendered_text(f"{api[:-4]}/artifacts/artifact/{artifact['id']}", tmp_path / "profile-art")
        assert f"newsdesk ingest {run['id']}" in report
        assert "Mark Rutte" in report and "articles added 2" in report
        assert "<table" in dom
        # the hostile headline is shown as text, never as markup
        assert re.search(r"<img[^>]*onerror", dom) is None  # no element was made of it
        assert re.search(r"<a[^>]*javascript:", dom) is None
        assert '<img src="x"' in report  # it is there, as visible text
    finally:
        stop_group(server)
