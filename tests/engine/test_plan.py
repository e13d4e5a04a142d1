"""PLAN_EXEC end to end: the loopback fake provider, a real store, ChatService."""

from __future__ import annotations

import json
from typing import Any

from app.engine.cancel import CancellationToken
from app.engine.events import Event, from_wire, to_wire
from app.engine.human import Decision
from app.engine.modes.plan import STOPPED
from app.engine.skills import ExecutionMode
from tests.engine.conftest import Harness, ScriptedHuman, Turn
from tests.fakes.provider import Reply, Stall
from tests.fakes.scripts import openai_chunk


def plan_json(*ids: str) -> str:
    phases = [
        {"id": i, "title": f"Title {i}", "goal": f"Goal of {i}", "produces": f"Output of {i}"}
        for i in ids
    ]
    return json.dumps({"phases": phases})


def statuses(event: Any) -> list[tuple[str, str]]:
    return [(p.id, p.status) for p in event.data.plan_phases]


def without_tokens(turn: Turn) -> list[str]:
    return [kind for kind in turn.types if kind != "token"]


def text_steps_joined(turn: Turn) -> list[str]:
    """The kinds of events but tokens, each step's run of ``text`` progress pieces as one
    (how many pieces a step's text takes depends on how its tokens arrive)."""
    kinds: list[str] = []
    last: tuple[str, int] | None = None
    for event in turn.events:
        if event.type == "token":
            continue
        text = event.type == "plan_step" and event.data.kind == "text"
        key = (event.data.phase_id, event.data.step) if event.type == "plan_step" else None
        if not (text and key == last):
            kinds.append(event.type)
        last = key if text else None
    return kinds


async def test_a_plan_runs_its_phases_in_order_and_sums_up(harness: Harness) -> None:
    harness.script(
        harness.text(plan_json("p1", "p2")),
        harness.calls(("read_file", {"path": "README.md"}), text="Reading."),
        harness.text("The readme says hello."),
        harness.text("Phase two ", "done."),
        harness.text("All ", "done."),
    )
    turn = await harness.turn("/plan summarise the project")
    assert turn.status == "completed"
    assert text_steps_joined(turn) == [
        "notice",  # planning…
        "plan_update",
        "phase_started",
        "plan_update",
        "plan_step",  # "Reading."
        "step",
        "plan_step",  # → read_file
        "step",
        "plan_step",  # ← read_file
        "plan_step",  # the phase's answer text
        "phase_completed",
        "plan_update",
        "phase_started",
        "plan_update",
        "plan_step",  # the step's text (its first piece goes out at once, the rest later)
        "phase_completed",
        "plan_update",
        "final_answer",
        "usage",
        "result",
    ]
    updates = turn.of("plan_update")
    assert statuses(updates[0]) == [("p1", "pending"), ("p2", "pending")]
    assert statuses(updates[1]) == [("p1", "running"), ("p2", "pending")]
    assert statuses(updates[-1]) == [("p1", "done"), ("p2", "done")]
    started = turn.of("phase_started")
    assert [(e.data.phase_id, e.data.index, e.data.title) for e in started] == [
        ("p1", 0, "Title p1"),
        ("p2", 1, "Title p2"),
    ]
    steps = [
        (e.data.phase_id, e.data.step, e.data.kind, e.data.content) for e in turn.of("plan_step")
    ]
    assert steps[:4] == [
        ("p1", 1, "text", "Reading."),
        ("p1", 1, "tool_call", 'read_file {"path": "README.md"}'),
        ("p1", 1, "tool_result", "read_file: 1 # Demo project 2 Hello from the readme."),
        ("p1", 2, "text", "The readme says hello."),
    ]
    phase_two = [e.data.content for e in turn.of("plan_step") if e.data.phase_id == "p2"]
    assert "".join(phase_two) == "Phase two done."
    completed = turn.of("phase_completed")
    assert [e.data.result for e in completed] == ["The readme says hello.", "Phase two done."]
    # Only the synthesis streams as the answer.
    assert turn.text == "All done." and turn.of("final_answer")[0].content == "All done."

    planner = harness.request(0)
    assert planner["messages"][0]["role"] == "system" and not planner.get("tools")
    assert "You are the planner" in planner["messages"][0]["content"]
    assert planner["messages"][-1] == {"role": "user", "content": "summarise the project"}
    phase_one = harness.request(1)
    tools = {t["function"]["name"] for t in phase_one["tools"]}
    assert {"read_file", "shell", "finish_phase"} <= tools
    assert "Your phase: p1 — Title p1" in phase_one["messages"][-1]["content"]
    phase_two = harness.request(3)["messages"][-1]["content"]
    assert "The readme says hello." in phase_two and "Your phase: p2" in phase_two
    synthesis = harness.request(4)["messages"][-1]["content"]
    assert "## p1 — Title p1 (done)" in synthesis and "Phase two done." in synthesis

    # The conversation keeps the question and the answer; the phases live in their threads.
    history = await harness.store.get_chat_messages(harness.session_id)
    assert [(m.role, m.content) for m in history] == [
        ("user", "/plan summarise the project"),
        ("assistant", "All done."),
    ]
    stored = await harness.store.get_messages(harness.session_id)
    threads = [(m.thread, m.role) for m in stored]
    assert ("plan", "assistant") in threads and ("phase:p1", "tool") in threads
    assert ("phase:p2", "assistant") in threads


