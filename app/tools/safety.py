"""Shell command classification: the hard safety floor, known-safe commands, and rule proposals.

The floor names commands no mode and no rule can allow (``rm -rf /``, ``mkfs``, ``dd`` to a
device, fork bombs, ``chmod -R 777 /``); it looks through launchers, ``eval``, ``sh -c`` and
brace lists, and counts a target it cannot know as the worst. Known-safe commands are
decided per command in :mod:`app.tools.knownsafe`. :func:`propose_shell_rule` offers
the person an editable "always allow" rule, never for interpreters and launchers (a rule
for ``python *`` allows anything) and never one that would also match ``rm``.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shlex
import stat
from pathlib import Path

from app.tools.knownsafe import KnownSafe
from app.tools.rules import Rule
from app.tools.shellparse import DESTRUCTIVE, UNKNOWN, effective_commands, parse_command

_FORK_BOMB = re.compile(r"(\w{1,64}|:)\(\)\{\1\|\1&\};?\1")
#: A function definition: ``name() { body }`` or ``function name [()] { body }``.
_FUNCTION = re.compile(
    r"(?:function\s+([^\s(){}|&;<>]{1,64})\s*(?:\(\s*\))?|([^\s(){}|&;<>]{1,64})\s*\(\s*\))"
    r"\s*\{([^{}]{0,2000})\}"
)
#: Block devices and memory: writing them destroys data whatever the path was called.
_DEVICE = re.compile(
    r"/dev/(sd|hd|vd|xvd|nvme|mmcblk|disk/|mapper/|loop|md\d|dm-|sr\d|mtd|ram|nbd|zd|rbd|"
    r"block/|char/|sg\d|bsg/|mem$|kmem|port$|root$)"
)
_DEVICE_REDIRECT = re.compile(r"(?:>>?|>\||&>|<>)\s*[\"']?(/[^\s\"';&|]+)")
_HARMLESS_DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr"})
#: Commands that only read what they are given: naming a device to them destroys nothing.
_DEVICE_READERS = frozenset(
    {"cat", "head", "tail", "ls", "stat", "file", "lsblk", "blkid", "hexdump", "xxd", "od",
     "wc", "cmp", "md5sum", "sha1sum", "sha256sum", "smartctl", "udevadm", "readlink",
     "realpath", "du", "df", "findmnt", "mount", "echo", "printf", "grep"}
)  # fmt: skip
_WIPERS = ("mkfs", "mke2fs", "wipefs", "mkswap", "blkdiscard", "sgdisk", "sfdisk")


def floor_violation(command: str, workspace: Path | None = None) -> str | None:
    """The name of the hard-floor pattern ``command`` hits, or ``None``; checks every part.

    Parts are seen through launchers, ``eval``, ``sh -c``, literal text piped into a shell,
    brace lists, aliases and ``find -delete``/``-exec`` (:func:`effective_commands`); ``cd``
    and ``pushd`` move the place relative targets count from (the workspace at first).
    """
    return floor_check(command, workspace)[0]


def floor_check(command: str, workspace: Path | None = None) -> tuple[str | None, list[str]]:
    """The floor pattern hit (or ``None``), and doubts: destruction whose place cannot be
    known (after a ``cd`` that cannot be followed), which asks even in auto mode."""
    if _fork_bomb(command):
        return "fork bomb", []
    for match in _DEVICE_REDIRECT.finditer(command):
        if _is_device(match.group(1)):
            return "writing to a disk device", []
    home = str(Path.home())
    start = str(workspace.resolve()) if workspace is not None else None
    cwd: str | None = start
    doubts: list[str] = []
    unknown_cdpath = "CDPATH=" in command
    for words in effective_commands(command).commands:
        name = posixpath.basename(words[0])
        if name in ("cd", "pushd"):
            cwd = _cd_target(words[1:], cwd, home, unknown_cdpath)
            continue
        if name == "popd":
            cwd = _UNKNOWN_PLACE
            continue
        hit = _floor_words(words, home, cwd, doubts, start)
        if hit:
            return hit, doubts
    return None, doubts


#: A place a ``cd`` led to that cannot be worked out.
_UNKNOWN_PLACE = "\x00unknown-place"


def _fork_bomb(command: str) -> bool:
    """A function that calls itself in the background or down a pipe, whatever its name."""
    squeezed = re.sub(r"\s+", " ", command)
    if _FORK_BOMB.search(squeezed.replace(" ", "")):
        return True
    for match in _FUNCTION.finditer(squeezed):
        name = match.group(1) or match.group(2)
        body = match.group(3)
        calls = re.findall(rf"(?:^|[\s;&|{{(]){re.escape(name)}(?=$|[\s;&|}})])", body)
        if calls and re.search(r"[&|]", body):
            return True
    return False


def _cd_target(args: list[str], cwd: str | None, home: str, cdpath: bool) -> str | None:
    if any(a.startswith("-") and a not in ("-P", "-L", "--") for a in args):
        return _UNKNOWN_PLACE  # `cd -`, `cd -e` (home), options we do not follow
    rest = [a for a in args if a not in ("-P", "-L", "--")]
    if not rest:
        return home
    target = _expand_home(rest[0], home)
    if "$" in target or "`" in target or target == UNKNOWN or cwd == _UNKNOWN_PLACE:
        return _UNKNOWN_PLACE
    if target.startswith("/"):
        return posixpath.normpath(target)
    if cdpath and not target.startswith("."):
        return _UNKNOWN_PLACE  # CDPATH may send a bare name anywhere
    return posixpath.normpath(posixpath.join(cwd, target)) if cwd else None


def _floor_words(
    words: list[str], home: str, cwd: str | None, doubts: list[str], workspace: str | None
) -> str | None:
    name = posixpath.basename(words[0])
    args = words[1:]
    unknowable = [w for w in args if w == UNKNOWN or "$" in w or "`" in w]
    flags = [w for w in args if w.startswith("-") and w not in unknowable]
    targets = [w for w in args if not w.startswith("-") or w in unknowable]
    relative = [t for t in targets if not t.startswith(("/", "~", "$")) and t != UNKNOWN]
    if cwd == _UNKNOWN_PLACE:
        if relative and name in DESTRUCTIVE:
            doubts.append(f"{name} works in a folder a cd led to that cannot be known")
    elif cwd is not None:
        targets = [posixpath.join(cwd, t) if t in relative else t for t in targets]
    recursive = bool(unknowable) or _recursive(flags, "rR" if name == "rm" else "R")
    protected = recursive and any(
        _root_or_home(t, home) and not _inside(t, workspace) for t in targets
    )
    if name == "rm" and protected:
        return "rm -rf / or ~"
    if name.startswith(_WIPERS):
        return "wiping a file system or disk"
    if name == "dd" and any(w.startswith("of=") and _is_device(w[3:]) for w in args):
        return "dd to a device"
    writes = [w for w in args if not w.startswith("if=")] if name == "dd" else args
    if name not in _DEVICE_READERS and any(_is_device(w.partition("=")[2] or w) for w in writes):
        return "writing to a disk device"
    if name in ("chmod", "chown", "chgrp") and protected:
        return f"recursive {name} of / or ~"
    return None


def _inside(target: str, workspace: str | None) -> bool:
    """Whether an absolute target is the workspace or in it (its own business)."""
    if workspace is None or not target.startswith("/"):
        return False
    normal = posixpath.normpath(target)
    return normal == workspace or normal.startswith(workspace.rstrip("/") + "/")


def _recursive(flags: list[str], letters: str) -> bool:
    """Whether the options ask for recursion: a short cluster with one of ``letters``, or
    ``--recursive`` or any prefix of it GNU accepts (``--r``, ``--rec``)."""
    for flag in flags:
        if flag.startswith("--"):
            name = flag.split("=", 1)[0]
            if len(name) > 2 and "--recursive".startswith(name):
                return True
        elif any(letter in flag[1:] for letter in letters):
            return True
    return False


def _is_device(path: str) -> bool:
    """Whether ``path`` names a disk, memory or similar device (by name, or by what it is)."""
    if not path.startswith("/"):
        return False
    normal = posixpath.normpath("/" + path.lstrip("/"))
    if not normal.startswith("/dev/") or normal in _HARMLESS_DEVICES:
        return False
    if _DEVICE.match(normal):
        return True
    try:
        mode = os.stat(normal).st_mode
    except (OSError, ValueError):
        return False
    real = os.path.realpath(normal)
    return stat.S_ISBLK(mode) or (stat.S_ISCHR(mode) and real not in _HARMLESS_DEVICES
                                  and bool(_DEVICE.match(real)))  # fmt: skip


def _expand_home(text: str, home: str) -> str:
    for name in ("${HOME}", "$HOME"):
        if text == name or text.startswith(name + "/"):
            return home + text[len(name) :]
    if text.startswith("~"):
        head, _, rest = text[1:].partition("/")
        if head in ("", "+", "-"):
            base = home
        else:
            base = "/"  # someone's home we cannot place: count it as the worst
            with contextlib.suppress(ImportError, KeyError, ValueError):
                import pwd  # not on Windows

                base = pwd.getpwnam(head).pw_dir
        return base + "/" + rest
    return text


def _root_or_home(target: str, home: str) -> bool:
    """Whether a target is /, a top-level directory, the home directory or above it.

    A target only known when it runs (a variable, what ``xargs`` reads) is not the floor's:
    such a command asks, even in auto mode (see ``Effective.uncertain``).
    """
    if target == UNKNOWN or "`" in target:
        return False
    if target.startswith("~") and not target.startswith(("~/", "~+", "~-")) and target != "~":
        return True  # ~user: somebody's home directory
    text = _expand_home(target, home)
    if "$" in text:
        return False
    if not text.startswith("/"):
        return False  # relative to the workspace: not the floor's business
    parts = posixpath.normpath("/" + text.lstrip("/")).split("/")[1:]
    parts = [part for part in parts if part]
    fixed: list[str] = []
    for part in parts:
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    stem = "/" + "/".join(fixed)
    protected = {"/", home, *_ancestors(home)}
    # /, ~, above ~, a top-level folder, or a glob over one of them
    return stem in protected or len(fixed) <= 1


def _ancestors(path: str) -> list[str]:
    found = []
    current = posixpath.dirname(path)
    while current not in ("/", ""):
        found.append(current)
        current = posixpath.dirname(current)
    return found


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


def propose_shell_rule(command: str, workspace: Path) -> str | None:
    """An editable "always allow" rule for ``command``, or ``None`` when none would be safe."""
    parsed = parse_command(command)
    if not parsed.plain:
        return None
    verdicts = KnownSafe(workspace).check_parsed(parsed)
    unsafe = [words for words, why in zip(parsed.commands, verdicts, strict=True) if why]
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
