"""Known-safe shell commands: per-command argument validators, after Codex CLI's idea.

``ask`` mode runs a command without asking only when it is *proven* read-only here: its
name is on the table below, every option is on that command's own allow-list (an option
that writes, runs a program or reads a file we cannot confine is simply absent), and every
operand that can name a file resolves — symlinks followed, ``cd`` tracked — inside the
workspace. ``/proc``, ``/sys`` and ``/dev`` (but ``/dev/null``) are outside by definition,
and an operand that bash would expand (a brace list, a leading glob that could turn into an
option, ``~``) is not proven. Anything not proven asks; nothing here ever runs a command.

``git`` reads are known-safe only in a repository whose own config holds nothing that runs
code, and the shell tool runs them with repository-controlled execution turned off
(see :data:`HARDENED_GIT_CONFIG`).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from app.tools.shellparse import ParsedCommand, Word

Kind = Literal["any", "path", "num", "word", "opt"]
_NUMBER = re.compile(r"[+-]?\d+[A-Za-z]{0,3}")

#: Files outside the workspace that a known-safe command may still name.
_HARMLESS_FILES = frozenset({"/dev/null", "/dev/stdin"})
_BRACE = re.compile(r"\{([^{}]*)\}")
_GLOB_CHARS = frozenset("*?[")
#: Characters that make text show other than it is: controls and direction overrides.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Spec:
    """What one command may be given and still be known-safe."""

    flags: str = ""  #: short options without a value, combinable (``-la``)
    short_values: dict[str, Kind] = field(default_factory=dict)  #: short options with a value
    longs: dict[str, Kind | None] = field(default_factory=dict)  #: long options (None = no value)
    operands: Kind | None = "path"  #: what operands are; None = none allowed
    max_operands: int | None = None
    numeric_option: bool = False  #: ``head -5``
    first_operand: Kind | None = None  #: a leading non-path operand (grep's pattern)
    pattern_options: frozenset[str] = frozenset()  #: options that replace ``first_operand``


def _values(letters: str, kind: Kind = "any") -> dict[str, Kind]:
    return dict.fromkeys(letters, kind)


def _longs(
    names: str, values: str = "", paths: str = "", nums: str = "", optional: str = ""
) -> dict[str, Kind | None]:
    """Long options: without a value, with one, with a path, a number, or an optional value
    (GNU takes an optional value only as ``--name=value``)."""
    table: dict[str, Kind | None] = {name: None for name in names.split()}
    table.update({name: "opt" for name in optional.split()})
    table.update({name: "any" for name in values.split()})
    table.update({name: "path" for name in paths.split()})
    table.update({name: "num" for name in nums.split()})
    return table


_COMMON = _longs("help version")

SPECS: dict[str, Spec] = {
    "cat": Spec(
        "AbeEnstTuv",
        longs=_longs("show-all number-nonblank show-ends number squeeze-blank show-tabs "
                     "show-nonprinting"),
    ),
    "head": Spec(
        "qvz", _values("nc", "num"),
        _longs("quiet silent verbose zero-terminated", nums="lines bytes"), numeric_option=True,
    ),
    "tail": Spec(
        "qvz", _values("nc", "num"),
        _longs("quiet silent verbose zero-terminated", nums="lines bytes"), numeric_option=True,
    ),
    "wc": Spec("clmwL", longs=_longs("bytes chars lines words max-line-length", "total")),
    "nl": Spec(
        "p", _values("bdfhs") | _values("ilvw", "num") | _values("n", "word"),
        _longs("no-renumber", "body-numbering section-delimiter footer-numbering "
               "header-numbering line-increment join-blank-lines number-format "
               "number-separator starting-line-number number-width"),
    ),
    "cut": Spec(
        "nsz", _values("bcdf"),
        _longs("complement only-delimited zero-terminated",
               "bytes characters delimiter fields output-delimiter"),
    ),
    "paste": Spec("sz", {"d": "any"}, _longs("serial zero-terminated", "delimiters")),
    "rev": Spec(),
    "tr": Spec(
        "cCdst", longs=_longs("complement delete squeeze-repeats truncate-set1"), operands="any"
    ),
    "uniq": Spec(
        "cdDiuz", _values("fsw", "num"),
        _longs("count repeated ignore-case unique zero-terminated", optional="all-repeated group",
               nums="skip-fields skip-chars check-chars"),
        max_operands=1,  # a second operand is an output file
    ),
    "sort": Spec(
        "bdfgiMhnRrVcCsuz", {"k": "any", "t": "any", "S": "any"},
        _longs("ignore-leading-blanks dictionary-order ignore-case general-numeric-sort "
               "ignore-nonprinting month-sort human-numeric-sort numeric-sort random-sort "
               "reverse version-sort stable unique zero-terminated check",
               "sort key field-separator buffer-size parallel"),
    ),
    "ls": Spec(
        "aAbBcCdfFgGhHiklmnNopqQrRsStuUvxXZ1",  # no -L: a recursive listing would follow links
        {"w": "num", "I": "any", "T": "num"},
        _longs("all almost-all author escape ignore-backups directory dired file-type "
               "full-time group-directories-first no-group human-readable si "
               "dereference-command-line dereference-command-line-symlink-to-dir inode "
               "kibibytes literal numeric-uid-gid hide-control-chars show-control-chars "
               "quote-name reverse recursive size context zero",
               "block-size format hide indicator-style ignore quoting-style sort time time-style "
               "tabsize width", optional="color classify hyperlink"),
    ),
    "stat": Spec("LftZ", {"c": "any"}, _longs("dereference file-system terse", "format printf "
                                               "cached")),
    "file": Spec(
        "bdEhiklLNnrs0",  # no -C (writes), -p (touches times), -z (runs decompressors)
        {"e": "any", "F": "any", "P": "any", "m": "path"},  # no -f: it names files to read
        _longs("brief mime mime-type mime-encoding keep-going list dereference no-dereference "
               "raw special-files print0 extension apple no-buffer no-pad",
               "separator exclude exclude-quiet parameter", "magic-file"),
    ),
    "tree": Spec(
        "adfixpsughDFqNQrtvUcCAnSJX",  # no -o (writes), -R (writes), -l (follows links)
        {"L": "any", "P": "any", "I": "any"},
        _longs("gitignore ignore-case matchdirs metafirst prune info noreport si du inodes "
               "device dirsfirst filesfirst nolinks",
               "filelimit charset timefmt sort", "gitfile infofile"),
    ),
    "du": Spec(
        "abcDhHklmsSx0",  # no -L: it would follow links out of the workspace
        {"d": "num", "B": "any", "t": "any", "X": "path"},
        _longs("all apparent-size bytes total dereference-args human-readable inodes si "
               "summarize one-file-system null count-links separate-dirs",
               "block-size max-depth threshold time-style exclude", "exclude-from",
               optional="time"),
    ),
    "df": Spec(
        "ahHiklPT", _values("Btx"),
        _longs("all human-readable si inodes local portability print-type total sync no-sync",
               "block-size type exclude-type", optional="output"),
    ),
    "realpath": Spec(
        "eEmLPqsz",
        longs=_longs("canonicalize-existing canonicalize-missing logical physical quiet "
                     "no-symlinks strip zero", paths="relative-to relative-base"),
    ),
    "basename": Spec("az", {"s": "any"}, _longs("multiple zero", "suffix"), operands="any"),
    "dirname": Spec("z", longs=_longs("zero"), operands="any"),
    "pwd": Spec("LP", operands=None),
    "whoami": Spec(operands=None),
    "id": Spec("agGnruzZ", longs=_longs("group groups name real user zero context"),
               operands="any", max_operands=1),
    "uname": Spec(
        "asnrvmpio",
        longs=_longs("all kernel-name nodename kernel-release kernel-version machine "
                     "processor hardware-platform operating-system"),
        operands=None,
    ),
    "which": Spec("as", operands="any"),
    "seq": Spec("w", {"f": "any", "s": "any"}, _longs("equal-width", "format separator"),
                operands="any"),
    "base64": Spec("di", {"w": "any"}, _longs("decode ignore-garbage", "wrap"), max_operands=1),
    "grep": Spec(
        "EFGPiywxcLlovqsbHhnTZzraUVI",  # no -R: it follows links out of the workspace
        {"A": "num", "B": "num", "C": "num", "m": "num", "e": "any", "d": "any", "D": "any",
         "f": "path"},
        _longs("extended-regexp fixed-strings basic-regexp perl-regexp ignore-case "
               "no-ignore-case word-regexp line-regexp null-data no-messages invert-match "
               "byte-offset line-number line-buffered with-filename no-filename "
               "only-matching quiet silent text recursive files-without-match "
               "files-with-matches count initial-tab null",
               "regexp max-count label binary-files directories devices include exclude "
               "exclude-dir", "file exclude-from", "before-context after-context context",
               optional="color colour"),
        first_operand="any", pattern_options=frozenset({"-e", "-f", "--regexp", "--file"}),
    ),
    "rg": Spec(
        "iSsFwxvclnNHoqa0IpuU",  # no -L (follows links), -z (runs decompressors), --pre
        {"e": "any", "g": "any", "t": "any", "T": "any", "A": "num", "B": "num", "C": "num",
         "m": "num", "M": "num", "j": "num", "f": "path"},
        _longs("ignore-case smart-case case-sensitive fixed-strings word-regexp line-regexp "
               "invert-match count count-matches files-with-matches files-without-match "
               "line-number no-line-number with-filename no-filename only-matching quiet "
               "hidden no-ignore no-ignore-vcs no-ignore-parent json files multiline "
               "unrestricted vimgrep no-heading heading trim text column stats null "
               "no-messages type-list",
               "glob iglob type type-not regexp max-count max-depth context before-context "
               "after-context sort sortr color colors max-columns threads",
               "file ignore-file"),
        first_operand="any",
        pattern_options=frozenset({"-e", "-f", "--regexp", "--file", "--files", "--type-list"}),
    ),
    "diff": Spec(
        "qsuciEZbwBaNTtpy",  # no -r: a recursive diff follows links out of the workspace
        _values("IxFLDS") | _values("UCW", "num") | {"X": "path"},
        _longs("brief report-identical-files side-by-side ignore-case ignore-tab-expansion "
               "ignore-trailing-space ignore-space-change ignore-all-space ignore-blank-lines "
               "text new-file unidirectional-new-file initial-tab expand-tabs "
               "show-c-function normal minimal speed-large-files strip-trailing-cr "
               "suppress-common-lines",
               "label exclude ignore-matching-lines", "from-file to-file exclude-from", "width",
               optional="unified context color"),
    ),
    "echo": Spec(operands="any", flags="neE"),
    "printf": Spec(operands="any"),  # no -v: it would set a variable, even PATH
    "true": Spec(operands="any"),
    "false": Spec(operands="any"),
    "expr": Spec(operands="any"),
}  # fmt: skip


@dataclass
class _Line:
    """What a line's earlier commands did to the working directory, as far as we can tell."""

    workspace: Path
    #: Every directory an operand may be relative to (a ``cd`` inside a pipe does not stick).
    cwds: list[Path]


