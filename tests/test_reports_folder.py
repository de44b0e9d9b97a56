"""Analysts' own report files: whatever is in the folder, the other reports keep working."""

from __future__ import annotations

import pytest

from helpers import newsdesk
from newsdesk.flows.maintain import artifact_key
from newsdesk.warehouse.files import reports


@pytest.fixture
def folder(tmp_path):
    mine = tmp_path / "reports"
    mine.mkdir()
    (mine / "ok.sql").write_text("-- mine\nselect 1 as n\n")
    (mine / "latin.sql").write_bytes(b"-- caf\xe9\nselect 1\n")
    (mine / "markup.sql").write_text("-- [/bad] [link=http://evil]click[/link]\nselect 1\n")
    (mine / "dir.sql").mkdir()
    return mine


def test_an_unreadable_report_says_why_and_the_rest_load(folder):
    found = reports(folder)
    assert found["ok"].text.startswith("-- mine") and found["ok"].problem is None
    assert found["latin"].problem == "not UTF-8 text" and "not UTF-8" in found["latin"].description
    assert "dir" not in found and "top_entities" in found  # a folder is not a report; built-ins stay


def test_reports_listing_and_a_bad_report_are_one_line(folder, tmp_path):
    env = {"NEWSDESK_REPORTS": str(folder)}
    listing = newsdesk("reports", env=env)
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    assert "[link=" in listing.stdout  # shown as text, never read as markup
    bad = newsdesk("report", "latin", "--warehouse", str(tmp_path / "wh"), env=env)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "not UTF-8" in bad.stderr


@pytest.mark.parametrize(
    "name, key", [("Weekly", "report-weekly"), ("a.b_c", "report-a-b-c"), ("__", "report-unnamed")]
)
def test_artifact_keys_are_what_prefect_accepts(name, key):
    assert artifact_key(name) == key


def test_maintain_and_eval_refuse_missing_folders_before_starting(tmp_path):
    missing = tmp_path / "nowhere"
    result = newsdesk("maintain", "--warehouse", str(missing))
    assert result.returncode == 2 and "no warehouse" in result.stderr and not missing.exists()
    result = newsdesk("eval", "--texts", str(missing), "--claims-gold", str(missing))
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "env", [{"NEWSDESK_QUERY_TIMEOUT_SECONDS": "inf"}, {"NEWSDESK_QUERY_TABLE_ROWS": "99999999999999999999"}]
)
def test_out_of_range_query_settings_are_one_line(env, tmp_path):
    result = newsdesk("sql", "select 1", "--warehouse", str(tmp_path), env=env)
    assert result.returncode == 2 and result.stderr.startswith("invalid setting"), result.stderr
