"""The approvals review: rows paired from the event log, and a saved rule chosen for removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import DataTable, Static

from app.engine.service import RuleEntry
from app.store.models import Event
from app.ui.dialogs.approvals import (
    ApprovalRow,
    ApprovalsDialog,
    RuleList,
    approval_rows,
    decided_by,
)
from tests.fakes.real_events import (
    APPROVAL_CONFIG,
    APPROVAL_TURNS,
    Recording,
    record_turns_now,
)
from tests.ui.test_dialogs import hosting, option_texts, text_of

START = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """Every way an approval is decided, as the real engine logged it (one turn each)."""
    return record_turns_now(
        tmp_path_factory.mktemp("approvals"), APPROVAL_TURNS, approval=APPROVAL_CONFIG
    )


@pytest.fixture
def events(recorded: Recording) -> list[Event]:
    """The stored event log of the recorded session."""
    return recorded.events


SAVED = [
    RuleEntry(rule="shell(git status)", kind="allow", scope="user"),
    RuleEntry(rule="shell(mkdir *)", kind="allow", scope="workspace"),
    RuleEntry(rule="shell(rm *)", kind="deny", scope="user"),
]


def row(
    seconds: int, command: str, *, approved: bool = True, decider: str = "user", **extra: Any
) -> ApprovalRow:
    """A history row for the dialog tests."""
    return ApprovalRow(
        when=START + timedelta(seconds=seconds),
        tool=extra.pop("tool", "shell"),
        command=command,
        approved=approved,
        decider=decider,
        **extra,
    )


def table_rows(dialog: ApprovalsDialog) -> list[list[str]]:
    """The plain text of every history cell, row by row."""
    table: DataTable[Text] = dialog.query_one("#approvals-history", DataTable)
    return [[cell.plain for cell in table.get_row_at(index)] for index in range(table.row_count)]


# approval_rows


def test_rows_pair_requests_and_results_in_the_order_they_were_decided(
    events: list[Event],
) -> None:
    rows = approval_rows(events)

    assert [(r.tool, r.command, r.approved, r.decider) for r in rows] == [
        ("shell", "git status", True, "rule"),
        ("shell", "rm -rf build", False, "user"),
        ("shell", "mkdir build", True, "user"),
        ("write_file", "notes.md", False, "policy"),
        ("shell", "make deploy", False, "timeout"),
        ("shell", "touch later.txt", False, "cancelled"),
        ("shell", "echo '[bold]loud[/bold]' > loud.txt", True, "user"),
    ]  # "touch waiting.txt" has no result yet: not a row
    results = [e for e in events if e.type == "confirmation_result"]
    assert [r.when for r in rows] == [e.created_at for e in results]
    assert (rows[0].rule, rows[0].scope) == ("shell(git status)", None)
    assert (rows[1].rule, rows[1].scope) == (None, None)
    assert (rows[2].rule, rows[2].scope) == ("shell(mkdir *)", "workspace")


def test_a_result_without_a_request_uses_its_own_tool_and_command(events: list[Event]) -> None:
    asked = {e.data["data"]["confirmation_id"] for e in events if e.type == "confirmation_request"}
    unasked = [
        e
        for e in events
        if e.type == "confirmation_result" and e.data["data"]["confirmation_id"] not in asked
    ]
    rows = approval_rows(unasked)

    assert [(r.tool, r.command, r.decider) for r in rows] == [
        ("shell", "git status", "rule"),
        ("write_file", "notes.md", "policy"),
    ]


def test_a_question_still_open_is_not_a_row(events: list[Event]) -> None:
    last_request = [e for e in events if e.type == "confirmation_request"][-1]
    assert last_request.data["data"]["command"] == "touch waiting.txt"
    assert events[-1] is last_request  # the recording stopped while it waited
    assert "touch waiting.txt" not in [r.command for r in approval_rows(events)]


def test_who_decided_in_words(events: list[Event]) -> None:
    assert [decided_by(r) for r in approval_rows(events)] == [
        "rule shell(git status)",
        "you",
        "you, saved shell(mkdir *)",
        "policy",
        "no answer in time",
        "turn stopped",
        "you",
    ]


def test_a_session_rule_says_so_and_an_unknown_decider_is_not_you() -> None:
    when = START
    shown = [
        decided_by(ApprovalRow(when=when, tool="shell", command="ls", approved=True, **extra))
        for extra in (
            {"decider": "user", "rule": "shell(ls *)", "scope": "session"},
            {"decider": "session_rule", "rule": "shell(ls *)"},
            {"decider": "session_rule"},
            {"decider": "rule"},
            {"decider": ""},
        )
    ]
    assert shown == [
        "you, for the session: shell(ls *)",
        "session rule shell(ls *)",
        "a session rule",
        "a rule",
        "",
    ]


# The dialog


async def test_the_dialog_shows_the_history_newest_last_and_the_saved_rules(
    events: list[Event],
) -> None:
    dialog = ApprovalsDialog(approval_rows(events), SAVED, zone=UTC)
    async with hosting(dialog) as (_pilot, results):
        rows = table_rows(dialog)
        assert rows[0] == ["09:26:56", "shell", "git status", "✓", "rule shell(git status)"]
        assert rows[2] == ["09:27:20", "shell", "mkdir build", "✓", "you, saved shell(mkdir *)"]
        assert rows[3][1:] == ["write_file", "notes.md", "✗", "policy"]
        assert rows[-2][1:] == ["shell", "touch later.txt", "✗", "turn stopped"]
        assert dialog.query_one("#approvals-history", DataTable).cursor_row == len(rows) - 1
        texts = option_texts(dialog.query_one(RuleList))
        assert [text.split()[1] for text in texts] == ["shell(mkdir", "shell(git", "shell(rm"]
        assert texts[0].endswith("this workspace")  # workspace rules come first
        assert texts[2].startswith("deny") and texts[2].endswith("everywhere")
        assert dialog.focused is dialog.query_one(RuleList)
        assert results == []


async def test_commands_and_rules_with_markup_are_shown_literally() -> None:
    command = "echo '[bold]hi[/bold]' \x1b[31m[red]x[/]"
    saved = [RuleEntry(rule="shell(echo [bold]*)", kind="allow", scope="user")]
    dialog = ApprovalsDialog([row(1, command, rule="[i]r[/i]", decider="rule")], saved)
    async with hosting(dialog) as (_pilot, _results):
        [cells] = table_rows(dialog)
        assert cells[2] == "echo '[bold]hi[/bold]' [red]x[/]"  # escape stripped, brackets kept
        assert cells[4] == "rule [i]r[/i]"
        assert "shell(echo [bold]*)" in option_texts(dialog.query_one(RuleList))[0]


async def test_a_long_command_is_cut_to_one_line() -> None:
    dialog = ApprovalsDialog([row(1, "python - <<EOF\n" + "print(1)\n" * 40 + "EOF")], [])
    async with hosting(dialog) as (_pilot, _results):
        [cells] = table_rows(dialog)
        assert "\n" not in cells[2]
        assert cells[2].startswith("python - <<EOF print(1)") and cells[2].endswith("…")


async def test_r_returns_the_highlighted_saved_rule() -> None:
    dialog = ApprovalsDialog([], SAVED)
    async with hosting(dialog) as (pilot, results):
        await pilot.press("down", "r")
        await pilot.pause()
        assert results == [RuleEntry(rule="shell(git status)", kind="allow", scope="user")]


async def test_enter_returns_the_highlighted_saved_rule(events: list[Event]) -> None:
    dialog = ApprovalsDialog(approval_rows(events), SAVED)
    async with hosting(dialog) as (pilot, results):
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert results == [RuleEntry(rule="shell(rm *)", kind="deny", scope="user")]


async def test_r_in_the_history_removes_nothing(events: list[Event]) -> None:
    dialog = ApprovalsDialog(approval_rows(events), SAVED)
    async with hosting(dialog) as (pilot, results):
        await pilot.press("tab")
        assert dialog.focused is dialog.query_one("#approvals-history", DataTable)
        await pilot.press("r", "up")
        await pilot.pause()
        assert results == []
        assert pilot.app.screen is dialog


async def test_escape_closes_with_none(events: list[Event]) -> None:
    dialog = ApprovalsDialog(approval_rows(events), SAVED)
    async with hosting(dialog) as (pilot, results):
        await pilot.press("escape")
        await pilot.pause()
        assert results == [None]


async def test_empty_states_say_so() -> None:
    dialog = ApprovalsDialog([], [])
    async with hosting(dialog) as (pilot, results):
        assert text_of(dialog, "#approvals-no-history") == "No approvals in this session yet."
        assert text_of(dialog, "#approvals-no-rules") == "No saved rules."
        assert not dialog.query(DataTable) and not dialog.query(RuleList)
        assert "[r] remove rule" not in [str(key.render()) for key in dialog.query(".key")]
        await pilot.press("r", "enter")
        await pilot.pause()
        assert results == []
        await pilot.press("escape")
        await pilot.pause()
        assert results == [None]


async def test_history_without_saved_rules_focuses_the_history(events: list[Event]) -> None:
    dialog = ApprovalsDialog(approval_rows(events), [])
    async with hosting(dialog) as (_pilot, _results):
        assert dialog.focused is dialog.query_one("#approvals-history", DataTable)
        assert text_of(dialog, "#approvals-no-rules") == "No saved rules."
        assert isinstance(dialog.query_one("#approvals-no-rules"), Static)
