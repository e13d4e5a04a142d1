"""``git`` reads: known-safe only in a repository whose own config holds nothing that runs
code, and run with repository-controlled execution turned off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from app.tools.knownsafe.paths import _confined, _Line
from app.tools.shellparse import Word

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
        if not word.startswith("-"):  # `--` too: it only ends the options
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
        if current.parent == current:  # a workspace at /: above any other, the first test ends it
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
    if value != value.strip() or "\n" in value:  # read_text made a lone \r a \n too
        return None  # git would take the spaces or lines literally: do not guess
    return (dot_git_file.parent / value).resolve()  # an absolute value stays itself


def _config_risk(git_dir: Path) -> str | None:
    files = [git_dir / "config", git_dir / "config.worktree"]
    common = git_dir / "commondir"
    if common.is_file():
        try:
            value = common.read_text(encoding="utf-8").rstrip("\n")
        except (OSError, UnicodeDecodeError):
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


#: How long reading a repository's config may take before the read counts as failed.
_GIT_CONFIG_SECONDS = 10.0


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
            timeout=_GIT_CONFIG_SECONDS,
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
