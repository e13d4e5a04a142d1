"""TEAM_COLLAB end to end: each expert talks to its own loopback fake provider, so the
replies of concurrent experts cannot be mixed up and the test decides who is slow."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from app.engine.cancel import CancellationToken
from app.engine.events import Event, from_wire, to_wire
from app.engine.human import ConfirmationRequest, Decision
from app.engine.modes.team import STOPPED
from app.engine.router import SimpleRouter
from app.engine.skills import ExecutionMode, SkillSet, parse_skill
from tests.engine.conftest import Harness, ScriptedHuman, Turn
from tests.fakes.provider import Gate, Reply, Stall
from tests.fakes.scripts import openai_chunk, openai_text_events

FAKES = ("fa", "fb", "fc")


def roster(a_tools: list[str] | None = ["read_file"]) -> dict[str, Any]:  # noqa: B006
    return {
        "default": {
            "lead": "a",
            "experts": [
                {
                    "id": "a",
                    "name": "Alice",
                    "role": "Finds facts.",
                    "model": "fa/m",
                    "tools": a_tools,
                },
                {"id": "b", "name": "Bob", "role": "Builds things.", "model": "fb/m"},
                {"id": "c", "name": "Cleo", "role": "Reviews.", "model": "fc/m", "color": "red"},
            ],
        }
    }


def lead_plan(**goals: str) -> str:
    """a1 (Alice) and b1 (Bob) are independent; c1 (Cleo) needs both."""
    phases = [
        {"id": "a1", "title": "Facts", "goal": goals.get("a1", "find facts"), "expert": "a"},
        {"id": "b1", "title": "Build", "goal": goals.get("b1", "build it"), "expert": "Bob"},
        {
            "id": "c1",
            "title": "Review",
            "goal": "review both",
            "assignee": "C",
            "depends_on": ["a1", "b1"],
        },
    ]
    return json.dumps({"phases": phases})


@pytest.fixture
async def team(make_harness: Any) -> Harness:
    made: Harness = await make_harness(extra_fakes=FAKES, teams=roster())
    return made


def statuses(event: Any) -> list[tuple[str, str]]:
    return [(p.id, p.status) for p in event.data.plan_phases]


def results(turn: Turn) -> list[tuple[str, str | None, str]]:
    return [(e.data.expert_id, e.data.status, e.data.content) for e in turn.of("expert_result")]


async def test_two_experts_work_at_once_and_the_third_waits_for_both(team: Harness) -> None:
    gate = Gate()
    alice = openai_text_events(["Alice ", "found facts."], usage=(5, 3))
    team.script(team.text(lead_plan()), team.text("Team answer."))
    team.fakes["fa"].script(Reply(body=[*alice[:2], gate, *alice[2:]]))
    team.fakes["fb"].script(team.text("Bob built it."))
    team.fakes["fc"].script(team.text("Cleo approves."))

    def open_when_bob_is_done(event: Event) -> None:
        # Alice is held back until Bob has finished: only possible if they run at once.
        if event.type == "expert_result" and event.data.expert_id == "b":
            gate.open()

    async with asyncio.timeout(10):
        turn = await team.turn("/team ship it", on_event=open_when_bob_is_done)
    assert turn.status == "completed"
    assert results(turn) == [
        ("b", "done", "Bob built it."),
        ("a", "done", "Alice found facts."),
        ("c", "done", "Cleo approves."),
    ]
    formed = turn.of("team_formed")[0].data
    assert formed.status == "active" and formed.lead_expert == "a"
    assert [(e.id, e.name, e.color) for e in formed.experts] == [
        ("a", "Alice", "#4FC1FF"),
        ("b", "Bob", "#73C991"),
        ("c", "Cleo", "red"),
    ]
    assert formed.plan_phases == [
        {"id": "a1", "title": "Facts", "status": "pending", "expert_id": "a", "depends_on": []},
        {"id": "b1", "title": "Build", "status": "pending", "expert_id": "b", "depends_on": []},
        {
            "id": "c1",
            "title": "Review",
            "status": "pending",
            "expert_id": "c",
            "depends_on": ["a1", "b1"],
        },
    ]
    updates = [statuses(e) for e in turn.of("plan_update")]
    assert updates[0] == [("a1", "running"), ("b1", "running"), ("c1", "pending")]
    assert [("a1", "done"), ("b1", "done"), ("c1", "running")] in updates
    assert updates[-1] == [("a1", "done"), ("b1", "done"), ("c1", "done")]
    assert {p.expert_id for p in turn.of("plan_update")[0].data.plan_phases} == {"a", "b", "c"}
    first_alice = next(e.data for e in turn.of("expert_step") if e.data.expert_id == "a")
    assert (first_alice.content, first_alice.step, first_alice.phase_id) == ("Alice ", 1, "a1")
    assert (first_alice.expert_name, first_alice.expert_color, first_alice.kind) == (
        "Alice",
        "#4FC1FF",
        "text",
    )

    # Each expert got its own prompt, tools and model; Cleo saw both results.
    alice_request = team.fakes["fa"].requests[0].json()
    assert alice_request["model"] == "m"
    assert (
        "You are Alice, one expert in a team led by Alice. Finds facts."
        in (alice_request["messages"][0]["content"])
    )
    assert {t["function"]["name"] for t in alice_request["tools"]} == {"read_file", "finish_phase"}
    bob_tools = {t["function"]["name"] for t in team.fakes["fb"].requests[0].json()["tools"]}
    assert {"shell", "write_file", "finish_phase"} <= bob_tools
    cleo = team.fakes["fc"].requests[0].json()["messages"][-1]["content"]
    assert "Alice found facts." in cleo and "Bob built it." in cleo
    lead = team.request(0)
    assert not lead.get("tools") and "Expert ids: a, b, c" in lead["messages"][0]["content"]

    # The synthesis is the answer; the team is dissolved last.
    kinds = [kind for kind in turn.types if kind != "token"]
    end = kinds.index("team_synthesis")
    assert kinds[end:] == ["team_synthesis", "final_answer", "team_dissolved"] + ["usage"] * 4 + [
        "result"
    ]
    assert turn.of("team_synthesis")[0].data.content == "Team answer." == turn.text
    assert turn.of("final_answer")[0].content == "Team answer."
    assert turn.of("team_dissolved")[0].data.team_id == formed.team_id
    assert {e.data.model for e in turn.of("usage")} == {"fake/test-model", "fa/m", "fb/m", "fc/m"}
    # Each expert's result says what its own calls used; the turn's usage still counts them.
    (alice_result,) = [e.data for e in turn.of("expert_result") if e.data.expert_id == "a"]
    assert alice_result.tokens == 5 + 3
    (alice_usage,) = [e.data for e in turn.of("usage") if e.data.model == "fa/m"]
    assert (alice_usage.input_tokens, alice_usage.output_tokens) == (5, 3)
    history = await team.store.get_chat_messages(team.session_id)
    assert [(m.role, m.content) for m in history] == [
        ("user", "/team ship it"),
        ("assistant", "Team answer."),
    ]
    threads = {m.thread for m in await team.store.get_messages(team.session_id)}
    assert {"team:lead", "expert:a:a1", "expert:b:b1", "expert:c:c1", "main"} <= threads


async def test_a_failing_expert_is_reported_and_what_needs_it_is_skipped(team: Harness) -> None:
    team.script(team.text(lead_plan()), team.text("Only the facts are in."))
    team.fakes["fa"].script(team.text("Facts."))
    team.fakes["fb"].script(Reply.json(500, {"error": {"message": "builder model is down"}}))
    turn = await team.turn("ship it", mode=ExecutionMode.TEAM_COLLAB)
    assert turn.status == "completed"
    outcome = {expert: (status, content) for expert, status, content in results(turn)}
    assert outcome["a"] == ("done", "Facts.")
    assert outcome["b"][0] == "failed" and outcome["b"][1].startswith("Failed: ")
    assert "builder model is down" in outcome["b"][1] and "c" not in outcome
    assert statuses(turn.of("plan_update")[-1]) == [
        ("a1", "done"),
        ("b1", "failed"),
        ("c1", "skipped"),
    ]
    assert team.fakes["fc"].requests == []
    answer = turn.of("final_answer")[0].content
    assert answer.startswith("Only the facts are in.\n\n**Missing:**")
    assert "b1 “Build” (Bob) failed" in answer
    assert "c1 “Review” (Cleo) was skipped: it needs b1, which did not finish." in answer
    synthesis = team.request(1)["messages"][-1]["content"]
    assert "(by Bob, failed)" in synthesis and "(by Cleo, skipped)" in synthesis


async def test_cancel_stops_every_expert(team: Harness) -> None:
    team.script(team.text(lead_plan()))
    for name in ("fa", "fb"):
        team.fakes[name].script(
            Reply(body=[openai_chunk({"role": "assistant", "content": f"{name} working"}), Stall()])
        )
    token = CancellationToken()
    working: set[str] = set()

    def cancel_when_both_work(event: Event) -> None:
        if event.type == "expert_step":
            working.add(event.data.expert_id)
            if working == {"a", "b"}:
                token.cancel()

    async with asyncio.timeout(10):
        turn = await team.turn("/team ship it", cancel=token, on_event=cancel_when_both_work)
        await team.fakes["fa"].wait_disconnect()
        await team.fakes["fb"].wait_disconnect()
    assert turn.status == "cancelled" and not turn.of("final_answer")
    assert sorted(results(turn)) == [
        ("a", "failed", f"Failed: {STOPPED}"),
        ("b", "failed", f"Failed: {STOPPED}"),
    ]
    assert statuses(turn.of("plan_update")[-1]) == [
        ("a1", "failed"),
        ("b1", "failed"),
        ("c1", "skipped"),
    ]
    kinds = [kind for kind in turn.types if kind != "token"]
    assert kinds[-3:] == ["team_dissolved", "usage", "result"]
    stored = await team.store.get_messages(team.session_id)
    assert {(m.thread, m.status) for m in stored if m.role == "assistant"} >= {
        ("expert:a:a1", "cancelled"),
        ("expert:b:b1", "cancelled"),
    }


class SlowHuman(ScriptedHuman):
    """Approves after a few loop turns, so concurrent requests would overlap if allowed."""

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        self.requests.append(request)
        for _ in range(5):
            await asyncio.sleep(0)
        return Decision(action="approve")


async def test_approvals_of_concurrent_experts_are_asked_one_at_a_time(
    make_harness: Any,
) -> None:
    team = await make_harness(extra_fakes=FAKES, teams=roster(a_tools=None))
    team.script(team.text(lead_plan()), team.text("Both files written."))
    for name, path in (("fa", "a.txt"), ("fb", "b.txt")):
        team.fakes[name].script(
            team.calls(("write_file", {"path": path, "content": name})),
            team.text(f"Wrote {path}."),
        )
    team.fakes["fc"].script(team.text("Looks fine."))
    human = SlowHuman()
    turn = await team.turn("/team write two files", human=human)
    assert turn.status == "completed"
    assert (team.workspace / "a.txt").read_text() == "fa"
    assert (team.workspace / "b.txt").read_text() == "fb"
    asked = [
        (e.type, e.data.confirmation_id)
        for e in turn.events
        if e.type in ("confirmation_request", "confirmation_result")
    ]
    assert [kind for kind, _ in asked] == [
        "confirmation_request",
        "confirmation_result",
        "confirmation_request",
        "confirmation_result",
    ]
    assert asked[0][1] == asked[1][1] and asked[2][1] == asked[3][1] != asked[0][1]
    named = {e.data.expert_name for e in turn.of("confirmation_request")}
    assert named == {"Alice", "Bob"} == {r.expert_name for r in human.requests}


async def test_an_invalid_lead_plan_is_repaired_with_the_roster(team: Harness) -> None:
    bad = json.dumps({"phases": [{"id": "x", "title": "X", "goal": "g", "expert": "zed"}]})
    good = json.dumps({"phases": [{"id": "x", "title": "X", "goal": "g", "expert": "alice"}]})
    team.script(team.text(bad), team.text(good), team.text("Done."))
    team.fakes["fa"].script(team.text("Did x."))
    turn = await team.turn("/team x")
    assert turn.status == "completed"
    repair = next(e for e in turn.of("notice") if e.data.code == "plan_repair")
    assert "unknown expert 'zed' (experts: a, b, c)" in repair.data.message
    assert "unknown expert 'zed'" in team.request(1)["messages"][-1]["content"]
    assert results(turn) == [("a", "done", "Did x.")]


async def test_a_lead_plan_with_a_cycle_is_refused_after_the_repair(team: Harness) -> None:
    cyclic = json.dumps(
        {
            "phases": [
                {"id": "p", "title": "P", "goal": "g", "expert": "a", "depends_on": ["q"]},
                {"id": "q", "title": "Q", "goal": "g", "expert": "b", "depends_on": ["p"]},
            ]
        }
    )
    team.script(team.text(cyclic), team.text(cyclic))
    turn = await team.turn("/team x")
    assert turn.status == "error" and not turn.of("team_formed")
    assert not turn.of("team_dissolved")
    message = turn.of("error")[0].data.message
    assert message.startswith("The team lead did not return a valid plan")
    assert "cycle: p → q → p" in message


async def test_a_skill_names_its_team_and_an_unknown_team_is_a_clear_error(team: Harness) -> None:
    skills = SkillSet(
        skills={
            "squad": parse_skill("---\nname: squad\nmode: team\nteam: nope\n---\nWork together.")
        }
    )
    team.service.router = SimpleRouter(skills)
    turn = await team.turn("@squad do it")
    assert turn.types == ["skill_match", "error", "result"]
    assert turn.of("error")[0].data.message == "unknown team 'nope' (teams: default)"
    assert team.fake.requests == []


async def test_team_events_are_stored_and_a_past_team_can_be_rebuilt(team: Harness) -> None:
    team.script(team.text(lead_plan()), team.text("Answer."))
    team.fakes["fa"].script(team.calls(("read_file", {"path": "README.md"})), team.text("A."))
    team.fakes["fb"].script(team.text("B."))
    team.fakes["fc"].script(team.text("C."))
    turn = await team.turn("/team review")
    logged = await team.store.get_events(team.session_id)
    rebuilt = [from_wire({"type": e.type, **e.data}) for e in logged]
    expected = [e for e in turn.events if e.type not in ("token", "thinking", "final_answer")]
    assert [to_wire(e) for e in rebuilt] == [to_wire(e) for e in expected]
    formed = next(e for e in rebuilt if e.type == "team_formed")
    assert [e.id for e in formed.data.experts] == ["a", "b", "c"]
    assert statuses([e for e in rebuilt if e.type == "plan_update"][-1]) == [
        ("a1", "done"),
        ("b1", "done"),
        ("c1", "done"),
    ]
    kinds = [e.type for e in rebuilt]
    assert kinds.index("team_synthesis") < kinds.index("team_dissolved") < kinds.index("result")
    tool_steps = [e for e in rebuilt if e.type == "expert_step" and e.data.kind == "tool_call"]
    assert [(e.data.expert_id, e.data.content) for e in tool_steps] == [
        ("a", 'read_file {"path": "README.md"}')
    ]


async def test_stopping_while_one_expert_waits_for_approval_asks_nobody_else(
    make_harness: Any,
) -> None:
    team = await make_harness(extra_fakes=FAKES, teams=roster(a_tools=None))
    team.script(team.text(lead_plan()))
    for name, path in (("fa", "a.txt"), ("fb", "b.txt")):
        team.fakes[name].script(team.calls(("write_file", {"path": path, "content": name})))
    token = CancellationToken()

    def stop_at_the_first_question(event: Event) -> None:
        if event.type == "confirmation_request":
            token.cancel()

    human = ScriptedHuman(absent=True)
    async with asyncio.timeout(10):
        turn = await team.turn(
            "/team x", human=human, cancel=token, on_event=stop_at_the_first_question
        )
    assert turn.status == "cancelled"
    assert len(turn.of("confirmation_request")) == 1 == len(human.requests)
    (decided,) = turn.of("confirmation_result")
    assert decided.data.decider == "cancelled" and not decided.data.approved
    outputs = [r.output for r in turn.tool_results()]
    assert len(outputs) == 2 and all(o.startswith("Not run") for o in outputs)
    assert not (team.workspace / "a.txt").exists() and not (team.workspace / "b.txt").exists()
    assert [kind for kind in turn.types if kind != "usage"][-2:] == ["team_dissolved", "result"]
