"""The approvals review: rows paired from the event log, and a saved rule chosen for removal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

from app.store.models import Event
from app.ui.dialogs.approvals import (
    ApprovalRow,
    ApprovalsDialog,
    RuleList,
    SavedRule,
    approval_rows,
    decided_by,
)
from tests.ui.test_dialogs import hosting, option_texts, text_of

START = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def logged(seq: int, kind: str, **data: Any) -> Event:
    """A stored event of session s1, ``seq`` seconds after START."""
    return Event(
        id=seq,
        session_id="s1",
        seq=seq,
        type=kind,
        data=data,
        created_at=START + timedelta(seconds=seq),
    )


EVENTS = [
    logged(1, "skill_match", skill="git", method="keyword", confidence=1.0),
    logged(
        2,
        "confirmation_result",
        confirmation_id="policy-c1",
        approved=True,
        decider="rule",
        rule="shell(git status)",
        tool="shell",
    ),
    logged(
        3,
        "confirmation_request",
        confirmation_id="a1",
        command="npm test",
        reason="runs a command",
        tool="shell",
        proposed_rule="shell(npm test *)",
    ),
    logged(
        4,
        "confirmation_request",
        confirmation_id="a2",
        command="rm -rf build",
        reason="deletes files",
        tool="shell",
    ),
    logged(5, "confirmation_result", confirmation_id="a2", approved=False, decider="user"),
    logged(
        6,
        "confirmation_result",
        confirmation_id="a1",
        approved=True,
        decider="user",
        rule="shell(npm test *)",
        scope="workspace",
        tool="shell",
    ),
    logged(7, "confirmation_result", confirmation_id="policy-c2", approved=False, decider="policy"),
    logged(
        8,
        "confirmation_request",
        confirmation_id="a3",
        command="make deploy",
        reason="runs a command",
        tool="shell",
    ),
    logged(9, "confirmation_result", confirmation_id="a3", approved=False, decider="timeout"),
    logged(
        10,
        "confirmation_request",
        confirmation_id="a4",
        command="curl x | sh",
        reason="runs a command",
        tool="shell",
    ),
    logged(11, "confirmation_result", confirmation_id="a4", approved=False, decider="cancelled"),
    logged(
        12,
        "confirmation_request",
        confirmation_id="a5",
        command="still waiting",
        reason="runs a command",
        tool="shell",
    ),
]

SAVED = [
    SavedRule(rule="shell(git status)", kind="allow", scope="user"),
    SavedRule(rule="shell(npm test *)", kind="allow", scope="workspace"),
    SavedRule(rule="shell(rm *)", kind="deny", scope="user"),
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


def test_rows_pair_requests_and_results_in_the_order_they_were_decided() -> None:
    rows = approval_rows(EVENTS)

    assert [(r.command, r.approved, r.decider) for r in rows] == [
        ("", True, "rule"),
        ("rm -rf build", False, "user"),
        ("npm test", True, "user"),
        ("", False, "policy"),
        ("make deploy", False, "timeout"),
        ("curl x | sh", False, "cancelled"),
    ]  # "still waiting" has no result yet: not a row
    assert [r.when for r in rows] == [START + timedelta(seconds=s) for s in (2, 5, 6, 7, 9, 11)]
    assert rows[0].tool == "shell" and rows[0].rule == "shell(git status)"
    assert rows[2].tool == "shell"  # from the request
    assert (rows[2].rule, rows[2].scope) == ("shell(npm test *)", "workspace")
    assert rows[3].tool == ""  # neither event named the tool


def test_a_result_without_a_request_uses_its_own_tool_and_command() -> None:
    rows = approval_rows(
        [
            logged(
                1,
                "confirmation_result",
                confirmation_id="policy-c9",
                approved=True,
                decider="policy",
                tool="write_file",
                command="write notes.md",
            ),
        ]
    )

    assert [(r.tool, r.command, r.decider) for r in rows] == [
        ("write_file", "write notes.md", "policy")
    ]


def test_who_decided_in_words() -> None:
    assert [decided_by(r) for r in approval_rows(EVENTS)] == [
        "rule shell(git status)",
        "you",
        "you, saved shell(npm test *)",
        "policy",
        "no answer in time",
        "turn stopped",
    ]


# The dialog


async def test_the_dialog_shows_the_history_newest_last_and_the_saved_rules() -> None:
    dialog = ApprovalsDialog(approval_rows(EVENTS), SAVED, zone=UTC)
    async with hosting(dialog) as (_pilot, results):
        rows = table_rows(dialog)
        assert rows[0] == ["09:26:55", "shell", "", "✓", "rule shell(git status)"]
        assert rows[-1] == ["09:27:04", "shell", "curl x | sh", "✗", "turn stopped"]
        assert dialog.query_one("#approvals-history", DataTable).cursor_row == len(rows) - 1
        texts = option_texts(dialog.query_one(RuleList))
        assert [text.split()[1] for text in texts] == ["shell(npm", "shell(git", "shell(rm"]
        assert texts[0].endswith("this workspace")  # workspace rules come first
        assert texts[2].startswith("deny") and texts[2].endswith("everywhere")
        assert dialog.focused is dialog.query_one(RuleList)
        assert results == []


async def test_commands_and_rules_with_markup_are_shown_literally() -> None:
    command = "echo '[bold]hi[/bold]' \x1b[31m[red]x[/]"
    saved = [SavedRule(rule="shell(echo [bold]*)", kind="allow", scope="user")]
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
        assert results == [SavedRule(rule="shell(git status)", kind="allow", scope="user")]


async def test_enter_returns_the_highlighted_saved_rule() -> None:
    dialog = ApprovalsDialog(approval_rows(EVENTS), SAVED)
    async with hosting(dialog) as (pilot, results):
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert results == [SavedRule(rule="shell(rm *)", kind="deny", scope="user")]


async def test_r_in_the_history_removes_nothing() -> None:
    dialog = ApprovalsDialog(approval_rows(EVENTS), SAVED)
    async with hosting(dialog) as (pilot, results):
        await pilot.press("tab")
        assert dialog.focused is dialog.query_one("#approvals-history", DataTable)
        await pilot.press("r", "up")
        await pilot.pause()
        assert results == []
        assert pilot.app.screen is dialog


async def test_escape_closes_with_none() -> None:
    dialog = ApprovalsDialog(approval_rows(EVENTS), SAVED)
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


async def test_history_without_saved_rules_focuses_the_history() -> None:
    dialog = ApprovalsDialog(approval_rows(EVENTS), [])
    async with hosting(dialog) as (_pilot, _results):
        assert dialog.focused is dialog.query_one("#approvals-history", DataTable)
        assert text_of(dialog, "#approvals-no-rules") == "No saved rules."
        assert isinstance(dialog.query_one("#approvals-no-rules"), Static)
