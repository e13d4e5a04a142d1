"""Split shell command lines for the approval policy, and tell plain commands from the rest.

A command line is *plain* when it is only simple commands (bare or quoted words) joined by
``&&``, ``||``, ``;``, ``|`` or newlines. Redirections, substitutions (``$(…)``, backticks,
``$VAR``/``${…}`` expansions), subshells and groups, background ``&``, heredocs, comments
and leading ``NAME=value`` assignments make it non-plain: such a line never matches an
allow rule, because what runs can differ from what the words say. This is text analysis
for matching rules, not a sandbox.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

#: Wrappers that only change how a command runs; they are stripped before rules match.
WRAPPERS = frozenset({"timeout", "nice", "nohup", "time"})
#: Launchers that run their arguments as a command; stripped too when looking for denials.
LAUNCHERS = frozenset({"sudo", "doas", "env", "exec", "command", "builtin", "xargs", "stdbuf"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "fish"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")
_DURATION = re.compile(r"^\d+(\.\d+)?[smhd]?$")
_LOOSE_SPLIT = re.compile(r"\$\(|[;&|()`\n<>{}]")


@dataclass
class ParsedCommand:
    """One command line taken apart: its simple commands (wrappers stripped) and plainness."""

    raw: str
    commands: list[list[str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def plain(self) -> bool:
        """Whether the line is only simple commands joined by ``&& || ; |`` and newlines."""
        return not self.reasons and bool(self.commands)


def parse_command(command: str) -> ParsedCommand:
    """Split ``command`` into simple commands and record every non-plain construct found."""
    parsed = ParsedCommand(raw=command)
    segments, reasons = _scan(command)
    parsed.reasons.extend(reasons)
    for segment in segments:
        if not segment.strip():
            continue
        try:
            words = shlex.split(segment, posix=True)
        except ValueError as exc:
            _note(parsed.reasons, f"cannot be parsed ({exc})")
            continue
        if not words:
            continue
        if _ASSIGNMENT.match(words[0]):
            _note(parsed.reasons, "environment assignment")
        parsed.commands.append(strip_wrappers(words))
    return parsed


def _note(reasons: list[str], reason: str) -> None:
    if reason not in reasons:
        reasons.append(reason)


def _scan(text: str) -> tuple[list[str], list[str]]:
    """Cut ``text`` at top-level separators, noting constructs that make it non-plain."""
    segments: list[str] = []
    reasons: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i, n = 0, len(text)

    def cut() -> None:
        segments.append("".join(current))
        current.clear()

    while i < n:
        char = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if quote == "'":
            current.append(char)
            if char == "'":
                quote = None
            i += 1
            continue
        if char == "\\":
            current.append(text[i : i + 2])
            i += 2
            continue
        if char == "$" and (nxt in "({" or nxt.isalnum() or nxt in "_@*#?$!-"):
            _note(reasons, "command substitution" if nxt == "(" else "variable expansion")
        elif char == "`":
            _note(reasons, "command substitution")
        if quote == '"':
            current.append(char)
            if char == '"':
                quote = None
            i += 1
            continue
        if char in "'\"":
            quote = char
        elif char in "<>":
            if text.startswith("<<", i):
                _note(reasons, "heredoc")
            elif nxt == "(":
                _note(reasons, "process substitution")
            else:
                _note(reasons, "redirection")
        elif char in "()":
            _note(reasons, "subshell")
        elif char in "{}" and _is_word_start(text, i) and _is_word_end(text, i):
            _note(reasons, "command group")
        elif char == "#" and _is_word_start(text, i):
            _note(reasons, "comment")
        elif char in ";\n" or (char == "|" and nxt != "&"):
            step = 2 if text.startswith(("||", ";;"), i) else 1
            cut()
            i += step
            continue
        elif char == "|" and nxt == "&":
            _note(reasons, "redirection")
            cut()
            i += 2
            continue
        elif char == "&":
            if nxt == "&":
                cut()
                i += 2
                continue
            if nxt == ">" or (current and current[-1] in "<>"):
                _note(reasons, "redirection")
            else:
                _note(reasons, "background job")
                cut()
                i += 1
                continue
        current.append(char)
        i += 1
    if quote:
        _note(reasons, "unbalanced quotes")
    segments.append("".join(current))
    return segments, reasons


def _is_word_start(text: str, index: int) -> bool:
    return index == 0 or text[index - 1] in " \t\n;&|("


def _is_word_end(text: str, index: int) -> bool:
    return index + 1 >= len(text) or text[index + 1] in " \t\n;&|)"


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


def deny_candidates(command: str, depth: int = 0) -> list[list[str]]:
    """Every word list a deny rule should be tested against: an over-approximation.

    It holds the simple commands, the same with launchers stripped, the pieces found by a
    quote-blind split on every shell metacharacter (so ``$(rm -rf x)`` and ``(rm x)`` are
    seen), and the inside of ``bash -c '…'`` scripts.
    """
    found: list[list[str]] = []
    parsed = parse_command(command)
    pieces = [*parsed.commands]
    for chunk in _LOOSE_SPLIT.split(command):
        words = _loose_words(chunk)
        if words:
            pieces.append(strip_wrappers(words))
    for words in pieces:
        for variant in (words, strip_launchers(words)):
            if variant and variant not in found:
                found.append(variant)
            if depth < 3 and len(variant) >= 3 and variant[0] in _SHELLS:
                script = _script_of(variant)
                if script is not None:
                    for inner in deny_candidates(script, depth + 1):
                        if inner not in found:
                            found.append(inner)
    return found


def _loose_words(chunk: str) -> list[str]:
    try:
        return shlex.split(chunk, posix=True)
    except ValueError:
        return chunk.replace('"', " ").replace("'", " ").split()


def _script_of(words: list[str]) -> str | None:
    for index, word in enumerate(words[1:], start=1):
        if word.startswith("-") and "c" in word.lstrip("-") and not word.startswith("--"):
            return words[index + 1] if index + 1 < len(words) else None
    return None