class KnownSafe:
    """Decides whether the simple commands of one plain command line are known-safe.

    ``check_parsed`` takes a parsed line (its words keep their quoting facts) and gives, for
    each command, ``None`` when it is known-safe or the reason it is not. ``cd`` into a
    directory inside the workspace moves the base of later relative paths.
    """

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace.resolve()

    def check_parsed(self, parsed: ParsedCommand) -> list[str | None]:
        """Per command of ``parsed``: ``None`` if known-safe, else why not."""
        line = _Line(self.workspace, [self.workspace])
        return [self._one(words, line) for words in parsed.words]

    def check(self, commands: Iterable[list[str]]) -> list[str | None]:
        """The same for commands given as plain word lists (a glob character counts as one)."""
        line = _Line(self.workspace, [self.workspace])
        return [
            self._one([Word(w, glob=any(c in _GLOB_CHARS for c in w)) for w in words], line)
            for words in commands
        ]

    def all_safe(self, commands: Iterable[list[str]]) -> bool:
        """Whether every command of the line is known-safe."""
        verdicts = self.check(commands)
        return bool(verdicts) and all(v is None for v in verdicts)

    def _one(self, raw: list[Word], line: _Line) -> str | None:
        if not raw:
            return "no command"
        if any(_HIDDEN.search(word.text) for word in raw):
            return "it holds control or direction characters that hide what it says"
        if any(word.brace for word in raw):
            return "it holds a brace expansion"
        if any(word.tilde for word in raw):
            return "it holds a ~ that bash would expand to a home directory"
        if any(word.bracket for word in raw):
            return "it holds a [ ] pattern that bash matches in its own way"
        words, why = _strip_wrappers(raw)
        if why:
            return why
        name, args = words[0], words[1:]
        if name.text == "git" and len(words) < len(raw):
            return "a wrapper in front of git would run it past the read-only settings"
        if name.glob or (name.quoted and name.text in _WRAPPER_NAMES):
            return f"{name.text} is not on the known-safe list"
        if len(line.cwds) > _MAX_CWDS:
            return "too many changes of directory to follow"
        if name.text == "cd":
            return _cd(args, line)
        checker = _SPECIAL.get(name.text)
        if checker is not None:
            if any(word.glob for word in args) and name.text not in ("find", "git"):
                return f"{name.text} with an unquoted glob is not known to be safe"
            return checker(args, line)
        spec = SPECS.get(name.text)
        if spec is None:
            return f"{name.text} is not on the known-safe list"
        return _validate(spec, name.text, args, line)


