"""Operands that name files: proven inside the workspace (symlinks followed, ``cd`` tracked)
or not proven.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

from app.tools.shellparse import Word

#: Files outside the workspace that a known-safe command may still name.
_HARMLESS_FILES = frozenset({"/dev/null", "/dev/stdin"})


_BRACE = re.compile(r"\{([^{}]*)\}")


_GLOB_CHARS = frozenset("*?[")


@dataclass
class _Line:
    """What a line's earlier commands did to the working directory, as far as we can tell."""

    workspace: Path
    #: Every directory an operand may be relative to (a ``cd`` inside a pipe does not stick).
    cwds: list[Path]


def _confined(text: str, line: _Line) -> str | None:
    """``None`` when ``text``, used as a path, stays inside the workspace from every cwd."""
    if text == "-" or text in _HARMLESS_FILES:
        return None
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
            path = cwd / candidate  # an absolute candidate stays itself
            try:
                resolved = path.resolve()
            except (OSError, RuntimeError, ValueError):  # a NUL byte among them
                return f"{text} cannot be resolved"
            if not resolved.is_relative_to(line.workspace):
                return f"{text} leads outside the workspace"
    return None


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
