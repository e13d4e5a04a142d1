"""Snapshot of the approvals review on a bare host app (sync: snap_compare runs its own loop)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from app.engine.service import RuleEntry
from app.ui.dialogs.approvals import ApprovalsDialog, approval_rows
from tests.fakes.real_events import APPROVAL_CONFIG, APPROVAL_TURNS, record_turns_now
from tests.ui.conftest import until
from tests.ui.test_approvals_dialog import SAVED
from tests.ui.test_dialogs import DialogHost

SIZE = (110, 32)

SnapCompare = Callable[..., bool]


def test_approvals_dialog(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The approvals review over an empty app, of a session the real engine ran: "Approvals",
    then "This session" with a table (Time, Tool, Command, ✓/✗, Decided by) of seven rows
    from 09:26:56 to 09:28:05 UTC, the last one highlighted: git status allowed by the rule
    shell(git status), rm -rf build denied by you, mkdir build approved by you saving
    shell(mkdir *), write_file notes.md refused by the policy (read-only), make deploy with
    no answer in time, touch later.txt with the turn stopped, and "echo '[bold]loud[/bold]'
    > loud.txt" approved by you, its brackets shown literally (not bold). The question
    still open (touch waiting.txt) is not a row. Below, "Saved rules": shell(mkdir *) in
    this workspace first and highlighted, then shell(git status), shell(rm *) (deny) and
    "shell(echo [bold]*)" everywhere, brackets literal. At the bottom the keys [tab] switch,
    [↑↓] move, [r] remove rule, [esc] close. There is no text input, so no cursor blinks."""
    events = record_turns_now(tmp_path, APPROVAL_TURNS, approval=APPROVAL_CONFIG).events
    saved = [*SAVED, RuleEntry(rule="shell(echo [bold]*)", kind="allow", scope="user")]

    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(ApprovalsDialog(approval_rows(events), saved, zone=UTC))
        await until(pilot, lambda: isinstance(pilot.app.screen, ApprovalsDialog))
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=SIZE)
