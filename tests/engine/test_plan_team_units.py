"""Plan and team parts on their own: wire shapes, plan validation, rosters, progress."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app.config import Settings
from app.engine.events import (
    CallStep,
    Event,
    ExpertInfo,
    ExpertResultData,
    ExpertResultEvent,
    ExpertStepData,
    ExpertStepEvent,
    PhaseCompletedData,
    PhaseCompletedEvent,
    PhaseFailedData,
    PhaseFailedEvent,
    PhaseInfo,
    PhaseStartedData,
    PhaseStartedEvent,
    PlanStepData,
    PlanStepEvent,
    PlanUpdateData,
    PlanUpdateEvent,
    ReplanningData,
    ReplanningEvent,
    ResultStep,
    StepEvent,
    TeamDissolvedData,
    TeamDissolvedEvent,
    TeamFormedData,
    TeamFormedEvent,
    TeamSynthesisData,
    TeamSynthesisEvent,
    ThinkingEvent,
    TokenEvent,
    ToolCallData,
    ToolResultData,
    from_wire,
    notice,
    to_wire,
)
from app.engine.modes.errors import ModeError, ReplyInvalid
from app.engine.modes.planner import parse_plan
from app.engine.modes.progress import ProgressMapper
from app.engine.modes.replies import extract_json
from app.engine.modes.roster import BUILTIN_TEAM, resolve_team
from app.engine.modes.team_plan import parse_team_plan
from app.engine.router import SimpleRouter
from app.engine.skills import SkillSet, parse_skill, resolve_agent

# ----------------------------------------------------------------------------- wire shapes

#: The shapes of DESIGN.md "Events on the wire", key for key (optional extensions unset).
DESIGN_SHAPES: list[tuple[Any, dict[str, Any]]] = [
    (
        PlanUpdateEvent(
            data=PlanUpdateData(plan_phases=[PhaseInfo(id="p1", title="Look", status="running")])
        ),
        {
            "type": "plan_update",
            "data": {"plan_phases": [{"id": "p1", "title": "Look", "status": "running"}]},
        },
    ),
    (
        PlanStepEvent(data=PlanStepData(phase_id="p1", step=2, content="reading")),
        {"type": "plan_step", "data": {"phase_id": "p1", "step": 2, "content": "reading"}},
    ),
    (
        PhaseStartedEvent(data=PhaseStartedData(phase_id="p1", index=0, title="Look")),
        {"type": "phase_started", "data": {"phase_id": "p1", "index": 0, "title": "Look"}},
    ),
    (
        PhaseCompletedEvent(data=PhaseCompletedData(phase_id="p1", result="Found it.")),
        {"type": "phase_completed", "data": {"phase_id": "p1", "result": "Found it."}},
    ),
    (
        PhaseFailedEvent(data=PhaseFailedData(phase_id="p1", error="No access.")),
        {"type": "phase_failed", "data": {"phase_id": "p1", "error": "No access."}},
    ),
    (
        ReplanningEvent(data=ReplanningData(reason="p1 failed", attempt=1)),
        {"type": "replanning", "data": {"reason": "p1 failed", "attempt": 1}},
    ),
    (
        TeamFormedEvent(
            data=TeamFormedData(
                team_id="t1",
                status="active",
                experts=[ExpertInfo(id="r", name="Researcher", color="#4FC1FF", role="Finds.")],
                plan_phases=[{"id": "p1", "title": "Look", "status": "pending"}],
                lead_expert="r",
            )
        ),
        {
            "type": "team_formed",
            "data": {
                "team_id": "t1",
                "status": "active",
                "experts": [
                    {"id": "r", "name": "Researcher", "color": "#4FC1FF", "role": "Finds."}
                ],
                "plan_phases": [{"id": "p1", "title": "Look", "status": "pending"}],
                "lead_expert": "r",
            },
        },
    ),
    (
        ExpertStepEvent(
            data=ExpertStepData(
                expert_id="r", expert_name="Researcher", expert_color="cyan", content="hm", step=1
            )
        ),
        {
            "type": "expert_step",
            "data": {
                "expert_id": "r",
                "expert_name": "Researcher",
                "expert_color": "cyan",
                "content": "hm",
                "step": 1,
            },
        },
    ),
    (
        ExpertResultEvent(
            data=ExpertResultData(
                expert_id="r", expert_name="Researcher", expert_color="cyan", content="Done."
            )
        ),
        {
            "type": "expert_result",
            "data": {
                "expert_id": "r",
                "expert_name": "Researcher",
                "expert_color": "cyan",
                "content": "Done.",
            },
        },
    ),
    (
        TeamSynthesisEvent(data=TeamSynthesisData(content="All in.")),
        {"type": "team_synthesis", "data": {"content": "All in."}},
    ),
    (
        TeamDissolvedEvent(data=TeamDissolvedData(team_id="t1")),
        {"type": "team_dissolved", "data": {"team_id": "t1"}},
    ),
]

#: What the engine actually sends: the same shapes plus documented optional keys.
EXTENDED: list[tuple[Any, dict[str, Any]]] = [
    (
        PlanStepEvent(data=PlanStepData(phase_id="p1", step=1, content="ls", kind="tool_call")),
        {
            "type": "plan_step",
            "data": {"phase_id": "p1", "step": 1, "content": "ls", "kind": "tool_call"},
        },
    ),
    (
        PlanUpdateEvent(
            data=PlanUpdateData(
                plan_phases=[PhaseInfo(id="p1", title="T", status="done", expert_id="r")]
            )
        ),
        {
            "type": "plan_update",
            "data": {
                "plan_phases": [{"id": "p1", "title": "T", "status": "done", "expert_id": "r"}]
            },
        },
    ),
    (
        ExpertResultEvent(
            data=ExpertResultData(
                expert_id="r",
                expert_name="R",
                expert_color="c",
                content="Failed: x",
                phase_id="p1",
                status="failed",
            )
        ),
        {
            "type": "expert_result",
            "data": {
                "expert_id": "r",
                "expert_name": "R",
                "expert_color": "c",
                "content": "Failed: x",
                "phase_id": "p1",
                "status": "failed",
            },
        },
    ),
]


@pytest.mark.parametrize(("event", "wire"), DESIGN_SHAPES + EXTENDED)
def test_plan_and_team_events_serialise_to_the_wire_shapes(
    event: Any, wire: dict[str, Any]
) -> None:
    assert to_wire(event) == wire
    assert from_wire(wire) == event


def test_plan_and_team_events_refuse_unknown_keys_and_statuses() -> None:
    with pytest.raises(ValueError):
        from_wire({"type": "replanning", "data": {"reason": "x", "attempt": 1, "extra": 2}})
    with pytest.raises(ValueError):
        from_wire(
            {
                "type": "plan_update",
                "data": {"plan_phases": [{"id": "p", "title": "t", "status": "cancelled"}]},
            }
        )


# ----------------------------------------------------------------------------- plans


def test_json_is_found_bare_fenced_or_amid_prose() -> None:
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json('Here:\n```json\n{"a": 2}\n```\nDone.') == {"a": 2}
    assert extract_json('The plan is {"a": 3} as asked.') == {"a": 3}
    with pytest.raises(ReplyInvalid, match="empty"):
        extract_json("  ")
    with pytest.raises(ReplyInvalid, match="not a JSON object"):
        extract_json("{nope")


def _phase(phase_id: Any, **extra: Any) -> dict[str, Any]:
    return {"id": phase_id, "title": "T", "goal": "G", "produces": "P", **extra}


def test_plans_are_validated_with_specific_errors() -> None:
    plan = parse_plan(json.dumps({"phases": [_phase(1), _phase("p2", note="ignored")]}))
    assert [p.id for p in plan.phases] == ["1", "p2"]
    assert parse_plan(json.dumps([_phase("a"), _phase("b")])).phases[1].id == "b"
    cases = {
        json.dumps({"phases": [_phase("a")]}): "needs 2 to 8 phases",
        json.dumps({"phases": [_phase(str(i)) for i in range(9)]}): "at most 8 items",
        json.dumps({"phases": [_phase("a"), _phase("a")]}): "phase ids must be unique",
        json.dumps({"phases": [_phase("a"), {"id": "b", "title": "T"}]}): "phases.1.goal",
        json.dumps({"phases": [_phase("a"), _phase("has space")]}): "phases.1.id",
        json.dumps({"steps": []}): "phases: Field required",
    }
    for text, expected in cases.items():
        with pytest.raises(ReplyInvalid, match=expected):
            parse_plan(text)
    assert len(parse_plan(json.dumps({"phases": [_phase("a")]}), minimum=1).phases) == 1


def _team_phase(phase_id: str, expert: str, *deps: str) -> dict[str, Any]:
    return {"id": phase_id, "title": "T", "goal": "G", "expert": expert, "depends_on": list(deps)}


def test_team_plans_name_known_experts_and_acyclic_dependencies() -> None:
    text = json.dumps(
        {
            "phases": [
                _team_phase("a", "RESEARCHER"),
                {"id": "b", "title": "T", "goal": "G", "assignee": "Engineer"},
                _team_phase("c", "reviewer", "a", "b", "a"),
            ]
        }
    )
    plan = parse_team_plan(text, BUILTIN_TEAM)
    assert [(p.expert, p.depends_on) for p in plan.phases] == [
        ("researcher", []),
        ("engineer", []),
        ("reviewer", ["a", "b"]),
    ]
    bad = {
        "unknown expert 'bob' (experts: researcher, engineer, reviewer)": [_team_phase("a", "bob")],
        "depends on unknown phase 'z'": [_team_phase("a", "engineer", "z")],
        "cannot depend on itself": [_team_phase("a", "engineer", "a")],
        "cycle: a → b → c → a": [
            _team_phase("a", "engineer", "b"),
            _team_phase("b", "engineer", "c"),
            _team_phase("c", "engineer", "a"),
        ],
    }
    for expected, phases in bad.items():
        with pytest.raises(ReplyInvalid, match=re.escape(expected)):
            parse_team_plan(json.dumps({"phases": phases}), BUILTIN_TEAM)


# ----------------------------------------------------------------------------- rosters


def test_the_builtin_team_and_teams_from_the_config() -> None:
    builtin = resolve_team(Settings())
    assert builtin is BUILTIN_TEAM and builtin.lead == "engineer"
    assert [e.id for e in builtin.experts] == ["researcher", "engineer", "reviewer"]
    assert builtin.expert("researcher").tools == [
        "list_dir",
        "read_file",
        "find_files",
        "search_text",
    ]
    settings = Settings.model_validate(
        {
            "teams": {
                "duo": {
                    "experts": [
                        {"id": "x", "name": "X", "model": "fake/x"},
                        {"id": "y", "name": "Y", "color": "red", "tools": ["read_file"]},
                    ]
                },
                "default": {"lead": "solo", "experts": [{"id": "solo", "name": "Solo"}]},
                "broken": {"lead": "ghost", "experts": [{"id": "x", "name": "X"}]},
            }
        }
    )
    duo = resolve_team(settings, "duo")
    assert duo.lead == "x" and [e.color for e in duo.experts] == ["#4FC1FF", "red"]
    assert duo.expert("x").model == "fake/x" and duo.expert("y").tools == ["read_file"]
    assert resolve_team(settings).lead == "solo"  # a configured "default" replaces the built-in
    with pytest.raises(ModeError, match="unknown team 'nope' \\(teams: broken, default, duo\\)"):
        resolve_team(settings, "nope")
    with pytest.raises(ModeError, match="lead 'ghost' is not one of its experts"):
        resolve_team(settings, "broken")


def test_a_skill_routes_to_its_team() -> None:
    skill = parse_skill("---\nname: squad\nmode: team\nteam: duo\n---\nWork together.")
    routed = SimpleRouter(SkillSet(skills={"squad": skill})).route(
        "@squad fix it", resolve_agent(Settings())
    )
    assert routed.team == "duo" and routed.clean_content == "fix it"
    assert routed.execution_mode.value == "TEAM_COLLAB"


# ----------------------------------------------------------------------------- progress


async def test_progress_pieces_follow_the_steps_of_a_nested_run() -> None:
    sent: list[Event] = []

    async def emit(event: Event) -> None:
        sent.append(event)

    def make(content: str, step: int, kind: Any, call_id: str | None) -> Event:
        data = PlanStepData(phase_id="p", step=step, content=content, kind=kind, call_id=call_id)
        return PlanStepEvent(data=data)

    mapper = ProgressMapper(emit, make)
    call = ToolCallData(id="c1", name="read_file", arguments={"path": "a.md"})
    for event in [
        TokenEvent(content="Let "),  # the first piece of a step goes out at once
        TokenEvent(content="me "),
        TokenEvent(content="look."),
        ThinkingEvent(content="Let me look."),  # the relabel: not repeated
        StepEvent(data=CallStep(step=1, data=call)),
        StepEvent(
            data=ResultStep(
                step=1, data=ToolResultData(id="c1", name="read_file", output="x\ny", is_error=True)
            )
        ),
        TokenEvent(content="Done."),
        notice("max_steps", "Reached the limit."),
    ]:
        await mapper(event)
    await mapper.flush()
    progress = [
        (e.data.step, e.data.kind, e.data.content, e.data.call_id)
        for e in sent
        if isinstance(e, PlanStepEvent)
    ]
    assert progress == [
        (1, "text", "Let ", None),
        (1, "text", "me look.", None),
        (1, "tool_call", 'read_file {"path": "a.md"}', "c1"),
        (1, "tool_result", "read_file: error: x y", "c1"),
        (2, "text", "Done.", None),
        (2, "note", "Reached the limit.", None),
    ]
    assert [e.type for e in sent if not isinstance(e, PlanStepEvent)] == ["step", "step"]
