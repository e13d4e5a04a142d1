"""Split shell command lines for the approval policy, and tell plain commands from the rest.

A command line is *plain* when it is only simple commands (bare or quoted words) joined by
``&&``, ``||``, ``;``, ``|`` or newlines. Redirections, substitutions (``$(…)``, backticks,
``$VAR``/``${…}`` expansions), subshells and groups, background ``&``, heredocs, comments
and leading ``NAME=value`` assignments make it non-plain: such a line never matches an
allow rule, because what runs can differ from what the words say. This is text analysis
for matching rules, not a sandbox.
"""

from __future__ import annotations

import functools
import posixpath
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
_LOOSE_SPLIT = re.compile(r"\$\(|[;&|()`\n]")  # not < >: what follows them is a file


@dataclass(frozen=True)
class Word:
    """One shell word after quote removal, and what bash would still do to it."""

    text: str
    #: Holds an unquoted ``*``, ``?`` or ``[``: bash may replace it with file names.
    glob: bool = False
    #: Some part of it was quoted or escaped (so it is not a keyword like ``time``).
    quoted: bool = False
    #: An unquoted brace list or sequence (``{a,b}``, ``{1..3}``): bash expands it.
    brace: bool = False
    #: An unquoted ``~`` (bash expands it at the start, and after ``=`` or ``:``).
    tilde: bool = False
    #: An unquoted ``[``: a bracket pattern, which bash reads in ways Python's glob does not.
    bracket: bool = False


