"""Workspace confinement, read by what the model and the rules see of it.

The errors a file tool answers are the model's only guide back into the workspace, so
their wording is checked; the path forms the rules match against are checked at their
edges (the empty path, the root, a home path); and walking the tree is checked against
the odd entries a real project holds (a dangling link, a NUL byte far into a text file).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.tools.base import ToolError
from app.tools.workspace import (
    is_binary,
    normalize_relative,
    path_glob_matches,
    relative_display,
    resolve_in_workspace,
    resolved_relative,
)
from tests.tools.conftest import Runner

BACK_INSIDE = "Use a path relative to the workspace root."


def test_a_path_outside_says_so_and_how_to_come_back(workspace: Path) -> None:
    """Leaving by '..' or by an absolute path is not blamed on a link."""
    root = workspace.resolve()
    for raw in ("../b", "/etc/passwd"):
        with pytest.raises(ToolError) as caught:
            resolve_in_workspace(workspace, raw)
        assert str(caught.value) == (
            f"Path {raw!r} leads outside the workspace ({root}); file tools only work "
            f"inside it. {BACK_INSIDE}"
        )


def test_a_link_leading_outside_is_named_as_the_way_out(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").mkdir()
    os.symlink(tmp_path / "secret", workspace / "door")
    with pytest.raises(ToolError) as caught:
        resolve_in_workspace(workspace, "door/key")
    assert "'door/key' leads through a symlink outside the workspace" in str(caught.value)
    assert str(caught.value).endswith(f"inside it. {BACK_INSIDE}")


def test_a_home_path_and_a_nul_byte_are_refused_with_a_reason(workspace: Path) -> None:
    with pytest.raises(ToolError) as home:
        resolve_in_workspace(workspace, "~/notes.txt")
    assert "points into a home directory" in str(home.value)
    assert str(home.value).endswith(BACK_INSIDE)
    with pytest.raises(ToolError) as nul:
        resolve_in_workspace(workspace, "a\0b")
    assert str(nul.value) == "Path 'a\\x00b' contains a NUL byte; no file can have that name."


async def test_a_symlink_loop_is_an_error_the_model_can_read(run: Runner, workspace: Path) -> None:
    os.symlink(workspace / "loop", workspace / "loop")
    result = await run("read_file", {"path": "loop/x"})
    assert result.is_error
    assert "Cannot resolve path 'loop/x': Symlink loop" in result.output


def test_the_rule_forms_of_the_root_and_of_a_home_path(workspace: Path) -> None:
    """What a path rule is matched against: '.' for the root however it is written, and
    nothing at all for a home path (even when a folder named '~' exists inside)."""
    (workspace / "~").mkdir()
    for raw in ("", "  ", ".", str(workspace)):
        assert resolved_relative(workspace, raw) == ".", raw
        assert normalize_relative(workspace, raw) == ".", raw
    assert resolved_relative(workspace, "~/notes") is None
    assert resolved_relative(workspace, "~") is None
    assert resolved_relative(workspace, "a\0b") is None
    assert resolved_relative(workspace, "./src/../b") == "b"


def test_shown_paths_are_relative_inside_and_whole_outside(workspace: Path, tmp_path: Path) -> None:
    root = workspace.resolve()
    assert relative_display(workspace, root) == "."
    assert relative_display(workspace, root / "src" / "a.py") == "src/a.py"
    elsewhere = tmp_path.resolve() / "elsewhere.txt"
    assert relative_display(workspace, elsewhere) == str(elsewhere)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("./src/*.py", "src/a.py", True),
        ("./src/*.py", "lib/src/a.py", False),
        ("./*.md", "README.md", True),
        ("src/*.py", "lib/src/a.py", False),
        ("docs/", "other/x.md", False),
        ("docs/", "docs/x.md", True),
    ],
)
def test_path_globs_anchor_where_gitignore_does(pattern: str, path: str, matches: bool) -> None:
    """A leading './' anchors at the root, as a pattern with a '/' inside does; a folder
    pattern matches only what is in that folder."""
    assert path_glob_matches(pattern, path) is matches


def test_a_nul_byte_past_the_first_8_kib_leaves_a_file_text(workspace: Path) -> None:
    """Binary detection reads the first 8 KiB only: a long log with a stray NUL far in
    stays readable, a NUL inside the sample marks the file binary."""
    late = workspace / "late.log"
    late.write_bytes(b"x" * 8192 + b"\0")
    early = workspace / "early.log"
    early.write_bytes(b"x" * 8191 + b"\0")
    assert not is_binary(late)
    assert is_binary(early)
    assert is_binary(workspace), "what cannot be read as a file is never shown as text"


async def test_a_dangling_link_hides_no_file_after_it(run: Runner, workspace: Path) -> None:
    """Entries that are not files (a dangling link here) are skipped one by one."""
    os.symlink(workspace / "gone", workspace / "a-dangling")
    (workspace / "b.txt").write_text("needle\n")
    found = await run("find_files", {"pattern": "*"})
    assert found.output.splitlines() == ["b.txt"]
    searched = await run("search_text", {"pattern": "needle"})
    assert searched.output.splitlines() == ["b.txt:1: needle"]
