"""@flow evaluate: ingest a folder, then score the warehouse against gold JSONL files."""

from __future__ import annotations

import glob
import json
import os
import shutil
import stat
import tempfile
from collections import defaultdict
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from newsdesk.extraction.parse import decode
from newsdesk.flows.ingest import ingest
from newsdesk.pipeline.scoring import (
    NO_SPEAKERS,
    ZERO,
    Attribution,
    PredictedClaim,
    RowPrediction,
    Score,
    Span,
    SpeakerAccuracy,
    align,
    gold_attributions,
    gold_entities,
    gold_statements,
    predicted_entities,
    score_claims,
    score_contents,
    score_entities,
    score_exact_content,
    score_rows,
    speaker_accuracy,
)
from newsdesk.pipeline.summary import markdown_table
from newsdesk.settings import Settings
from newsdesk.warehouse import lake


class GoldError(ValueError):
    """A gold file or record that cannot be scored: said in one line."""


MAX_GOLD_BYTES = 256 * 2**20  # a gold file is annotations, never a corpus


def load_gold(path: str | None) -> dict[str, dict]:
    if not path:
        return {}
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise GoldError(f"the gold file {path} is not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_GOLD_BYTES + 1)
        if len(data) > MAX_GOLD_BYTES:
            raise GoldError(f"the gold file {path} is larger than {MAX_GOLD_BYTES // 2**20} MiB")
        lines = data.decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, GoldError):
            raise
        raise GoldError(f"cannot read the gold file {path}: {exc}") from exc
    records: dict[str, dict] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise GoldError(f"{path}:{number}: not a JSON object") from exc
        if not isinstance(record, dict) or not isinstance(record.get("doc_id"), str):
            raise GoldError(f"{path}:{number}: a gold record needs a string doc_id")
        if record["doc_id"] in records:
            raise GoldError(f"{path}:{number}: doc_id {record['doc_id']!r} appears twice")
        records[record["doc_id"]] = record
    return records


def check_gold(texts: Path, path: str | None) -> dict[str, dict]:
    """A gold file's records, each checked against its article: offsets are integers with
    0 <= start < end <= the article's length; names are strings. Cheap, and run before
    anything is ingested, so a bad record is one line, not a failure after the run."""
    gold = load_gold(path)
    for doc_id, relative in gold_files(texts, gold).items():
        length = len(decode((texts / relative).read_bytes())[0])
        problem = _offset_problem(gold[doc_id], length) or _statement_problem(gold[doc_id])
        if problem:
            raise GoldError(f"{path}: gold document {doc_id!r}: {problem}")
    return gold


def _statement_problem(record: dict) -> str | None:
    """A statement (our own gold format) says something. PolNeAR's attributions may have
    no content span; the scorer skips those, so they are not refused."""
    if "statements" not in record:
        return None
    statements = record["statements"]
    if not isinstance(statements, list):
        return "statements must be a list"
    for statement in statements:
        if not isinstance(statement, dict):
            return "a statement must be an object"
        content = statement.get("content")
        if not isinstance(content, list) or not content:
            return "a statement needs at least one content span"
    return None


def _offset_problem(node: object, length: int) -> str | None:
    """The first bad span or name anywhere in a record, or None."""
    if isinstance(node, list):
        return next((p for p in (_offset_problem(item, length) for item in node) if p), None)
    if not isinstance(node, dict):
        return None
    for start_key, end_key in (("start", "end"), ("speaker_start", "speaker_end"), ("cue_start", "cue_end")):
        if start_key not in node and end_key not in node:
            continue
        start, end = node.get(start_key), node.get(end_key)
        if start is None and end is None and start_key != "start":
            continue  # "no speaker phrase in the clause"
        if type(start) is not int or type(end) is not int or not 0 <= start < end <= length:
            return f"bad span {start_key}={start!r} {end_key}={end!r} (the article has {length} characters)"
    if "speaker" in node and node["speaker"] is not None and not isinstance(node["speaker"], str):
        return f"speaker must be a name or null, not {node['speaker']!r}"
    return next((p for p in (_offset_problem(value, length) for value in node.values()) if p), None)


