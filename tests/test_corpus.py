"""The BBC corpus (2,225 real articles) through the real flow. Skipped when
../shared/corpora is absent; never copied into the project."""

from __future__ import annotations

import json

import pytest

from helpers import CORPORA, rows
from newsdesk.settings import Settings

BBC = CORPORA / "bbc"
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.slow,
    pytest.mark.skipif(not BBC.is_dir(), reason="../shared/corpora/bbc is absent"),
]


def test_bbc_corpus_ingests_whole(prefect_server, tmp_path):
    from newsdesk.flows.ingest import ingest

    settings = Settings(seeds=BBC, warehouse=tmp_path / "warehouse")
    duplicates = sum(
        1 for line in (BBC / "manifest.jsonl").read_text().splitlines() if json.loads(line).get("duplicate_of")
    )
    counts = ingest(seeds=str(BBC), warehouse=str(settings.warehouse_dir))
    assert counts["files_seen"] == 2225 and counts["quarantined"] == 0
    assert duplicates == 98
    assert rows(settings, "select count(*) from articles") == [(2225 - duplicates,)]
    assert rows(settings, "select count(*) from sources where status = 'ingested'") == [(2225,)]
    ((text, encoding),) = rows(
        settings,
        "select a.text, s.encoding from sources s join articles a using (article_id) where s.path = 'sport/199.txt'",
    )
    assert "£" in text and "\ufffd" not in text and encoding == "cp1252"
    # Every data check over the run: offsets, texts, quantities, speakers (an
    # interrupting attribution is cut out of a claim's content, and the checks know it).
    from newsdesk.warehouse import lake

    ((run_id,),) = rows(settings, "select distinct run_id from articles")
    con = lake.connect(settings, read_only=True)
    try:
        checks = lake.run_checks(con, run_id)
    finally:
        con.close()
    assert "claim_offsets_mismatch" in checks and all(bad == 0 for bad in checks.values()), checks
    gapless_mismatch = rows(
        settings,
        "select count(*) from claims c join articles a using (article_id) where c.content_gap_start is null "
        "and substring(a.text, c.content_start + 1, c.content_end - c.content_start) <> c.content",
    )
    assert gapless_mismatch == [(0,)]
