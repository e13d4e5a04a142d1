"""Path resolution and gitignore-style globs shared by file tools and rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tools.base import ToolError
from app.tools.workspace import normalize_relative, path_glob_matches, resolve_in_workspace


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("src/**", "src/a/b.py", True),
        ("src/**", "srcx/a.py", False),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/sub/a.py", False),
        ("*.md", "docs/deep/x.md", True),
        ("/*.md", "docs/x.md", False),
        ("/*.md", "x.md", True),
        ("docs/", "docs/a/b", True),
        ("**/test_*.py", "test_a.py", True),
        ("**/test_*.py", "tests/unit/test_a.py", True),
        ("file?.txt", "file1.txt", True),
        ("file[!0-9].txt", "file1.txt", False),
        ("file[!0-9].txt", "filea.txt", True),
        ("[[]x].txt", "[x].txt", True),
    ],
)
def test_path_globs(pattern: str, path: str, matches: bool) -> None:
    assert path_glob_matches(pattern, path) is matches


def test_resolution(workspace: Path) -> None:
    assert resolve_in_workspace(workspace, "") == workspace.resolve()
    assert resolve_in_workspace(workspace, "a/../b") == workspace.resolve() / "b"
    with pytest.raises(ToolError, match="outside the workspace"):
        resolve_in_workspace(workspace, "a/../../b")
    assert normalize_relative(workspace, "./a//b/") == "a/b"
    assert normalize_relative(workspace, "..") is None
    assert normalize_relative(workspace, str(workspace)) == "."