def gold_files(texts: Path, gold: dict[str, dict]) -> dict[str, str]:
    """doc_id -> the article's path relative to `texts`: a record's `path`, else the file
    named after its doc_id. Only regular files inside `texts` qualify: a gold file is
    input like any other, and "../" must not copy the rest of the disk."""
    root = texts.resolve()
    files = {}
    for doc_id, record in sorted(gold.items()):
        relative = record.get("path") or _file_for(texts, doc_id)
        try:
            where = (texts / str(relative)).resolve()
            inside = isinstance(relative, str) and where.is_relative_to(root) and where.is_file()
        except (OSError, ValueError):  # a NUL in the path, a loop
            inside = False
        if not inside:
            raise GoldError(f"gold document {doc_id!r}: {relative!r} is not a file inside {texts}")
        files[doc_id] = where.relative_to(root).as_posix()
    return files


def stage_gold_documents(texts: Path, gold: dict[str, dict], into: Path) -> dict[str, str]:
    """Copy the gold documents, and only them, into `into`: a corpus folder may hold
    articles that must not be read (BBC numbers 100-399 are kept for independent checks).
    Returns doc_id -> the article's path relative to `into`."""
    staged = gold_files(texts, gold)
    for relative in staged.values():
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(texts / relative, target)
    return staged


def score_warehouse(settings: Settings, gold: dict[str, dict[str, dict]], files: dict[str, str]) -> dict:
    """Scores of what the warehouse holds for the gold documents. `gold` maps a kind of gold
    (entities, claims, statements) to its records by doc_id; `files` maps doc_id to path."""
    con = lake.open_reader(settings)
    try:
        stored_articles, stored_mentions, stored_claims = lake.evaluation_rows(con)
    finally:
        con.close()
    articles = {path: (aid, text) for path, aid, text in stored_articles}
    mentions = defaultdict(list)
    for aid, start, end, label in stored_mentions:
        mentions[aid].append((start, end, label))
    claims: defaultdict[str, list[PredictedClaim]] = defaultdict(list)
    rows: defaultdict[str, list[RowPrediction]] = defaultdict(list)
    for aid, content, speaker, s_start, s_end, kind, speaker_name, stance in stored_claims:
        span = Span(s_start, s_end) if s_start is not None else None
        claims[aid].append(PredictedClaim(content, speaker, span, kind))
        if not stance:
            rows[aid].append(RowPrediction(content, speaker_name, kind))

    totals: defaultdict[str, Score] = defaultdict(lambda: ZERO)
    speakers = NO_SPEAKERS
    missing = []
    for doc_id in sorted(set().union(*gold.values())):
        if files.get(doc_id) not in articles:
            missing.append(doc_id)
            continue
        aid, text = articles[files[doc_id]]
        raw = decode((settings.seeds_dir / files[doc_id]).read_bytes())[0]
        try:
            speakers += _score_document(doc_id, gold, raw, text, mentions[aid], claims[aid], rows[aid], totals)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise GoldError(f"gold document {doc_id!r} is malformed: {type(exc).__name__}: {exc}") from exc
    result = {"scores": {k: v.row() for k, v in totals.items()}, "documents": len(articles), "missing": missing}
    if any(gold["statements"].values()):
        result["speakers"] = speakers.row()
    return result


