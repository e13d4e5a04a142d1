"""Wrappers and launchers in front of a command (``timeout``, ``sudo``, ``env``, …): what they
are, and the command they run.
"""

from __future__ import annotations

import re

#: Wrappers that only change how a command runs; they are stripped before rules match.
WRAPPERS = frozenset({"timeout", "nice", "nohup", "time"})


#: Launchers that run their arguments as a command; stripped too when looking for denials.
LAUNCHERS = frozenset({"sudo", "doas", "env", "exec", "command", "builtin", "xargs", "stdbuf"})


_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "fish"})


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")


_DURATION = re.compile(r"^\d+(\.\d+)?[smhd]?$")


def strip_wrappers(words: list[str]) -> list[str]:
    """Drop leading ``timeout N``, ``nice``, ``nohup`` and ``time`` (with their options)."""
    words = list(words)
    while len(words) > 1 and words[0] in WRAPPERS:
        head, rest = words[0], words[1:]
        rest = _skip_options(rest, with_value={"-s", "--signal", "-k", "--kill-after", "-n"})
        if head == "timeout" and rest and _DURATION.match(rest[0]):
            rest = rest[1:]
        if not rest:
            break
        words = rest
    return words


def _skip_options(words: list[str], with_value: set[str]) -> list[str]:
    index = 0
    while index < len(words) and words[index].startswith("-") and words[index] != "-":
        if words[index] == "--":
            return words[index + 1 :]
        index += 2 if words[index] in with_value else 1
    return words[index:]


def strip_launchers(words: list[str]) -> list[str]:
    """Drop wrappers and launchers (``sudo``, ``env A=1``, ``xargs``…) to reach the real command."""
    words = strip_wrappers(words)
    while len(words) > 1 and words[0] in LAUNCHERS:
        rest = _skip_options(words[1:], with_value={"-u", "-g", "-C", "-n", "-I", "-L", "-P"})
        while rest and _ASSIGNMENT.match(rest[0]):
            rest = rest[1:]
        if not rest:
            break
        words = strip_wrappers(rest)
    return words


def option_skipping_variants(words: list[str]) -> list[list[str]]:
    """``words`` and the same with leading global options dropped (``git -C . status`` →
    ``git status``), so a deny rule about a subcommand is not passed by an option before it."""
    variants = [words]
    index = 1
    while index < len(words) and index <= 8 and words[index].startswith("-"):
        index += 1
        if index < len(words) and not words[index].startswith("-"):
            variants.append([words[0], *words[index:]])  # that word as the subcommand
            index += 1  # or as the option's value
    if index < len(words):
        variants.append([words[0], *words[index:]])
    return [v for i, v in enumerate(variants) if v not in variants[:i]]
