"""Snapshot tests of whole screens (sync tests: snap_compare runs its own event loop).

Each renders a scenario from ``app.ui.scenarios`` (frozen clock, demo model). Update with
``pytest tests/ui/test_snapshots.py --snapshot-update`` only after reading
``snapshot_report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.tools import sandbox
from app.ui.scenarios import scenario_app
from app.ui.screenshots import (
    ask_a_question,
    ask_for_approval,
    expand_tool_step,
    review_closed_session,
    search_sessions,
    settle,
)


def test_welcome(snap_compare: Any, tmp_path: Path) -> None:
    """First run: an empty sidebar, the welcome text with the offline demo note and the
    things to try, the composer focused, the status line saying demo — offline and idle;
    the key line ends with f1 Help before the palette key."""
    assert snap_compare(
        scenario_app("welcome", tmp_path), terminal_size=(120, 36), run_before=settle
    )


def test_finished_conversation(snap_compare: Any, tmp_path: Path) -> None:
    """Sessions grouped Today / Yesterday / This week (closed) / Older; the open session
    shows the question, a collapsed Thinking line, a finished read_file step with a check
    mark, and a Markdown answer with a table and a syntax-coloured Python code block."""
    assert snap_compare(
        scenario_app("conversation", tmp_path), terminal_size=(130, 40), run_before=settle
    )


@pytest.mark.skipif(
    not sandbox.state("auto").active,
    reason="the dialog says how the command would run; the snapshot shows a working sandbox",
)
def test_confirmation_dialog(snap_compare: Any, tmp_path: Path) -> None:
    """The demo model asked to run `pytest tests/test_parser.py -q`: the approval dialog shows
    the exact command, why it asks, and the keys y / n / a / d; the status line says
    waiting for you and the sidebar marks the session as running."""
    assert snap_compare(
        scenario_app("conversation", tmp_path), terminal_size=(130, 40), run_before=ask_for_approval
    )


def test_narrow_terminal(snap_compare: Any, tmp_path: Path) -> None:
    """At 80×24 the sidebar folds away; the conversation uses the whole width; the key line
    still shows f1 Help (pinned by the action table) before the palette key."""
    assert snap_compare(
        scenario_app("conversation", tmp_path), terminal_size=(80, 24), run_before=settle
    )


def test_expanded_tool_step(snap_compare: Any, tmp_path: Path) -> None:
    """The read_file step is open: its output (numbered lines of the test file) shows in a
    box under the step line, as plain text."""
    assert snap_compare(
        scenario_app("conversation", tmp_path), terminal_size=(130, 40), run_before=expand_tool_step
    )


def test_ask_human_dialog(snap_compare: Any, tmp_path: Path) -> None:
    """The demo model asks which to focus on first; the dialog shows the question, the three
    answers it offers as one-line buttons numbered 1–3 (The code, The tests, The docs), an
    input for an answer of one's own, and the keys (1–3 picks, Enter replies, Esc sends no
    answer). Behind it the transcript's note lists the same three choices after the question."""
    assert snap_compare(
        scenario_app("conversation", tmp_path), terminal_size=(130, 40), run_before=ask_a_question
    )


def test_closed_session_under_review(snap_compare: Any, tmp_path: Path) -> None:
    """The closed session "Explain the retry policy of the gateway" is open: its messages,
    and instead of the composer a note that it can be read but not continued."""
    assert snap_compare(
        scenario_app("conversation", tmp_path),
        terminal_size=(130, 40),
        run_before=review_closed_session,
    )


def test_search_results(snap_compare: Any, tmp_path: Path) -> None:
    """The sidebar searched for "retry": the matching session with the word highlighted in
    its title and in the message snippet, and a count of matches."""
    assert snap_compare(
        scenario_app("conversation", tmp_path), terminal_size=(130, 40), run_before=search_sessions
    )


def test_compacted_divider(snap_compare: Any, tmp_path: Path) -> None:
    """A session whose first three turns were compacted: at the top of the transcript the
    earlier questions and answers still show; below them a dashed divider with the
    collapsed title "Earlier conversation compacted: 6 messages → summary"; under it the
    turn sent after the compaction ("So how do we fix it?" and its answer)."""
    assert snap_compare(
        scenario_app("compacted", tmp_path), terminal_size=(120, 36), run_before=settle
    )


def test_compacted_divider_expanded(snap_compare: Any, tmp_path: Path) -> None:
    """The same divider clicked open: the summary text (Goals, Files, Commands, Open) in
    muted colour under the title, plain text, between the earlier turns and the new one."""

    async def expand(pilot: Any) -> None:
        from app.ui.widgets.compacted import CompactedBlock

        await settle(pilot)
        pilot.app.screen.query_one(CompactedBlock).collapsed = False
        await pilot.pause()
        await settle(pilot)

    assert snap_compare(
        scenario_app("compacted", tmp_path), terminal_size=(120, 36), run_before=expand
    )
