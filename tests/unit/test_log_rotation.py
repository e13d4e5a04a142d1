"""The full-screen app's log file is moved aside at start once it has grown large."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli.logs import LOG_ROTATE_BYTES, log_to_file


@pytest.fixture
def root_handlers() -> Iterator[None]:
    """log_to_file replaces the root logger's handlers: put the test runner's back."""
    root = logging.getLogger()
    kept, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in kept:
        root.addHandler(handler)
    root.setLevel(level)


def test_a_large_log_is_moved_aside_and_a_new_one_started(
    tmp_path: Path, root_handlers: None
) -> None:
    log = tmp_path / "agentkit.log"
    log.write_text("old first line\n")
    with log.open("r+b") as handle:
        handle.truncate(LOG_ROTATE_BYTES + 1)
    (tmp_path / "agentkit.log.1").write_text("older still\n")
    log_to_file(log, logging.WARNING)
    logging.getLogger("agentkit.test").warning("after the move")
    moved = tmp_path / "agentkit.log.1"
    assert moved.stat().st_size == LOG_ROTATE_BYTES + 1
    assert moved.read_bytes().startswith(b"old first line")
    assert "after the move" in log.read_text()
    assert log.stat().st_size < 1000


def test_a_small_log_keeps_growing(tmp_path: Path, root_handlers: None) -> None:
    log = tmp_path / "agentkit.log"
    log.write_text("x" * (LOG_ROTATE_BYTES - 10) + "\n")
    log_to_file(log, logging.WARNING)
    logging.getLogger("agentkit.test").warning("appended")
    text = log.read_text()
    assert text.startswith("xxx") and text.rstrip().endswith("appended")
    assert not (tmp_path / "agentkit.log.1").exists()


def test_a_log_folder_that_cannot_be_changed_still_logs_nowhere_quietly(
    tmp_path: Path, root_handlers: None
) -> None:
    log = tmp_path / "missing" / "agentkit.log"  # no folder: nothing to move, nothing to open
    log_to_file(log, logging.WARNING)
    logging.getLogger("agentkit.test").warning("dropped")
    assert not log.exists()
