"""Commands whose arguments are a small language of their own: ``sed`` scripts, ``date``
formats and ``find`` expressions.
"""

from __future__ import annotations

import re

from app.tools.knownsafe.paths import _confined, _Line
from app.tools.shellparse import Word

_SED_ADDRESS = r"(?:\d+|\$|/[^/\\\n]*/)"


_SED_COMMAND = re.compile(rf"(?:{_SED_ADDRESS}(?:\s*,\s*{_SED_ADDRESS})?)?\s*(?:!\s*)?[pdqQ=l]?")


def _sed(items: list[Word], line: _Line) -> str | None:
    """``sed`` that only prints: -n/-E/-s/-z/-u options, scripts of p, d, q, = and l."""
    args = [item.text for item in items]
    scripts: list[str] = []
    operands: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word.startswith("--expression"):
            value = word.partition("=")[2] if "=" in word else None
            if value is None:
                value = args[index] if index < len(args) else ""
                index += 1
            scripts.append(value)
        elif word in _SED_LONG:
            continue
        elif word.startswith("-") and word != "-" and not word.startswith("--"):
            letters = word[1:]
            head, e, script = letters.partition("e")
            if not set(head) <= set("nErsuz"):
                return f"sed {word} is not known to be safe (it may edit, write or run)"
            if e:
                if not script:
                    script = args[index] if index < len(args) else ""
                    index += 1
                scripts.append(script)
        elif word.startswith("-") and word != "-":
            return f"sed {word} is not known to be safe (it may edit, write or run)"
        else:
            operands.append(word)
    if not scripts:
        if not operands:
            return "sed without a script"
        scripts.append(operands.pop(0))
    for script in scripts:
        for part in re.split(r"[;\n]", script):
            if not _SED_COMMAND.fullmatch(part.strip()):
                return f"the sed script {script!r} does more than print"
    for operand in operands:
        why = _confined(operand, line)
        if why:
            return why
    return None


_SED_LONG = frozenset(
    {"--quiet", "--silent", "--regexp-extended", "--posix", "--separate", "--null-data",
     "--unbuffered", "--debug", "--sandbox"}
)  # fmt: skip


def _date(items: list[Word], line: _Line) -> str | None:
    """``date`` that prints: formats, -u, -R, -I, --rfc-3339, -d TEXT, -r FILE (confined)."""
    args = [item.text for item in items]
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if word.startswith("+") or word in ("-u", "--utc", "--universal", "-R", "--rfc-email"):
            continue
        if word.startswith(("-I", "--iso-8601", "--rfc-3339=", "--date=")):
            continue
        if word.startswith("-d"):
            index += 1 if word == "-d" else 0
            continue
        if word == "--date":
            index += 1
            continue
        if word.startswith(("-r", "--reference")):
            if word in ("-r", "--reference"):
                if index == len(args):
                    return None  # no file named: date only says so
                value = args[index]
                index += 1
            else:
                value = word.partition("=")[2] if word.startswith("--") else word[2:]
            why = _confined(value, line)
            if why:
                return why
            continue
        return f"date {word} may set the clock or read a file"
    return None


_FIND_TESTS_WITH_VALUE = frozenset(
    {
        "-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex",
        "-type", "-xtype", "-size", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin",
        "-perm", "-user", "-group", "-uid", "-gid", "-links", "-inum", "-maxdepth", "-mindepth",
        "-printf", "-regextype", "-fstype", "-used", "-lname", "-ilname",
    }
)  # fmt: skip


_FIND_PATH_TESTS = frozenset({"-newer", "-anewer", "-cnewer", "-samefile"})


_FIND_WORDS = frozenset(
    {
        "-print", "-print0", "-ls", "-prune", "-empty", "-readable", "-writable", "-executable",
        "-true", "-false", "-depth", "-mount", "-xdev", "-noleaf", "-quit", "-nouser", "-nogroup",
        "-daystart", "-ignore_readdir_race", "-not", "!", "-a", "-and", "-o", "-or", "(", ")", ",",
    }
)  # fmt: skip


def _find(items: list[Word], line: _Line) -> str | None:
    """``find`` with tests and printing actions only, over starting points in the workspace.

    A glob may stand in a starting point (each match is checked); anywhere else bash could
    turn it into an action like ``-delete``.
    """
    args = [item.text for item in items]
    index = 0
    while index < len(args) and args[index] in ("-H", "-P"):
        index += 1
    starts: list[str] = []
    while index < len(args) and not args[index].startswith("-") and args[index] not in ("(", "!"):
        starts.append(args[index])  # GNU find takes `)` and `,` here as names
        index += 1
    for start in starts:  # none: the current folder, inside the workspace by construction
        why = _confined(start, line)
        if why:
            return why
    if any(item.glob for item in items[index:]):
        return "find with an unquoted glob in its expression (quote the pattern)"
    while index < len(args):
        word = args[index]
        index += 1
        if word in _FIND_WORDS:
            continue
        if word in _FIND_TESTS_WITH_VALUE or word in _FIND_PATH_TESTS:
            if index >= len(args):
                return f"find {word} needs a value"
            if word in _FIND_PATH_TESTS:
                why = _confined(args[index], line)
                if why:
                    return why
            index += 1
            continue
        return f"find {word} is not known to be safe (it may run, delete or write)"
    return None