@dataclass
class ParsedCommand:
    """One command line taken apart: its simple commands (wrappers stripped) and plainness."""

    raw: str
    commands: list[list[str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    #: For each command: whether its standard input is the previous command's output.
    piped: list[bool] = field(default_factory=list)
    #: For each command: its words as written (wrappers kept), with quoting facts.
    words: list[list[Word]] = field(default_factory=list)

    @property
    def plain(self) -> bool:
        """Whether the line is only simple commands joined by ``&& || ; |`` and newlines."""
        return not self.reasons and bool(self.commands)


def parse_command(command: str) -> ParsedCommand:
    """Split ``command`` into simple commands and record every non-plain construct found."""
    parsed = ParsedCommand(raw=command)
    segments, reasons, piped = _scan(command)
    parsed.reasons.extend(reasons)
    for segment, from_pipe in zip(segments, piped, strict=True):
        if not segment.strip():
            continue
        try:
            raw_words = split_words(segment)
        except ValueError as exc:
            _note(parsed.reasons, f"cannot be parsed ({exc})")
            continue
        if not raw_words:
            continue
        words = [word.text for word in raw_words]
        if _ASSIGNMENT.match(words[0]):
            _note(parsed.reasons, "environment assignment")
        if any(word.brace for word in raw_words):
            _note(parsed.reasons, "brace expansion")
        parsed.commands.append(strip_wrappers(words))
        parsed.piped.append(from_pipe)
        parsed.words.append(raw_words)
    return parsed


def split_words(segment: str) -> list[Word]:
    """Split one simple command into words the way bash does, keeping quoting facts.

    Raises ValueError for an unclosed quote or a trailing backslash.
    """
    words: list[Word] = []
    chars: list[str] = []
    quoted: list[bool] = []
    started = False
    quote: str | None = None
    index, size = 0, len(segment)

    def finish() -> None:
        nonlocal started
        if started:
            words.append(_word(chars, quoted))
        chars.clear()
        quoted.clear()
        started = False

    while index < size:
        char = segment[index]
        if quote == "'":
            if char == "'":
                quote = None
            else:
                chars.append(char)
                quoted.append(True)
            index += 1
            continue
        if quote == '"':
            if char == '"':
                quote = None
            elif char == "\\" and index + 1 < size and segment[index + 1] in '$`"\\\n':
                index += 1
                chars.append(segment[index])
                quoted.append(True)
            else:
                chars.append(char)
                quoted.append(True)
            index += 1
            continue
        if char in " \t\n":
            finish()
        elif char == "\\":
            if index + 1 >= size:
                raise ValueError("a trailing backslash")
            index += 1
            started = True
            if segment[index] != "\n":
                chars.append(segment[index])
                quoted.append(True)
        elif char in "'\"":
            quote = char
            started = True
        else:
            chars.append(char)
            quoted.append(False)
            started = True
        index += 1
    if quote is not None:
        raise ValueError("No closing quotation")
    finish()
    return words


def _word(chars: list[str], quoted: list[bool]) -> Word:
    text = "".join(chars)
    glob = any(c in "*?[" and not q for c, q in zip(chars, quoted, strict=True))
    brace = False
    opened: list[int] = []
    for position, (char, was_quoted) in enumerate(zip(chars, quoted, strict=True)):
        if was_quoted:
            continue
        if char == "{":
            opened.append(position)
        elif char == "}" and opened:
            start = opened.pop()
            inside = [c for c, q in zip(chars[start + 1 : position], quoted[start + 1 : position],
                                        strict=True) if not q]  # fmt: skip
            body = "".join(inside)
            if "," in body or ".." in body:
                brace = True
    tilde = any(c == "~" and not q for c, q in zip(chars, quoted, strict=True))
    bracket = any(c == "[" and not q for c, q in zip(chars, quoted, strict=True))
    return Word(text, glob=glob, quoted=any(quoted), brace=brace, tilde=tilde, bracket=bracket)


def _note(reasons: list[str], reason: str) -> None:
    if reason not in reasons:
        reasons.append(reason)


def _scan(text: str) -> tuple[list[str], list[str], list[bool]]:
    """Cut ``text`` at top-level separators, noting constructs that make it non-plain.

    Also says, per segment, whether it reads the previous segment's output (``|``).
    """
    segments: list[str] = []
    reasons: list[str] = []
    piped: list[bool] = [False]
    current: list[str] = []
    quote: str | None = None
    i, n = 0, len(text)

    def cut(pipe: bool = False) -> None:
        segments.append("".join(current))
        current.clear()
        piped.append(pipe)

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
        if char == "$" and nxt in "'\"" and quote is None:
            _note(reasons, "ANSI-C or locale quoting")
        elif char == "$" and nxt and nxt not in ' \t\n"':
            # $(…), ${…}, $VAR, $[…], $((…)), $1, $@ …: what runs depends on it.
            _note(reasons, "command substitution" if nxt == "(" else "expansion")
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
            cut(pipe=char == "|" and step == 1)
            i += step
            continue
        elif char == "|" and nxt == "&":
            _note(reasons, "redirection")
            cut(pipe=True)
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
    return segments, reasons, piped


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


#: Stands for an operand we cannot know (what ``xargs`` reads, what a variable holds).
UNKNOWN = "\x00unknown"
#: Launchers that run the rest of their words as a command, with their value-taking options.
_RUNS_REST: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D", "-R", "-T"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir"}),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "xargs": frozenset({"-I", "-L", "-n", "-P", "-s", "-d", "-E", "-a", "--arg-file",
                        "--delimiter", "--max-args", "--max-procs", "--max-lines"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "busybox": frozenset(),
    "toybox": frozenset(),
    "setsid": frozenset(),
    "unbuffer": frozenset(),
    "nsenter": frozenset({"-t", "--target"}),
    "unshare": frozenset(),
    "ionice": frozenset({"-c", "-n", "-p", "--class", "--classdata"}),
    "runuser": frozenset({"-u", "-g", "-G", "--user", "--group"}),
    "firejail": frozenset(),
    "catchsegv": frozenset(),
    "strace": frozenset({"-e", "-o", "-p", "-s", "-u"}),
    "ltrace": frozenset({"-e", "-o", "-p", "-s", "-u"}),
    "fakeroot": frozenset(),
    "proot": frozenset(),
    "faketime": frozenset(),
    "parallel": frozenset({"-j", "-N", "-n", "-S", "--jobs", "-a", "--arg-file", "-d",
                           "--delimiter", "-I", "--joblog", "--results", "--tmpdir"}),
    "pkexec": frozenset({"--user"}),
    "systemd-run": frozenset({"-u", "--unit", "-p", "--property", "-E", "--setenv",
                              "--uid", "--gid", "--working-directory", "-M", "--machine"}),
    "valgrind": frozenset(),
    "torsocks": frozenset(),
    "proxychains": frozenset({"-f"}),
    "dbus-run-session": frozenset(),
    "xvfb-run": frozenset({"-a", "-n", "-s", "-e", "-f"}),
    "setpriv": frozenset(),
    "flatpak-spawn": frozenset(),
    "chronic": frozenset(),
    "ifne": frozenset(),
    "nsjail": frozenset(),
    "bwrap": frozenset(),
    "sg": frozenset(),
}  # fmt: skip
#: Launchers whose first operand is not the command: ``chroot DIR cmd``, ``flock FILE cmd``.
_SKIP_ONE = frozenset({"chroot", "flock", "taskset", "chpst", "sg", "chrt"})
#: Launchers that take a script as one string: ``su -c 'cmd'``, ``watch 'cmd'``.
_SCRIPT_FLAGS = {"su": "c", "runuser": "c", "script": "c", "env": "S", "flock": "c"}
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
_BRACE_ITEMS = re.compile(r"\{([^{}]*)\}")
_MAX_EXPANSIONS = 64


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


def _skip_launcher_options(name: str, words: list[str]) -> list[str]:
    valued = _RUNS_REST.get(name, frozenset())
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            index += 1
            break
        if _ASSIGNMENT.match(word) and name in ("env", "sudo", "doas"):
            index += 1
            continue
        if not word.startswith("-") or word == "-":
            break
        index += 2 if word in valued else 1
    return words[index:]


def effective_commands(command: str, depth: int = 0) -> Effective:
    """Everything ``command`` may run, for deny rules and the floor (an over-approximation)."""
    if depth == 0:
        return _effective_top(command)
    return _effective(command, depth)


@functools.lru_cache(maxsize=64)
def _effective_top(command: str) -> Effective:
    return _effective(command, 0)


_HERE_STRING = re.compile(r"<<<\s*(?:'([^']*)'|\"([^\"]*)\"|(\S+))")


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
    if name == "watch":  # its options take values we do not all know: try each start
        rest = words[1:]
        for start in [i for i, word in enumerate(rest) if not word.startswith("-")][:4]:
            _recurse(found, " ".join(rest[start:]), depth)
        return
    script = _launcher_script(name, words[1:])
    if script is not None:
        _recurse(found, script, depth)
        return
    if (
        name in WRAPPERS
        or name in _RUNS_REST
        or name in _SKIP_ONE
        or name == "coproc"
        or re.match(r"ld-linux|ld\.so|ld-musl", name)
    ):
        rest = words[1:]
        if name == "xargs":
            rest = [*rest, UNKNOWN]
        starts = [i for i, word in enumerate(rest) if not word.startswith("-")][:8]
        for start in starts:
            _unwrap_into(found, rest[start:], feeder, depth, hops + 1)
        if name == "xargs" and not starts[:-1]:
            found.add(["echo", UNKNOWN])
        return
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
        operands = [w for w in words[1:] if not w.startswith("-")]
        if name in ("at", "batch") or (operands and operands[0] in _STDIN_NAMES):
            _piped_script(found, feeder, depth)
    elif name in ("tmux", "screen", "byobu"):
        rest = words[1:]
        for index, word in enumerate(rest):  # a command as one string, or as the rest
            if not word.startswith("-"):
                _recurse(found, word, depth)
                _unwrap_into(found, rest[index:], None, depth, hops + 1)
    elif name == "find":
        _find_actions(found, words, depth)
    elif name in ("ssh", "rsh"):
        _remote_script(found, words, depth)


def _drop_keywords(words: list[str]) -> list[str]:
    """Leading assignments and shell keywords; ``function NAME``/``NAME()`` definitions."""
    while words:
        head = words[0]
        if head == "time":
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


_STDIN_NAMES = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})