async def test_a_failed_phase_is_replanned_and_the_new_plan_runs(harness: Harness) -> None:
    harness.script(
        harness.text(plan_json("p1", "p2")),
        harness.calls(("finish_phase", {"status": "failed", "summary": "No access to the API."})),
        harness.text(plan_json("p2", "alt")),  # p2 is taken: it becomes p2-r1
        harness.text("Worked around it."),
        harness.text("Alternative done."),
        harness.text("Summary."),
    )
    turn = await harness.turn("ship it", mode=ExecutionMode.PLAN_EXEC)
    assert turn.status == "completed"
    failed = turn.of("phase_failed")
    assert [(e.data.phase_id, e.data.error) for e in failed] == [("p1", "No access to the API.")]
    (replanning,) = turn.of("replanning")
    assert replanning.data.attempt == 1 and "p1" in replanning.data.reason
    assert "No access to the API." in replanning.data.reason
    kinds = without_tokens(turn)
    assert kinds.index("phase_failed") < kinds.index("replanning") < kinds.index("final_answer")
    final_plan = statuses(turn.of("plan_update")[-1])
    assert final_plan == [("p1", "failed"), ("p2-r1", "done"), ("alt", "done")]
    # The replanner saw what failed and what exists; the finish_phase call is not a step.
    replan = harness.request(2)["messages"][-1]["content"]
    assert "No access to the API." in replan and "new ids (not p1, p2)" in replan
    assert all(e.data.data.name != "finish_phase" for e in turn.of("step"))
    answer = turn.of("final_answer")[0].content
    assert answer.startswith("Summary.") and "p1 “Title p1” failed: No access to the API." in answer
    assert turn.text == answer  # the note about what failed streams too


async def test_without_replans_left_the_rest_is_skipped_and_said(make_harness: Any) -> None:
    harness = await make_harness(engine={"max_replans": 0})
    harness.script(
        harness.text(plan_json("p1", "p2", "p3")),
        harness.text("First done."),
        Reply.json(500, {"error": {"message": "the upstream model crashed"}}),
        harness.text("Partial summary."),
    )
    turn = await harness.turn("/plan do three things")
    assert turn.status == "completed" and not turn.of("replanning")
    (failed,) = turn.of("phase_failed")
    assert failed.data.phase_id == "p2" and "crashed" in failed.data.error
    assert statuses(turn.of("plan_update")[-1]) == [
        ("p1", "done"),
        ("p2", "failed"),
        ("p3", "skipped"),
    ]
    answer = turn.of("final_answer")[0].content
    assert "**Not done:**" in answer and "p3 “Title p3” was skipped" in answer
    assert len(harness.fake.requests) == 4


async def test_a_failing_replanner_uses_up_its_attempt_and_stops(make_harness: Any) -> None:
    harness = await make_harness(engine={"max_replans": 2})
    harness.script(
        harness.text(plan_json("p1", "p2")),
        harness.calls(("finish_phase", {"status": "failed", "summary": "blocked"})),
        harness.text("not json"),
        harness.text("still not json"),
        harness.text("Summary."),
    )
    turn = await harness.turn("/plan x")
    assert [e.data.attempt for e in turn.of("replanning")] == [1]
    codes = [e.data.code for e in turn.of("notice")]
    assert codes == ["planning", "plan_repair", "replan_failed"]
    assert statuses(turn.of("plan_update")[-1]) == [("p1", "failed"), ("p2", "skipped")]
    assert turn.status == "completed"


async def test_an_invalid_plan_is_repaired_once(harness: Harness) -> None:
    harness.script(
        harness.text("Sure! First I would look around, then fix it."),
        harness.text("```json\n" + plan_json("a", "b") + "\n```"),
        harness.text("A."),
        harness.text("B."),
        harness.text("Done."),
    )
    turn = await harness.turn("/plan fix it")
    assert turn.status == "completed"
    (repair,) = [e for e in turn.of("notice") if e.data.code == "plan_repair"]
    assert "not a JSON object" in repair.data.message
    second = harness.request(1)["messages"]
    assert second[-2] == {
        "role": "assistant",
        "content": "Sure! First I would look around, then fix it.",
    }
    assert "could not be used: the reply is not a JSON object" in second[-1]["content"]
    assert [e.data.phase_id for e in turn.of("phase_completed")] == ["a", "b"]


async def test_a_plan_still_invalid_after_the_repair_is_refused_clearly(harness: Harness) -> None:
    harness.script(
        harness.text(plan_json("only")),  # one phase: too few
        harness.text(json.dumps({"phases": [{"id": "a", "title": "A"}, {"id": "b"}]})),
    )
    turn = await harness.turn("/plan fix it")
    assert turn.status == "error" and not turn.of("final_answer")
    first = turn.of("notice")[1].data.message
    assert "needs 2 to 8 phases" in first
    message = turn.of("error")[0].data.message
    assert message.startswith("The planner did not return a valid plan, even after one repair")
    assert "phases.0.goal: Field required" in message and len(message) <= 200
    assert not turn.of("plan_update")
    stored = await harness.store.get_chat_messages(harness.session_id)
    assert [m.content for m in stored] == ["/plan fix it"]  # the person's message is kept


