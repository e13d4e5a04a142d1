"""Snapshot tests of the plan and team panels, mid-run and finished (scenarios rebuilt from
a stored event log; frozen clock, so elapsed times are fixed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.ui.scenarios import scenario_app
from app.ui.screenshots import expand_results, settle


def test_plan_panel_running(snap_compare: Any, tmp_path: Path) -> None:
    """Plan · 1/3 done: phase 1 done (3.3s), phase 2 running for 13s with its latest step
    under it, phase 3 pending; the transcript shows the /plan message."""
    assert snap_compare(
        scenario_app("plan_running", tmp_path), terminal_size=(140, 40), run_before=settle
    )


def test_plan_panel_finished_after_a_replan(snap_compare: Any, tmp_path: Path) -> None:
    """Plan · 3/3 done · revision 2: a dim line for revision 1 (✓✗○ replaced), the replan
    reason, then the three phases of revision 2 all done with their times; the answer in the
    transcript."""
    assert snap_compare(
        scenario_app("plan_finished", tmp_path), terminal_size=(140, 40), run_before=settle
    )


def test_team_panel_running(snap_compare: Any, tmp_path: Path) -> None:
    """Team · lead Engineer: Researcher done, Engineer working with its latest step, Reviewer
    idle; phases with their assignees in the experts' colours; one result collapsed."""
    assert snap_compare(
        scenario_app("team_running", tmp_path), terminal_size=(140, 40), run_before=settle
    )


def test_team_panel_finished_with_a_result_open(snap_compare: Any, tmp_path: Path) -> None:
    """Every expert done, all phases done; the first expert result is expanded to Markdown;
    the synthesis is the answer in the transcript."""
    assert snap_compare(
        scenario_app("team_finished", tmp_path), terminal_size=(140, 40), run_before=expand_results
    )
