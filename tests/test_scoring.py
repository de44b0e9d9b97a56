import pytest

from newsdesk.pipeline.scoring import (
    Attribution,
    PredictedClaim,
    Span,
    align,
    gold_attributions,
    score_claims,
    score_entities,
    token_f1,
)


def test_align_maps_raw_offsets_past_dropped_characters():
    raw = "Head  \r\nBody text\r\n"
    norm = "Head\nBody text"
    mapping = align(raw, norm)
    start = raw.index("Body")
    assert norm[mapping[start] : mapping[start + 4]] == "Body"
    assert mapping[len(raw)] == len(norm)


def test_align_maps_offsets_past_repaired_mojibake():
    """A replaced character used to stall the alignment for the rest of the text."""
    raw = "Caf\u00c3\u00a9 owner Jos\u00c3\u00a9 Silva said the caf\u00c3\u00a9 would stay open.\r\n"
    norm = "Caf\u00e9 owner Jos\u00e9 Silva said the caf\u00e9 would stay open."
    mapping = align(raw, norm)
    for word in ("Jos\u00c3\u00a9 Silva", "would stay open"):
        start = raw.index(word)
        assert norm[mapping[start] : mapping[start + len(word)]] == word.replace("\u00c3\u00a9", "\u00e9")
    assert mapping[len(raw)] == len(norm)


def test_entity_scores_exact_and_overlap():
    gold = [Span(0, 10, "person"), Span(20, 25, "place")]
    pred = [Span(0, 10, "person"), Span(19, 25, "place"), Span(30, 35, "organization")]
    exact = score_entities(pred, gold, exact=True)
    overlap = score_entities(pred, gold, exact=False)
    assert (exact.tp, exact.fp, exact.fn) == (1, 2, 1)
    assert (overlap.tp, overlap.fp, overlap.fn) == (2, 1, 0)
    assert overlap.f1 == pytest.approx(0.8)


def test_entity_types_must_agree():
    assert score_entities([Span(0, 5, "place")], [Span(0, 5, "person")], exact=False).tp == 0


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("the war is expanding", "the war is expanding", 1.0),
        ("the war", "the war is expanding fast", 2 * (1.0 * 0.4) / 1.4),
        ("nothing alike", "the war", 0.0),
    ],
)
def test_token_f1(a, b, expected):
    assert token_f1(a, b) == pytest.approx(expected)


def test_claims_match_by_content_then_speaker():
    gold = [Attribution((Span(20, 40),), "the war is expanding quickly", (Span(0, 10),), "Mark Rutte", False)]
    right = PredictedClaim("the war is expanding", "Rutte", Span(5, 10), "indirect")
    wrong_speaker = PredictedClaim("the war is expanding", "Putin", Span(50, 55), "indirect")
    assert score_claims([right], gold, with_speaker=True).tp == 1
    assert score_claims([wrong_speaker], gold, with_speaker=False).tp == 1
    assert score_claims([wrong_speaker], gold, with_speaker=True).tp == 0
    one_to_one = score_claims([right, right], gold, with_speaker=False)
    assert (one_to_one.tp, one_to_one.fp) == (1, 1)


def test_gold_attribution_direct_when_quotes_hug_it():
    raw = 'He said, "We will win." Later she said that they lost.'
    record = {
        "attributions": [
            {
                "source": [{"start": 0, "end": 2, "text": "He"}],
                "cue": [],
                "content": [{"start": 10, "end": 22, "text": "We will win."}],
            },
            {
                "source": [{"start": 30, "end": 33, "text": "she"}],
                "cue": [],
                "content": [{"start": 44, "end": 54, "text": "they lost."}],
            },
        ]
    }
    direct, indirect = gold_attributions(record, list(range(len(raw) + 1)), raw)
    assert direct.direct and not indirect.direct
