"""One turn end to end through ChatService: answers, tool loops, errors, limits, persistence."""

from __future__ import annotations

from app.engine.events import from_wire, to_wire
from app.engine.react import LAST_STEP_NOTE
from app.engine.skills import ExecutionMode
from app.engine.turn import EMPTY_REPLY_TEXT
from tests.engine.conftest import Harness
from tests.fakes.provider import Reply


def _runs(types: list[str]) -> list[str]:
    """``types`` with each run of tokens as one (how many token events a reply takes depends
    on how its pieces arrive: the text and the order are what count)."""
    return [kind for i, kind in enumerate(types) if kind != "token" or types[i - 1 : i] != [kind]]


async def test_a_plain_answer_streams_and_is_saved(harness: Harness) -> None:
    harness.script(harness.text("Hello", " there", "!"))
    turn = await harness.turn("Say hello to the team")
    assert _runs(turn.types) == ["token", "final_answer", "usage", "result"]
    assert turn.text == "Hello there!" and turn.of("final_answer")[0].content == "Hello there!"
    assert turn.status == "completed"
    usage = turn.of("usage")[0].data
    assert (usage.input_tokens, usage.output_tokens, usage.model) == (11, 7, "fake/test-model")
    messages = await harness.store.get_messages(harness.session_id)
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "Say hello to the team", "complete"),
        ("assistant", "Hello there!", "complete"),
    ]
    assert messages[1].model == "fake/test-model" and messages[1].usage == {
        "input_tokens": 11,
        "output_tokens": 7,
    }
    body = harness.request(0)
    assert body["messages"][-1] == {"role": "user", "content": "Say hello to the team"}
    assert {tool["function"]["name"] for tool in body["tools"]} >= {"read_file", "shell"}