async def test_cancel_during_a_phase_stops_it_and_marks_the_plan(harness: Harness) -> None:
    harness.script(
        harness.text(plan_json("p1", "p2")),
        Reply(body=[openai_chunk({"role": "assistant", "content": "Working on"}), Stall()]),
    )
    token = CancellationToken()

    def cancel_when_working(event: Event) -> None:
        if event.type == "plan_step":
            token.cancel()

    turn = await harness.turn("/plan two things", cancel=token, on_event=cancel_when_working)
    assert [e.data.content for e in turn.of("plan_step")] == ["Working on"]
    assert turn.status == "cancelled" and not turn.of("final_answer")
    (failed,) = turn.of("phase_failed")
    assert (failed.data.phase_id, failed.data.error) == ("p1", STOPPED)
    assert statuses(turn.of("plan_update")[-1]) == [("p1", "failed"), ("p2", "skipped")]
    assert without_tokens(turn)[-3:] == ["plan_update", "usage", "result"]
    await harness.fake.wait_disconnect()
    phase = await harness.store.get_messages(harness.session_id, thread="phase:p1")
    assert [(m.content, m.status) for m in phase] == [("Working on", "cancelled")]
    assert len(harness.fake.requests) == 2


async def test_approvals_and_questions_inside_a_phase_work_as_in_react(harness: Harness) -> None:
    harness.script(
        harness.text(plan_json("p1", "p2")),
        harness.calls(("write_file", {"path": "notes.md", "content": "hi\n"})),
        harness.text("Wrote notes.md."),
        harness.calls(("ask_human", {"question": "Which colour?"})),
        harness.text("Blue it is."),
        harness.text("Done."),
    )
    human = ScriptedHuman(decisions=[Decision(action="approve")], answers=["blue"])
    turn = await harness.turn("/plan write and ask", human=human)
    assert turn.status == "completed"
    assert (harness.workspace / "notes.md").read_text() == "hi\n"
    request, result = turn.of("confirmation_request")[0], turn.of("confirmation_result")[0]
    assert request.data.confirmation_id == result.data.confirmation_id and result.data.approved
    assert turn.of("ask_human")[0].question == "Which colour?"
    assert [q.question for q in human.questions] == ["Which colour?"]
    assert "blue" in json.dumps(harness.request(4))  # the answer reached the model


async def test_plan_events_are_stored_and_a_past_plan_can_be_rebuilt(harness: Harness) -> None:
    harness.script(
        harness.text(plan_json("p1", "p2")),
        harness.calls(("finish_phase", {"status": "failed", "summary": "nope"})),
        harness.text(plan_json("p3")),
        harness.text("Three."),
        harness.text("Summary."),
    )
    seen: list[Event] = []
    turn = await harness.turn("/plan x", on_event=seen.append)
    logged = await harness.store.get_events(harness.session_id)
    rebuilt = [from_wire({"type": e.type, **e.data}) for e in logged]
    # Everything but streamed text is in the log, in the order the caller saw it.
    expected = [e for e in turn.events if e.type not in ("token", "thinking", "final_answer")]
    assert [to_wire(e) for e in rebuilt] == [to_wire(e) for e in expected]
    last_plan = [e for e in rebuilt if e.type == "plan_update"][-1]
    assert statuses(last_plan) == [("p1", "failed"), ("p3", "done")]
    assert {e.type for e in rebuilt} >= {
        "plan_update",
        "phase_started",
        "phase_completed",
        "phase_failed",
        "replanning",
        "plan_step",
    }


async def test_plan_and_team_need_a_task(harness: Harness) -> None:
    for command in ("/plan", "/team   "):
        turn = await harness.turn(command)
        assert turn.status == "completed" and turn.of("notice")[0].data.code == "usage"
        assert command.strip() + " " in turn.of("final_answer")[0].content.replace("`", " ")
    assert harness.fake.requests == []


async def test_a_phase_that_reaches_its_step_limit_fails_with_what_it_had(
    make_harness: Any,
) -> None:
    harness = await make_harness(engine={"max_steps": 2, "max_replans": 0})
    harness.script(
        harness.text(plan_json("p1", "p2")),
        harness.calls(("read_file", {"path": "README.md"})),
        harness.text("Half of it."),
        harness.text("Summary."),
    )
    turn = await harness.turn("/plan x")
    (failed,) = turn.of("phase_failed")
    assert failed.data.error == "reached its limit of 2 steps"
    assert not harness.request(2).get("tools")  # the last step is sent without tools
    notes = [e.data for e in turn.of("plan_step") if e.data.kind == "note"]
    assert notes and "limit of 2 steps" in notes[0].content
    synthesis = harness.request(3)["messages"][-1]["content"]
    assert "(failed)\nreached its limit of 2 steps\nPartial result:\nHalf of it." in synthesis
    assert turn.status == "completed"
