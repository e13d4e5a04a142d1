"""Commands carried inside other words: an environment variable a program runs as a command
(``PAGER='…' git log``), an option whose value is a command (``ssh -o ProxyCommand=…``,
``rsync -e …``, ``git -c core.pager=…``, ``tar --to-command=…``).

These run through a shell although no shell word is written, so the deny rules and the floor
must see their text. Values that load code from a file (``LD_PRELOAD``, ``BASH_ENV``, a git
``include.path``) cannot be seen at all: they make the line unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Environment variables whose value a program runs as a shell command line.
COMMAND_VARIABLES = frozenset(
    {"PAGER", "GIT_PAGER", "MANPAGER", "SYSTEMD_PAGER", "EDITOR", "VISUAL", "GIT_EDITOR",
     "GIT_SEQUENCE_EDITOR", "SUDO_EDITOR", "GIT_SSH_COMMAND", "GIT_SSH", "GIT_EXTERNAL_DIFF",
     "GIT_ASKPASS", "SSH_ASKPASS", "SUDO_ASKPASS", "GIT_PROXY_COMMAND", "RSYNC_RSH", "LESSOPEN",
     "LESSCLOSE", "PROMPT_COMMAND", "BROWSER"}
)  # fmt: skip

#: Environment variables that make a program load code from a file that is not read here.
CODE_VARIABLES = frozenset(
    {"LD_PRELOAD", "LD_AUDIT", "BASH_ENV", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
     "GIT_EXEC_PATH", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "TAR_OPTIONS"}
)  # fmt: skip

_ASSIGNED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)

#: ssh -o settings whose value is a command (run here, or on the remote host), found in any
#: word (``-o ProxyCommand=…``, ``-oProxyCommand …``, ``-vo 'LocalCommand …'``).
_SSH_COMMAND_SETTING = re.compile(
    r"(?i)(?:proxy|local|remote|knownhosts)command\s*(?:=\s*|\s+)(.*)", re.DOTALL
)
_SSH_FAMILY = frozenset({"ssh", "scp", "sftp", "slogin", "autossh"})

#: git configuration keys (lower case; ``*`` is one subsection) whose value is a command.
_GIT_COMMAND_KEYS = re.compile(
    r"core\.(sshcommand|pager|editor|askpass|fsmonitor|gitproxy)|sequence\.editor"
    r"|pager\.[^.]+|alias\.[^.]+|diff\.external|diff\..+\.(textconv|command)"
    r"|merge\..+\.driver|filter\..+\.(clean|smudge|process)|credential(\..+)?\.helper"
    r"|gpg(\..+)?\.program|web\.browser|browser\..+\.(cmd|path)|man\..+\.(cmd|path)"
    r"|(diff|merge)tool\..+\.(cmd|path)|sendemail\.(smtpserver|.+\.smtpserver)"
    r"|uploadpack\.packobjectshook|remote\..+\.(uploadpack|receivepack|proxy)"
)
#: git configuration keys that load hooks or more configuration from files.
_GIT_FILE_KEYS = re.compile(r"include\.path|includeif\..+\.path|core\.hookspath")

#: Long options (with their short forms) whose value is a command, per program.
_COMMAND_OPTIONS: dict[str, tuple[str, ...]] = {
    "rsync": ("-e", "--rsh", "--rsync-path"),
    "tar": ("-I", "--use-compress-program", "--to-command", "-F", "--info-script",
            "--new-volume-script"),
    "sort": ("--compress-program",),
    "man": ("-P", "--pager"),
    "scp": ("-S",),
    "sftp": ("-S", "-D"),
    "git": ("--upload-pack", "--receive-pack", "--exec"),
    "zip": ("-TT", "--unzip-command"),
}  # fmt: skip


@dataclass
class Carried:
    """Command texts found inside words, and why some code cannot be seen."""

    texts: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: Quoted strings inside a program's text that may be shell commands: followed for the
    #: floor and the deny rules, but what cannot be seen in them is not a doubt (most are not
    #: commands at all: ``print('*.py')``).
    code: list[str] = field(default_factory=list)


def carried_by_assignments(words: list[str]) -> Carried:
    """What the ``NAME=value`` words of one simple command carry (before its command word,
    or as ``env``'s arguments: every assignment-shaped word is looked at)."""
    found = Carried()
    for word in words:
        match = _ASSIGNED.fullmatch(word)
        if match is None:
            continue
        name, value = match.groups()
        if name in COMMAND_VARIABLES and value:
            found.texts.append(value.lstrip("|"))  # LESSOPEN='|cmd %s' pipes from cmd
        elif name in CODE_VARIABLES or name.startswith("GIT_CONFIG_KEY_"):
            found.unknown.append(f"{name} makes a program load code that cannot be read here")
    return found


def carried_by_options(name: str, args: list[str]) -> Carried:
    """What the options of the command ``name`` carry: ssh ``-o`` settings, ``git -c``
    settings and options such as ``rsync -e`` whose value is a command."""
    found = Carried()
    if name in _SSH_FAMILY:
        for word in args:
            match = _SSH_COMMAND_SETTING.search(word)
            value = match.group(1).strip() if match else ""
            if value and value.lower() != "none":
                found.texts.append(value)
    if name == "git":
        for setting in _option_values(args, "-c"):
            _git_setting(found, setting)
        if "config" in args:  # `git config core.pager CMD` keeps a command for later
            rest = args[args.index("config") + 1 :]
            operands = [w for w in rest if not w.startswith("-") and w not in ("set", "add")]
            if len(operands) >= 2:
                _git_setting(found, f"{operands[-2]}={operands[-1]}")
        for setting in _option_values(args, "--config-env"):
            key = setting.partition("=")[0].lower()
            if _GIT_COMMAND_KEYS.fullmatch(key) or _GIT_FILE_KEYS.fullmatch(key):
                found.unknown.append(f"git takes {key} from the environment, unseen here")
    for option in _COMMAND_OPTIONS.get(name, ()):
        found.texts.extend(v for v in _option_values(args, option) if v)
    for code in _inline_code(name, args):
        found.code.extend(_shell_outs(code))
    if name in _EDITORS:  # `vim -c '!cmd'`, `vim '+:!cmd'`: the rest of the line is a command
        commands = _option_values(args, "-c") + _option_values(args, "--cmd")
        commands += [word for word in args if word.startswith("+")]
        found.texts.extend(c[c.index("!") + 1 :] for c in commands if "!" in c)
    return found


#: Interpreters and the options that give them a program as text (``python -c``, ``perl -e``).
_CODE_OPTIONS: dict[str, tuple[str, ...]] = {
    "perl": ("-e", "-E"), "ruby": ("-e",), "node": ("-e", "-p", "--eval", "--print"),
    "nodejs": ("-e", "-p", "--eval", "--print"), "bun": ("-e", "--eval", "-p", "--print"),
    "php": ("-r",), "lua": ("-e",), "R": ("-e",), "Rscript": ("-e",),
    "vim": ("-c", "--cmd"), "vi": ("-c", "--cmd"), "nvim": ("-c", "--cmd"), "ex": ("-c",),
    "view": ("-c",), "emacs": ("--eval",),
}  # fmt: skip
_AWKS = frozenset({"awk", "gawk", "mawk", "nawk", "busybox-awk"})
_AWK_VALUED = frozenset({"-F", "-v", "-f", "--field-separator", "--assign", "--file"})

#: Quoted text inside a program: '…', "…" (with backslash escapes) or `…`.
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|`([^`]*)`", re.DOTALL)


def _inline_code(name: str, args: list[str]) -> list[str]:
    """The program texts given on the command line to the interpreter ``name``."""
    if re.fullmatch(r"(python|pypy)[\d.]*w?", name):
        return _clustered_values(args, "c", valued="WXQ")
    if name in ("perl", "ruby"):
        return _clustered_values(args, "eE", valued="")
    if name in _AWKS:
        index = 0
        while index < len(args) and args[index].startswith("-") and args[index] != "--":
            if args[index] in ("-f", "--file"):
                return []  # the program is in a file
            index += 2 if args[index] in _AWK_VALUED else 1
        index += index < len(args) and args[index] == "--"
        return args[index : index + 1]
    codes = [v for option in _CODE_OPTIONS.get(name, ()) for v in _option_values(args, option)]
    return codes + [word[1:] for word in args if name in _EDITORS and word.startswith("+")]


_EDITORS = frozenset({"vim", "vi", "nvim", "ex", "view"})


def _clustered_values(args: list[str], letters: str, valued: str) -> list[str]:
    """Programs given with a one-letter option that may sit in a cluster (``perl -lne CODE``,
    ``python -Ic CODE``, ``-cCODE``), read up to the first operand (the script's own words
    follow it); ``valued`` letters take the next word as their value (``python -W x``)."""
    values, index = [], 0
    while index < len(args):
        word = args[index]
        index += 1
        if word == "--" or not word.startswith("-") or word == "-":
            break
        if word.startswith("--"):
            continue
        hit = next((i for i, c in enumerate(word) if i and c in letters), None)
        if hit is not None:
            tail = word[hit + 1 :]
            values.append(tail or (args[index] if index < len(args) else ""))
            index += not tail
        elif word[-1] in valued:
            index += 1
    return values


def _shell_outs(code: str) -> list[str]:
    """What a program's text may hand to a shell: each quoted string in it (``os.system('…')``,
    ``system("…")``, backticks). An over-approximation: a string only printed counts too."""
    texts = [next(g for g in match.groups() if g is not None) for match in _LITERAL.finditer(code)]
    return [text for text in texts if text.strip()]


def _git_setting(found: Carried, setting: str) -> None:
    key, _, value = setting.partition("=")
    key = key.lower()
    if _GIT_FILE_KEYS.fullmatch(key):
        found.unknown.append(f"git -c {key} loads files that cannot be read here")
    elif _GIT_COMMAND_KEYS.fullmatch(key) and value and value.lower() not in _GIT_NOT_COMMANDS:
        found.texts.append(value.removeprefix("!"))


#: Values of command keys that are switches, not commands (``pager.log=false``).
_GIT_NOT_COMMANDS = frozenset({"true", "false", "yes", "no", "on", "off", "0", "1"})


def _option_values(args: list[str], option: str) -> list[str]:
    """Every value given to ``option``: ``-o V``, ``-oV``, ``--long=V``, ``--long V``."""
    values = []
    for index, word in enumerate(args):
        if word == "--":
            break
        if word == option:
            if index + 1 < len(args):
                values.append(args[index + 1])
        elif option.startswith("--") and word.startswith(option + "="):
            values.append(word[len(option) + 1 :])
        elif not option.startswith("--") and len(option) == 2 and word.startswith(option):
            values.append(word[2:])
    return values
