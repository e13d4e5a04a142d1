"""The commands a line really runs: wrappers, launchers, shells and ``find -exec`` unwrapped,
for the deny rules and the floor.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass, field

from app.tools.shellparse.braces import _expand_words
from app.tools.shellparse.carried import Carried, carried_by_assignments, carried_by_options
from app.tools.shellparse.launchers import _ASSIGNMENT, WRAPPERS
from app.tools.shellparse.scripts import (
    _SSH_VALUED,
    _STDIN_NAMES,
    _is_shell,
    _launcher_script,
    _loose_words,
    _printed_text,
)
from app.tools.shellparse.words import parse_command

#: Stands for an operand we cannot know (what ``xargs`` reads, what a variable holds).
UNKNOWN = "\x00unknown"


#: Launchers that run the rest of their words as a command. Their options are not all known,
#: so every place where the command may start is tried (see _command_starts).
_RUNS_REST = frozenset(
    {"sudo", "doas", "env", "exec", "command", "builtin", "xargs", "stdbuf", "busybox", "toybox",
     "setsid", "unbuffer", "nsenter", "unshare", "ionice", "runuser", "firejail", "catchsegv",
     "strace", "ltrace", "fakeroot", "proot", "faketime", "parallel", "pkexec", "systemd-run",
     "valgrind", "torsocks", "proxychains", "dbus-run-session", "xvfb-run", "setpriv",
     "flatpak-spawn", "chronic", "ifne", "nsjail", "bwrap", "sg"}
)  # fmt: skip


#: Launchers whose first operand is not the command: ``chroot DIR cmd``, ``flock FILE cmd``.
_SKIP_ONE = frozenset({"chroot", "flock", "taskset", "chpst", "sg", "chrt"})


#: Commands that destroy what they are given: unknowable arguments make them ask.
DESTRUCTIVE = frozenset(
    {"rm", "rmdir", "shred", "unlink", "dd", "chmod", "chown", "chgrp", "mv", "truncate",
     "wipefs", "mkfs", "find", "rsync", "cp", "ln", "tee", "kill", "pkill", "killall"}
)  # fmt: skip


#: Shell keywords and group brackets that stand before a command.
_KEYWORDS = frozenset(
    {"{", "}", "(", ")", "!", "if", "then", "else", "elif", "fi", "do", "done", "while", "until",
     "esac", "in", "coproc", "time", "declare", "local", "export", "readonly", "typeset"}
)  # fmt: skip


_EXPANSION = re.compile(r"[$`*?\[\]{}]")


_LOOSE_SPLIT = re.compile(r"\$\(|[;&|()`\n]")  # not < >: what follows them is a file


#: A redirection written as one word: ``<``, ``0<f``, ``<<<text``, ``2>&1``, ``&>log``. Its
#: target has no spaces: a quoted ``-c`` script that starts with ``<`` is not taken for one.
_REDIRECTION = re.compile(r"(\d*|&)([<>][<>&|-]*)(\S*)")


_HERE_STRING = re.compile(r"<<<\s*(?:'([^']*)'|\"([^\"]*)\"|(\S+))")


@dataclass
class Effective:
    """What a command line may run, seen as plainly as text analysis can.

    ``commands`` are simple commands with launchers unwrapped, the command word reduced to
    its base name and brace lists expanded, including those inside substitutions, ``eval``,
    ``sh -c`` and text piped into a shell. ``unknown`` says why some command cannot be seen
    (a variable or glob as the command word, text from elsewhere piped into a shell): callers
    fail closed on it.
    """

    commands: list[list[str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: Work left: hostile nesting must not make the analysis slow.
    budget: int = 3000
    #: Destructive commands whose arguments are only known when they run (``xargs rm``,
    #: ``rm -rf "$DIR"``): they ask even in auto mode.
    uncertain: list[str] = field(default_factory=list)

    def add(self, words: list[str]) -> None:
        """Record one command (once)."""
        if words and words not in self.commands:
            self.commands.append(words)


def effective_commands(command: str, depth: int = 0) -> Effective:
    """Everything ``command`` may run, for deny rules and the floor (an over-approximation)."""
    if depth == 0:
        return _effective_top(command)
    return _effective(command, depth)


@functools.lru_cache(maxsize=64)
def _effective_top(command: str) -> Effective:
    return _effective(command, 0)


def _effective(command: str, depth: int, budget: int = 3000) -> Effective:
    found = Effective(budget=budget)
    for match in _HERE_STRING.finditer(command):
        _recurse(found, next(g for g in match.groups() if g is not None), depth)
    parsed = parse_command(command)
    pieces: list[tuple[list[str], list[str] | None]] = []
    written = [[word.text for word in words] for words in parsed.words]
    for index, words in enumerate(written):
        feeder = written[index - 1] if index and parsed.piped[index] else None
        pieces.append((words, feeder))  # as written: launchers are followed below
    for chunk in _LOOSE_SPLIT.split(command):
        words = _loose_words(chunk)
        if words and words not in written:
            pieces.append((words, []))  # [] = no pipe information
    for words, feeder in pieces:
        _unwrap_into(found, words, feeder, depth)
    return found


def _unwrap_into(
    found: Effective, words: list[str], feeder: list[str] | None, depth: int, hops: int = 0
) -> None:
    """Record what ``words`` runs: through launchers (every place their command may start,
    since their options are not all known), ``eval``, shells, ``find`` actions and aliases."""
    found.budget -= 1
    if found.budget < 0:
        if found.budget == -1:
            found.unknown.append("too many nested commands to follow")
        return
    expanded = _expand_words(words)
    if expanded is None:
        found.unknown.append(f"a brace expansion too large to follow in {' '.join(words)!r}")
        return
    _follow_carried(found, carried_by_assignments(expanded), depth)
    words = _drop_keywords(expanded)
    if not words:
        return
    if words[0] in ("[", "[["):
        found.add(words)
        return
    if hops > 12:
        found.unknown.append("too many nested launchers")
        return
    if _EXPANSION.search(words[0]):
        found.unknown.append(f"the command word {words[0]!r} is only known when it runs")
        return
    name = posixpath.basename(words[0])
    words = [name, *words[1:]]
    found.add(words)
    _follow_carried(found, carried_by_options(name, words[1:]), depth)
    if name == "watch":  # it runs its words through `sh -c`, from wherever they start
        for start in _command_starts(found, name, words[1:]):
            _recurse(found, " ".join(words[1 + start :]), depth)
        return
    script = _launcher_script(name, words[1:])
    if script is not None:
        _recurse(found, script, depth)
        return
    if (
        name in WRAPPERS
        or name in _RUNS_REST
        or name in _SKIP_ONE
        or re.match(r"ld-linux|ld\.so|ld-musl", name)
    ):
        rest = [*words[1:], UNKNOWN] if name == "xargs" else words[1:]
        starts = _command_starts(found, name, rest)
        for start in starts:
            _unwrap_into(found, rest[start:], feeder, depth, hops + 1)
        if name == "xargs" and not starts[:-1]:  # no command given: xargs runs echo
            found.add(["echo", UNKNOWN])
        return
    _unwrap_named(found, name, words, feeder, depth, hops)


#: Words before a launcher's command that are explored as its start whatever they follow;
#: beyond them only words an option's value may hide, and at most _MAX_STARTS in all.
_FIRST_STARTS = 8
_MAX_STARTS = 64


def _command_starts(found: Effective, name: str, rest: list[str]) -> list[int]:
    """Where the command of launcher ``name`` may start in ``rest``: the first eight words that
    are not options, and after them every word that may be an option's value, up to the first
    that cannot be one (``sudo -u a … -u h rm``: ``rm`` is found however many options come
    first). More than 64 places to try is unknown: the work stays bounded."""
    starts = [i for i, word in enumerate(rest) if not word.startswith("-")]
    certain = [
        i
        for i in starts
        if (i == 0 or not rest[i - 1].startswith("-")) and not _ASSIGNMENT.match(rest[i])
    ]
    # `chroot DIR cmd`, `tmux new-session cmd`: an operand comes first
    skipped = 1 if name in _SKIP_ONE or name in ("tmux", "screen", "byobu") else 0
    last = certain[skipped] if len(certain) > skipped else len(rest)
    chosen = starts[:_FIRST_STARTS] + [i for i in starts[_FIRST_STARTS:] if i <= last]
    if len(chosen) > _MAX_STARTS:
        found.unknown.append(f"too many options before the command of {name} to follow")
        return []
    return chosen


def _unwrap_named(
    found: Effective, name: str, words: list[str], feeder: list[str] | None, depth: int, hops: int
) -> None:
    """Record what the command ``name`` (not a launcher) runs in turn: ``eval``'s text,
    aliases, shell scripts, sourced stdin, tmux/screen commands, ``find`` actions, ssh."""
    if name in DESTRUCTIVE and any(w == UNKNOWN or "$" in w or "`" in w for w in words[1:]):
        found.uncertain.append(f"{name} gets arguments that are only known when it runs")
    if name == "eval":
        _recurse(found, " ".join(words[1:]), depth)
    elif name == "alias":
        for definition in words[1:]:
            if "=" in definition:
                _recurse(found, definition.split("=", 1)[1], depth)
    elif _is_shell(name):
        _shell_script(found, words, feeder, depth)
    elif name in ("source", ".", "at", "batch"):
        _sourced_script(found, name, words, feeder, depth)
    elif name in ("tmux", "screen", "byobu"):
        rest = words[1:]
        for word in rest:  # a command as one string (or keys typed into a shell)
            if not word.startswith("-"):
                _recurse(found, word, depth)
        for start in _command_starts(found, name, rest):  # or as the rest of the words
            _unwrap_into(found, rest[start:], None, depth, hops + 1)
    elif name == "find":
        _find_actions(found, words, depth)
    elif name in ("ssh", "rsh"):
        _remote_script(found, words, feeder, depth)


def _follow_carried(found: Effective, carried: Carried, depth: int) -> None:
    for text in carried.texts:
        _recurse(found, text, depth)
    for text in carried.code:
        _recurse(found, text, depth, doubts=False)
    found.unknown.extend(carried.unknown)


def _drop_keywords(words: list[str]) -> list[str]:
    """Leading assignments, redirections (``>log rm x`` runs rm) and shell keywords;
    ``function NAME``/``NAME()`` definitions."""
    while words:
        head = words[0]
        redirection = _REDIRECTION.fullmatch(head)
        if redirection is not None:
            words = words[1:] if redirection.group(3) else words[2:]
        elif head == "time":
            words = words[1:]
            while words and words[0] in ("-p", "--"):
                words = words[1:]
        elif _ASSIGNMENT.match(head) or head in _KEYWORDS:
            words = words[1:]
        elif head == "function" and len(words) > 1:
            words = words[2:]
        elif head.endswith("()") or (len(words) > 1 and words[1] in ("()", "(")):
            words = words[1:] if head.endswith("()") else words[2:]
        else:
            break
    return words


def _shell_script(found: Effective, words: list[str], feeder: list[str] | None, depth: int) -> None:
    """What a shell runs: its ``-c`` text, else a script file (unknown: it is not read here),
    else its standard input: a here-string, a file (unknown) or text piped in."""
    rest, here, from_file = _shell_redirections(words)
    letters, operands = _shell_options(rest)
    if "c" in letters:
        script = operands[0] if operands else ""
        if script == UNKNOWN:
            found.unknown.append("a shell runs text that is only known when it runs")
        else:
            _recurse(found, script, depth)
    elif operands and "s" not in letters and operands[0] not in _STDIN_NAMES:
        _script_file(found, words[0], operands[0])
    elif here is not None:
        _recurse(found, here, depth)
    elif from_file:
        found.unknown.append("a shell reads its script from a file")
    elif feeder != []:
        _piped_script(found, feeder, depth)


def _shell_redirections(words: list[str]) -> tuple[list[str], str | None, bool]:
    """A shell's words without redirections, the here-string it reads (if any), and whether
    its standard input is a file (``bash < f``, ``bash 0<f``, ``bash <&3``)."""
    kept, here, from_file = words[:1], None, False
    index = 1
    while index < len(words):
        match = _REDIRECTION.fullmatch(words[index])
        index += 1
        if match is None:
            kept.append(words[index - 1])
            continue
        fd, operator, target = match.groups()
        if not target and index < len(words):
            target = words[index]
            index += 1
        if fd in ("", "0") and operator.startswith("<<"):
            here = target if operator == "<<<" else ""  # a heredoc's lines are read as commands
        elif fd in ("", "0") and operator in ("<", "<&", "<>"):
            from_file = True
    return kept, here, from_file


#: Shell options that take the next word as their value.
_SHELL_VALUED = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})


def _shell_options(words: list[str]) -> tuple[str, list[str]]:
    """A shell's short option letters (``-lc`` gives ``lc``) and its operands: the words from
    the first one that is not an option, or after ``--``."""
    letters = ""
    index = 1
    while index < len(words):
        word = words[index]
        if word == "--":
            return letters, words[index + 1 :]
        if not word.startswith(("-", "+")) or word in ("-", "+"):
            break
        if word in _SHELL_VALUED:
            index += 1
        elif word.startswith("-") and not word.startswith("--"):
            letters += word[1:]
        index += 1
    return letters, words[index:]


def _sourced_script(
    found: Effective, name: str, words: list[str], feeder: list[str] | None, depth: int
) -> None:
    """``source f``/``. f`` run a file in this shell; ``at``/``batch`` run standard input, or
    a file with ``-f``. A file cannot be read here; standard input is followed if literal."""
    options = [w for w in words[1:] if w.startswith("-")]
    operands = [w for w in words[1:] if not w.startswith("-")]
    if name in ("at", "batch"):
        if any("f" in option for option in options):
            found.unknown.append(f"{name} runs a script file that cannot be read here")
        else:
            _piped_script(found, feeder, depth)
    elif operands and operands[0] in _STDIN_NAMES:
        _piped_script(found, feeder, depth)
    elif operands:
        _script_file(found, name, operands[0])


def _script_file(found: Effective, name: str, path: str) -> None:
    """Record that ``name`` runs the script in the file ``path``, which is not read here."""
    shown = "a file only known when it runs" if path == UNKNOWN else f"the file {path!r}"
    found.unknown.append(f"{name} runs {shown}, which cannot be read here")


def _remote_script(
    found: Effective, words: list[str], feeder: list[str] | None, depth: int
) -> None:
    """``ssh [options] host command…``: the command runs in the remote user's shell; with no
    command, the remote shell runs what comes on standard input (``echo … | ssh host``)."""
    words, here, from_file = _shell_redirections(words)
    index, letters = 1, ""
    while index < len(words) and words[index].startswith("-"):
        flag = words[index]
        letters += flag[1:] if len(flag) == 2 or flag[1] not in _SSH_VALUED else flag[1]
        index += 2 if len(flag) == 2 and flag[1] in _SSH_VALUED else 1
    rest = words[index + 1 :]  # after the host
    if rest:
        _recurse(found, " ".join(rest), depth)
    elif index >= len(words) or "n" in letters or "N" in letters:
        return  # no host, standard input not read, or no command runs
    elif here is not None:
        _recurse(found, here, depth)
    elif from_file:
        found.unknown.append(f"{words[0]} sends a script from a file that cannot be read here")
    elif feeder:
        _piped_script(found, feeder, depth)


def _piped_script(found: Effective, feeder: list[str] | None, depth: int) -> None:
    """A shell reading its script from standard input: follow literal text, else unknown."""
    if not feeder or posixpath.basename(feeder[0]) not in ("echo", "printf"):
        found.unknown.append("a shell runs text from standard input that cannot be seen here")
        return
    name = posixpath.basename(feeder[0])
    text = _printed_text(name, feeder[1:])
    if text is None:
        found.unknown.append(f"{name} turns escapes into text that feeds a shell")
    else:
        _recurse(found, text, depth)


def _find_actions(found: Effective, words: list[str], depth: int) -> None:
    index = 1
    while index < len(words) and (words[index] in ("-H", "-L", "-P", "--")
                                   or re.fullmatch(r"-O\d*", words[index])):  # fmt: skip
        index += 1
    while index + 1 < len(words) and words[index] == "-D":
        index += 2
    starts = []
    for word in words[index:]:
        if word.startswith("-") or word in ("(", "!"):  # GNU find: `)` and `,` are names
            break
        starts.append(word)
    starts = starts or ["."]
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "-delete":
            for start in starts:
                found.add(["rm", "-r", start])
        elif word in ("-exec", "-execdir", "-ok", "-okdir"):
            end = index
            while end < len(words) and words[end] not in (";", "+"):
                end += 1
            action = words[index:end]
            index = end + 1
            for start in starts:
                replaced = [start if w == "{}" else w for w in action]
                if action and posixpath.basename(action[0]) in ("rm", "shred", "unlink"):
                    replaced.insert(1, "-r")  # over everything below the start: recursive
                if depth < 3:
                    _unwrap_into(found, replaced, None, depth + 1)
                else:  # not dropped in silence: three shells deep, `-exec rm {} +` hid rm -r /
                    found.unknown.append("commands nested too deeply to follow")


def _recurse(found: Effective, script: str, depth: int, *, doubts: bool = True) -> None:
    if depth >= 3:
        if doubts:
            found.unknown.append("commands nested too deeply to follow")
        return
    inner = _effective(script, depth + 1, found.budget)
    found.budget = inner.budget
    for words in inner.commands:
        found.add(words)
    if doubts:
        found.unknown.extend(inner.unknown)
        found.uncertain.extend(inner.uncertain)


def deny_candidates(command: str) -> list[list[str]]:
    """Every word list a deny rule should be tested against (see :func:`effective_commands`)."""
    return effective_commands(command).commands
