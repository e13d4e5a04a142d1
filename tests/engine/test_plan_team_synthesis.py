"""The final answer of plan and team turns: what is missing, and the fallback when the
synthesis call fails (one shared text, worded per mode)."""

from __future__ import annotations

from typing import Any

from app.engine.modes import plan_prompts, team_prompts
from app.engine.modes.planner import PhaseState
from app.engine.modes.roster import Expert
from app.engine.modes.synthesis import fallback_text, missing_text
from app.engine.modes.team_plan import TeamPhaseState
from app.engine.skills import ExecutionMode
from tests.engine.conftest import Harness
from tests.engine.test_plan import plan_json
from tests.engine.test_team import FAKES, lead_plan, roster
from tests.fakes.provider import Reply

ANN = Expert("ann", "Ann", "Reads.", "#fff")
BEN = Expert("ben", "Ben", "Builds.", "#000")


def test_the_plan_lists_what_failed_or_was_skipped_and_falls_back_to_what_was_done() -> None:
    phases = [
        PhaseState("p1", "Read", "read it", status="done", result="It  says\nhello."),
        PhaseState("p2", "Edit", "edit it", status="failed", error="no\naccess"),
        PhaseState("p3", "Test", "test it", status="skipped", error="no replans left"),
        PhaseState("p4", "Ship", "ship it"),
    ]
    assert missing_text(phases, plan_prompts.WORDING) == (
        "**Not done:**\n- p2 “Edit” failed: no access\n- p3 “Test” was skipped (no replans left)."
    )
    assert fallback_text(phases, plan_prompts.WORDING) == (
        "What the phases produced:\n\n**Read** — It says hello."
    )
    assert missing_text(phases[:1], plan_prompts.WORDING) is None
    assert (
        fallback_text(phases[1:], plan_prompts.WORDING) == "No phase of the plan produced a result."
    )


def test_the_team_names_who_failed_and_falls_back_to_each_experts_result() -> None:
    phases = [
        TeamPhaseState("a1", "Facts", "find", expert=ANN, depends_on=[], status="done"),
        TeamPhaseState("b1", "Build", "build", expert=BEN, depends_on=[], status="failed"),
        TeamPhaseState("c1", "Check", "check", expert=ANN, depends_on=["b1"], status="skipped"),
    ]
    phases[0].result = "Line one.\nLine two."
    phases[1].error = "the model is down"
    phases[2].error = "it needs b1, which did not finish"
    assert missing_text(phases, team_prompts.WORDING) == (
        "**Missing:**\n- b1 “Build” (Ben) failed: the model is down\n"
        "- c1 “Check” (Ann) was skipped: it needs b1, which did not finish."
    )
    assert fallback_text(phases, team_prompts.WORDING) == (
        "What the experts produced:\n\n**Ann — Facts**\n\nLine one.\nLine two."
    )
    assert fallback_text(phases[1:], team_prompts.WORDING) == "No expert produced a result."


async def test_a_failed_plan_synthesis_answers_with_the_phase_results(make_harness: Any) -> None:
    harness: Harness = await make_harness(engine={"max_replans": 0})
    harness.script(
        harness.text(plan_json("p1", "p2")),
        harness.text("First done."),
        harness.calls(("finish_phase", {"status": "failed", "summary": "blocked"})),
        Reply.json(500, {"error": {"message": "the summariser crashed"}}),
    )
    turn = await harness.turn("/plan two things")
    assert turn.status == "completed"
    answer = turn.of("final_answer")[0].content
    assert answer == (
        "What the phases produced:\n\n**Title p1** — First done.\n\n"
        "**Not done:**\n- p2 “Title p2” failed: blocked"
    )
    assert [e.data.code for e in turn.of("notice")][-1] == "synthesis_failed"
    stored = await harness.store.get_messages(harness.session_id)
    assert stored[-1].content == answer and stored[-1].model == "local"


async def test_a_failed_team_synthesis_answers_with_the_experts_results(
    make_harness: Any,
) -> None:
    harness: Harness = await make_harness(extra_fakes=FAKES, teams=roster())
    harness.script(
        harness.text(lead_plan()),
        Reply.json(500, {"error": {"message": "the lead's model crashed"}}),
    )
    harness.fakes["fa"].script(harness.text("Facts."))
    harness.fakes["fb"].script(harness.text("Built."))
    harness.fakes["fc"].script(
        harness.calls(("finish_phase", {"status": "failed", "summary": "no time"}))
    )
    turn = await harness.turn("ship it", mode=ExecutionMode.TEAM_COLLAB)
    assert turn.status == "completed"
    answer = turn.of("final_answer")[0].content
    assert answer == (
        "What the experts produced:\n\n**Alice — Facts**\n\nFacts.\n\n**Bob — Build**\n\nBuilt."
        "\n\n**Missing:**\n- c1 “Review” (Cleo) failed: no time"
    )
    assert turn.of("team_synthesis")[0].data.content == answer
