"""Search snippets as people read them: Markdown marks taken out, whitespace (newlines too)
folded to single spaces, and the match spans moved along so the highlight stays on the words
that matched."""

from __future__ import annotations

import re
from collections.abc import Sequence

from textual.content import Content, Span

from app.textsafe import strip_controls

#: Markdown that is syntax, not text: (pattern, group whose text is kept or None).
_LINE_MARKS = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|(?:[-*+]|\d{1,3}[.)])[ \t]+|(?:```|~~~)[\w+-]*)",
    re.MULTILINE,
)
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_INLINE_MARKS = re.compile(r"\*\*|__|~~|`+|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")
_SPACE_LIKE = re.compile(r"\|")


def _dropped(text: str) -> list[bool]:
    """For each character of ``text``, whether it is Markdown syntax to leave out."""
    drop = [False] * len(text)

    def mark(start: int, end: int) -> None:
        for index in range(start, end):
            drop[index] = True

    for found in _LINE_MARKS.finditer(text):
        mark(found.start(), found.end())
    for found in _LINK.finditer(text):
        mark(found.start(), found.start(1))
        mark(found.end(1), found.end())
    for found in _INLINE_MARKS.finditer(text):
        mark(found.start(), found.end())
    return drop


def clean_snippet(snippet: str, highlights: Sequence[tuple[int, int]]) -> Content:
    """``snippet`` without Markdown marks or runs of whitespace, on one line, with
    ``highlights`` (offsets in ``snippet``) shown reversed on the same words."""
    text = _SPACE_LIKE.sub(" ", snippet)
    drop = _dropped(text)
    out: list[str] = []
    #: Where each character of ``snippet`` lands in the output (the next kept one for a
    #: dropped character).
    where: list[int] = []
    for index, char in enumerate(text):
        where.append(len(out))
        if drop[index]:
            continue
        if char.isspace() or strip_controls(char) != char:
            if out and out[-1] != " ":
                out.append(" ")
            continue
        out.append(char)
    where.append(len(out))
    while out and out[-1] == " ":
        out.pop()
    plain = "".join(out)
    spans: list[Span] = []
    for start, end in highlights:
        if not 0 <= start < end <= len(snippet):
            continue
        new_start, new_end = where[start], min(where[end], len(plain))
        # Leave out a space folded in at either edge.
        while new_start < new_end and plain[new_start] == " ":
            new_start += 1
        while new_end > new_start and plain[new_end - 1] == " ":
            new_end -= 1
        if new_start < new_end:
            spans.append(Span(new_start, new_end, "reverse"))
    return Content(plain, spans=spans)
