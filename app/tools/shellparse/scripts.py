"""The script a launcher or a shell is given: ``bash -c``, ``python -c``, ``printf … |``."""

from __future__ import annotations

import re
import shlex

from app.tools.shellparse.launchers import _SHELLS

#: Launchers that take a script as one string: ``su -c 'cmd'``, ``watch 'cmd'``.
_SCRIPT_FLAGS = {"su": "c", "runuser": "c", "script": "c", "env": "S", "flock": "c"}


#: Shells that run ``-c`` text or read a script from standard input, besides ``_SHELLS``.
_OTHER_SHELLS = frozenset(
    {"rbash", "ash", "mksh", "pdksh", "oksh", "loksh", "lksh", "rksh", "ksh93", "csh", "tcsh",
     "yash", "posh", "hush", "elvish", "xonsh", "osh", "ysh", "nu", "rc"}
)  # fmt: skip


_STDIN_NAMES = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})


_SSH_VALUED = frozenset("bcDEeFIiJLlmOopQRSWw")


#: Options of ``env`` and ``flock`` that take the next word as their value.
_VALUED = {
    "env": frozenset({"-u", "-C", "--unset", "--chdir"}),
    "flock": frozenset({"-w", "-E", "--wait", "--timeout", "--conflict-exit-code"}),
}


#: Options of ``sudo`` and ``doas`` that take a value: short letters, long names.
_SUDO_VALUED = frozenset("aCDghpRrtTUu")
_SUDO_LONG_VALUED = frozenset(
    {"--close-from", "--chdir", "--group", "--host", "--prompt", "--chroot", "--role",
     "--type", "--command-timeout", "--other-user", "--user", "--auth-type", "--login-class"}
)  # fmt: skip


def _launcher_script(name: str, args: list[str]) -> str | None:
    """The script text a launcher runs through a shell (``su -c``, ``env -S``, ``sudo -s``…)."""
    if name in ("sudo", "doas"):
        return _sudo_shell_script(args)
    letter = _SCRIPT_FLAGS.get(name)
    if letter is None:
        return None
    longs = {"c": ("--command",), "S": ("--split-string",)}[letter]
    for index, word in enumerate(_own_options(name, args)):
        if word.startswith("--"):
            option, has_value, value = word.partition("=")
            if option in longs:
                return value if has_value else _next_script(args, index)
            continue
        if word.startswith("-") and letter in word[1:]:
            tail = word[word.index(letter, 1) + 1 :]
            return tail if tail else _next_script(args, index)
    return None


def _own_options(name: str, args: list[str]) -> list[str]:
    """The words where a launcher reads its own options: ``env`` stops at its command,
    ``flock`` at the one after its lock file (``flock FILE -c 'cmd'``); su, runuser and
    script take options anywhere (getopt moves them to the front)."""
    valued = _VALUED.get(name)
    if valued is None:
        return args
    operands, index = 0, 0
    while index < len(args):
        word = args[index]
        if not word.startswith("-"):
            operands += 1
            if name == "env" or operands == 2:
                return args[:index]
        elif word in valued:
            index += 1
        index += 1
    return args


def _sudo_shell_script(args: list[str]) -> str | None:
    """``sudo -s``/``-i`` (``doas -s``): the command after the options, run by a shell."""
    shell, index = False, 0
    while index < len(args) and args[index].startswith("-"):
        word = args[index]
        index += 1
        if word == "--":
            break
        if word.startswith("--"):
            shell = shell or word in ("--shell", "--login")
            if word in _SUDO_LONG_VALUED:
                index += 1  # its value is the next word (``--user=bob`` is one)
            continue
        for position, letter in enumerate(word[1:], start=1):
            if letter in _SUDO_VALUED:
                if position == len(word) - 1:
                    index += 1  # ``-u bob``; in ``-ubob`` the value is attached
                break
            shell = shell or letter in "si"
    rest = args[index:]
    return " ".join(rest) if shell and rest else None


def _next_script(args: list[str], index: int) -> str:
    rest = args[index + 1 :]
    if rest and rest[0] == "--":
        rest = rest[1:]
    return rest[0] if rest else ""


def _is_shell(name: str) -> bool:
    """bash, sh, dash, zsh, ksh, mksh, rbash, tcsh, ash, yash, fish … by name (not ssh, rsh,
    nor words that only end in "sh", like ``push`` or ``publish``)."""
    return name in _SHELLS or name in _OTHER_SHELLS


def _printed_text(name: str, args: list[str]) -> str | None:
    """What ``echo``/``printf`` prints, or ``None`` when escapes could turn into anything."""
    if name == "echo":
        return _echo_text(args)
    if (args and "\\" in args[0].replace("\\n", "")) or any("%b" in a for a in args[:1]):
        return None
    printed = _printf_text(args)
    return None if printed is None else printed.replace("\\n", "\n")


def _echo_text(args: list[str]) -> str | None:
    """What bash's ``echo`` prints: its options (``-n``, ``-e``, ``-E``, ``-ne``…) come first
    and the last of ``e``/``E`` decides whether escapes are read; only ``\\n`` is followed."""
    index = 0
    while index < len(args) and re.fullmatch(r"-[neE]+", args[index]):
        index += 1
    options, text = "".join(args[:index]), " ".join(args[index:])
    if options.rfind("e") <= options.rfind("E"):  # no -e, or a later -E
        return text
    if "\\" in text.replace("\\n", ""):
        return None
    return text.replace("\\n", "\n")


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


def _loose_words(chunk: str) -> list[str]:
    try:
        return shlex.split(chunk, posix=True)
    except ValueError:
        return chunk.replace('"', " ").replace("'", " ").split()