def _score_document(
    doc_id: str,
    gold: dict[str, dict[str, dict]],
    raw: str,
    text: str,
    mentions: list[tuple[int, int, str]],
    claims: list[PredictedClaim],
    rows: list[RowPrediction],
    totals: defaultdict[str, Score],
) -> SpeakerAccuracy:
    """Adds one document's scores to `totals`; returns its speaker accuracy."""
    mapping = align(raw, text)
    if doc_id in gold["entities"]:
        gold_spans = gold_entities(gold["entities"][doc_id], mapping)
        pred = predicted_entities(mentions)
        totals["entities_exact"] += score_entities(pred, gold_spans, exact=True)
        totals["entities_overlap"] += score_entities(pred, gold_spans, exact=False)
    if doc_id in gold["claims"]:
        _score_attributions(totals, claims, gold_attributions(gold["claims"][doc_id], mapping, raw))
    if doc_id not in gold["statements"]:
        return NO_SPEAKERS
    statements = gold_statements(gold["statements"][doc_id], mapping, text)
    contents, gold_contents = [r.content for r in rows], [g.content_text for g in statements]
    totals["rows_whole"] += score_rows(rows, statements)
    totals["rows_content"] += score_contents(contents, gold_contents)
    totals["rows_content_exact"] += score_exact_content(contents, gold_contents)
    return speaker_accuracy(rows, statements)


def _score_attributions(
    totals: defaultdict[str, Score], predicted: list[PredictedClaim], gold: list[Attribution]
) -> None:
    totals["claims_content"] += score_claims(predicted, gold, with_speaker=False)
    totals["claims_content_exact"] += score_exact_content(
        [p.content for p in predicted], [g.content_text for g in gold]
    )
    totals["claims_content_speaker"] += score_claims(predicted, gold, with_speaker=True)
    for name, want_direct in (("direct", True), ("other", False)):
        g = [a for a in gold if a.direct == want_direct]
        p = [c for c in predicted if (c.kind == "direct") == want_direct]
        totals[f"claims_{name}_content"] += score_claims(p, g, with_speaker=False)
        totals[f"claims_{name}_content_speaker"] += score_claims(p, g, with_speaker=True)


def _file_for(root: Path, doc_id: str) -> str:
    for suffix in (".txt", ".md"):
        # escaped: a doc_id such as "1[0-9][0-9]" or "*" is a name, never a pattern
        matches = sorted(root.rglob(f"{glob.escape(doc_id)}{suffix}"))
        if matches:
            return matches[0].relative_to(root).as_posix()
    raise GoldError(f"no article file for gold doc_id {doc_id!r} under {root}")


def scores_markdown(result: dict) -> str:
    rows = [
        (name, s["precision"], s["recall"], s["f1"], s["tp"], s["fp"], s["fn"])
        for name, s in sorted(result["scores"].items())
    ]
    table = markdown_table(["measure", "precision", "recall", "F1", "tp", "fp", "fn"], rows)
    speakers = result.get("speakers")
    if speakers:
        table += "\n\n" + markdown_table(list(speakers), [tuple(speakers.values())])
    return "# newsdesk evaluation\n\n" + table


@flow(name="evaluate")
def evaluate(
    texts: str,
    warehouse: str,
    entities_gold: str | None = None,
    claims_gold: str | None = None,
    statements_gold: str | None = None,
) -> dict:
    """Ingest the gold documents of `texts` into `warehouse`, then score them against gold."""
    logger = get_run_logger()
    root = Path(texts)
    gold = {
        "entities": check_gold(root, entities_gold),
        "claims": check_gold(root, claims_gold),
        "statements": check_gold(root, statements_gold),
    }
    with tempfile.TemporaryDirectory(prefix="newsdesk-eval-texts-") as staging:
        files = stage_gold_documents(Path(texts), {k: v for g in gold.values() for k, v in g.items()}, Path(staging))
        # An older extractor's rows would be scored as if they were today's: extract them again.
        ingest(seeds=staging, warehouse=warehouse, trigger="evaluate", reextract=True)
        result = score_warehouse(Settings.for_folders(staging, warehouse), gold, files)
    if result["missing"]:
        logger.warning(
            "%d gold documents have no ingested article: %s", len(result["missing"]), ", ".join(result["missing"][:10])
        )
    create_markdown_artifact(key="evaluation", markdown=scores_markdown(result), description="newsdesk eval")
    return result
