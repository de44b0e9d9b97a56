"""Pure helpers shared by the extraction rules: one span trimmer, one sentence index."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

# What never starts or ends a content or speaker span: spaces, clause punctuation,
# dashes and quote marks (a content keeps its closing mark only where the builder adds it back).
_EDGE_START = " \n\t,;:“”\"‘'—–"
_EDGE_END = ' \n\t,;:“”"—–'


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) without spaces, clause punctuation and quote marks at its edges."""
    while start < end and text[start] in _EDGE_START:
        start += 1
    while end > start and text[end - 1] in _EDGE_END:
        end -= 1
    return start, end


def tokens_where(doc: Doc, attribute: str, values: frozenset[str]) -> list[Token]:
    """The tokens whose POS or DEP (`attribute`) is one of `values`, in order. Read from
    the doc's arrays: a loop over `doc` makes a Python object of every token, which cost
    more than the rules that look at the few tokens they need."""
    from spacy.parts_of_speech import IDS

    wanted = {IDS[v] for v in values} if attribute == "POS" else {doc.vocab.strings[v] for v in values}
    return [doc[i] for i, value in enumerate(doc.to_array(attribute).tolist()) if value in wanted]


def end_of(token: Token) -> int:
    """The character offset just past a token."""
    return token.idx + len(token.text)


@dataclass
class SentenceIndex:
    """Sentences of a doc, built once: `token.sent` and `span.sent` walk the document on
    every call, which cost as much as the parse."""

    sents: list[Span]
    of_token: list[int]
    starts: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, doc: Doc) -> SentenceIndex:
        sents = list(doc.sents)
        of_token = [0] * len(doc)
        for i, sent in enumerate(sents):
            for t in range(sent.start, sent.end):
                of_token[t] = i
        return cls(sents, of_token, [sent.start_char for sent in sents])

    def at_offset(self, offset: int) -> int:
        """The sentence number holding a character offset."""
        return max(0, bisect.bisect_right(self.starts, offset) - 1)

    def of_tok(self, token: Token) -> Span:
        return self.sents[self.of_token[token.i]]
