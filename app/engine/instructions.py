"""Project instructions: ``AGENTS.md`` files from the repository root down to the workspace.

Each directory from the repository root (the nearest one above the workspace holding
``.git``; the workspace itself when there is none) down to the workspace gives its
``AGENTS.md``, or ``CLAUDE.md`` when it has no AGENTS.md. They are joined farthest first, so
the nearest file comes last and wins where they disagree, each under its path. A file that
resolves outside those directories (a link to ``~/.ssh/…``) is never read. The whole is
capped at ``[engine] project_instructions_max_bytes``; what is cut is said in the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NAMES = ("AGENTS.md", "CLAUDE.md")


@dataclass(frozen=True)
class ProjectInstructions:
    """The instructions found for a workspace, ready for the system prompt."""

    text: str
    files: tuple[Path, ...]
    #: Bytes left out to stay under the cap.
    cut_bytes: int
    #: Changes when any file changes (paths, sizes, modification times).
    signature: tuple[tuple[str, int, int], ...]


def repository_root(workspace: Path) -> Path:
    """The nearest directory at or above ``workspace`` holding ``.git``, else the workspace."""
    current = workspace
    while True:
        if (current / ".git").exists():
            return current
        if current.parent == current:
            return workspace
        current = current.parent


def load(workspace: Path, max_bytes: int) -> ProjectInstructions:
    """Read the instruction files for ``workspace`` (nearest last), capped at ``max_bytes``."""
    workspace = workspace.resolve()
    root = repository_root(workspace)
    chain = [root]
    for part in workspace.relative_to(root).parts:
        chain.append(chain[-1] / part)
    found: list[tuple[Path, str]] = []
    signature: list[tuple[str, int, int]] = []
    for directory in chain:
        for name in NAMES:
            path = directory / name
            if not path.is_file():
                continue
            try:
                resolved = path.resolve()
                if not resolved.is_relative_to(root):
                    break  # a link out of the project: not read, and no fallback either
                stat = resolved.stat()
                text = resolved.read_bytes().decode("utf-8", errors="replace")
            except OSError:
                break
            found.append((path, text))
            signature.append((str(path), stat.st_size, stat.st_mtime_ns))
            break
    return _join(found, root, max_bytes, tuple(signature))


def _join(
    found: list[tuple[Path, str]],
    root: Path,
    max_bytes: int,
    signature: tuple[tuple[str, int, int], ...],
) -> ProjectInstructions:
    total = sum(len(text.encode()) for _, text in found)
    over = max(0, total - max_bytes)
    cut = 0
    parts: list[str] = []
    for path, text in found:  # farthest first: cut from those, the nearest stays whole
        if over > 0:
            size = len(text.encode())
            take = max(0, size - over)
            over -= size - take
            cut += size - take
            text = text.encode()[:take].decode("utf-8", errors="ignore")
            if take < size:
                text += (
                    f"\n[… {size - take:,} bytes of this file left out: project instructions "
                    "are capped by [engine] project_instructions_max_bytes]"
                )
        shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        parts.append(f"## Project instructions from {shown}\n\n{text.strip()}")
    body = "\n\n".join(parts)
    if body:
        body = (
            "The project gives these instructions (the later file is nearer to the "
            "workspace and wins where they differ):\n\n" + body
        )
    return ProjectInstructions(body, tuple(p for p, _ in found), cut, signature)
