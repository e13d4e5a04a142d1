"""Brace expansion (``{a,b}``, ``{1..3}``) as bash does it, within a bound."""

from __future__ import annotations

import re

_BRACE_ITEMS = re.compile(r"\{([^{}]*)\}")


_MAX_EXPANSIONS = 64


def expand_braces(word: str) -> list[str] | None:
    """Bash brace expansion of one word (``{a,b}``, ``{1..3}``); ``None`` if too large."""
    if word.count("{") > 16:
        return None  # bounded work (and recursion) whatever the input
    match = next((m for m in _BRACE_ITEMS.finditer(word) if "," in m.group(1) or ".." in
                  m.group(1)), None)  # fmt: skip
    if match is None:
        return [word]
    body = match.group(1)
    if "," in body:
        items = body.split(",")
    else:
        low, _, high = body.partition("..")
        if not (low.lstrip("-").isdigit() and high.lstrip("-").isdigit()):
            if len(low) == 1 and len(high) == 1:
                step = 1 if ord(high) >= ord(low) else -1
                items = [chr(c) for c in range(ord(low), ord(high) + step, step)]
            else:
                return [word]
        else:
            a, b = int(low), int(high)
            if abs(b - a) >= _MAX_EXPANSIONS:
                return None
            step = 1 if b >= a else -1
            items = [str(v) for v in range(a, b + step, step)]
    out: list[str] = []
    for item in items:
        expanded = expand_braces(word[: match.start()] + item + word[match.end() :])
        if expanded is None:
            return None
        out.extend(expanded)
        if len(out) > _MAX_EXPANSIONS:
            return None
    return out


def _expand_words(words: list[str]) -> list[str] | None:
    out: list[str] = []
    for word in words:
        expanded = expand_braces(word)
        if expanded is None:
            return None
        out.extend(expanded)
    return out
