"""Every claim rule and every fix of the who-said-what work, on sentences of our own wording,
through the real spaCy model."""

from __future__ import annotations

import pytest

from newsdesk.extraction.claims import Claim, extract_attributions
from newsdesk.extraction.entities import extract_mentions
from newsdesk.extraction.quotes import quote_spans


def _run(nlp, text: str) -> tuple[list[tuple[Claim, str | None]], list[tuple[Claim, str | None]]]:
    doc = nlp(text)
    mentions = extract_mentions(doc)
    names = {m.entity_id: m.entity_name for m in mentions}
    claims, stances = extract_attributions(doc, mentions)
    return [(c, names.get(c.speaker_entity_id)) for c in claims], [(s, names.get(s.speaker_entity_id)) for s in stances]


def _one(rows: list[tuple[Claim, str | None]], fragment: str) -> tuple[Claim, str | None]:
    found = [(c, name) for c, name in rows if fragment in c.content]
    assert len(found) == 1, [(c.cue, c.content) for c, _ in rows]
    return found[0]


# --- Content rules: each finds the whole statement ---


@pytest.mark.parametrize(
    "text, cue, content, kind",
    [
        # quote_after
        ('Laura Dunne said: "The bridge will open in May."', "said", "The bridge will open in May.", "direct"),
        # quote_before
        ('"The bridge will open in May," said Laura Dunne.', "said", "The bridge will open in May", "direct"),
        # that_clause
        ("Laura Dunne said that the bridge would open in May.", "said", "the bridge would open in May", "indirect"),
        # inserted_cue, the attribution cut out
        ("The bridge, Laura Dunne said, will open in May.", "said", "The bridge will open in May", "indirect"),
        # told_to, through a preposition
        (
            "The union called on the council to reopen the library.",
            "called",
            "to reopen the library",
            "indirect",
        ),
        # prep_object
        ("Laura Dunne called for a review of the toll.", "called", "a review of the toll", "indirect"),
        # evidence
        ("The survey showed most drivers backed the toll.", "showed", "most drivers backed the toll", "indirect"),
        # object_and_complement
        ("Laura Dunne described the toll as a stealth tax.", "described", "the toll as a stealth tax", "indirect"),
        # commissive
        ("The council vowed to reopen the library.", "vowed", "to reopen the library", "indirect"),
        # denied_object, with its restrictive modifier and without the aside
        (
            "The council announced plans to sell the depot, which has stood empty since 2019.",
            "announced",
            "plans to sell the depot",
            "indirect",
        ),
    ],
)
def test_content_rules(nlp, text, cue, content, kind):
    claims, _ = _run(nlp, text)
    claim, _ = _one(claims, content)
    assert (claim.cue, claim.content, claim.kind) == (cue, content, kind)


def test_a_passive_denial_takes_its_subject_as_content(nlp):
    claims, _ = _run(nlp, "His account was denied by Laura Dunne on Friday.")
    claim, name = _one(claims, "His account")
    assert claim.content == "His account" and name == "Laura Dunne"


def test_continued_introduces_only_a_quotation(nlp):
    claims, _ = _run(nlp, 'Tom Ferris continued the work. "It is nearly done," he continued.')
    assert [c.content for c, _ in claims] == ["It is nearly done"]


def test_an_interrupting_attribution_is_cut_out_of_the_content(nlp):
    text = '"We have sent the ballot papers," said Ann Pryce. "The problem lies with the post."'
    claims, name = _run(nlp, text)
    claim, name = _one(claims, "ballot papers")
    assert claim.content == "We have sent the ballot papers The problem lies with the post."
    assert "said" not in claim.content and name == "Ann Pryce"
    gap = text[claim.content_gap_start : claim.content_gap_end]
    assert "said Ann Pryce" in gap
    assert text[claim.content_start : claim.content_gap_start] + " " + text[
        claim.content_gap_end : claim.content_end
    ] == (claim.content)


def test_a_partial_content_keeps_its_closing_mark(nlp):
    claims, _ = _run(nlp, "Ann Pryce said the plan was “a costly mistake.” She left early.")
    claim, _ = _one(claims, "costly mistake")
    assert claim.content == "the plan was “a costly mistake.”" and claim.kind == "partial"


def test_complements_split_by_the_parser_are_one_content(nlp):
    claims, _ = _run(nlp, "She said parents were entitled to leave, but that few could afford to take it.")
    claim, _ = _one(claims, "entitled to leave")
    assert claim.content.endswith("few could afford to take it")


def test_a_second_speech_verb_is_its_own_claim(nlp):
    claims, _ = _run(nlp, "Ann Pryce said the plan was costly and warned that rents would rise.")
    assert {c.cue for c, _ in claims} >= {"said", "warned"}
    said, _ = _one(claims, "the plan was costly")
    assert "rents" not in said.content


