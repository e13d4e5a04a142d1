"""The script a launcher or a shell is given: ``bash -c``, ``python -c``, ``printf … |``."""

from __future__ import annotations

import re
import shlex

from app.tools.shellparse.launchers import _SHELLS

#: Launchers that take a script as one string: ``su -c 'cmd'``, ``watch 'cmd'``.
_SCRIPT_FLAGS = {"su": "c", "runuser": "c", "script": "c", "env": "S", "flock": "c"}


_STDIN_NAMES = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})


_SSH_VALUED = frozenset("bcDEeFIiJLlmOopQRSWw")


def _launcher_script(name: str, args: list[str]) -> str | None:
    """The script text a launcher runs through a shell (``su -c``, ``env -S``, ``watch``…)."""
    if name == "watch":
        start = next((i for i, w in enumerate(args) if not w.startswith("-")), None)
        return " ".join(args[start:]) if start is not None else None
    if name in ("sudo", "doas") and any(w in ("-s", "-i", "--shell", "--login") for w in args):
        rest = [w for w in args if not w.startswith("-")]
        return " ".join(rest) if rest else None
    letter = _SCRIPT_FLAGS.get(name)
    if letter is None:
        return None
    longs = {"c": ("--command",), "S": ("--split-string",)}[letter]
    for index, word in enumerate(args):
        if word.startswith("--"):
            option, has_value, value = word.partition("=")
            if option in longs:
                return value if has_value else _next_script(args, index)
            continue
        if word.startswith("-") and letter in word[1:]:
            tail = word[word.index(letter, 1) + 1 :]
            return tail if tail else _next_script(args, index)
    return None


def _next_script(args: list[str], index: int) -> str:
    rest = args[index + 1 :]
    if rest and rest[0] == "--":
        rest = rest[1:]
    return rest[0] if rest else ""


def _is_shell(name: str) -> bool:
    """bash, sh, dash, zsh, ksh, mksh, rbash, tcsh, ash, yash, fish … (not ssh or rsh)."""
    if name in ("ssh", "rsh", "mosh"):
        return False
    return name in _SHELLS or bool(re.fullmatch(r"[a-z]{0,6}sh|fish", name))


def _printed_text(name: str, args: list[str]) -> str | None:
    """What ``echo``/``printf`` prints, or ``None`` when escapes could turn into anything."""
    if name == "echo":
        flags = {w for w in args if w in ("-n", "-e", "-E")}
        words = [w for w in args if w not in ("-n", "-e", "-E")]
        text = " ".join(words)
        return None if "-e" in flags and "\\" in text.replace("\\n", "") else text
    if (args and "\\" in args[0].replace("\\n", "")) or any("%b" in a for a in args[:1]):
        return None
    printed = _printf_text(args)
    return None if printed is None else printed.replace("\\n", "\n")


def _printf_text(args: list[str]) -> str | None:
    """What ``printf FORMAT ARGS…`` prints, for ``%s``/``%b``/``%%`` formats; else ``None``."""
    if not args:
        return ""
    form, rest = args[0], list(args[1:])
    if re.search(r"%[^sb%]", form):
        return None
    pieces: list[str] = []
    while True:
        text = re.sub(r"%[sb]", lambda _: rest.pop(0) if rest else "", form.replace("%%", "\0"))
        pieces.append(text.replace("\0", "%"))
        if not rest or "%" not in form:
            return "".join(pieces)


def _script_of(words: list[str]) -> str | None:
    """The ``-c`` script of a shell (``-c``, ``-lc``, ``-c -- 'script'``), or ``None``."""
    for index, word in enumerate(words[1:], start=1):
        if word.startswith("-") and "c" in word.lstrip("-") and not word.startswith("--"):
            return _next_script(words, index)
    return None


def _loose_words(chunk: str) -> list[str]:
    try:
        return shlex.split(chunk, posix=True)
    except ValueError:
        return chunk.replace('"', " ").replace("'", " ").split()
