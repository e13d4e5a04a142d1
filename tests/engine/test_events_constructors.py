"""One constructor per nested event type: each builds exactly the wire shape of its model."""

from __future__ import annotations

from typing import Any, get_args

from app.engine import events, mode_events
from app.engine.events import (
    Event,
    ExpertInfo,
    LaterCallData,
    PhaseInfo,
    confirmation_request,
    confirmation_result,
    notice,
    result,
    short_error,
    skill_match,
    to_wire,
    tool_call,
    tool_result,
    usage,
)
from app.engine.mode_events import (
    expert_result,
    expert_step,
    phase_completed,
    phase_failed,
    phase_started,
    plan_step,
    plan_update,
    replanning,
    team_dissolved,
    team_formed,
    team_synthesis,
)

CLEO = ExpertInfo(id="c", name="Cleo", color="red", role="Reviews.")

#: Each constructor's output, and the wire object DESIGN.md gives for it.
CASES: list[tuple[Any, dict[str, Any]]] = [
    (
        skill_match("review", "prefix", 1.0),
        {"type": "skill_match", "data": {"skill": "review", "method": "prefix", "confidence": 1.0}},
    ),
    (
        tool_call(1, "call_1", "shell", {"command": "ls"}),
        {
            "type": "step",
            "data": {
                "event_type": "tool_call",
                "step": 1,
                "data": {"id": "call_1", "name": "shell", "arguments": {"command": "ls"}},
            },
        },
    ),
    (
        tool_result(1, "call_1", "shell", "a\n", is_error=True, duration_ms=5),
        {
            "type": "step",
            "data": {
                "event_type": "tool_result",
                "step": 1,
                "data": {
                    "id": "call_1",
                    "name": "shell",
                    "output": "a\n",
                    "is_error": True,
                    "duration_ms": 5,
                },
            },
        },
    ),
    (
        confirmation_request(
            "k1",
            "rm x",
            "writes",
            tool="shell",
            expert_name="Cleo",
            later_calls=[LaterCallData(id="call_2", tool="shell", command="rm y")],
        ),
        {
            "type": "confirmation_request",
            "data": {
                "confirmation_id": "k1",
                "command": "rm x",
                "reason": "writes",
                "tool": "shell",
                "expert_name": "Cleo",
                "later_calls": [{"id": "call_2", "tool": "shell", "command": "rm y"}],
            },
        },
    ),
    (
        confirmation_result("k1", False, decider="rule", rule="shell(rm *)"),
        {
            "type": "confirmation_result",
            "data": {
                "confirmation_id": "k1",
                "approved": False,
                "decider": "rule",
                "rule": "shell(rm *)",
            },
        },
    ),
    (
        usage(3, 4, "fake/m"),
        {"type": "usage", "data": {"input_tokens": 3, "output_tokens": 4, "model": "fake/m"}},
    ),
    (short_error("boom"), {"type": "error", "data": {"message": "boom"}}),
    (notice("n", "note"), {"type": "notice", "data": {"code": "n", "message": "note"}}),
    (result("completed"), {"type": "result", "data": {"status": "completed"}}),
    (
        plan_update([PhaseInfo(id="p1", title="T", status="pending")]),
        {
            "type": "plan_update",
            "data": {"plan_phases": [{"id": "p1", "title": "T", "status": "pending"}]},
        },
    ),
    (
        plan_step("p1", 2, "ls", "tool_call", "call_1"),
        {
            "type": "plan_step",
            "data": {
                "phase_id": "p1",
                "step": 2,
                "content": "ls",
                "kind": "tool_call",
                "call_id": "call_1",
            },
        },
    ),
    (
        phase_started("p1", 0, "T"),
        {"type": "phase_started", "data": {"phase_id": "p1", "index": 0, "title": "T"}},
    ),
    (
        phase_completed("p1", "ok"),
        {"type": "phase_completed", "data": {"phase_id": "p1", "result": "ok"}},
    ),
    (
        phase_failed("p1", "no"),
        {"type": "phase_failed", "data": {"phase_id": "p1", "error": "no"}},
    ),
    (
        replanning("p1 failed", 1),
        {"type": "replanning", "data": {"reason": "p1 failed", "attempt": 1}},
    ),
    (
        team_formed("t1", [CLEO], [{"id": "p1"}], "c"),
        {
            "type": "team_formed",
            "data": {
                "team_id": "t1",
                "status": "active",
                "experts": [{"id": "c", "name": "Cleo", "color": "red", "role": "Reviews."}],
                "plan_phases": [{"id": "p1"}],
                "lead_expert": "c",
            },
        },
    ),
    (
        expert_step(CLEO, "Reading", 1, phase_id="p1", kind="text"),
        {
            "type": "expert_step",
            "data": {
                "expert_id": "c",
                "expert_name": "Cleo",
                "expert_color": "red",
                "content": "Reading",
                "step": 1,
                "phase_id": "p1",
                "kind": "text",
            },
        },
    ),
    (
        expert_result(CLEO, "Done.", phase_id="p1", status="done"),
        {
            "type": "expert_result",
            "data": {
                "expert_id": "c",
                "expert_name": "Cleo",
                "expert_color": "red",
                "content": "Done.",
                "phase_id": "p1",
                "status": "done",
            },
        },
    ),
    (team_synthesis("All."), {"type": "team_synthesis", "data": {"content": "All."}}),
    (team_dissolved("t1"), {"type": "team_dissolved", "data": {"team_id": "t1"}}),
]


def test_each_constructor_builds_its_wire_shape() -> None:
    for event, wire in CASES:
        assert to_wire(event) == wire


def test_every_event_type_with_a_data_object_has_a_constructor() -> None:
    flat = {"token", "thinking", "final_answer", "ask_human"}  # no nested model to build
    models = get_args(get_args(Event)[0])
    nested = {model.model_fields["type"].default for model in models} - flat
    built = {event.type for event, _ in CASES}
    assert nested == built


def test_the_plan_and_team_models_are_the_same_from_either_module() -> None:
    for name in ("PlanUpdateEvent", "PhaseInfo", "ExpertStepData", "TeamFormedEvent", "StepKind"):
        assert getattr(events, name) is getattr(mode_events, name)
