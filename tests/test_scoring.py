import itertools
import random

import pytest

from newsdesk.pipeline.scoring import (
    Attribution,
    PredictedClaim,
    RowPrediction,
    Span,
    Statement,
    align,
    gold_attributions,
    names_speaker,
    score_claims,
    score_contents,
    score_entities,
    score_exact_content,
    score_rows,
    speaker_accuracy,
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


def test_overlap_matching_pairs_as_many_as_it_can_in_any_order():
    """A long predicted span overlaps two gold spans, a short one only the first: the
    first-come match gave 1 pair or 2 depending on which came first; both orders give 2."""
    gold = [Span(0, 10, "person"), Span(12, 20, "person")]
    pred = [Span(0, 20, "person"), Span(2, 6, "person")]
    for order in itertools.permutations(pred):
        for gold_order in itertools.permutations(gold):
            score = score_entities(list(order), list(gold_order), exact=False)
            assert (score.tp, score.fp, score.fn) == (2, 0, 0)


def test_maximum_matching_is_as_large_as_any_matching():
    """Against every matching of small random instances (repeated and unreachable golds too)."""
    from newsdesk.pipeline.scoring import maximum_matching

    def largest(candidates: list[list[int]], i: int = 0, used: frozenset[int] = frozenset()) -> int:
        if i == len(candidates):
            return len(used)
        return max(
            [largest(candidates, i + 1, used)]
            + [largest(candidates, i + 1, used | {k}) for k in candidates[i] if k not in used]
        )

    for seed in range(500):
        rng = random.Random(seed)
        golds = rng.randint(0, 6)
        candidates = [
            [rng.randrange(golds) for _ in range(rng.randint(0, golds + 1))] if golds else []
            for _ in range(rng.randint(0, 6))
        ]
        found = maximum_matching(candidates)
        assert len(found) == largest(candidates)
        assert all(k in candidates[i] for k, i in found.items()) and len(set(found.values())) == len(found)


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


@pytest.mark.parametrize(
    "predicted, gold, expected",
    [
        ("Ulrich Bez", "Ulrich Bez", True),
        ("Bez", "Ulrich Bez", True),  # the surname names the person
        ("Mr Bez", "Ulrich Bez", True),  # titles aside
        ("Argonaut", "Argonaut Games", True),  # the organisation's name
        ("Porsche", "Ulrich Bez", False),
        ("Conservatives", "Tories", True),  # one party, as the alias table says
        ("Danny Collins", "James Collins", False),
        (None, None, True),  # no named source on either side
        (None, "Ulrich Bez", False),
        ("Ulrich Bez", None, False),
    ],
)
def test_names_speaker(predicted, gold, expected):
    assert names_speaker(predicted, gold) is expected


def _statement(content, speaker, kind="indirect", form="name"):
    return Statement((Span(0, len(content)),), content, speaker, form, kind)


def test_a_whole_row_needs_content_speaker_and_kind():
    gold = [
        _statement("the plant will close next year", "Ulrich Bez"),
        _statement("sales fell sharply in the spring", "Jane Hutt", kind="direct"),
        _statement("prices are too high for families", "Ann Lee", form="pronoun"),
    ]
    predicted = [
        RowPrediction("the plant will close next year", "Bez", "indirect"),  # right
        RowPrediction("sales fell sharply in the spring", "Jane Hutt", "indirect"),  # wrong kind
        RowPrediction("prices are too high for families", "Porsche", "indirect"),  # wrong speaker
        RowPrediction("something nobody said at all", None, "unattributed"),
    ]
    whole = score_rows(predicted, gold)
    assert (whole.tp, whole.fp, whole.fn) == (1, 3, 2)
    assert score_contents([p.content for p in predicted], [g.content_text for g in gold]).tp == 3
    accuracy = speaker_accuracy(predicted, gold).row()
    assert (accuracy["matched"], accuracy["speaker_accuracy"]) == (3, pytest.approx(0.667))
    assert (accuracy["pronoun_matched"], accuracy["pronoun_accuracy"]) == (1, 0.0)


def test_unattributed_counts_as_indirect_with_no_source():
    gold = [_statement("the deal was signed in secret", None)]
    assert score_rows([RowPrediction("the deal was signed in secret", None, "unattributed")], gold).tp == 1


def test_exact_content_ignores_edge_punctuation_only():
    gold = ["“We will win the league,” ", "prices rose"]
    exact = score_exact_content(["We will win the league", "prices rose in May"], gold)
    assert (exact.tp, exact.fp, exact.fn) == (1, 1, 1)