def test_a_clause_with_no_subject_takes_the_previous_speaker(nlp):
    text = 'Ann Pryce said the plan was costly. But told reporters: "We will not give up."'
    claims, _ = _run(nlp, text)
    claim, name = _one(claims, "We will not give up")
    assert claim.speaker is None and name == "Ann Pryce"


def test_according_to_and_a_reporting_noun_and_a_colon_line(nlp):
    claims, _ = _run(
        nlp,
        "According to the Highways Agency, the road will reopen on Monday.\n"
        "Ann Pryce's claim that the road was unsafe drew criticism.\n"
        "Ann Pryce: We will keep the road closed until it is safe.",
    )
    assert _one(claims, "the road will reopen")[0].cue == "According to"  # as written
    assert _one(claims, "the road was unsafe")[0].cue == "claim"
    assert _one(claims, "keep the road closed")[0].cue == ":"


# --- Cues: speech acts only; stances apart; actions nothing ---


@pytest.mark.parametrize(
    "text",
    [
        "The players ignored his complaint and pointed to the centre circle.",
        "The label said singer Tom Ferris planned to spend a year abroad.",
        "The bank's assessment of future growth was gloomy.",
        "Ann Pryce wants to build a new stadium.",
        "Ann Pryce believes the stadium will be full.",
    ],
)
def test_cognition_plans_and_actions_are_no_claims(nlp, text):
    claims, _ = _run(nlp, text)
    assert not [c for c, _ in claims if c.cue in {"pointed", "planned", "assessment", "wants", "believes"}]


@pytest.mark.parametrize(
    "text, cue, content",
    [
        ("Ann Pryce supports the new stadium.", "supports", "the new stadium"),
        ("Ann Pryce wants to build a new stadium.", "wants", "to build a new stadium"),
        ("Ann Pryce believes the stadium will be full.", "believes", "the stadium will be full"),
        ("Ann Pryce voted for the new stadium.", "voted", "the new stadium"),
    ],
)
def test_stances_are_kept_apart(nlp, text, cue, content):
    claims, stances = _run(nlp, text)
    stance, name = _one(stances, content)
    assert stance.cue == cue and name == "Ann Pryce"
    assert stance.confidence < 0.75
    assert not claims


# --- Speakers ---


@pytest.mark.parametrize(
    "text, fragment, speaker",
    [
        # the pronoun goes to the previous speaker, not to the nearest name
        (
            'Rick Barton praised the squad. "We looked for ways to sign Fernando Ruiz," he said.',
            "ways to sign",
            "Rick Barton",
        ),
        # a subject named since the last speaker wins over the last speaker
        (
            'Jack Stone said the vote was fair. Michael Reed condemned the result. "It was rigged," he said.',
            "It was rigged",
            "Michael Reed",
        ),
        # gender from first names: "she" skips the man named last
        (
            'Margaret Hill said the plan was late. Tony Marsh disagreed. "We are on time," she said.',
            "We are on time",
            "Margaret Hill",
        ),
        # an appositive's organisation does not win
        (
            "Jason Parkinson, one of the developers sacked by Argonaut Games, said the studio was badly run.",
            "badly run",
            "Jason Parkinson",
        ),
        # a person in an appositive wins over the title it follows
        (
            '"We will appeal," her lawyer, Perry Wander, said.',
            "We will appeal",
            "Perry Wander",
        ),
        # a titled person in an appositive, even one the model missed, over the firm he speaks for
        (
            "A spokesman for Harlow Builders, Dr Ramanathan, said the site would open in May.",
            "the site would open",
            "Ramanathan",
        ),
        # a nominal speaker: the organisation the article names
        (
            "Tesco reported higher sales. The company said demand had stayed strong over Christmas.",
            "demand had stayed strong",
            "Tesco",
        ),
        # a nominal speaker whose noun is in an organisation's name
        (
            "The Making Decisions Alliance opposed the bill. The alliance said the bill went too far.",
            "went too far",
            "Making Decisions Alliance",
        ),
        # a nominal person introduced by the same words
        (
            "Foreign Secretary Jack Stone met Michael Reed. The foreign secretary said talks had gone well.",
            "talks had gone well",
            "Jack Stone",
        ),
        # a nationality word never speaks
        ("The Italian food group said profits had doubled.", "profits had doubled", None),
        # a definite spokesman continues the person who just spoke
        (
            'Michael Reed attacked the plan. "It is a waste," he said. The Tory spokesman said the cost would rise.',
            "the cost would rise",
            "Michael Reed",
        ),
        # a survey speaks for the organisation that made it, not for an index's initials
        (
            "The Institute of Retail Studies measures the PMI each month. A survey said the PMI fell.",
            "the PMI fell",
            "Institute of Retail Studies",
        ),
        # a pronoun in capitals is still a pronoun, not initials
        ("John Smith met reporters. HE SAID THE PLAN WOULD WORK.", "THE PLAN WOULD WORK", "John Smith"),
        # plural reports with no article name nobody, not the organisation named after them
        (
            "Reports from the region said that the talks had failed. The Foreign Office declined to comment.",
            "the talks had failed",
            None,
        ),
    ],
)
def test_speakers_resolve_to_the_entity_meant(nlp, text, fragment, speaker):
    claims, _ = _run(nlp, text)
    _, name = _one(claims, fragment)
    assert name == speaker


