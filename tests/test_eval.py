"""`newsdesk eval` end to end: the whole-row measure on our own who-said-what gold for the
sample article (offsets and names only), and bad gold files refused in one line."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import ROOT, SAMPLE, newsdesk

SAMPLE_GOLD = ROOT / "tests" / "data" / "sample_whosaid.jsonl"
BBC_GOLD = ROOT / "eval" / "gold" / "bbc_whosaid.jsonl"


def test_eval_scores_whole_rows_on_the_sample(tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()
    shutil.copy(SAMPLE, texts / SAMPLE.name)
    (texts / "not_gold.txt").write_text("Never read\n\nThis file has no gold and must not be ingested.\n")
    out = tmp_path / "scores.json"
    warehouse = tmp_path / "warehouse"
    result = newsdesk(
        "eval", "--texts", str(texts), "--statements-gold", str(SAMPLE_GOLD),
        "--warehouse", str(warehouse), "--json", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    scores = json.loads(out.read_text())
    whole = scores["scores"]["rows_whole"]
    # 12 statements by hand; the sample's 10 speakers were the product's first promise
    assert whole["tp"] + whole["fn"] == 12
    assert whole["f1"] >= 0.9, scores
    assert scores["speakers"]["speaker_accuracy"] == 1.0
    assert scores["documents"] == 1  # only the gold document was copied in and ingested
    assert {"rows_content", "rows_content_exact"} <= set(scores["scores"])


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"doc_id": "x", "path": "../../etc/passwd", "statements": []}', "is not a file inside"),
        ("not json", "not a JSON object"),
        ('{"statements": []}', "needs a string doc_id"),
        ('{"doc_id": "nowhere", "statements": []}', "no article file"),
        ('{"doc_id": "0*", "statements": []}', "no article file"),  # a name, never a glob pattern
        (
            '{"doc_id": "a", "path": "SAMPLE", "statements": []}\n{"doc_id": "a", "path": "SAMPLE", "statements": []}',
            "appears twice",
        ),
        ('{"doc_id": "a", "path": "SAMPLE", "statements": [{"content": [{"start": 5, "end": 2}]}]}', "bad span"),
        ('{"doc_id": "a", "path": "SAMPLE", "statements": [{"content": [{"start": 0, "end": 10**9}]}]}', "not a JSON"),
        ('{"doc_id": "a", "path": "SAMPLE", "statements": [{"content": [{"start": -1, "end": 4}]}]}', "bad span"),
        ('{"doc_id": "a", "path": "SAMPLE", "statements": [{"content": [{"start": 0, "end": 999999}]}]}', "bad span"),
        ('{"doc_id": "a", "path": "SAMPLE", "statements": [{"content": []}]}', "at least one content span"),
        ('{"doc_id": "a", "path": "SAMPLE", "statements": [{"speaker": "X"}]}', "at least one content span"),
        ('{"doc_id": "a", "path": "SAMPLE", "statements": {"speaker": "X"}}', "statements must be a list"),
        (
            '{"doc_id": "a", "path": "SAMPLE", "statements": [{"speaker": 7, "content": [{"start": 0, "end": 4}]}]}',
            "speaker",
        ),
        (r'{"doc_id": "a", "path": "x\u0000y", "statements": []}', "is not a file inside"),
        ("[" * 100000 + "]" * 100000, "not a JSON object"),
    ],
)
def test_a_bad_gold_file_is_one_line_and_exit_2(tmp_path, line, message):
    texts = tmp_path / "texts"
    texts.mkdir()
    shutil.copy(SAMPLE, texts / SAMPLE.name)
    gold = tmp_path / "gold.jsonl"
    gold.write_text(line.replace("SAMPLE", SAMPLE.name) + "\n")
    result = newsdesk("eval", "--texts", str(texts), "--statements-gold", str(gold))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_attribution_without_content_is_skipped_not_refused(tmp_path):
    """PolNeAR's gold has attributions with no content span (the published dev file does):
    the scorer skips them, and the gold check must not refuse the file for them."""
    texts = tmp_path / "texts"
    texts.mkdir()
    shutil.copy(SAMPLE, texts / SAMPLE.name)
    gold = tmp_path / "gold.jsonl"
    record = {
        "doc_id": SAMPLE.stem,
        "attributions": [{"source": [{"start": 0, "end": 4, "text": "x"}], "cue": [], "content": []}],
    }
    gold.write_text(json.dumps(record) + "\n")
    result = newsdesk("eval", "--texts", str(texts), "--claims-gold", str(gold), timeout=600)
    assert result.returncode == 0, result.stderr
    assert "content span" not in result.stderr


def test_the_bbc_gold_holds_offsets_and_names_only():
    """The corpus licence forbids copying its text: every value is an offset, a name, a
    label or a path."""
    allowed = {"doc_id", "path", "annotator", "statements"}
    statement_keys = {
        "speaker",
        "speaker_start",
        "speaker_end",
        "speaker_form",
        "cue_start",
        "cue_end",
        "content",
        "kind",
    }
    records = [json.loads(line) for line in BBC_GOLD.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 30
    for record in records:
        assert set(record) <= allowed
        number = int(record["path"].split("/")[1][:3])
        assert 1 <= number <= 99, "numbers 100-399 are reserved for independent checks"
        for statement in record["statements"]:
            assert set(statement) <= statement_keys
            assert statement["kind"] in {"direct", "partial", "indirect"}
            assert statement["speaker"] is None or len(statement["speaker"]) <= 80
            assert all(set(span) == {"start", "end"} for span in statement["content"])


def test_a_gold_file_that_is_not_a_regular_file_is_refused(tmp_path):
    import os

    fifo = tmp_path / "gold.fifo"
    os.mkfifo(fifo)
    result = newsdesk("eval", "--texts", str(tmp_path), "--statements-gold", str(fifo), timeout=60)
    assert result.returncode == 2 and "not a regular file" in result.stderr
