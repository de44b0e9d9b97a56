import pytest

from newsdesk.extraction.claims import extract_claims, quote_spans
from newsdesk.extraction.entities import extract_mentions


@pytest.fixture(scope="module")
def sample_claims(sample_doc):
    mentions = extract_mentions(sample_doc)
    names = {m.entity_id: m.entity_name for m in mentions}
    return [(c, names.get(c.speaker_entity_id)) for c in extract_claims(sample_doc, mentions)]


def _find(sample_claims, speaker, fragment):
    return [c for c, name in sample_claims if name == speaker and fragment in c.content]


@pytest.mark.parametrize(
    "speaker, fragment, kind",
    [
        ("Mark Rutte", "dangerous expansion", "partial"),
        ("Mark Rutte", "growing desperation", "partial"),
        ("Mark Rutte", "600,000 Russian soldiers", "direct"),
        ("South Korea", "it will respond", "indirect"),
        ("Yoon Suk Yeol", "would not stand by", "partial"),
        ("United States", "3,000 North Korean troops", "indirect"),
        ("Russia", "these claims", "indirect"),
        ("US Department of the Treasury", "ballistics used by Russia", "indirect"),
        ("Boris Pistorius", "kind of escalation", "direct"),
        ("John Healey", "not just a concern", "partial"),
    ],
)
def test_sample_article_attributed_statements(sample_claims, speaker, fragment, kind):
    found = _find(sample_claims, speaker, fragment)
    assert len(found) == 1, [(c.speaker, c.content[:40]) for c, _ in sample_claims]
    assert found[0].kind == kind


def test_purpose_clause_in_quotes_is_no_claim(sample_claims):
    assert not [c for c, _ in sample_claims if "monitor the enforcement" in c.content]


def test_passive_with_no_agent_is_unattributed(sample_claims):
    unattributed = [c for c, _ in sample_claims if c.kind == "unattributed"]
    assert {c.cue for c in unattributed} == {"confirmed", "reported"}
    assert all(c.speaker is None and c.speaker_entity_id is None for c in unattributed)


def test_speaker_keeps_the_surface_text(sample_claims):
    yoon = _find(sample_claims, "Yoon Suk Yeol", "stand by")[0]
    assert "President of South Korea" in yoon.speaker


def test_quotes_spanning_sentences_are_whole(sample_claims):
    healey = _find(sample_claims, "John Healey", "not just a concern")[0]
    assert healey.content.endswith("Indo-Pacific as well.”")  # the closing mark kept


def test_offsets_point_at_the_content(sample_doc, sample_claims):
    for claim, _ in sample_claims:
        assert sample_doc.text[claim.content_start : claim.content_end] == claim.content
        assert claim.content.strip()


@pytest.mark.parametrize(
    "text, fragment, speaker",
    [
        ('"We will not back down," said Jane Smith, the mayor.', "We will not back down", "Jane Smith"),
        ('"Prices will rise," the minister said.', "Prices will rise", None),
        ("The company denied the report.", "the report", None),
        ("Anna Berg said that exports fell sharply in May.", "exports fell sharply", "Anna Berg"),
        ("It was confirmed by Tom Lee that the plant would close.", "plant would close", "Tom Lee"),
        ("Donald Trump's claim that the election was rigged drew fire.", "the election was rigged", "Donald Trump"),
        (
            "Mark Rutte, who said on Monday that the alliance was united, left early.",
            "the alliance was united",
            "Mark Rutte",
        ),
        (
            "The two nations, Xi Jinping said, now have a golden opportunity.",
            "now have a golden opportunity",
            "Xi Jinping",
        ),
        (
            "John Kasich called for the suspension of the nuclear deal.",
            "the suspension of the nuclear deal",
            "John Kasich",
        ),
        ("Every recent poll has shown him trailing Trump.", "him trailing Trump", None),
    ],
)
def test_claim_patterns(nlp, text, fragment, speaker):
    doc = nlp(text)
    mentions = extract_mentions(doc)
    names = {m.entity_id: m.entity_name for m in mentions}
    claims = extract_claims(doc, mentions)
    match = [c for c in claims if fragment in c.content]
    assert match, [(c.speaker, c.content) for c in claims]
    if speaker:
        assert names.get(match[0].speaker_entity_id) == speaker


@pytest.mark.parametrize(
    "text, spans",
    [
        ('He said "yes" and "no".', ["yes", "no"]),
        ("She said “a b” then", ["a b"]),
        ("Unclosed “quote runs\n\nNext paragraph", ["quote runs"]),
        ('A 12" record and nothing else', []),
    ],
)
def test_quote_spans_survive_any_marks(text, spans):
    assert [text[s:e] for s, e in quote_spans(text)] == spans


def test_relative_pronoun_speaker_keeps_its_surface(nlp):
    doc = nlp("Mark Rutte, who said on Monday that the alliance was united, left early.")
    claim = next(c for c in extract_claims(doc, extract_mentions(doc)) if "united" in c.content)
    assert claim.speaker == "who" and claim.speaker_entity_id is not None


def test_hedge_is_an_unattributed_claim(nlp):
    doc = nlp("Sanders appears to have a slight lead in New Hampshire.")
    claims = extract_claims(doc, extract_mentions(doc))
    assert [(c.kind, c.speaker) for c in claims] == [("unattributed", None)]
    assert claims[0].content.startswith("Sanders") and claims[0].content.endswith("slight lead in New Hampshire")


def test_object_and_complement_stop_at_the_next_clause(nlp):
    doc = nlp("Jeb Bush was angry after Donald Trump called him a stiff and accused him of lying.")
    claim = next(c for c in extract_claims(doc, extract_mentions(doc)) if c.cue == "called")
    assert claim.content == "him a stiff"


def test_relative_pronoun_through_a_conjoined_verb_resolves_to_the_antecedent(nlp):
    doc = nlp("Mark Rutte, who met Vladimir Putin and said that the talks had failed, left early.")
    mentions = extract_mentions(doc)
    names = {m.entity_id: m.entity_name for m in mentions}
    claim = next(c for c in extract_claims(doc, mentions) if "talks had failed" in c.content)
    assert names.get(claim.speaker_entity_id) == "Mark Rutte"
