"""The atomic write, at the edges its callers reach: a folder that already exists when asked
to make it, and a system temporary folder that is missing (or on another disk)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from app.atomic import write_text_atomically


def test_making_parents_that_exist_already_is_fine(tmp_path: Path) -> None:
    """Saving a second rule into `.agentkit/config.toml` asks for its folder again."""
    target = tmp_path / ".agentkit" / "config.toml"
    write_text_atomically(target, "one\n", make_parents=True)
    write_text_atomically(target, "two\n", make_parents=True)
    assert target.read_text() == "two\n"
    assert [path.name for path in target.parent.iterdir()] == ["config.toml"]


def test_the_write_never_goes_through_the_system_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file sits beside the target: a rename within one folder is atomic,
    while one from another filesystem fails (and a missing or full /tmp would too)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    folder = tmp_path / "docs"
    folder.mkdir()
    target = folder / "notes.md"
    write_text_atomically(target, "kept\n")
    assert target.read_text() == "kept\n"
    assert [path.name for path in folder.iterdir()] == ["notes.md"]