# --- Quotations ---


@pytest.mark.parametrize(
    "text, spans",
    [
        # a quote left open at its paragraph's end continues where the next paragraph opens one
        ('He said: "One thing.\n\n"Another thing."', ['One thing.\n\n"Another thing.']),
        # a paragraph break lost in the file: a mark before a word reopens, it does not close
        ('He said: "One thing. "Another thing."', ['One thing. "Another thing.']),
        # British style single curly quotes; an apostrophe inside a word closes nothing
        ("She said: ‘We don’t accept it.’ Then she left.", ["We don’t accept it."]),
        ("The players’ union was ‘deeply concerned’.", ["deeply concerned"]),
        # an inch mark is still no quotation
        ('A 12" record sold.\n\nThe shop closed.', []),
    ],
)
def test_quotations_over_several_paragraphs(text, spans):
    assert [text[s:e] for s, e in quote_spans(text)] == spans


@pytest.mark.parametrize(
    "text, cue",
    [
        ("The alerts tell users how to protect their computers.", "tell"),  # a thing tells nobody
        ("The newspaper announced no plans to change its format.", "announced"),  # announces nothing
    ],
)
def test_no_claim_without_a_speaker_or_a_statement(nlp, text, cue):
    claims, _ = _run(nlp, text)
    assert not [c for c, _ in claims if c.cue == cue]


def test_a_quotation_before_a_cue_with_its_own_complement_is_not_its_content(nlp):
    claims, _ = _run(nlp, '"Should the city build a tram?" The council said the question was clear.')
    claim, _ = _one(claims, "the question was clear")
    assert "tram" not in claim.content


@pytest.mark.parametrize(
    "text",
    [
        '"We will win the league," Tony Blair said. "We will not," Michael Howard said.',
        '"We will win the league," Tony Blair said.\n\n"We will not," Michael Howard said.',
        '"We will win the league," Tony Blair said. "We will not" was the reply from Michael Howard.',
    ],
)
def test_a_quotation_with_its_own_attribution_is_never_glued_to_the_one_before(nlp, text):
    claims, _ = _run(nlp, text)
    blair, name = _one(claims, "win the league")
    assert name == "Tony Blair" and "We will not" not in blair.content and blair.content_gap_start is None


@pytest.mark.parametrize(
    "text", ["Jane Doe defended that the plan was fair.", "Jane Doe mentioned that the plan was fair."]
)
def test_a_speech_act_is_a_claim_and_never_also_a_stance(nlp, text):
    claims, stances = _run(nlp, text)
    assert [c.content for c, _ in claims] == ["the plan was fair"] and not stances


def test_stances_inside_a_single_quoted_statement_are_the_speakers_words(nlp):
    claims, stances = _run(nlp, "John Smith said: ‘I believe the plan will fail.’")
    claim, name = _one(claims, "I believe the plan will fail")
    assert claim.kind == "direct" and name == "John Smith" and not stances


def test_a_team_sheet_is_no_statement_and_according_to_keeps_its_case(nlp):
    claims, _ = _run(nlp, "Chelsea: Cech, Terry, Lampard, Duff, Drogba.\nAccording to the club, the squad is fit.")
    assert [c.cue for c, _ in claims] == ["According to"]


def test_according_to_nobody_is_no_claim(nlp):
    claims, _ = _run(nlp, "Prices rose sharply in every region last year, according to the")
    assert not claims


def test_a_survey_speaks_for_its_publisher_named_after_it():
    """Nothing named before "a survey": its publisher is the first named organisation
    after it, not the one named most or last, and never an index's initials."""
    from newsdesk.extraction.entities import Mention, entity_id_for
    from newsdesk.extraction.speakers import _publisher

    def org(name: str, at: int) -> Mention:
        return Mention(0, at, at + len(name), name, "ORG", 0, entity_id_for(name, "ORG"), name)

    after = [org("PMI", 50), org("Guild of Buyers", 60), org("Hollis Brothers", 200), org("Bank of England", 300)]
    assert _publisher([], after) == entity_id_for("Guild of Buyers", "ORG")
    assert _publisher([org("Bank of England", 5)], after) == entity_id_for("Bank of England", "ORG")
    assert _publisher([org("PMI", 5)], []) == entity_id_for("PMI", "ORG")