def _is_shell(name: str) -> bool:
    """bash, sh, dash, zsh, ksh, mksh, rbash, tcsh, ash, yash, fish … (not ssh or rsh)."""
    if name in ("ssh", "rsh", "mosh"):
        return False
    return name in _SHELLS or bool(re.fullmatch(r"[a-z]{0,6}sh|fish", name))


def _shell_script(found: Effective, words: list[str], feeder: list[str] | None, depth: int) -> None:
    """What a shell runs: ``-c`` text, a here-string, text piped in; a file is not read."""
    for index, word in enumerate(words):
        if word == "<<<" and index + 1 < len(words):
            _recurse(found, words[index + 1], depth)
            return
        if word.startswith("<<<") and len(word) > 3:
            _recurse(found, word[3:], depth)
            return
        if word.startswith("<") and not word.startswith("<<"):
            found.unknown.append("a shell reads its script from a file")
            return
    script = _script_of(words) if len(words) >= 2 else None
    operands = [w for w in words[1:] if not w.startswith("-") or w == "-"]
    reads_stdin = not operands or "-s" in words or operands[0] in _STDIN_NAMES
    if script is not None:
        _recurse(found, script, depth)
    elif reads_stdin and feeder != []:
        _piped_script(found, feeder, depth)


_SSH_VALUED = frozenset("bcDEeFIiJLlmOopQRSWw")


