"""Shell command classification: the hard safety floor, known-safe commands, and rule proposals.

The floor names commands no mode and no rule can allow (``rm -rf /``, ``mkfs``, ``dd`` to a
device, fork bombs, ``chmod -R 777 /``). The known-safe list (after Codex CLI's) names
read-only commands that ``ask`` mode runs without asking. :func:`propose_shell_rule` offers
the person an editable "always allow" rule, never for interpreters and launchers (a rule
for ``python *`` allows anything) and never one that would also match ``rm``.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from pathlib import Path

from app.tools.rules import Rule
from app.tools.shellparse import deny_candidates, parse_command

_FORK_BOMB = re.compile(r"(\w+|:)\(\)\{\1\|\1&\};?\1")
_DISK_WRITE = re.compile(r">\s*/dev/(sd|hd|vd|xvd|nvme|mmcblk|disk|mapper/)")
_HARMLESS_DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr"})

#: Read-only commands (Codex CLI's list, slightly extended) that ``ask`` mode runs unasked.
SAFE_COMMANDS = frozenset(
    {
        "cat", "cd", "cut", "echo", "expr", "false", "grep", "head", "id", "ls", "nl",
        "paste", "pwd", "rev", "seq", "stat", "tail", "tr", "true", "uname", "uniq", "wc",
        "which", "whoami", "basename", "dirname", "realpath", "date", "printf", "tree",
        "file", "du", "df",
    }
)  # fmt: skip
_FIND_UNSAFE = ("-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint")
_RG_UNSAFE = ("--pre", "--hostname-bin", "-z", "--search-zip")
_GIT_READ = frozenset({"status", "log", "diff", "show", "branch"})
_GIT_UNSAFE = ("--output", "--ext-diff", "--textconv", "--exec", "-c", "--config")
_GIT_BRANCH_LIST = frozenset(
    {"-a", "-r", "-v", "-vv", "--list", "--all", "--remotes", "--show-current", "--verbose"}
)

#: Commands that run other code: never offered an "always allow" rule.
INTERPRETERS = frozenset(
    {
        "bash", "sh", "zsh", "dash", "ksh", "fish", "csh", "tcsh", "node", "nodejs", "deno",
        "bun", "npx", "bunx", "pnpx", "ruby", "irb", "perl", "php", "lua", "luajit", "Rscript",
        "julia", "pwsh", "osascript", "eval", "exec", "env", "xargs", "sudo", "doas", "su",
        "ssh", "source", ".", "awk", "gawk", "mawk", "nawk", "watch", "parallel", "command",
        "builtin", "nohup", "time", "timeout", "nice", "stdbuf", "script",
    }
)  # fmt: skip
#: Destructive commands: never offered an "always allow" rule either.
NEVER_PROPOSE = frozenset(
    {
        "rm", "rmdir", "shred", "unlink", "dd", "wipefs", "fdisk", "parted", "mkfs", "mke2fs",
        "chmod", "chown", "chgrp", "kill", "killall", "pkill", "truncate", "find", "reboot",
        "shutdown", "halt", "poweroff",
    }
)  # fmt: skip
#: Tools whose second word is a subcommand: rules are ``shell(<cmd> <subcmd> *)``.
MULTI_LEVEL = frozenset(
    {
        "git", "npm", "pnpm", "yarn", "cargo", "docker", "podman", "kubectl", "helm", "pip",
        "pip3", "uv", "go", "gh", "poetry", "brew", "apt", "apt-get", "systemctl", "terraform",
        "dotnet", "conda", "rustup", "make", "just", "bundle", "mvn", "gradle", "composer",
        "hatch", "pdm", "pipx", "tox", "nox",
    }
)  # fmt: skip
#: ``<cmd> <subcmd>`` pairs that run a named script: rules are ``shell(npm run test *)``.
THREE_LEVEL = frozenset(
    {
        ("npm", "run"), ("pnpm", "run"), ("yarn", "run"), ("uv", "run"), ("poetry", "run"),
        ("pdm", "run"), ("hatch", "run"), ("bundle", "exec"), ("pipx", "run"), ("go", "run"),
        ("docker", "exec"), ("kubectl", "exec"), ("npm", "exec"), ("uv", "tool"),
    }
)  # fmt: skip


def is_interpreter(name: str) -> bool:
    """Whether ``name`` runs arbitrary code given to it (shells, language runtimes, launchers)."""
    base = posixpath.basename(name)
    return base in INTERPRETERS or bool(re.fullmatch(r"(python|pypy)[\d.]*w?", base))


def floor_violation(command: str) -> str | None:
    """The name of the hard-floor pattern ``command`` hits, or ``None``; checks every part."""
    if _FORK_BOMB.search(re.sub(r"\s+", "", command)):
        return "fork bomb"
    if _DISK_WRITE.search(command):
        return "writing to a disk device"
    home = str(Path.home())
    for words in deny_candidates(command):
        name = posixpath.basename(words[0])
        flags = [w for w in words[1:] if w.startswith("-")]
        targets = [w for w in words[1:] if not w.startswith("-")]
        recursive = any(
            f in ("--recursive", "-R") or (not f.startswith("--") and "r" in f.lower())
            for f in flags
        )
        if name == "rm" and recursive and any(_root_or_home(t, home) for t in targets):
            return "rm -rf / or ~"
        if name.startswith("mkfs") or name in ("mke2fs", "wipefs"):
            return "mkfs"
        if name == "dd" and any(
            w.startswith("of=/dev/") and w[3:] not in _HARMLESS_DEVICES for w in words
        ):
            return "dd to a device"
        if (
            name in ("chmod", "chown", "chgrp")
            and any(f in ("-R", "--recursive") or f.startswith("-R") for f in flags)
            and any(_root_or_home(t, home) for t in targets)
        ):
            return f"recursive {name} of / or ~"
    return None


def _root_or_home(target: str, home: str) -> bool:
    text = target.rstrip("*")
    if not text:
        return False
    normal = posixpath.normpath(text)
    return normal in ("/", "//", "~", "$HOME", "${HOME}", home) or normal.rstrip("/") == home


def is_known_safe(words: list[str]) -> bool:
    """Whether one simple command (wrappers stripped) is on the known-safe read-only list."""
    if not words:
        return False
    name, args = words[0], words[1:]
    if name in SAFE_COMMANDS:
        return True
    if name == "find":
        return not any(a.startswith(_FIND_UNSAFE) for a in args)
    if name == "rg":
        return not any(a in _RG_UNSAFE or a.startswith(("--pre=", "--hostname-bin=")) for a in args)
    if name == "git":
        if not args or args[0] not in _GIT_READ:
            return False
        if any(a.startswith(_GIT_UNSAFE) for a in args[1:]):
            return False
        if args[0] == "branch":
            return all(a in _GIT_BRANCH_LIST for a in args[1:])
        return True
    if name == "sed":
        return len(args) >= 2 and args[0] == "-n" and bool(re.fullmatch(r"\d+(,\d+)?p", args[1]))
    if name == "base64":
        return not any(a in ("-o", "--output") or a.startswith("--output=") for a in args)
    return False


def propose_shell_rule(command: str) -> str | None:
    """An editable "always allow" rule for ``command``, or ``None`` when none would be safe."""
    parsed = parse_command(command)
    if not parsed.plain:
        return None
    unsafe = [words for words in parsed.commands if not is_known_safe(words)]
    proposals = {_propose_words(words) for words in (unsafe or parsed.commands)}
    if len(proposals) != 1:
        return None
    proposal = proposals.pop()
    if proposal is None:
        return None
    rule = Rule(proposal, "shell", proposal[len("shell(") : -1])
    if any(rule.matches_words(probe) for probe in (["rm"], ["rm", "-rf", "/"])):
        return None
    return proposal


def _propose_words(words: list[str]) -> str | None:
    name = words[0]
    if "/" in name or not re.fullmatch(r"[A-Za-z0-9_.+\-]+", name):
        return None  # a script path or something odd: approve it once
    if is_interpreter(name) or name in NEVER_PROPOSE or name.startswith("mkfs"):
        return None
    if name not in MULTI_LEVEL:
        return f"shell({name} *)"
    if len(words) == 1:
        return f"shell({name})"
    sub = words[1]
    if sub.startswith("-"):
        return None  # options before the subcommand (git -C x …): too varied to generalise
    if (name, sub) not in THREE_LEVEL:
        return f"shell({name} {shlex.quote(sub)} *)"
    if len(words) == 2:
        return f"shell({name} {sub})"
    target = words[2]
    if target.startswith("-") or "/" in target or is_interpreter(target):
        return None
    return f"shell({name} {sub} {shlex.quote(target)} *)"