_WRAPPER_NAMES = frozenset({"time", "nice", "timeout", "nohup"})
_MAX_CWDS = 8
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


def _cd(args: list[Word], line: _Line) -> str | None:
    """``cd DIR``: bash moves logically (``..`` on the text), the kernel physically; both
    places must be inside the workspace."""
    if any(a.text.startswith("-") and a.text not in ("-P", "-L", "--") for a in args):
        return "cd with an option it may read as going home"
    rest = [a for a in args if a.text not in ("-P", "-L", "--")]
    if len(rest) != 1 or rest[0].glob:
        return "cd needs exactly one directory"
    target = rest[0].text
    why = _confined(target, line)
    if why:
        return why
    moved: list[Path] = []
    for cwd in line.cwds:
        logical = Path(os.path.normpath(cwd / target))
        for place in (logical, logical.resolve()):
            if not place.is_relative_to(line.workspace):
                return f"cd {target} leads outside the workspace"
        moved.append(logical)
    line.cwds = list(dict.fromkeys([*line.cwds, *moved]))
    return None


def _validate(spec: Spec, name: str, args: list[Word], line: _Line) -> str | None:
    operands: list[Word] = []
    needs_pattern = spec.first_operand is not None
    index = 0
    options_done = False
    while index < len(args):
        item = args[index]
        word = item.text
        index += 1
        if options_done or word == "-" or not word.startswith("-"):
            operands.append(item)
            continue
        if item.glob:
            return f"{word} could expand to other options"
        if word == "--":
            options_done = True
            continue
        if word.startswith("--"):
            option, has_value, value = word.partition("=")
            key = option[2:]
            if key in _COMMON and not has_value:
                continue
            if key not in spec.longs:
                return f"{name} {option} is not known to be safe"
            kind = spec.longs[key]
            if option in spec.pattern_options:
                needs_pattern = False
            if kind is None:
                if has_value:
                    return f"{name} {option} takes no value"
                continue
            if kind == "opt":  # a GNU optional argument comes only as --option=value
                continue
            why, index = _option_value(args, index, value if has_value else None, kind, line)
            if why:
                return f"{name} {option}: {why}"
            continue
        if spec.numeric_option and word[1:].isdigit():
            continue
        letters = word[1:]
        for position, letter in enumerate(letters):
            if letter in spec.flags:
                continue
            kind = spec.short_values.get(letter)
            if kind is None:
                return f"{name} -{letter} is not known to be safe"
            if f"-{letter}" in spec.pattern_options:
                needs_pattern = False
            glued = letters[position + 1 :] or None
            why, index = _option_value(args, index, glued, kind, line)
            if why:
                return f"{name} -{letter}: {why}"
            break
    return _check_operands(spec, name, operands, needs_pattern, line)


