"""The pipeline's cheaper parts give what the model's own parts give: TagAttributes in
place of the attribute_ruler, and lemmas worked out on demand in place of the
lemmatizer. Compared token for token with the model as spaCy loads it."""

from __future__ import annotations

import pytest

from newsdesk.extraction.attributes import TagAttributes, Unsupported, use_tag_attributes
from newsdesk.extraction.lemmas import defer_lemmas, lemma_of
from newsdesk.settings import Settings

# Our own sentences, picked to reach the ruler's rarer rules: "there" + "is", "ain't",
# "gonna", "I" as subject and object, "gets"/"got", "but" as an adverb, spaces.
SENTENCES = [
    "There is no deal yet, and there were never talks, the minister said.",
    "I ain't gonna sign it, he told me. It gets worse: she got the blame, but then it's over.",
    "Let's see what they do.  The firm's chief, who had said nothing, did it anyway.",
    "We all know you and I were right; give it to me and to you.\n\nNew paragraph here.",
]


@pytest.fixture(scope="module")
def reference():
    """The model as spaCy loads it, with only our line-break rule added (it changes the parse)."""
    import spacy

    from newsdesk.extraction import nlp as pipeline

    pipeline._register_components()
    model = spacy.load(Settings().model)
    model.add_pipe(pipeline.LINE_BREAKS, before="parser")
    return model


def test_the_pipeline_swaps_in_the_cheaper_parts(nlp):
    assert isinstance(nlp.get_pipe("attribute_ruler"), TagAttributes)
    assert "lemmatizer" in nlp.disabled


def test_same_attributes_and_lemmas_as_the_model(nlp, reference, sample_text):
    texts = [*SENTENCES, sample_text]
    differ = []
    for ours, theirs in zip(nlp.pipe(texts), reference.pipe(texts), strict=True):
        assert [t.text for t in ours] == [t.text for t in theirs]
        for a, b in zip(ours, theirs, strict=True):
            mine = (a.pos_, str(a.morph), a.tag_, a.dep_, lemma_of(a))
            model = (b.pos_, str(b.morph), b.tag_, b.dep_, b.lemma_)
            if mine != model:
                differ.append((a.text, mine, model))
    assert not differ, differ[:5]
    # the comparison reached the rules that need two tokens or a later override
    there_is = nlp("There is no deal.")
    assert there_is[1].pos_ == "VERB" and lemma_of(there_is[1]) == "be"


def test_a_pattern_it_cannot_index_keeps_the_models_ruler():
    import spacy

    blank = spacy.blank("en")
    ruler = blank.add_pipe("attribute_ruler")
    ruler.add([[{"ORTH": "x", "OP": "+"}]], {"POS": "NOUN"})
    with pytest.raises(Unsupported):
        TagAttributes(list(ruler.patterns))
    assert use_tag_attributes(blank) is False
    assert blank.get_pipe("attribute_ruler") is ruler


def test_without_a_lemmatizer_a_lemma_is_the_lower_form():
    import spacy

    blank = spacy.blank("en")
    assert defer_lemmas(blank) is False
    assert [lemma_of(t) for t in blank("Talks Ended")] == ["talks", "ended"]


def test_a_pattern_index_counted_from_the_end_is_declined():
    """spaCy reads index -1 as the match's last token; rather than guess, decline."""
    import spacy

    blank = spacy.blank("en")
    ruler = blank.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "a"}, {"LOWER": "b"}]], {"POS": "NOUN"}, index=-1)
    with pytest.raises(Unsupported):
        TagAttributes(list(ruler.patterns))


def test_the_pipeline_saves_and_loads_again_with_the_same_output(nlp, tmp_path):
    """The lemmatizer's word index stays a list on disk (a set would not serialize), and
    a saved pipeline loads back through load_model to the same attributes and lemmas."""
    from newsdesk.extraction.nlp import load_model

    nlp.get_pipe("lemmatizer").to_bytes()
    nlp.to_disk(tmp_path / "model")
    again = load_model(str(tmp_path / "model"))
    text = SENTENCES[0]
    ours = [(t.pos_, str(t.morph), t.dep_, lemma_of(t)) for t in nlp(text)]
    theirs = [(t.pos_, str(t.morph), t.dep_, lemma_of(t)) for t in again(text)]
    assert ours == theirs
