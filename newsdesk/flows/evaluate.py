"""@flow evaluate: ingest a folder, then score the warehouse against gold JSONL files."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from newsdesk.extraction.parse import decode
from newsdesk.flows.ingest import ingest
from newsdesk.pipeline.gold import GoldError, check_gold, stage_gold_documents
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