def _remote_script(found: Effective, words: list[str], depth: int) -> None:
    """``ssh [options] host command…``: the command runs in the remote user's shell."""
    index = 1
    while index < len(words) and words[index].startswith("-"):
        flag = words[index]
        index += 2 if len(flag) == 2 and flag[1] in _SSH_VALUED else 1
    rest = words[index + 1 :]  # after the host
    if rest:
        _recurse(found, " ".join(rest), depth)


def _piped_script(found: Effective, feeder: list[str] | None, depth: int) -> None:
    """A shell reading its script from standard input: follow literal text, else unknown."""
    name = posixpath.basename(feeder[0]) if feeder else ""
    if feeder and name in ("echo", "printf"):
        text = _printed_text(name, feeder[1:])
        if text is None:
            found.unknown.append(f"{name} turns escapes into text that feeds a shell")
            return
        _recurse(found, text, depth)
    else:
        found.unknown.append("a shell runs text from standard input that cannot be seen here")


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


def _recurse(found: Effective, script: str, depth: int) -> None:
    if depth >= 3:
        found.unknown.append("commands nested too deeply to follow")
        return
    inner = _effective(script, depth + 1, found.budget)
    found.budget = inner.budget
    for words in inner.commands:
        found.add(words)
    found.unknown.extend(inner.unknown)
    found.uncertain.extend(inner.uncertain)


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


def deny_candidates(command: str) -> list[list[str]]:
    """Every word list a deny rule should be tested against (see :func:`effective_commands`)."""
    return effective_commands(command).commands


def _loose_words(chunk: str) -> list[str]:
    try:
        return shlex.split(chunk, posix=True)
    except ValueError:
        return chunk.replace('"', " ").replace("'", " ").split()


def _script_of(words: list[str]) -> str | None:
    """The ``-c`` script of a shell (``-c``, ``-lc``, ``-c -- 'script'``), or ``None``."""
    for index, word in enumerate(words[1:], start=1):
        if word.startswith("-") and "c" in word.lstrip("-") and not word.startswith("--"):
            return _next_script(words, index)
    return None