def _option_value(
    args: list[Word], index: int, given: str | None, kind: Kind, line: _Line
) -> tuple[str | None, int]:
    """Check an option's value: ``given`` in the same word, else the next word (consumed).
    Gives why it is not safe (or ``None``) and where the next word is."""
    if given is None:
        if index >= len(args):
            return "it needs a value", index
        if args[index].glob:
            return f"{args[index].text} could expand to anything", index
        given = args[index].text
        index += 1
    return _value_ok(kind, given, line), index


def _check_operands(
    spec: Spec, name: str, operands: list[Word], needs_pattern: bool, line: _Line
) -> str | None:
    if needs_pattern and operands:
        if operands[0].glob:
            return f"the pattern {operands[0].text} could expand to file names"
        operands = operands[1:]  # the pattern: text, not a file
    if spec.operands is None and operands:
        return f"{name} takes no operands here"
    if spec.operands != "path" and any(op.glob for op in operands):
        return f"{name} would get file names where it expects text"
    if spec.max_operands is not None:
        if len(operands) > spec.max_operands:
            return f"{name} with {len(operands)} operands may write a file"
        if any(op.glob for op in operands):
            return f"{name} with a glob may get more operands and write a file"
    if spec.operands == "path":
        for operand in operands:
            why = _confined(operand.text, line)
            if why:
                return why
            if name == "diff" and any((cwd / operand.text).is_dir() for cwd in line.cwds):
                return "diff with a folder reads files of the other name inside it"
    return None


