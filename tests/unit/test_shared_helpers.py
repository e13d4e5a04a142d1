"""The helpers at the bottom of the layers, written once: ``one_line`` and ``cut`` (for the
CLI, the UI, the plan and team modes and the model errors), the control-character class
(for display, the known-safe check and the config), and the atomic file write (for the
export, the file tools, the rule files and saved settings)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from app.atomic import write_text_atomically
from app.config.workspace import _UNSHOWN
from app.textsafe import CONTROL_CHARACTER, cut, fix_surrogates, one_line
from app.tools.knownsafe.check import _HIDDEN

# ------------------------------------------------------------------------------ one_line


def test_one_line_joins_every_run_of_white_space_into_one_space() -> None:
    assert one_line("  two\n\nlines\t and  more \r\n", 80) == "two lines and more"


def test_one_line_cuts_to_the_limit_with_an_ellipsis() -> None:
    assert one_line("abcdefghij", 10) == "abcdefghij"
    assert one_line("abcdefghijk", 10) == "abcdefghi…"
    assert len(one_line("word " * 100, 37)) == 37
    assert one_line("abc", 1) == "…"
    assert one_line("abc", 0) == "…"  # never a negative slice (which would keep the text)


def test_one_line_removes_escape_sequences_and_controls_unless_asked_to_keep_them() -> None:
    text = "red \x1b[31malert\x1b[0m \u202eexe.txt\x07"
    assert one_line(text, 80) == "red alert exe.txt"
    assert one_line(text, 80, keep_controls=True) == text.replace("\x07", "\x07")


def test_one_line_turns_lone_surrogates_into_replacement_characters() -> None:
    # A provider's JSON can hold half a character; the line must still encode as UTF-8.
    line = one_line("bad \ud83d half", 80, keep_controls=True)
    assert line == "bad \ufffd half"
    line.encode("utf-8")
    assert one_line("pair \ud83d\ude00 joined", 80) == "pair \U0001f600 joined"
    assert fix_surrogates("plain") == "plain"


def test_one_line_serves_the_four_callers_it_replaced() -> None:
    messy = " a\tb \x1b[2Jc\n"
    # The CLI and the UI: cleaned, flattened, cut.
    assert one_line(messy, 3) == "a …"
    # The model errors (and the modes' prompts): flattened and cut, controls kept.
    assert one_line(messy, 400, keep_controls=True) == "a b \x1b[2Jc"


# ------------------------------------------------------------------------------ cut


def test_cut_keeps_a_short_text_and_says_how_much_of_a_long_one_was_left_out() -> None:
    assert cut("  short  \n", 10) == "short"
    assert cut("x" * 25, 10) == "x" * 10 + "\n[… 15 characters cut …]"
    assert cut("abc def " * 500, 1_000).endswith("[… 2,999 characters cut …]")  # stripped first


# ------------------------------------------------------------------------------ control characters

# The known-safe check's own class before it used the shared one.
_OLD_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def test_the_known_safe_check_refuses_exactly_the_characters_it_refused_before() -> None:
    assert _HIDDEN is CONTROL_CHARACTER
    differing = [
        hex(code)
        for code in range(0x3000)
        if bool(_OLD_HIDDEN.match(chr(code))) != bool(CONTROL_CHARACTER.match(chr(code)))
    ]
    assert differing == []


def test_the_config_hides_controls_newlines_tabs_and_every_direction_control() -> None:
    for char in "\x00\t\n\x1b\x7f\x9b\u202e\u2066\u200e\u200f\u061c":
        assert _UNSHOWN.match(char), hex(ord(char))
    for char in "a é-*()/ \u00a0":
        assert not _UNSHOWN.match(char), hex(ord(char))


# ------------------------------------------------------------------------------ atomic write


def test_an_atomic_write_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    target = folder / "config.toml"
    target.write_text("old\n")
    target.chmod(0o640)
    write_text_atomically(target, "new\r\nline\n")
    assert target.read_bytes() == b"new\r\nline\n"  # newlines as given
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(path.name for path in folder.iterdir()) == ["config.toml"]


def test_a_new_file_is_private_and_folders_are_made_only_when_asked(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b" / "notes.md"
    with pytest.raises(FileNotFoundError):
        write_text_atomically(nested, "text")
    write_text_atomically(nested, "text", make_parents=True)
    assert nested.read_text() == "text"
    assert stat.S_IMODE(nested.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    target = folder / "taken"
    target.mkdir()  # os.replace cannot put a file over a folder
    (target / "inside").write_text("kept")
    with pytest.raises(OSError):
        write_text_atomically(target, "text")
    assert (target / "inside").read_text() == "kept"
    assert sorted(os.listdir(folder)) == ["taken"]
