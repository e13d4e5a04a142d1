"""Known-safe verdicts the mutation report (tests/mutation/run.py) found untested: per
command line, the first reason it is not known-safe, word for word, or ``None`` when it runs
unasked. Unlike tests/tools/test_knownsafe.py, the checker is asked even for lines the
parser calls not plain (it is the second wall: it must refuse them on its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tools.knownsafe import KnownSafe
from app.tools.shellparse import parse_command


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "README.md").write_text("# R\n")
    (root / "src" / "main.py").write_text("x\n")
    (root / "link-out").symlink_to("/etc/passwd")
    return root


def why(workspace: Path, command: str) -> str | None:
    """The first reason a command of the line is not known-safe, or ``None``."""
    verdicts = KnownSafe(workspace).check_parsed(parse_command(command))
    return next((reason for reason in verdicts if reason), None)


FOUR_CDS = "cd a && cd b && cd c && cd d"  # each cd doubles the places paths count from

VERDICTS: list[tuple[str, str | None]] = [
    # --- the whole line (check.py)
    ("cat {a,b}", "it holds a brace expansion"),
    ("cat [ab].txt", "it holds a [ ] pattern that bash matches in its own way"),
    ("timeout 5 git status", "a wrapper in front of git would run it past the read-only settings"),
    ("timeout 5 cat README.md", None),
    ("nice git log", "a wrapper in front of git would run it past the read-only settings"),
    ("'cat' README.md", None),  # a quoted name is still the command
    ("'time' cat README.md", "time is not on the known-safe list"),  # the program, not the keyword
    ("cd a && cd b && cd c && cat README.md", None),  # eight places: still followed
    (f"{FOUR_CDS} && cat README.md", "too many changes of directory to follow"),
    (f"{FOUR_CDS} && c*t README.md", "c*t is not on the known-safe list"),
    ("sed -n p src/*.py", "sed with an unquoted glob is not known to be safe"),
    ("date -r src/*.py", "date with an unquoted glob is not known to be safe"),
    ("find src* -name x", None),  # a glob may name starting points
    ("find src -name *.py", "find with an unquoted glob in its expression (quote the pattern)"),
    ("git log src/*.py", None),  # git reads the paths; each match is checked
]


@pytest.mark.parametrize(("command", "expected"), VERDICTS)
def test_verdicts(workspace: Path, command: str, expected: str | None) -> None:
    assert why(workspace, command) == expected


def test_plain_word_lists_count_a_glob_character_as_a_glob(workspace: Path) -> None:
    checker = KnownSafe(workspace)
    assert checker.check([["ls", "-*"]]) == ["-* could expand to other options"]
    assert checker.check([["ls", "-l"], ["cat", "src/*.py"]]) == [None, None]
