"""Wrappers (``timeout``, ``nice``, …) in front of a known-safe command, and their options."""

from __future__ import annotations

import re

from app.tools.knownsafe.table import _NUMBER
from app.tools.shellparse import Word

_WRAPPER_NAMES = frozenset({"time", "nice", "timeout", "nohup"})


_SIGNAL = re.compile(r"[A-Za-z0-9]{1,10}")


_DURATION_TEXT = re.compile(r"\d+(\.\d+)?[smhd]?")


_TIMEOUT_FLAGS = frozenset({"--foreground", "--preserve-status", "-v", "--verbose"})


_TIMEOUT_LONG = re.compile(r"--signal=[A-Za-z0-9]{1,10}|--kill-after=\d+(\.\d+)?[smhd]?")


def _strip_wrappers(words: list[Word]) -> tuple[list[Word], str | None]:
    """Drop ``time [-p]``, ``nice [-n N]``, ``timeout [opts] DURATION`` and ``nohup``.

    Only the forms that cannot write or run anything else: an escaped or quoted ``time`` is
    the ``time`` program (which has ``--output``), not the keyword, so it stays the name.
    """
    while len(words) > 1 and words[0].text in _WRAPPER_NAMES and not words[0].glob:
        head, rest = words[0], words[1:]
        texts = [w.text for w in rest]
        if head.text == "time" and head.quoted:
            return words, None  # the program, judged by its name (not on the list)
        skip = _wrapper_skip(head.text, texts)
        if isinstance(skip, str):
            return words, skip
        if skip >= len(rest):
            return words, f"{head.text} without a command"
        words = rest[skip:]
    return words, None


def _wrapper_skip(name: str, texts: list[str]) -> int | str:
    """How many words of a wrapper's options to skip, or why they are not known to be safe."""
    if name == "time":
        return 1 if texts[0] == "-p" else 0
    if name == "nohup":
        return 1 if texts[0] == "--" else 0
    if name == "nice":
        if texts[0] == "-n" and len(texts) > 1 and _NUMBER.fullmatch(texts[1]):
            return 2
        if re.fullmatch(r"-\d+|--adjustment=-?\d+", texts[0]):
            return 1
        return f"nice {texts[0]} is not known to be safe" if texts[0].startswith("-") else 0
    skip = 0
    while skip < len(texts) and texts[skip].startswith("-"):
        option = texts[skip]
        if option in ("-s", "-k") and skip + 1 < len(texts):
            pattern = _SIGNAL if option == "-s" else _DURATION_TEXT
            if not pattern.fullmatch(texts[skip + 1]):
                return f"timeout {option} {texts[skip + 1]} is not known to be safe"
            skip += 2
        elif option in _TIMEOUT_FLAGS or _TIMEOUT_LONG.fullmatch(option):
            skip += 1
        else:
            return f"timeout {option} is not known to be safe"
    if skip >= len(texts) or not _DURATION_TEXT.fullmatch(texts[skip]):
        return "timeout without a plain duration"
    return skip + 1
