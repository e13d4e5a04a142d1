"""The offline demo model plans and runs a small team through ChatService, no provider."""

from __future__ import annotations

from tests.engine.conftest import Harness


async def test_the_demo_model_plans_and_carries_out_three_phases(harness: Harness) -> None:
    turn = await harness.turn("/plan add a --verbose flag", model="demo")
    assert turn.status == "completed"
    final_plan = [(p.id, p.status) for p in turn.of("plan_update")[-1].data.plan_phases]
    assert final_plan == [("p1", "done"), ("p2", "done"), ("p3", "done")]
    calls = [e.data.data.name for e in turn.of("step") if e.data.event_type == "tool_call"]
    assert calls == ["list_dir", "read_file"]
    steps = turn.of("plan_step")
    assert {e.data.phase_id for e in steps} == {"p1", "p2", "p3"}
    answer = turn.of("final_answer")[0].content
    assert "**Survey the workspace** (p1): done" in answer and "offline demo" in answer
    assert turn.text == answer and harness.fake.requests == []


async def test_the_demo_model_runs_a_team_with_a_dependent_review(harness: Harness) -> None:
    turn = await harness.turn("/team add a --verbose flag", model="demo")
    assert turn.status == "completed"
    formed = turn.of("team_formed")[0].data
    assert formed.lead_expert == "engineer"
    assert [(p["id"], p["expert_id"], p["depends_on"]) for p in formed.plan_phases] == [
        ("p1", "researcher", []),
        ("p2", "engineer", []),
        ("p3", "reviewer", ["p1", "p2"]),
    ]
    updates = [[p.status for p in e.data.plan_phases] for e in turn.of("plan_update")]
    assert updates[0] == ["running", "running", "pending"] and updates[-1] == ["done"] * 3
    done = [(e.data.expert_id, e.data.status) for e in turn.of("expert_result")]
    assert sorted(done[:2]) == [("engineer", "done"), ("researcher", "done")]
    assert done[2] == ("reviewer", "done")
    by_expert = {e.data.expert_id for e in turn.of("expert_step")}
    assert by_expert == {"researcher", "engineer", "reviewer"}
    synthesis = turn.of("team_synthesis")[0].data.content
    assert "by Reviewer — done" in synthesis and synthesis == turn.of("final_answer")[0].content
    assert turn.types[-1] == "result" and "team_dissolved" in turn.types
    assert harness.fake.requests == []
