"""Pure: a token's lemma, worked out when a rule asks for it.

spaCy's rule lemmatizer gives every token a lemma; the extraction reads the lemmas of
a few (cue verbs, nouns of speakers and counts). So the model's own lemmatizer is
kept but taken out of the pipeline, and `lemma_of` calls it for one token on demand:
the same lemma, for the tokens that need one. Where the pipeline did lemmatize (a
model loaded by other code), the stored lemma is used as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.pipeline import Lemmatizer
    from spacy.tokens import Token

_LEMMATIZERS: dict[int, Lemmatizer] = {}  # id(vocab) -> that model's rule lemmatizer


def defer_lemmas(nlp: Language) -> bool:
    """Take a rule lemmatizer out of the pipeline and keep it for `lemma_of`; False if the
    model has none (or one of another mode), which then stays as it is."""
    if "lemmatizer" not in nlp.component_names:  # disabled ones too: a pipeline saved by newsdesk
        return False
    lemmatizer = cast("Lemmatizer", nlp.get_pipe("lemmatizer"))
    if getattr(lemmatizer, "mode", None) != "rule" or getattr(lemmatizer, "overwrite", True):
        return False
    _index_as_sets(lemmatizer)
    _LEMMATIZERS[id(nlp.vocab)] = lemmatizer
    if "lemmatizer" in nlp.pipe_names:
        nlp.disable_pipe("lemmatizer")
    return True


def lemma_of(token: Token) -> str:
    """The token's lemma: the pipeline's or an attribute rule's ("got" -> "get") when it
    set one, else the deferred lemmatizer's (stored on the token), else its lower form."""
    if token.lemma != 0:
        return token.lemma_
    lemmatizer = _LEMMATIZERS.get(id(token.vocab))
    if lemmatizer is None:
        return token.lower_
    value = lemmatizer.rule_lemmatize(token)[0]  # cached by spaCy per form, POS and morphology
    token.lemma_ = value
    return value


def _index_as_sets(lemmatizer: Lemmatizer) -> None:
    """The rule lemmatizer asks "is this form a known word?" of a list per POS (thousands
    of words, a linear scan, ~0.2 ms a new word). Each list becomes a _WordList: still a
    list, so the model saves and pickles as before, answering `in` from a set."""
    table = lemmatizer.lookups.get_table("lemma_index", {})
    for key, words in list(table.items()):
        if isinstance(words, list) and not isinstance(words, _WordList):
            table[key] = _WordList(words)


class _WordList(list[str]):
    """A list (what spaCy saves) whose membership test is a set lookup (what the
    lemmatizer asks). Never changed after it is made, so the two cannot drift."""

    def __init__(self, words: list[str]) -> None:
        super().__init__(words)
        self._members = frozenset(words)

    def __contains__(self, word: object) -> bool:
        return word in self._members
