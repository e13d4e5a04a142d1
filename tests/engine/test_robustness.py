"""What goes wrong around a turn: two turns at once, a failing person, a session closed
mid-tool. Every call still ends with one stored result and the turn with one ``result``."""

from __future__ import annotations

import asyncio
import json

from app.engine.human import ConfirmationRequest, Decision
from app.store import SessionStore
from tests.engine.conftest import Harness, ScriptedHuman


class GatedHuman(ScriptedHuman):
    """Approves, but only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        self.requests.append(request)
        self.asked.set()
        await self.release.wait()
        return Decision(action="approve")


async def test_two_turns_at_once_never_interleave(harness: Harness) -> None:
    harness.script(
        harness.calls(("shell", {"command": "touch from-a"})),  # A asks, then waits
        harness.text("B answers."),  # B runs meanwhile
        harness.text("A answers."),  # A after its tool
    )
    person = GatedHuman()
    turn_a = asyncio.ensure_future(harness.turn("turn A", human=person))
    await person.asked.wait()
    turn_b = await harness.turn("turn B")
    assert turn_b.status == "completed"
    b_messages = harness.request(1)["messages"]
    assert "shell" not in json.dumps(b_messages)  # A's half exchange is not sent with B
    person.release.set()
    assert (await turn_a).status == "completed"
    history = await harness.store.get_chat_messages(harness.session_id)
    assert [(h.role, h.tool_call_id or h.content) for h in history] == [
        ("user", "turn A"),
        ("assistant", ""),
        ("tool", history[1].tool_calls[0].id),
        ("assistant", "A answers."),
        ("user", "turn B"),
        ("assistant", "B answers."),
    ]
    assert not any(h.synthetic for h in history)


class BrokenHuman(ScriptedHuman):
    async def confirm(self, request: ConfirmationRequest) -> Decision:
        raise RuntimeError("the dialog could not open")


async def test_a_failing_person_ends_the_turn_cleanly(harness: Harness) -> None:
    harness.script(harness.calls(("shell", {"command": "touch never"})))
    turn = await harness.turn("go", human=BrokenHuman())
    assert turn.status == "error" and turn.types[-1] == "result"
    assert "RuntimeError" in turn.of("error")[0].data.message
    results = turn.tool_results()
    assert len(results) == 1 and results[0].is_error
    history = await harness.store.get_chat_messages(harness.session_id)
    assert history[-1].role == "tool" and not history[-1].synthetic
    assert not (harness.workspace / "never").exists()


async def test_closing_the_session_mid_tool_keeps_the_result(harness: Harness) -> None:
    harness.script(harness.calls(("shell", {"command": "touch made"})), harness.text("Done."))
    person = GatedHuman()
    running = asyncio.ensure_future(harness.turn("go", human=person))
    await person.asked.wait()
    await harness.store.close_session(harness.session_id)
    person.release.set()
    turn = await running
    assert (harness.workspace / "made").exists()
    assert len(turn.tool_results()) == 1 and not turn.tool_results()[0].is_error
    stored = await harness.store.get_messages(harness.session_id)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]


async def test_store_groups_turn_messages(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "A?", turn_id="a")
    await store.append_message(
        session.id,
        "assistant",
        "",
        turn_id="a",
        tool_calls=[{"id": "c1", "name": "shell", "arguments": {}}],
    )
    await store.append_message(session.id, "user", "B?", turn_id="b")
    await store.append_message(session.id, "tool", "ok", tool_call_id="c1", turn_id="a")
    await store.append_message(session.id, "assistant", "B!", turn_id="b")
    await store.append_message(session.id, "assistant", "A!", turn_id="a")
    history = await store.get_chat_messages(session.id)
    assert [h.content for h in history] == ["A?", "", "ok", "A!", "B?", "B!"]
    without_a = await store.get_chat_messages(session.id, exclude_turns={"a"})
    assert [h.content for h in without_a] == ["B?", "B!"]
