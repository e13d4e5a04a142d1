"""The WebSocket /chat/ws/{id}: every client message type, live streaming, approvals,
questions, cancel, disconnect, several clients, and the per-session turn limit."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from app.store import SessionStore
from tests.fakes.provider import Gate
from tests.server.conftest import (
    MODEL,
    WITHIN,
    Api,
    MakeApi,
    gated_reply,
    read_text,
    receive,
    send,
    text_reply,
    tokens,
    tool_calls,
    types,
    until,
    without_tokens,
)


async def test_connected_first_then_a_streamed_turn(api: Api) -> None:
    session_id = await api.new_session()
    api.script(text_reply("Hel", "lo ", "there"))
    async with api.ws(session_id) as ws:
        assert await receive(ws) == {"type": "connected", "session_id": session_id}
        await send(ws, {"type": "message", "content": "hi"})
        seen = await until(ws, "result")
    assert seen[0]["type"] == "token" and tokens(seen) == "Hello there"
    assert without_tokens(seen) == [
        {"type": "final_answer", "content": "Hello there", "is_final": True},
        {"type": "usage", "data": {"input_tokens": 11, "output_tokens": 7, "model": MODEL}},
        {"type": "result", "data": {"status": "completed"}},
    ]
    stored = await api.store.get_messages(session_id)
    assert [(m.role, m.content, m.status) for m in stored] == [
        ("user", "hi", "complete"),
        ("assistant", "Hello there", "complete"),
    ]


async def test_tokens_arrive_while_the_model_is_still_writing(api: Api) -> None:
    session_id = await api.new_session()
    gate = Gate()
    api.script(gated_reply(["first ", "words "], gate, ["and the rest"]))
    async with api.ws(session_id, stream="live") as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "go"})
        await read_text(ws, "first words ")
        assert not gate.event.is_set()  # the provider is still holding the rest back
        gate.open()
        rest = await until(ws, "result")
    assert tokens(rest) == "and the rest"
    assert rest[-1]["data"]["status"] == "completed"


async def test_ping_pong_and_bad_input_keep_the_connection(api: Api) -> None:
    session_id = await api.new_session()
    async with api.ws(session_id) as ws:
        await receive(ws)
        await ws.send("{this is not json")
        await ws.send("[1, 2, 3]")
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong"}
        await send(ws, {"type": "dance"})
        unknown = await receive(ws)
        assert unknown["type"] == "error" and "dance" in unknown["data"]["message"]
        await send(ws, {"type": "message"})  # no content
        invalid = await receive(ws)
        assert invalid["type"] == "error" and "content" in invalid["data"]["message"]
        await send(ws, {"type": "confirmation_reply", "confirmation_id": "nope", "approved": True})
        await send(ws, {"type": "reply", "request_id": "nope", "content": "?"})
        await send(ws, {"type": "cancel"})  # nothing running: the client still gets a result
        assert await receive(ws) == {"type": "result", "data": {"status": "cancelled"}}
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong"}
    assert api.fake.requests == []


@pytest.mark.parametrize("closed", [False, True])
async def test_unknown_or_closed_session_gets_an_error_then_close_1000(
    api: Api, closed: bool
) -> None:
    session_id = await api.new_session() if closed else "missing"
    if closed:
        await api.http.delete(f"/chat/sessions/{session_id}")
    async with api.ws(session_id) as ws:
        message = await receive(ws)
        assert message["type"] == "error"
        expected = "is closed" if closed else "Session 'missing' not found"
        assert expected in message["data"]["message"]
        with pytest.raises(ConnectionClosed):
            await receive(ws)
        assert ws.close_code == 1000


async def test_model_override_reaches_the_provider(api: Api) -> None:
    session_id = await api.new_session()
    api.script(text_reply("ok"))
    async with api.ws(session_id) as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "hi", "model": "fake/other-model"})
        seen = await until(ws, "result")
    assert seen[-1]["data"]["status"] == "completed"
    assert api.fake.requests[-1].json()["model"] == "other-model"


@pytest.mark.parametrize("approved", [True, False])
async def test_confirmation_is_answered_over_the_socket(api: Api, approved: bool) -> None:
    marker = api.workspace / "made.txt"
    session_id = await api.new_session()
    api.script(tool_calls(("shell", {"command": f"touch {marker}"})), text_reply("Done."))
    async with api.ws(session_id) as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "make a file"})
        asked = (await until(ws, "confirmation_request"))[-1]["data"]
        assert asked["command"] == f"touch {marker}" and asked["reason"]
        # The receive loop is free while the turn waits: a ping is answered first.
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong"}
        await send(
            ws,
            {
                "type": "confirmation_reply",
                "confirmation_id": asked["confirmation_id"],
                "approved": approved,
            },
        )
        rest = await until(ws, "result")
    decided = next(m for m in rest if m["type"] == "confirmation_result")["data"]
    assert decided["confirmation_id"] == asked["confirmation_id"]
    assert decided["approved"] is approved and decided["decider"] == "user"
    result = next(m for m in rest if m["type"] == "step")["data"]
    assert result["event_type"] == "tool_result" and result["data"]["is_error"] is not approved
    assert marker.exists() is approved
    assert rest[-1]["data"]["status"] == "completed"


async def test_an_unanswered_confirmation_times_out_as_denied(make_api: MakeApi) -> None:
    api = await make_api(serve={"confirmation_timeout_seconds": 0.2})
    marker = api.workspace / "made.txt"
    session_id = await api.new_session()
    api.script(tool_calls(("shell", {"command": f"touch {marker}"})), text_reply("Skipped."))
    async with api.ws(session_id) as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "make a file"})
        seen = await until(ws, "result")
    decided = next(m for m in seen if m["type"] == "confirmation_result")["data"]
    assert decided["approved"] is False and decided["decider"] == "timeout"
    assert not marker.exists()
    assert seen[-1]["data"]["status"] == "completed"


async def test_ask_human_gets_the_reply(api: Api) -> None:
    session_id = await api.new_session()
    api.script(
        tool_calls(("ask_human", {"question": "Which colour?"})),
        text_reply("Blue it is."),
    )
    async with api.ws(session_id) as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "pick a colour with me"})
        asked = (await until(ws, "ask_human"))[-1]
        assert asked["question"] == "Which colour?" and asked["request_id"]
        assert "choices" not in asked  # none offered: the reference's shape exactly
        await send(ws, {"type": "reply", "request_id": asked["request_id"], "content": "blue"})
        rest = await until(ws, "result")
    result = next(m for m in rest if m["type"] == "step")["data"]["data"]
    assert result["name"] == "ask_human" and "blue" in result["output"]
    assert tokens(rest) == "Blue it is."
    told = api.fake.requests[-1].json()["messages"][-1]
    assert told["role"] == "tool" and "blue" in told["content"]


async def test_ask_human_carries_the_choices_and_takes_any_text(api: Api) -> None:
    """The offered answers travel in an optional ``choices`` list; the reply stays free
    text, so a client that ignores the list (and answers otherwise) still works."""
    session_id = await api.new_session()
    offered = ["Red", "Blue", "Green"]
    api.script(
        tool_calls(("ask_human", {"question": "Which colour?", "choices": offered})),
        text_reply("Teal it is."),
    )
    async with api.ws(session_id) as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "pick a colour with me"})
        asked = (await until(ws, "ask_human"))[-1]
        assert asked["choices"] == offered
        await send(ws, {"type": "reply", "request_id": asked["request_id"], "content": "Teal"})
        rest = await until(ws, "result")
    result = next(m for m in rest if m["type"] == "step")["data"]["data"]
    assert (result["name"], result["output"]) == ("ask_human", "Teal")


async def test_cancel_stops_the_turn_and_keeps_the_partial_reply(api: Api) -> None:
    session_id = await api.new_session()
    gate = Gate()
    api.script(gated_reply(["partial ", "answer"], gate, ["never sent"]))
    async with api.ws(session_id, stream="live") as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "long one"})
        await read_text(ws, "partial answer")
        await send(ws, {"type": "cancel"})
        rest = await until(ws, "result")
        assert rest[-1] == {"type": "result", "data": {"status": "cancelled"}}
        assert "never sent" not in tokens(rest)
        await api.fake.wait_disconnect(within=WITHIN)  # the model call was really stopped
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong"}  # the connection stays
    stored = await api.store.get_messages(session_id)
    assert [(m.role, m.content, m.status) for m in stored] == [
        ("user", "long one", "complete"),
        ("assistant", "partial answer", "cancelled"),
    ]


async def test_cancel_only_stops_the_connections_own_turns(api: Api) -> None:
    session_id = await api.new_session()
    gate = Gate()
    api.script(gated_reply(["mine "], gate, ["finished"]))
    async with (
        api.ws(session_id, stream="live") as owner,
        api.ws(session_id, stream="live") as other,
    ):
        await receive(owner)
        await receive(other)
        await send(owner, {"type": "message", "content": "go"})
        assert (await receive(other))["type"] == "token"
        await send(other, {"type": "cancel"})  # answered for this connection only
        assert await receive(other) == {"type": "result", "data": {"status": "cancelled"}}
        await send(other, {"type": "ping"})
        assert await receive(other) == {"type": "pong"}
        gate.open()
        seen = await until(owner, "result")
    assert seen[-1]["data"]["status"] == "completed"
    assert tokens(seen) == "mine finished"


async def test_disconnect_mid_confirmation_denies_and_saves(api: Api) -> None:
    marker = api.workspace / "made.txt"
    session_id = await api.new_session()
    api.script(
        tool_calls(("shell", {"command": f"touch {marker}"}), text="Let me make it. "),
        text_reply("never asked for"),
    )
    async with api.ws(session_id) as watcher:
        await receive(watcher)
        async with api.ws(session_id) as owner:
            await receive(owner)
            await send(owner, {"type": "message", "content": "make a file"})
            await until(owner, "confirmation_request")
        # The owner left without answering: the watcher sees the call denied and the end.
        seen = await until(watcher, "result")
    decided = next(m for m in seen if m["type"] == "confirmation_result")["data"]
    assert decided["approved"] is False
    assert seen[-1] == {"type": "result", "data": {"status": "cancelled"}}
    assert not marker.exists()
    stored = await api.store.get_messages(session_id)
    assert [m.role for m in stored] == ["user", "assistant", "tool"]
    assert stored[1].content == "Let me make it. " and stored[1].tool_calls
    assert stored[2].is_error and "Not run" in stored[2].content
    logged = [e.type for e in await api.store.get_events(session_id)]
    assert logged[-1] == "result" and "confirmation_result" in logged
    assert len(api.fake.requests) == 1  # the model was not called again


async def test_disconnect_mid_stream_saves_the_partial_reply(api: Api) -> None:
    session_id = await api.new_session()
    gate = Gate()
    api.script(gated_reply(["half ", "said"], gate, ["never"]))
    async with api.ws(session_id, stream="live") as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "talk"})
        await read_text(ws, "half said")
    await api.fake.wait_disconnect(within=WITHIN)
    async with asyncio.timeout(WITHIN):
        while (await api.store.get_messages(session_id))[-1].status == "streaming":
            await asyncio.sleep(0.01)
    reply = (await api.store.get_messages(session_id))[-1]
    assert (reply.role, reply.content, reply.status) == ("assistant", "half said", "cancelled")


async def test_every_client_of_a_session_gets_its_events(api: Api) -> None:
    session_id = await api.new_session()
    other_session = await api.new_session()
    api.script(text_reply("one ", "two"), text_reply("from ", "REST"))
    async with (
        api.ws(session_id) as first,
        api.ws(session_id) as second,
        api.ws(other_session) as elsewhere,
    ):
        for ws in (first, second, elsewhere):
            await receive(ws)
        await send(first, {"type": "message", "content": "hello"})
        a = await until(first, "result")
        b = await until(second, "result")
        assert tokens(a) == tokens(b) == "one two"
        assert without_tokens(a) == without_tokens(b)
        assert without_tokens(a)[-1]["data"]["status"] == "completed"
        # A REST turn in the session is streamed to its sockets too.
        response = await api.http.post(
            f"/chat/sessions/{session_id}/messages", json={"content": "via rest"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["content"] == "from REST"
        assert tokens(await until(second, "result")) == "from REST"
        await send(elsewhere, {"type": "ping"})
        assert await receive(elsewhere) == {"type": "pong"}  # nothing of the other session
        assert api.server.hub.channels_in_use == 2
    async with asyncio.timeout(WITHIN):  # the server notices the sockets going
        while api.server.hub.channels_in_use:
            await asyncio.sleep(0.01)


async def test_a_fifth_turn_is_refused_and_nothing_is_lost(api: Api) -> None:
    session_id = await api.new_session()
    gates = [Gate() for _ in range(4)]
    api.script(*[gated_reply([f"turn{i} "], gate, ["done"]) for i, gate in enumerate(gates)])
    async with api.ws(session_id, stream="live") as ws:
        await receive(ws)
        for index in range(4):
            await send(ws, {"type": "message", "content": f"message {index}"})
        await api.fake.wait_requests(4, within=WITHIN)
        started = [await receive(ws) for _ in range(4)]
        assert types(started) == ["token"] * 4
        await send(ws, {"type": "message", "content": "message 4"})
        refused = await until(ws, "result")
        assert types(refused) == ["error", "result"]
        assert refused[0]["data"]["message"].startswith("Too many concurrent requests")
        assert refused[1]["data"]["status"] == "error"
        rest_refused = await api.http.post(
            f"/chat/sessions/{session_id}/messages", json={"content": "message 5"}
        )
        assert rest_refused.status_code == 429
        assert rest_refused.json()["detail"].startswith("Too many concurrent requests")
        assert types(await until(ws, "result")) == ["error", "result"]  # the socket saw it too
        for gate in gates:
            gate.open()
        results = []
        while len(results) < 4:
            message = await receive(ws)
            if message["type"] == "result":
                results.append(message["data"]["status"])
    assert results == ["completed"] * 4
    stored = await api.store.get_messages(session_id)
    users = sorted(m.content for m in stored if m.role == "user")
    assert users == [f"message {i}" for i in range(6)]
    assert sum(m.role == "assistant" for m in stored) == 4


async def test_a_session_driven_over_the_api_reads_back_as_the_tui_reads_it(api: Api) -> None:
    session_id = await api.new_session()
    api.script(
        tool_calls(("read_file", {"path": "README.md"}), text="Looking. "),
        text_reply("The readme says Demo."),
        text_reply("You are welcome."),
    )
    async with api.ws(session_id) as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "What does the readme say?"})
        await until(ws, "result")
    await api.http.post(f"/chat/sessions/{session_id}/messages", json={"content": "Thanks"})
    # A second process (the TUI) opens the same file and reads it its own way.
    tui_store = await SessionStore.open(api.db_path)
    try:
        sidebar = await tui_store.list_sessions(limit=200)
        assert [s.id for s in sidebar] == [session_id]
        assert sidebar[0].message_count == 5  # user and assistant messages
        assert sidebar[0].title == "What does the readme say?"
        assert sidebar[0].preview.startswith("You are welcome")
        transcript = await tui_store.get_messages(session_id, last=30)
        assert [(m.role, m.content, m.status) for m in transcript] == [
            ("user", "What does the readme say?", "complete"),
            ("assistant", "Looking. ", "complete"),
            ("tool", "     1\t# Demo", "complete"),
            ("assistant", "The readme says Demo.", "complete"),
            ("user", "Thanks", "complete"),
            ("assistant", "You are welcome.", "complete"),
        ]
        assert transcript[1].tool_calls[0].name == "read_file"
        events = await tui_store.get_events(session_id)
        assert [e.type for e in events if e.type in ("step", "result")] == [
            "step",
            "step",
            "result",
            "result",
        ]
        history = await tui_store.get_chat_messages(session_id)
        roles = ["user", "assistant", "tool", "assistant", "user", "assistant"]
        assert [m.role for m in history] == roles  # what the model sees next turn
    finally:
        await tui_store.close()
    assert json.loads(await api.store.export_session(session_id, "json"))


async def test_a_lone_surrogate_in_a_frame_is_saved_as_a_replacement(api: Api) -> None:
    session_id = await api.new_session()
    api.script(text_reply("Fine."))
    async with api.ws(session_id) as ws:
        await receive(ws)
        await ws.send('{"type": "message", "content": "half \\ud83d, pair \\ud83d\\ude00"}')
        seen = await until(ws, "result")
    assert seen[-1]["data"]["status"] == "completed"
    stored = await api.store.get_messages(session_id)
    assert [m.content for m in stored] == ["half \ufffd, pair \U0001f600", "Fine."]


async def test_an_endless_reply_gives_its_turn_slot_back_at_the_deadline(
    make_api: MakeApi,
) -> None:
    from tests.fakes.provider import Repeat, Reply
    from tests.fakes.scripts import openai_chunk

    api = await make_api(engine={"max_concurrent_turns": 1, "model_call_timeout_seconds": 1.0})
    session_id = await api.new_session()
    endless = [openai_chunk({"role": "assistant", "content": "On "})]
    api.script(Reply(body=[*endless, Repeat(openai_chunk({"content": "and on "}), every=0.02)]))
    async with api.ws(session_id) as ws:
        await receive(ws)
        await send(ws, {"type": "message", "content": "go on forever"})
        first = await until(ws, "result")
        api.script(text_reply("Done."))
        await send(ws, {"type": "message", "content": "now stop"})
        second = await until(ws, "result")
    errors = [m["data"]["message"] for m in first if m["type"] == "error"]
    assert first[-1]["data"]["status"] == "error"
    assert any("model_call_timeout_seconds" in message for message in errors)
    assert second[-1]["data"]["status"] == "completed" and tokens(second) == "Done."
    stored = await api.store.get_messages(session_id)
    assert stored[1].content.startswith("On and on ") and stored[1].status == "error"


@pytest.mark.parametrize(
    "frame",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000,
        '{"type": "ping", "deep": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"type": "message", "content": "hi", "model": ' + "[" * 3_000 + "]" * 3_000 + "}",
    ],
    ids=["open", "closed", "objects", "deep-ping", "deep-field"],
)
async def test_json_nested_too_deep_is_ignored_and_the_connection_stays(
    api: Api, frame: str
) -> None:
    session_id = await api.new_session()
    api.script(text_reply("Still here."))
    async with api.ws(session_id) as ws:
        await receive(ws)
        await ws.send(frame)
        await send(ws, {"type": "ping"})
        reply = await receive(ws)
        if reply["type"] == "error":  # a frame deep enough to parse, too deep to use
            reply = await receive(ws)
        assert reply == {"type": "pong"}
        await send(ws, {"type": "message", "content": "are you there?"})
        seen = await until(ws, "result")
    assert tokens(seen) == "Still here." and seen[-1]["data"]["status"] == "completed"
