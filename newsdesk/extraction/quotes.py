"""Pure: quotation marks in text -> quoted stretches, and how a content relates to them."""

from __future__ import annotations

from newsdesk.extraction.spans import trim

OPENING = {"“": "”", "«": "»", "„": "“"}
CLOSING_MARKS = frozenset('”»"')  # never an apostrophe

Quote = tuple[int, int]  # (start, end) of the text inside the marks


def quote_spans(text: str) -> list[Quote]:
    """Quoted stretches as (start, end) of the inner text. Curly and straight marks;
    an unclosed quote ends at its paragraph's end, so one stray mark never swallows
    the rest of the document. A quote left open at a paragraph's end whose next
    paragraph opens a quote again continues there (news style for a quotation over
    several paragraphs): the two are one stretch."""
    spans: list[Quote] = []
    i, n = 0, len(text)
    continues = False  # the last stretch was left open at its paragraph's end
    while i < n:
        ch = text[i]
        # Typewriter ''quoted'' and British ‘single curly quotes’ (a ’ inside a word is an
        # apostrophe): closed within their paragraph, or no quotation at all.
        width = 2 if text.startswith("''", i) else 1 if ch == "‘" else 0
        if width:
            para_end = _paragraph_end(text, i)
            close = text.find("''", i + 2, para_end) if width == 2 else _single_close(text, i + 1, para_end)
            if close > i + width:
                spans.append((i + width, close))
                i = close + width
                continues = False
            else:
                i += width
            continue
        if ch in OPENING or ch == '"':
            closer = OPENING.get(ch, '"')
            para_end = _paragraph_end(text, i)
            close = text.find(closer, i + 1, para_end)
            while close != -1 and ch == '"' and _opens_again(text, close):
                # `"One. "Two."`: a paragraph break lost in the file; the quotation goes on.
                close = text.find(closer, close + 1, para_end)
            if (
                close == -1
                and ch == '"'
                and not _opens_paragraph(text, i)
                and not _next_paragraph_quotes(text, para_end)
            ):
                i += 1  # a lone straight quote: an inch mark or a typo
                continue
            end = para_end if close == -1 else close
            if end > i + 1:
                if continues and spans and _opens_paragraph(text, i) and text[spans[-1][1] : i].strip() == "":
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((i + 1, end))
            continues = close == -1
            i = end + 1
        else:
            i += 1
    return spans


def _single_close(text: str, start: int, end: int) -> int:
    """The ’ that closes a ‘single quotation’: not followed by a letter or digit."""
    at = text.find("’", start, end)
    while at != -1 and at + 1 < len(text) and text[at + 1].isalnum():
        at = text.find("’", at + 1, end)
    return at


def _opens_again(text: str, at: int) -> bool:
    """A straight mark after a space and before a word opens a quotation: it closes none."""
    return at > 0 and text[at - 1] == " " and at + 1 < len(text) and text[at + 1].isalnum()


def _next_paragraph_quotes(text: str, para_end: int) -> bool:
    """Whether the next paragraph opens with a quote mark: then a mark left open before it
    is a quotation running on, not an inch mark."""
    return text[para_end : para_end + 3].lstrip("\n")[:1] in {'"', "“"}


def _paragraph_end(text: str, at: int) -> int:
    end = text.find("\n\n", at)
    return len(text) if end == -1 else end


def _opens_paragraph(text: str, at: int) -> bool:
    return at == 0 or text[max(0, at - 2) : at] == "\n\n" or text[at - 1] == "\n"


def inside_any(offset: int, spans: list[Quote]) -> bool:
    return any(start <= offset < end for start, end in spans)


def adjacent_quote(
    text: str, offset: int, quotes: list[Quote], forward: bool, allow_break: bool = False
) -> Quote | None:
    """The quote separated from offset only by spaces and , : — marks (and a
    paragraph break, with allow_break)."""
    limit = 6 if allow_break else 4
    for q_start, q_end in quotes:
        gap = text[offset : q_start - 1] if forward else text[q_end + 1 : offset]
        if allow_break:
            gap = gap.replace("\n", "").replace(".", "")
        if (forward and q_start - 1 >= offset or not forward and q_end + 1 <= offset) and len(gap) <= limit:
            # Backwards, the quote must hand over to the cue: `"...," said X`, `"...?" X asked`.
            hands_over = forward or "," in gap or text[q_start:q_end].rstrip()[-1:] in {",", "?", "!", "—"}
            if hands_over and all(ch in " ,:—–-\n'" for ch in gap) and (forward or "\n" not in gap):
                start, end = trim(text, q_start, q_end)
                return (start, end) if end > start else None
    return None


def kind_of(text: str, start: int, end: int, quotes: list[Quote]) -> str:
    """direct (all quoted), partial (some) or indirect (none)."""
    covered = 0
    for q_start, q_end in quotes:
        lo, hi = max(start, q_start), min(end, q_end)
        if hi > lo:
            covered += hi - lo
    if covered == 0:
        return "indirect"
    outside = text[start:end]
    if covered >= len(outside.strip(" ,.;:“”\"'")) - 2:
        return "direct"
    return "partial"


def with_closing_mark(text: str, start: int, end: int) -> int:
    """A content that opens a quotation inside it keeps the closing mark: `represents
    “a dangerous expansion.”` rather than an unbalanced `represents “a dangerous expansion.`"""
    inner = text[start:end]
    unbalanced = inner.count("“") + inner.count("«") > inner.count("”") + inner.count("»") or inner.count('"') % 2
    if unbalanced and text[end : end + 1] in CLOSING_MARKS:
        return end + 1
    return end