def _value_ok(kind: Kind, value: str, line: _Line) -> str | None:
    if kind == "num":
        return None if _NUMBER.fullmatch(value) else f"{value!r} is not a number"
    if kind == "word":
        return None if value.isalpha() else f"{value!r} is not a plain word"
    return _confined(value, line) if kind == "path" else None


def _confined(text: str, line: _Line) -> str | None:
    """``None`` when ``text``, used as a path, stays inside the workspace from every cwd."""
    if text == "-" or text in _HARMLESS_FILES:
        return None
    if "\0" in text:
        return "a path with a NUL byte"
    if text.startswith("~"):
        return f"{text} is in a home directory, outside the workspace"
    if any("," in m.group(1) or ".." in m.group(1) for m in _BRACE.finditer(text)):
        return f"{text} would be brace-expanded"
    globbed = any(char in _GLOB_CHARS for char in text)
    if globbed and text[0] in _GLOB_CHARS:
        return f"{text} could expand to a name that reads as an option"
    for cwd in line.cwds:
        candidates = [text]
        if globbed:
            candidates += glob.glob(text, root_dir=cwd)
        for candidate in candidates:
            path = Path(candidate) if os.path.isabs(candidate) else cwd / candidate
            try:
                resolved = path.resolve()
            except (OSError, RuntimeError, ValueError):
                return f"{text} cannot be resolved"
            if not resolved.is_relative_to(line.workspace):
                return f"{text} leads outside the workspace"
    return None


# --------------------------------------------------------------------------- sed, date, find

_SED_ADDRESS = r"(?:\d+|\$|/[^/\\\n]*/)"
_SED_COMMAND = re.compile(rf"(?:{_SED_ADDRESS}(?:\s*,\s*{_SED_ADDRESS})?)?\s*(?:!\s*)?[pdqQ=l]?")


def _sed(args: list[str], line: _Line) -> str | None:
    """``sed`` that only prints: -n/-E/-s/-z/-u options, scripts of p, d, q, = and l."""
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


def _date(args: list[str], line: _Line) -> str | None:
    """``date`` that prints: formats, -u, -R, -I, --rfc-3339, -d TEXT, -r FILE (confined)."""
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
                value = args[index] if index < len(args) else ""
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
    for start in starts or ["."]:
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


# --------------------------------------------------------------------------- git

