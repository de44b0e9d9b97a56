"""@flow evaluate: ingest a folder, then score the warehouse against gold JSONL files."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path, PurePosixPath

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from newsdesk.extraction.parse import decode
from newsdesk.flows.ingest import ingest
from newsdesk.pipeline.scoring import (
    ZERO,
    PredictedClaim,
    Score,
    Span,
    align,
    gold_attributions,
    gold_entities,
    predicted_entities,
    score_claims,
    score_entities,
)
from newsdesk.pipeline.summary import markdown_table
from newsdesk.settings import Settings
from newsdesk.warehouse import lake


def load_gold(path: str | None) -> dict[str, dict]:
    if not path:
        return {}
    records = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["doc_id"]: r for r in records}


def score_warehouse(settings, entity_gold: dict[str, dict], claim_gold: dict[str, dict]) -> dict:
    """Scores of what the warehouse holds for the gold documents (doc_id = file name without extension)."""
    con = lake.open_reader(settings)
    try:
        stored_articles, stored_mentions, stored_claims = lake.evaluation_rows(con)
    finally:
        con.close()
    articles = {PurePosixPath(path).stem: (aid, text) for path, aid, text in stored_articles}
    mentions = defaultdict(list)
    for aid, start, end, label in stored_mentions:
        mentions[aid].append((start, end, label))
    claims = defaultdict(list)
    for aid, content, speaker, s_start, s_end, kind in stored_claims:
        span = Span(s_start, s_end) if s_start is not None else None
        claims[aid].append(PredictedClaim(content, speaker, span, kind))

    totals: defaultdict[str, Score] = defaultdict(lambda: ZERO)
    missing = []
    for doc_id in sorted(set(entity_gold) | set(claim_gold)):
        if doc_id not in articles:
            missing.append(doc_id)
            continue
        aid, text = articles[doc_id]
        raw = decode((settings.seeds_dir / _file_for(settings.seeds_dir, doc_id)).read_bytes())[0]
        mapping = align(raw, text)
        if doc_id in entity_gold:
            gold = gold_entities(entity_gold[doc_id], mapping)
            pred = predicted_entities(mentions[aid])
            totals["entities_exact"] += score_entities(pred, gold, exact=True)
            totals["entities_overlap"] += score_entities(pred, gold, exact=False)
        if doc_id in claim_gold:
            gold_claims = gold_attributions(claim_gold[doc_id], mapping, raw)
            pred_claims = claims[aid]
            totals["claims_content"] += score_claims(pred_claims, gold_claims, with_speaker=False)
            totals["claims_content_speaker"] += score_claims(pred_claims, gold_claims, with_speaker=True)
            for name, want_direct in (("direct", True), ("other", False)):
                g = [a for a in gold_claims if a.direct == want_direct]
                p = [c for c in pred_claims if (c.kind == "direct") == want_direct]
                totals[f"claims_{name}_content"] += score_claims(p, g, with_speaker=False)
                totals[f"claims_{name}_content_speaker"] += score_claims(p, g, with_speaker=True)
    return {"scores": {k: v.row() for k, v in totals.items()}, "documents": len(articles), "missing": missing}


def _file_for(root: Path, doc_id: str) -> str:
    for suffix in (".txt", ".md"):
        matches = list(root.rglob(f"{doc_id}{suffix}"))
        if matches:
            return matches[0].relative_to(root).as_posix()
    raise FileNotFoundError(f"no article file for gold doc_id {doc_id!r} under {root}")


def scores_markdown(result: dict) -> str:
    rows = [
        (name, s["precision"], s["recall"], s["f1"], s["tp"], s["fp"], s["fn"])
        for name, s in sorted(result["scores"].items())
    ]
    return "# newsdesk evaluation\n\n" + markdown_table(
        ["measure", "precision", "recall", "F1", "tp", "fp", "fn"], rows
    )


@flow(name="evaluate")
def evaluate(texts: str, warehouse: str, entities_gold: str | None = None, claims_gold: str | None = None) -> dict:
    """Ingest `texts` into `warehouse` (a no-op when already there), then score it against gold."""
    logger = get_run_logger()
    ingest(seeds=texts, warehouse=warehouse, trigger="evaluate")
    settings = Settings.for_folders(texts, warehouse)
    result = score_warehouse(settings, load_gold(entities_gold), load_gold(claims_gold))
    if result["missing"]:
        logger.warning(
            "%d gold documents have no ingested article: %s", len(result["missing"]), ", ".join(result["missing"][:10])
        )
    create_markdown_artifact(key="evaluation", markdown=scores_markdown(result), description="newsdesk eval")
    return result
