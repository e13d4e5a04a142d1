"""Brace expansion (``{a,b}``, ``{1..3}``) as bash does it, within a bound.

Bash takes the first ``{`` whose matching ``}`` encloses a list (a comma outside inner
braces) or a valid sequence (``{1..9}``, ``{a..z}``, ``{01..10..2}``); a brace pair that is
neither stays as written and the search goes on from the next ``{``. ``${…}`` is a parameter
expansion, not a brace. The words an expansion leaves empty are dropped, as bash drops them
(``{,} rm x`` runs ``rm x``).
"""

from __future__ import annotations

import re

_MAX_EXPANSIONS = 64

#: What bash accepts as a sequence's end or step (``legal_number``): a 64-bit integer.
_NUMBER = re.compile(r"[+-]?\d+")

_INTMIN, _INTMAX = -(2**63), 2**63 - 1

_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class _TooLarge(Exception):
    """A sequence or a product of lists longer than we follow."""


def expand_braces(word: str) -> list[str] | None:
    """Bash brace expansion of one word (``{a,b}``, ``{1..3}``); ``None`` if too large."""
    if word.count("{") > 16:
        return None  # bounded work (and recursion) whatever the input
    try:
        expanded = _expand(word)
    except _TooLarge:
        return None
    return [text for text in expanded if text or not word]  # "" only if written so


def _expand(word: str) -> list[str]:
    """Every word ``word`` expands to, empty ones included (bash removes them at the end)."""
    found = _first_expression(word)
    if found is None:
        return [word]
    start, end, items = found
    tails = _expand(word[end + 1 :])
    out: list[str] = []
    for item in items:
        for head in _expand(item):
            out.extend(word[:start] + head + tail for tail in tails)
            if len(out) > _MAX_EXPANSIONS:
                raise _TooLarge
    return out


def _first_expression(word: str) -> tuple[int, int, list[str]] | None:
    """The first brace expression bash expands: where it starts and ends, and its items."""
    index = 0
    while (start := word.find("{", index)) >= 0:
        end = _closing(word, start)
        if start and word[start - 1] == "$":  # ${…}: a parameter, skipped whole
            index = start + 1 if end is None else end + 1
            continue
        if end is not None:
            body = word[start + 1 : end]
            items = _list_items(body)
            if items is None:
                items = _sequence(body)
            if items is not None:
                return start, end, items
        index = start + 1
    return None


def _closing(word: str, start: int) -> int | None:
    """The index of the ``}`` that closes the ``{`` at ``start``, counting nested pairs."""
    depth = 0
    for index in range(start, len(word)):
        if word[index] == "{":
            depth += 1
        elif word[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def _list_items(body: str) -> list[str] | None:
    """The items of ``a,b,{c,d}`` split at the commas outside inner braces, or ``None``."""
    items: list[str] = []
    depth, begin = 0, 0
    for index, char in enumerate(body):
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == "," and not depth:
            items.append(body[begin:index])
            begin = index + 1
    if not items:
        return None
    return [*items, body[begin:]]


def _sequence(body: str) -> list[str] | None:
    """The words of ``1..5``, ``a..e``, ``01..10..2`` as bash makes them, or ``None``."""
    parts = body.split("..")
    if len(parts) not in (2, 3):
        return None
    step = 1
    if len(parts) == 3:
        if not _is_number(parts[2]):
            return None
        step = abs(int(parts[2])) or 1
    low, high = parts[0], parts[1]
    if _is_number(low) and _is_number(high):
        first, last = int(low), int(high)
        width = max(_width(low), _width(high))
        return [f"{value:0{width}d}" for value in _steps(first, last, step)]
    if low in _LETTERS and high in _LETTERS:
        return [chr(code) for code in _steps(ord(low), ord(high), step)]
    return None


def _is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text)) and _INTMIN <= int(text) <= _INTMAX


def _width(term: str) -> int:
    """Zero padding: a term written with a leading zero (``01``, ``-01``) sets the width."""
    digits = term.removeprefix("-")
    return len(term) if len(digits) > 1 and digits[0] == "0" else 0


def _steps(first: int, last: int, step: int) -> range:
    if abs(last - first) // step >= _MAX_EXPANSIONS:
        raise _TooLarge
    if last < first:
        return range(first, last - 1, -step)
    return range(first, last + 1, step)


def _expand_words(words: list[str]) -> list[str] | None:
    out: list[str] = []
    for word in words:
        expanded = expand_braces(word)
        if expanded is None:
            return None
        out.extend(expanded)
    return out
