"""Snapshot of the approvals review on a bare host app (sync: snap_compare runs its own loop)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from textual.pilot import Pilot

from app.ui.dialogs.approvals import ApprovalsDialog, SavedRule, approval_rows
from tests.ui.test_approvals_dialog import EVENTS, SAVED, logged
from tests.ui.test_dialogs import DialogHost

SIZE = (110, 32)

SnapCompare = Callable[..., bool]


def test_approvals_dialog(snap_compare: SnapCompare) -> None:
    """The approvals review over an empty app: "Approvals", then "This session" with a
    table (Time, Tool, Command, ✓/✗, Decided by) of seven rows from 09:26:55 to 09:27:10
    UTC, the last one highlighted: a rule, you (denied rm -rf build), you saving
    shell(npm test *), the policy, no answer in time, turn stopped, and a
    command "echo '[bold]loud[/bold]'" with its brackets shown literally (not bold). Below,
    "Saved rules": shell(npm test *) in this workspace first and highlighted, then
    shell(git status), shell(rm *) (deny) and "shell(echo [bold]*)" everywhere, brackets
    literal. At the bottom the keys [tab] switch, [↑↓] move, [r] remove rule, [esc] close.
    There is no text input, so no cursor blinks."""
    events = [
        *EVENTS,
        logged(
            13,
            "confirmation_request",
            confirmation_id="a6",
            tool="shell",
            command="echo '[bold]loud[/bold]'",
            reason="runs a command",
        ),
        logged(17, "confirmation_result", confirmation_id="a6", approved=True, decider="user"),
    ]
    saved = [*SAVED, SavedRule(rule="shell(echo [bold]*)", kind="allow", scope="user")]

    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(ApprovalsDialog(approval_rows(events), saved, zone=UTC))
        await pilot.pause()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=SIZE)