#: Read-only git subcommands; ``branch`` only lists.
_GIT_READ = frozenset({"status", "log", "diff", "show", "branch"})
_GIT_BRANCH_LIST = frozenset(
    {"-a", "-r", "-v", "-vv", "--list", "--all", "--remotes", "--show-current", "--verbose",
     "--no-color", "--color", "--contains", "--merged", "--no-merged"}
)  # fmt: skip
#: Options of the read subcommands that write files, run programs or read outside the repo.
_GIT_UNSAFE = (
    "--output", "--ext-diff", "--textconv", "--no-index", "--exec", "--upload-pack", "-O",
    "--orderfile", "--open-files-in-pager", "--contents", "--config", "--git-dir",
    "--work-tree", "--word-diff-regex", "--run", "--pathspec-from-file",
    "--ignore-submodules", "--submodule", "--recurse-submodules", "--show-signature",
)  # fmt: skip

#: ``-c`` settings the shell tool gives the read subcommands of a known-safe line, so the
#: repository cannot make a read run its code (fsmonitor, pager, external diff, hooks, a
#: lazy fetch through a remote helper) and a bare repository hidden in the workspace is
#: never picked up implicitly.
HARDENED_GIT_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("core.hooksPath", "/dev/null"),
    ("safe.bareRepository", "explicit"),
    ("diff.ignoreSubmodules", "all"),
    ("status.submoduleSummary", "false"),
    ("submodule.recurse", "false"),
    ("core.untrackedCache", "false"),
    ("protocol.allow", "never"),
)

#: Settings a repository's own config may hold for a git read to count as known-safe:
#: none of them runs a program, reads another file or reaches the network on a read.
_GIT_CONFIG_OK = re.compile(
    r"core\.(repositoryformatversion|filemode|bare|logallrefupdates|ignorecase|"
    r"precomposeunicode|symlinks|autocrlf|eol|safecrlf|quotepath|checkstat|trustctime|"
    r"sharedrepository|abbrev|compression|loosecompression|commentchar|whitespace|"
    r"sparsecheckout|sparsecheckoutcone|longpaths)"
    r"|remote\.[^\n]+\.(url|fetch|pushurl|tagopt|prune)"
    r"|branch\.[^\n]+\.(remote|merge|rebase|pushremote|description)"
    r"|user\.(name|email)|init\.defaultbranch|pull\.(rebase|ff)|push\.(default|autosetupremote)"
    r"|fetch\.(prune|prunetags)|color\.[a-z.]+|column\.[a-z]+|advice\.[a-z]+"
    r"|status\.(showuntrackedfiles|short|branch|relativepaths|aheadbehind)"
    r"|diff\.(renames|algorithm|mnemonicprefix|noprefix|context|interhunkcontext|"
    r"indentheuristic|colormoved|statgraphwidth|suppressblankempty|relative)"
    r"|log\.(abbrevcommit|date|decorate|follow|showroot|mailmap)"
    r"|format\.pretty|gc\.auto|index\.version|feature\.manyfiles"
    r"|extensions\.(objectformat|worktreeconfig)"
    r"|submodule\.[^\n]+\.(url|active|branch)",
)


def _git(items: list[Word], line: _Line) -> str | None:
    if any(item.glob and item.text.startswith("-") for item in items):
        return "git with a glob among its options"
    args = [item.text for item in items]
    rest = list(args)
    while rest and rest[0] in ("--no-pager", "-P", "--no-optional-locks"):
        rest.pop(0)
    if not rest or rest[0] not in _GIT_READ:
        return "only git status, log, diff, show and branch (listing) are known-safe"
    sub, options = rest[0], rest[1:]
    for word in options:
        if _git_unsafe_option(word) or "%G" in word:
            return f"git {sub} {word} may write, run a program or read outside the repository"
    if sub == "branch" and not all(w in _GIT_BRANCH_LIST for w in options):
        return "git branch that does more than list"
    for word in options:
        if word == "--":
            continue
        if not word.startswith("-"):
            why = _confined(word, line)  # revisions resolve inside too; paths must
            if why:
                return why
    for cwd in line.cwds:
        why = _repository_risk(cwd, line.workspace)
        if why:
            return why
    return None


