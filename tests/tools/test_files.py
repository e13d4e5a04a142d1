"""File tools on real files: happy paths, clear errors, and confinement to the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.tools.base import ToolContext
from app.tools.edits import EditFileArgs, EditFileTool, WriteFileArgs, WriteFileTool
from tests.tools.conftest import Runner


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("import os\n\ndef main():\n    return 1\n")
    (workspace / "src" / "util.py").write_text("def helper():\n    return 'TODO: x'\n")
    (workspace / "README.md").write_text("# Demo\nTODO: write docs\n")
    (workspace / ".git").mkdir()
    (workspace / ".git" / "config").write_text("TODO in git\n")
    (workspace / "node_modules").mkdir()
    (workspace / "node_modules" / "lib.py").write_text("TODO in deps\n")
    (workspace / "blob.bin").write_bytes(b"TODO\0\x01\x02")
    (workspace.parent / "secret.txt").write_text("outside\n")
    return workspace


async def test_list_dir_shows_dirs_then_files_with_sizes(run: Runner, project: Path) -> None:
    result = await run("list_dir", {"path": "."})
    assert not result.is_error
    lines = result.output.splitlines()
    assert lines[0].startswith("./")
    assert lines.index(".git/") < lines.index("README.md (24 bytes)")
    assert "src/" in lines
    sub = await run("list_dir", {"path": "src"})
    assert "app.py (" in sub.output and sub.output.startswith("src/ (2 entries)")


async def test_list_dir_errors(run: Runner, project: Path) -> None:
    missing = await run("list_dir", {"path": "nope"})
    assert missing.is_error and "No such directory" in missing.output
    file = await run("list_dir", {"path": "README.md"})
    assert file.is_error and "read_file" in file.output


async def test_read_file_numbers_lines_and_ranges(run: Runner, project: Path) -> None:
    whole = await run("read_file", {"path": "src/app.py"})
    assert whole.output.splitlines()[0] == "     1\timport os"
    assert "     4\t    return 1" in whole.output
    part = await run("read_file", {"path": "src/app.py", "start_line": 3, "end_line": 3})
    assert part.output.splitlines() == ["     3\tdef main():", "[lines 3-3 of 4]"]


async def test_read_file_errors(run: Runner, project: Path) -> None:
    assert "No such file" in (await run("read_file", {"path": "x.py"})).output
    assert "binary" in (await run("read_file", {"path": "blob.bin"})).output
    assert "directory" in (await run("read_file", {"path": "src"})).output
    past = await run("read_file", {"path": "src/app.py", "start_line": 50})
    assert past.is_error and "4 lines" in past.output
    backwards = await run("read_file", {"path": "src/app.py", "start_line": 3, "end_line": 2})
    assert backwards.is_error and "before start_line" in backwards.output


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("read_file", {"path": "../secret.txt"}),
        ("read_file", {"path": "src/../../secret.txt"}),
        ("list_dir", {"path": ".."}),
        ("search_text", {"pattern": "outside", "path": ".."}),
        ("write_file", {"path": "../evil.txt", "content": "x"}),
        ("edit_file", {"path": "../secret.txt", "old": "outside", "new": "pwned"}),
        ("read_file", {"path": "~/.bashrc"}),
    ],
)
async def test_dot_dot_and_home_paths_are_refused(
    run: Runner, project: Path, tool: str, args: dict[str, str]
) -> None:
    result = await run(tool, args)
    assert result.is_error
    assert "outside the workspace" in result.output or "home directory" in result.output
    assert (project.parent / "secret.txt").read_text() == "outside\n"
    assert not (project.parent / "evil.txt").exists()


async def test_absolute_paths_inside_are_fine_outside_refused(run: Runner, project: Path) -> None:
    inside = await run("read_file", {"path": str(project / "README.md")})
    assert not inside.is_error and "# Demo" in inside.output
    outside = await run("read_file", {"path": str(project.parent / "secret.txt")})
    assert outside.is_error and "outside the workspace" in outside.output
    target = project.parent.parent / "agentkit-escape.txt"
    escaped = await run("write_file", {"path": str(target), "content": "x"})
    assert escaped.is_error and not target.exists()


async def test_symlinks_leading_outside_are_refused(run: Runner, project: Path) -> None:
    os.symlink(project.parent / "secret.txt", project / "link.txt")
    os.symlink(project.parent, project / "up")
    os.symlink(project / "README.md", project / "inside-link.md")
    for args in ({"path": "link.txt"}, {"path": "up/secret.txt"}):
        result = await run("read_file", args)
        assert result.is_error and "through a symlink" in result.output
    write = await run("write_file", {"path": "up/new.txt", "content": "x"})
    assert write.is_error and not (project.parent / "new.txt").exists()
    edit = await run("edit_file", {"path": "link.txt", "old": "outside", "new": "in"})
    assert edit.is_error and (project.parent / "secret.txt").read_text() == "outside\n"
    ok = await run("read_file", {"path": "inside-link.md"})
    assert not ok.is_error and "# Demo" in ok.output


async def test_find_files_globs_and_skips_vcs_and_deps(run: Runner, project: Path) -> None:
    result = await run("find_files", {"pattern": "**/*.py"})
    assert result.output.splitlines() == ["src/app.py", "src/util.py"]
    by_name = await run("find_files", {"pattern": "*.md"})
    assert by_name.output == "README.md"
    one_level = await run("find_files", {"pattern": "src/a*.py"})
    assert one_level.output == "src/app.py"
    none = await run("find_files", {"pattern": "*.rs"})
    assert not none.is_error and "No files match" in none.output
    escape = await run("find_files", {"pattern": "../*"})
    assert escape.is_error


async def test_find_files_is_capped(run: Runner, workspace: Path) -> None:
    for index in range(520):
        (workspace / f"f{index:03}.txt").write_text("")
    result = await run("find_files", {"pattern": "*.txt"})
    assert result.metadata["matches"] == 520
    assert result.output.splitlines()[-1].startswith("[… 20 more files not shown")


async def test_search_text_answers_file_line_text(run: Runner, project: Path) -> None:
    result = await run("search_text", {"pattern": r"TODO:\s"})
    assert result.output.splitlines() == [
        "README.md:2: TODO: write docs",
        "src/util.py:2:     return 'TODO: x'",
    ]
    scoped = await run("search_text", {"pattern": "todo", "path": "src", "ignore_case": True})
    assert scoped.output == "src/util.py:2:     return 'TODO: x'"
    globbed = await run("search_text", {"pattern": "TODO", "glob": "*.md"})
    assert globbed.output == "README.md:2: TODO: write docs"
    nothing = await run("search_text", {"pattern": "zzz"})
    assert not nothing.is_error and "No matches" in nothing.output


async def test_search_text_bad_regex_and_cap(run: Runner, workspace: Path) -> None:
    bad = await run("search_text", {"pattern": "("})
    assert bad.is_error and "Invalid regular expression" in bad.output
    (workspace / "many.txt").write_text("hit\n" * 250)
    capped = await run("search_text", {"pattern": "hit"})
    assert capped.metadata["matches"] == 250
    assert "50 more matches not shown" in capped.output


async def test_write_file_creates_parents_and_overwrites(run: Runner, workspace: Path) -> None:
    created = await run("write_file", {"path": "a/b/c.txt", "content": "one\ntwo\n"})
    assert not created.is_error and created.output == "Created a/b/c.txt (2 lines, 8 bytes)."
    again = await run("write_file", {"path": "a/b/c.txt", "content": "three"})
    assert again.output.startswith("Overwrote a/b/c.txt")
    assert (workspace / "a/b/c.txt").read_text() == "three"
    directory = await run("write_file", {"path": "a", "content": "x"})
    assert directory.is_error and "directory" in directory.output


async def test_edit_file_replaces_exactly_one_match(run: Runner, project: Path) -> None:
    result = await run(
        "edit_file", {"path": "src/app.py", "old": "    return 1\n", "new": "    return 2\n"}
    )
    assert not result.is_error and "line 4" in result.output
    assert (project / "src/app.py").read_text().endswith("    return 2\n")


async def test_edit_file_zero_or_many_matches_are_clear_errors(
    run: Runner, workspace: Path
) -> None:
    (workspace / "f.txt").write_text("x = 1\nx = 1\ny = 2\n")
    many = await run("edit_file", {"path": "f.txt", "old": "x = 1", "new": "x = 3"})
    assert many.is_error and "occurs 2 times" in many.output and "lines 1, 2" in many.output
    none = await run("edit_file", {"path": "f.txt", "old": "z = 9", "new": "z = 0"})
    assert none.is_error and "not found" in none.output
    spacing = await run("edit_file", {"path": "f.txt", "old": "  y = 2  ", "new": "y = 5"})
    assert "different surrounding whitespace" in spacing.output
    same = await run("edit_file", {"path": "f.txt", "old": "y = 2", "new": "y = 2"})
    assert same.is_error and "nothing to change" in same.output
    missing = await run("edit_file", {"path": "g.txt", "old": "a", "new": "b"})
    assert missing.is_error and "write_file" in missing.output
    assert (workspace / "f.txt").read_text() == "x = 1\nx = 1\ny = 2\n"


async def test_edit_keeps_crlf_and_permissions(run: Runner, workspace: Path) -> None:
    script = workspace / "run.sh"
    script.write_bytes(b"echo a\r\necho b\r\n")
    script.chmod(0o755)
    result = await run("edit_file", {"path": "run.sh", "old": "echo b", "new": "echo c"})
    assert not result.is_error
    assert script.read_bytes() == b"echo a\r\necho c\r\n"
    assert script.stat().st_mode & 0o777 == 0o755


async def test_pipes_are_refused_not_read(run: Runner, workspace: Path) -> None:
    os.mkfifo(workspace / "fifo")
    for tool, args in (
        ("read_file", {"path": "fifo"}),
        ("edit_file", {"path": "fifo", "old": "a", "new": "b"}),
    ):
        result = await run(tool, args)
        assert result.is_error and "not a regular file" in result.output
    assert "fifo" not in (await run("search_text", {"pattern": "x"})).output


def test_approval_text_is_a_unified_diff(ctx: ToolContext, project: Path) -> None:
    edit = EditFileTool()
    diff = edit.approval_text(EditFileArgs(path="src/app.py", old="return 1", new="return 42"), ctx)
    assert diff.startswith("--- a/src/app.py\n+++ b/src/app.py\n")
    assert "-    return 1\n+    return 42\n" in diff
    failing = edit.approval_text(EditFileArgs(path="src/app.py", old="nope", new="x"), ctx)
    assert "not found" in failing
    write = WriteFileTool()
    new_file = write.approval_text(WriteFileArgs(path="new.txt", content="hi\n"), ctx)
    assert new_file.startswith("--- /dev/null\n+++ b/new.txt\n") and "+hi\n" in new_file
    overwrite = write.approval_text(WriteFileArgs(path="README.md", content="# Demo\n"), ctx)
    assert "-TODO: write docs\n" in overwrite


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("write_file", {"path": "a\x00b.txt", "content": "x"}),
        ("edit_file", {"path": "src/app.py\x00", "old": "1", "new": "2"}),
        ("read_file", {"path": "src\x00/app.py"}),
        ("list_dir", {"path": "\x00"}),
        ("search_text", {"pattern": "TODO", "path": "src\x00"}),
    ],
)
async def test_a_nul_byte_in_a_path_is_a_tool_error(
    run: Runner, project: Path, tool: str, arguments: dict[str, str]
) -> None:
    """A bad path chosen by the model is an error it can read, never a crashed turn."""
    result = await run(tool, arguments)
    assert result.is_error and "NUL" in result.output


async def test_search_text_and_find_files_never_reach_outside_through_links(
    run: Runner, project: Path, tmp_path: Path
) -> None:
    """Links to a file, to a folder, and a folder link given as the path: nothing outside
    the workspace is searched or listed, while a link that stays inside still is."""
    outside = tmp_path / "elsewhere"
    (outside / "deeper").mkdir(parents=True)
    (outside / "id_rsa").write_text("PRIVATE KEY MATERIAL\n")
    (outside / "deeper" / "token.py").write_text("TOKEN = 'PRIVATE-TOKEN'\n")
    os.symlink(outside / "id_rsa", project / "key.txt")
    os.symlink(outside, project / "out")
    os.symlink(project / "src", project / "src-link")
    (project / "notes.md").write_text("PRIVATE but ours\n")
    os.symlink(project / "notes.md", project / "notes-link.md")
    for args in (
        {"pattern": "PRIVATE"},
        {"pattern": "PRIVATE", "path": "out"},
        {"pattern": "PRIVATE", "path": "out/deeper"},
        {"pattern": "PRIVATE", "path": "key.txt"},
        {"pattern": "PRIVATE", "glob": "**/*.py"},
    ):
        result = await run("search_text", args)
        assert "MATERIAL" not in result.output and "PRIVATE-TOKEN" not in result.output, args
    # The same search still finds what is inside, also through a link that stays inside.
    everywhere = await run("search_text", {"pattern": "PRIVATE"})
    assert not everywhere.is_error
    assert everywhere.output.splitlines() == [
        "notes-link.md:1: PRIVATE but ours",
        "notes.md:1: PRIVATE but ours",
    ]
    for pattern in ("**/*", "*.py", "out/**/*", "**/token.py", "id_rsa"):
        found = await run("find_files", {"pattern": pattern})
        listed = found.output.splitlines()
        assert not found.is_error, pattern
        assert not any(line.endswith(("token.py", "id_rsa")) for line in listed), pattern
    every = (await run("find_files", {"pattern": "**/*"})).output.splitlines()
    assert "notes.md" in every and "notes-link.md" in every and "src/app.py" in every
    inside = await run("search_text", {"pattern": "TODO", "path": "src-link"})
    assert "TODO: x" in inside.output