async def test_a_tool_call_then_an_answer(harness: Harness) -> None:
    harness.script(
        harness.calls(("read_file", {"path": "README.md"}), text="Let me read it."),
        harness.text("The readme says hello."),
    )
    turn = await harness.turn("What does the readme say?")
    assert turn.types == [
        "token",
        "thinking",
        "step",
        "step",
        "token",
        "final_answer",
        "usage",
        "result",
    ]
    assert turn.of("thinking")[0].content == "Let me read it."  # the relabel
    call, result = (e.data for e in turn.of("step"))
    assert (call.event_type, call.step, call.data.name) == ("tool_call", 1, "read_file")
    assert (result.event_type, result.step) == ("tool_result", 1)
    assert "Hello from the readme." in result.data.output and not result.data.is_error
    second = harness.request(1)["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "read_file"
    assert second[-1]["role"] == "tool" and "Hello from the readme." in second[-1]["content"]
    stored = await harness.store.get_messages(harness.session_id)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[1].tool_calls[0].name == "read_file" and stored[1].content == "Let me read it."
    events = await harness.store.get_events(harness.session_id)
    assert [e.type for e in events] == ["step", "step", "usage", "result"]
    # What is logged is exactly the wire shape.
    for event in events:
        assert from_wire({"type": event.type, **event.data}).type == event.type
    assert to_wire(turn.of("result")[0]) == {"type": "result", "data": {"status": "completed"}}


async def test_several_calls_in_one_step_answer_in_call_order(harness: Harness) -> None:
    harness.script(
        harness.calls(
            ("list_dir", {"path": "src"}),
            ("read_file", {"path": "src/app.py"}),
            ("search_text", {"pattern": "hello", "path": "."}),
        ),
        harness.text("Done."),
    )
    turn = await harness.turn("Look around")
    results = turn.tool_results()
    assert [r.name for r in results] == ["list_dir", "read_file", "search_text"]
    assert "app.py" in results[0].output and "print('hi')" in results[1].output
    tool_messages = harness.request(1)["messages"][-3:]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_0lis", "call_1rea", "call_2sea"]


async def test_bad_calls_become_tool_errors_not_crashes(harness: Harness) -> None:
    harness.script(
        harness.calls(
            ("no_such_tool", {"x": 1}),
            ("read_file", {"path": 42}),
            ("read_file", {"path": "../outside.txt"}),
        ),
        harness.text("Sorry."),
    )
    turn = await harness.turn("Break things")
    results = turn.tool_results()
    assert all(r.is_error for r in results)
    assert "There is no tool called `no_such_tool`" in results[0].output
    assert "read_file" in results[0].output  # lists the tools there are
    assert "path" in results[1].output
    assert "outside" in results[2].output.lower() or "workspace" in results[2].output.lower()
    assert turn.status == "completed"


async def test_an_empty_reply_gets_the_fallback_text(harness: Harness) -> None:
    harness.script(harness.text())
    turn = await harness.turn("Anything?")
    assert turn.of("final_answer")[0].content == EMPTY_REPLY_TEXT
    stored = await harness.store.get_messages(harness.session_id)
    assert stored[-1].content == EMPTY_REPLY_TEXT


async def test_max_steps_asks_for_an_answer_then_stops(make_harness) -> None:  # type: ignore[no-untyped-def]
    harness: Harness = await make_harness(engine={"max_steps": 3})
    harness.script(
        harness.calls(("list_dir", {"path": "."})),
        harness.calls(("read_file", {"path": "README.md"})),
        harness.calls(("list_dir", {"path": "src"})),  # made anyway on the tool-less last step
    )
    turn = await harness.turn("Keep going forever")
    assert turn.status == "max_steps"
    last_request = harness.request(2)
    assert "tools" not in last_request or not last_request["tools"]
    assert LAST_STEP_NOTE in last_request["messages"][0]["content"]
    answer = turn.of("final_answer")[0].content
    assert answer.startswith("Stopped after 3 steps") and "list_dir" in answer
    history = await harness.store.get_chat_messages(harness.session_id)
    assert not any(h.synthetic for h in history)  # every call got a real result row


async def test_the_same_call_three_times_is_stopped_as_a_loop(harness: Harness) -> None:
    same = ("list_dir", {"path": "."})
    harness.script(harness.calls(same), harness.calls(same), harness.calls(same))
    turn = await harness.turn("List, list, list")
    assert turn.status == "loop_stopped"
    assert len(harness.fake.requests) == 3
    results = turn.tool_results()
    assert [r.is_error for r in results] == [False, False, True]
    assert "repeated" in turn.of("final_answer")[0].content


async def test_a_greeting_is_a_direct_call_without_tools(harness: Harness) -> None:
    harness.script(harness.text("Hi! How can I help?"))
    turn = await harness.turn("Hello!")
    assert turn.status == "completed"
    assert not harness.request(0).get("tools")


async def test_skills_route_and_unknown_skills_answer_locally(harness: Harness) -> None:
    harness.script(harness.text("Looks fine."))
    turn = await harness.turn("@rev check src/app.py")
    match = turn.of("skill_match")[0].data
    assert (match.skill, match.method, match.confidence) == ("review", "unique_prefix", 1.0)
    body = harness.request(0)
    assert body["messages"][-1]["content"] == "check src/app.py"
    assert "careful senior reviewer" in body["messages"][0]["content"]
    assert {t["function"]["name"] for t in body["tools"]} == {
        "list_dir",
        "read_file",
        "find_files",
        "search_text",
    }
    local = await harness.turn("@nonsense do it")
    assert len(harness.fake.requests) == 1  # no model call
    assert "@review" in local.of("final_answer")[0].content and local.status == "completed"
    # Saved as the reference saves it: a routed message without its prefix (the logged
    # skill_match of its turn names the skill); an unrouted one as typed.
    stored = [m for m in await harness.store.get_messages(harness.session_id) if m.role == "user"]
    assert [m.content for m in stored] == ["check src/app.py", "@nonsense do it"]
    logged = await harness.store.get_events(harness.session_id, types=["skill_match"])
    assert [(e.turn_id, e.data["data"]["skill"]) for e in logged] == [(stored[0].turn_id, "review")]


async def test_rewoo_and_reflexion_fall_back_to_react_visibly(harness: Harness) -> None:
    harness.script(harness.text("Rewoo'd."), harness.text("Reflected."))
    for mode in (ExecutionMode.REWOO, ExecutionMode.REFLEXION):
        turn = await harness.turn("ship it", mode=mode)
        notes = turn.of("notice")
        assert notes and notes[0].data.code == "mode_fallback"
        assert mode.value in notes[0].data.message and turn.status == "completed"
    assert harness.request(0)["messages"][-1]["content"] == "ship it"


async def test_closed_and_unknown_sessions_are_refused(harness: Harness) -> None:
    await harness.store.close_session(harness.session_id)
    turn = await harness.turn("hello?")
    assert turn.types == ["error", "result"] and turn.status == "error"
    assert "is closed" in turn.of("error")[0].data.message
    unknown = await harness.turn("hello?", session_id="nope")
    assert "not found" in unknown.of("error")[0].data.message
    assert harness.fake.requests == []


async def test_provider_errors_are_short_and_keep_the_message(harness: Harness) -> None:
    harness.script(Reply.json(401, {"error": {"message": "Incorrect API key provided"}}))
    turn = await harness.turn("Please answer")
    assert turn.status == "error"
    message = turn.of("error")[0].data.message
    assert "Incorrect API key" in message and len(message) <= 200
    stored = await harness.store.get_messages(harness.session_id)
    assert [m.content for m in stored] == ["Please answer"]


async def test_provider_reasoning_becomes_thinking(harness: Harness) -> None:
    from tests.fakes.scripts import openai_chunk

    harness.script(
        Reply(
            body=[
                openai_chunk({"role": "assistant", "content": None, "reasoning_content": "Let me"}),
                openai_chunk({"reasoning_content": " think."}),
                openai_chunk({"content": "Forty-two."}),
                openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    turn = await harness.turn("What is six times seven?")
    assert [e.content for e in turn.of("thinking")] == ["Let me", " think."]
    assert turn.text == "Forty-two."
    stored = (await harness.store.get_messages(harness.session_id))[-1]
    assert stored.thinking == "Let me think." and stored.content == "Forty-two."
