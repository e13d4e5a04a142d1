"""Workspace confinement, gitignore-style globs and cancellable blocking work for file tools.

Every file tool resolves its path here before any I/O: the path is taken relative to the
workspace root, symlinks are followed, and anything that ends up outside the root is
refused with a ToolError. (This is a check, not a sandbox: a file swapped for a symlink
between the check and the use is not caught.)
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from app.tools.base import ToolError

T = TypeVar("T")

#: Directories that searches and listings skip: version control, caches, environments.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".jj",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cache",
        ".idea",
        ".eggs",
    }
)


def resolve_in_workspace(workspace: Path, raw: str) -> Path:
    """Resolve ``raw`` against the workspace root; refuse paths that lead outside it."""
    root = workspace.resolve()
    text = raw.strip() or "."
    if "\0" in text:
        raise ToolError(f"Path {raw!r} contains a NUL byte; no file can have that name.")
    if text.startswith("~"):
        raise ToolError(
            f"Path {raw!r} points into a home directory, outside the workspace. "
            "Use a path relative to the workspace root."
        )
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # symlink loops and the like
        raise ToolError(f"Cannot resolve path {raw!r}: {exc}") from None
    if not resolved.is_relative_to(root):
        how = "through a symlink " if _through_symlink(root, candidate) else ""
        raise ToolError(
            f"Path {raw!r} leads {how}outside the workspace ({root}); file tools only work "
            "inside it. Use a path relative to the workspace root."
        )
    return resolved


def relative_display(workspace: Path, path: Path) -> str:
    """``path`` relative to the workspace root, in POSIX form (``.`` for the root)."""
    root = workspace.resolve()
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
    return rel or "."


def normalize_relative(workspace: Path, raw: str) -> str | None:
    """The lexical workspace-relative POSIX form of ``raw``, or ``None`` if it leaves the root."""
    root = workspace.resolve()
    text = raw.strip() or "."
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = root / candidate
    normal = Path(os.path.normpath(candidate))
    if not normal.is_relative_to(root):
        return None
    rel = normal.relative_to(root).as_posix()
    return rel or "."


def resolved_relative(workspace: Path, raw: str) -> str | None:
    """The workspace-relative POSIX form of ``raw`` with symlinks followed, or ``None``."""
    root = workspace.resolve()
    text = raw.strip() or "."
    if "\0" in text or text.startswith("~"):
        return None
    candidate = Path(text)
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not resolved.is_relative_to(root):
        return None
    return resolved.relative_to(root).as_posix() or "."


def _through_symlink(root: Path, candidate: Path) -> bool:
    current = root
    try:
        parts = candidate.relative_to(root).parts
    except ValueError:
        return False
    for part in parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


def walk_files(base: Path, cancelled: threading.Event, root: Path | None = None) -> Iterator[Path]:
    """Every regular file under ``base``, sorted, skipping SKIP_DIRS, until ``cancelled`` is set.

    A file that is a symlink is yielded only when its target is inside ``root`` (the
    workspace; ``base`` when not given), so a link cannot carry a search outside.
    """
    inside = (root or base).resolve()
    if base.is_file():
        yield base
        return
    for dirpath, dirnames, filenames in os.walk(base):
        if cancelled.is_set():
            return
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if not path.is_file():
                continue
            if path.is_symlink() and not _resolves_inside(path, inside):
                continue
            yield path


def _resolves_inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def is_binary(path: Path, sample: int = 8192) -> bool:
    """Whether the file looks binary (a NUL byte in its first ``sample`` bytes)."""
    try:
        with path.open("rb") as handle:
            return b"\0" in handle.read(sample)
    except OSError:
        return True


async def run_blocking(func: Callable[[threading.Event], T]) -> T:
    """Run ``func(cancelled)`` in a thread; on cancellation set the event so it stops early."""
    cancelled = threading.Event()
    try:
        return await asyncio.to_thread(functools.partial(func, cancelled))
    finally:
        cancelled.set()


# --------------------------------------------------------------------------- globs


@functools.lru_cache(maxsize=512)
def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob (``*``, ``?``, ``[…]``, ``**`` across directories) into a regex."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                i += 2
                if i < n and pattern[i] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
            else:
                out.append("[^/]*")
                i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end == -1:
                out.append(re.escape(char))
                i += 1
                continue
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            body = body.replace("\\", "\\\\").replace("[", "\\[")
            out.append("[" + ("^" if negate else "") + body + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def path_glob_matches(pattern: str, rel_path: str) -> bool:
    """Gitignore-style match of a workspace-relative path (a slash-free pattern: any depth)."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if pattern.endswith("/"):
        pattern += "**"
    if pattern.startswith("/"):
        pattern = pattern[1:]
    elif "/" not in pattern:
        pattern = "**/" + pattern
    return bool(glob_to_regex(pattern).match(rel_path))