def _git_unsafe_option(word: str) -> bool:
    """Whether ``word`` is, or abbreviates (git takes unique prefixes), an unsafe option."""
    if word.startswith(_GIT_UNSAFE):
        return True
    name = word.partition("=")[0]
    return (
        name.startswith("--")
        and len(name) > 2
        and any(unsafe.startswith(name) for unsafe in _GIT_UNSAFE if unsafe.startswith("--"))
    )


def _repository_risk(cwd: Path, workspace: Path) -> str | None:
    """Why the repository git would use from ``cwd`` could run code, or ``None``.

    Repositories whose metadata is outside the workspace are the person's own; inside it,
    the metadata may have come with the files (an unpacked archive, an embedded repo).
    """
    current = cwd
    while True:
        if not current.is_relative_to(workspace):
            return None
        dot_git = current / ".git"
        if dot_git.is_dir() and _looks_like_git_dir(dot_git):
            return _config_risk(dot_git)
        if dot_git.is_file():
            target = _gitdir_of(dot_git)
            if target is None:
                return "a .git file git cannot follow safely"
            return _config_risk(target)
        if (current / "HEAD").is_file() and (current / "objects").is_dir():
            return f"{current} looks like a bare repository"
        if current == workspace or current.parent == current:
            return None
        current = current.parent


def _looks_like_git_dir(path: Path) -> bool:
    """What git itself asks of a repository directory (an invalid one is skipped)."""
    return (path / "HEAD").is_file() and (
        (path / "commondir").is_file() or ((path / "objects").is_dir() and (path / "refs").is_dir())
    )


def _gitdir_of(dot_git_file: Path) -> Path | None:
    """The target of a ``.git`` file, read exactly as git reads it (``None``: unclear)."""
    try:
        text = dot_git_file.read_text(encoding="utf-8", errors="replace").rstrip()
    except OSError:
        return None
    if not text.startswith("gitdir: "):
        return None
    value = text[len("gitdir: ") :]
    if not value or value != value.strip() or "\n" in value or "\r" in value:
        return None  # git would take the spaces or lines literally: do not guess
    target = Path(value)
    return (dot_git_file.parent / target).resolve() if not target.is_absolute() else target


def _config_risk(git_dir: Path) -> str | None:
    files = [git_dir / "config", git_dir / "config.worktree"]
    common = git_dir / "commondir"
    if common.is_file():
        try:
            value = common.read_text(encoding="utf-8").rstrip("\n")
        except OSError:
            return "an unreadable commondir"
        if not value or value != value.strip() or "\n" in value:
            return "a commondir git would read differently"
        base = (git_dir / value).resolve()
        files += [base / "config", base / "config.worktree"]
    for path in files:
        why = _config_file_risk(path)
        if why:
            return why
    return None


def _config_file_risk(path: Path) -> str | None:
    """Read a repository's config file as git itself reads it, and judge every setting."""
    if not path.exists():
        return None
    git = shutil.which("git")
    if git is None:
        return "git is not installed to read the repository's config"
    try:
        done = subprocess.run(
            [git, "config", "--file", str(path), "--no-includes", "--null", "--list"],
            capture_output=True,
            timeout=10,
            check=False,
            env={"PATH": os.environ.get("PATH", ""), "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return f"{path} cannot be read"
    if done.returncode != 0:
        return f"{path} is not a config git can read"
    for entry in done.stdout.split(b"\0"):
        if not entry:
            continue
        key, _, value = entry.decode("utf-8", errors="replace").partition("\n")
        if not _GIT_CONFIG_OK.fullmatch(key):
            return f"the repository config sets {key}, which may run code"
        if key.endswith(".url") and re.match(r"\s*(ext|fd)::", value, re.IGNORECASE):
            return f"the repository config names a remote that runs a program ({key})"
    return None


def _texts(
    check: Callable[[list[str], _Line], str | None],
) -> Callable[[list[Word], _Line], str | None]:
    return lambda words, line: check([word.text for word in words], line)


#: Commands with a validator of their own (the rest use :data:`SPECS`).
_SPECIAL: dict[str, Callable[[list[Word], _Line], str | None]] = {
    "git": _git,
    "find": _find,
    "sed": _texts(_sed),
    "date": _texts(_date),
}
