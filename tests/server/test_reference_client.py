"""A client written only from the reference chat service, against ``agentkit serve`` (issue 16).

The client here knows what a client of the reference knows: its paths and fields, the key as
``?api_key=`` (no ``Authorization`` header), and that a turn ends at ``final_answer`` or
``error`` (our ``usage`` and ``result`` after it are read and ignored, as such a client
would). Every test runs on a real uvicorn on loopback over a real SQLite file, with the
offline demo model or the loopback fake provider, and the WebSocket tests run in both modes:
the default (the reference's: a step's text held back) and ``?stream=live``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.fakes.provider import Gate
from tests.server.conftest import WITHIN, Api, MakeApi, gated_reply, text_reply, tool_calls

KEY = "reference-client-key"
REFUSAL = "Too many concurrent requests. Please wait for the current task to complete."
NO_ANSWER = "The person gave no answer."
TURN_END = ("final_answer", "error")

Message = dict[str, Any]


class ReferenceClient:
    """REST and WebSocket calls exactly as a client of the reference makes them."""

    def __init__(self, api: Api, *, live: bool) -> None:
        self.api = api
        self.live = live
        self.http = httpx.AsyncClient(base_url=api.base, params={"api_key": KEY}, timeout=WITHIN)

    async def create_session(self, agent_name: str = "default") -> str:
        response = await self.http.post("/chat/sessions", json={"agent_name": agent_name})
        assert response.status_code == 200, response.text
        return str(response.json()["session_id"])

    async def post_message(self, session_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(f"/chat/sessions/{session_id}/messages", json=body)

    async def history(self, session_id: str) -> list[Message]:
        response = await self.http.get(f"/chat/sessions/{session_id}/messages")
        assert response.status_code == 200, response.text
        messages: list[Message] = response.json()
        return messages

    async def close_session(self, session_id: str) -> None:
        response = await self.http.delete(f"/chat/sessions/{session_id}")
        assert response.status_code == 200, response.text

    @asynccontextmanager
    async def socket(self, session_id: str) -> AsyncIterator[ClientConnection]:
        """The session's WebSocket, past its ``connected`` message."""
        url = f"ws://127.0.0.1:{self.api.server.port}/chat/ws/{session_id}?api_key={KEY}"
        url += "&stream=live" if self.live else ""
        async with connect(url, open_timeout=WITHIN) as ws:
            assert (await receive(ws))["type"] == "connected"
            yield ws


async def receive(ws: ClientConnection) -> Message:
    message: Message = json.loads(await asyncio.wait_for(ws.recv(), WITHIN))
    return message


async def send(ws: ClientConnection, message: Message) -> None:
    await ws.send(json.dumps(message))


async def read_until(ws: ClientConnection, *kinds: str) -> list[Message]:
    """Messages up to and including the first of one of ``kinds``."""
    seen: list[Message] = []
    async with asyncio.timeout(WITHIN):
        while not seen or seen[-1]["type"] not in kinds:
            seen.append(await receive(ws))
    return seen


async def read_turn(ws: ClientConnection) -> list[Message]:
    """One turn as the reference client reads it: up to ``final_answer`` or ``error``."""
    return await read_until(ws, *TURN_END)


def joined_tokens(messages: list[Message]) -> str:
    return "".join(m["content"] for m in messages if m["type"] == "token")


def check_text(turn: list[Message], *, live: bool, preambles: list[str]) -> None:
    """The turn's text is what its mode promises: by default the tokens are exactly the final
    answer and each step's preamble comes only as ``thinking``; live, the tokens before each
    ``thinking`` spell it out first (the relabel), the ones after the last spell the answer."""
    final = turn[-1]
    assert final["type"] == "final_answer", turn
    thinking = [m["content"] for m in turn if m["type"] == "thinking"]
    assert thinking == preambles, turn
    if not live:
        assert joined_tokens(turn) == final["content"], turn
        tokens = [m for m in turn if m["type"] == "token"]
        assert len(tokens) == 1 and turn[-2] is tokens[0], turn  # one, right before the end
        return
    segments = [""]
    for message in turn:
        if message["type"] == "token":
            segments[-1] += message["content"]
        elif message["type"] == "thinking":
            segments.append("")
    assert segments == [*preambles, final["content"]], turn


@pytest.fixture(params=["default", "live"])
def live(request: pytest.FixtureRequest) -> bool:
    """Both ways a client may ask for text: the reference's default and ``?stream=live``."""
    return bool(request.param == "live")


@pytest.fixture(params=["demo", "fake"])
def model(request: pytest.FixtureRequest) -> str:
    """The offline demo model, or the loopback fake provider."""
    return str(request.param)


async def start(make_api: MakeApi, model: str = "fake", **overrides: Any) -> Api:
    """A server that wants a key, on ``model`` (``demo`` or the fake provider's)."""
    if model == "demo":
        overrides["default_model"] = "demo"
    return await make_api(api_key=KEY, **overrides)


@asynccontextmanager
async def client_of(api: Api, *, live: bool) -> AsyncIterator[ReferenceClient]:
    client = ReferenceClient(api, live=live)
    try:
        yield client
    finally:
        await client.http.aclose()


# ---------------------------------------------------------------------- 1: text before a call


async def test_a_tool_step_preamble_is_thinking_and_the_tokens_are_the_answer(
    make_api: MakeApi, model: str, live: bool
) -> None:
    api = await start(make_api, model)
    if model == "fake":
        api.script(
            tool_calls(("read_file", {"path": "README.md"}), text="Let me read it. "),
            text_reply("It is ", "a demo."),
        )
        preamble = "Let me read it. "
    else:
        preamble = "Let me read `README.md`."
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "read README.md"})
            turn = await read_turn(ws)
    check_text(turn, live=live, preambles=[preamble])
    steps = [m["data"]["event_type"] for m in turn if m["type"] == "step"]
    assert steps == ["tool_call", "tool_result"]
    if not live:  # nothing of the step's text before it is known to be a preamble
        assert [m["type"] for m in turn][:2] == ["thinking", "step"], turn
    if model == "fake":
        assert turn[-1]["content"] == "It is a demo."


async def test_joined_tokens_are_exactly_the_final_answer_after_two_tool_steps(
    make_api: MakeApi, live: bool
) -> None:
    """The check a reference client's transcript relies on (default mode); live, the same
    text arrives with both preambles first, each then relabelled as ``thinking``."""
    api = await start(make_api)
    api.script(
        tool_calls(("read_file", {"path": "README.md"}), text="First I read the readme. "),
        tool_calls(("list_dir", {"path": "."}), text="Then I list the files. "),
        text_reply("Two ", "steps, ", "one answer."),
    )
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "look around"})
            turn = await read_turn(ws)
    assert turn[-1]["content"] == "Two steps, one answer."
    preambles = ["First I read the readme. ", "Then I list the files. "]
    check_text(turn, live=live, preambles=preambles)
    if not live:
        assert joined_tokens(turn) == "Two steps, one answer."
    else:
        assert joined_tokens(turn) == "".join(preambles) + "Two steps, one answer."


async def test_a_plain_answer_is_one_token_then_the_final_answer_by_default(
    make_api: MakeApi, model: str, live: bool
) -> None:
    api = await start(make_api, model)
    # The rest of the answer comes once the first piece is out (a model's pace): pieces
    # written back to back arrive together and may be merged into one message.
    gate = Gate()
    api.script(gated_reply(["Plain "], gate, ["words ", "only."]))
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "say something plain"})
            if live and model != "demo":
                turn = await read_until(ws, "token")
            else:
                turn = []  # by default nothing of the answer comes before its end
            gate.open()
            turn += await read_turn(ws)
    check_text(turn, live=live, preambles=[])
    tokens = sum(m["type"] == "token" for m in turn)
    assert tokens == 1 if not live else tokens > 1


# ---------------------------------------------------------------------- 2: missing fields


async def test_a_confirmation_reply_without_approved_is_a_denial_at_once(
    make_api: MakeApi, model: str, live: bool
) -> None:
    api = await start(make_api, model)  # confirmations would wait 5 minutes for an answer
    marker = api.workspace / "made.txt"
    if model == "fake":
        api.script(tool_calls(("shell", {"command": "touch made.txt"})), text_reply("Not made."))
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "run `touch made.txt`"})
            asked = await read_until(ws, "confirmation_request")
            confirmation_id = asked[-1]["data"]["confirmation_id"]
            await send(ws, {"type": "confirmation_reply", "confirmation_id": confirmation_id})
            turn = await read_turn(ws)
    decided = next(m for m in turn if m["type"] == "confirmation_result")["data"]
    assert (decided["confirmation_id"], decided["approved"]) == (confirmation_id, False)
    assert turn[-1]["type"] == "final_answer"
    assert not any(m["type"] == "error" for m in turn)  # no complaint about the missing field
    assert not marker.exists()


async def test_a_reply_without_content_is_an_empty_answer_at_once(
    make_api: MakeApi, model: str, live: bool
) -> None:
    api = await start(make_api, model)
    if model == "fake":
        api.script(tool_calls(("ask_human", {"question": "Which one?"})), text_reply("Fine."))
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "ask me a question"})
            asked = await read_until(ws, "ask_human")
            await send(ws, {"type": "reply", "request_id": asked[-1]["request_id"]})
            turn = await read_turn(ws)
        assert turn[-1]["type"] == "final_answer"
        assert not any(m["type"] == "error" for m in turn)
        told = [m for m in await client.history(session_id) if m["role"] == "tool"]
    assert [m["content"] for m in told] == [NO_ANSWER]  # the model heard an empty answer


# ---------------------------------------------------------------------- 3: cancel


async def test_cancel_with_nothing_running_still_gets_result_cancelled(
    make_api: MakeApi, live: bool
) -> None:
    api = await start(make_api)
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "cancel"})
            assert await receive(ws) == {"type": "result", "data": {"status": "cancelled"}}
    assert api.fake.requests == []


async def test_cancel_of_a_running_turn_gets_result_cancelled(
    make_api: MakeApi, live: bool
) -> None:
    api = await start(make_api)
    gate = Gate()
    api.script(gated_reply(["half an ", "answer"], gate, ["never sent"]))
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "write at length"})
            await api.fake.wait_requests(1, within=WITHIN)
            await send(ws, {"type": "cancel"})
            seen = await read_until(ws, "result")
            # Exactly one result for the cancel: a ping now is answered next.
            await send(ws, {"type": "ping"})
            assert await receive(ws) == {"type": "pong"}
    assert seen[-1] == {"type": "result", "data": {"status": "cancelled"}}
    assert "never sent" not in joined_tokens(seen)
    assert not any(m["type"] == "final_answer" for m in seen)


# ---------------------------------------------------------------------- 4: keep-alive


async def test_a_silent_client_gets_a_pong_now_and_then(make_api: MakeApi, live: bool) -> None:
    """The reference's 300 s, shortened here: pongs come with nothing sent."""
    api = await start(make_api, keepalive_seconds=0.2)
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            assert await receive(ws) == {"type": "pong"}
            assert await receive(ws) == {"type": "pong"}


async def test_no_unasked_pong_before_the_interval(make_api: MakeApi, live: bool) -> None:
    """At the default interval a short session sees only what it asked for."""
    api = await start(make_api)
    api.script(text_reply("Quick."))
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "quick"})
            turn = await read_until(ws, "result")
            await send(ws, {"type": "ping"})
            assert await receive(ws) == {"type": "pong"}
    assert "pong" not in [m["type"] for m in turn]


# ---------------------------------------------------------------------- 5: closed and unknown


async def test_a_closed_session_says_so_in_the_reference_words(
    make_api: MakeApi, live: bool
) -> None:
    api = await start(make_api)
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        await client.close_session(session_id)
        url = f"ws://127.0.0.1:{api.server.port}/chat/ws/{session_id}?api_key={KEY}"
        async with connect(url + ("&stream=live" if live else ""), open_timeout=WITHIN) as ws:
            assert await receive(ws) == {"type": "error", "data": {"message": "Session is closed"}}
            with pytest.raises(ConnectionClosed):
                await receive(ws)
    assert (ws.close_code, ws.close_reason) == (1000, "Session closed")


async def test_an_unknown_session_is_closed_with_session_not_found(
    make_api: MakeApi, live: bool
) -> None:
    api = await start(make_api)
    url = f"ws://127.0.0.1:{api.server.port}/chat/ws/no-such-session?api_key={KEY}"
    async with connect(url + ("&stream=live" if live else ""), open_timeout=WITHIN) as ws:
        refused = await receive(ws)
        with pytest.raises(ConnectionClosed):
            await receive(ws)
    assert refused["type"] == "error" and "not found" in refused["data"]["message"]
    assert (ws.close_code, ws.close_reason) == (1000, "Session not found")


# ---------------------------------------------------------------------- 6: the turn limit


async def test_a_fifth_turn_gets_the_reference_refusal_text(make_api: MakeApi, live: bool) -> None:
    api = await start(make_api)
    gates = [Gate() for _ in range(4)]
    api.script(*[gated_reply([f"turn {i} "], gate, ["done."]) for i, gate in enumerate(gates)])
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            for index in range(4):
                await send(ws, {"type": "message", "content": f"message {index}"})
            await api.fake.wait_requests(4, within=WITHIN)
            await send(ws, {"type": "message", "content": "one too many"})
            refused = await read_turn(ws)
            for gate in gates:
                gate.open()
            answers = []
            async with asyncio.timeout(WITHIN):
                while len(answers) < 4:
                    answers += [m for m in await read_turn(ws) if m["type"] == "final_answer"]
    error = refused[-1]
    assert error["type"] == "error", refused
    assert error["data"]["message"] == REFUSAL
    assert "4 turns are already running" in error["data"]["detail"]
    assert sorted(m["content"] for m in answers) == [f"turn {i} done." for i in range(4)]


# ---------------------------------------------------------------------- 7: history


async def test_history_holds_a_routed_message_without_its_skill_prefix(
    make_api: MakeApi, model: str, live: bool
) -> None:
    api = await start(make_api, model)
    api.script(text_reply("Reviewed."), text_reply("Reviewed again."))
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "@review  the parser please"})
            turn = await read_turn(ws)
        response = await client.post_message(session_id, {"content": "@rev and the lexer"})
        assert response.status_code == 200, response.text
        history = await client.history(session_id)
    assert turn[0] == {
        "type": "skill_match",
        "data": {"skill": "review", "method": "prefix", "confidence": 1.0},
    }
    users = [m for m in history if m["role"] == "user"]
    assert [m["content"] for m in users] == ["the parser please", "and the lexer"]
    assert [m["agent_name"] for m in users] == [None, None]
    assert {m["agent_name"] for m in history if m["role"] == "assistant"} == {"default"}
    # The skill's name is kept with the turn (the TUI shows it from the event log).
    logged = await api.store.get_events(session_id, types=["skill_match"])
    assert [e.data["data"]["skill"] for e in logged] == ["review", "review"]
    stored = await api.store.get_messages(session_id)
    user_turns = [m.turn_id for m in stored if m.role == "user"]
    assert [e.turn_id for e in logged] == user_turns


async def test_an_unrouted_message_is_kept_as_typed(make_api: MakeApi, live: bool) -> None:
    api = await start(make_api)
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "@nosuchskill hello"})
            turn = await read_turn(ws)
        history = await client.history(session_id)
    assert turn[-1]["type"] == "final_answer"  # the skills there are, answered locally
    assert (history[0]["role"], history[0]["content"]) == ("user", "@nosuchskill hello")
    assert history[0]["agent_name"] is None


# ---------------------------------------------------------------------- 8: REST role


@pytest.mark.parametrize("role", ["system", "user", "assistant", "anything"])
async def test_rest_accepts_and_ignores_any_role(make_api: MakeApi, model: str, role: str) -> None:
    api = await start(make_api, model)
    api.script(text_reply("Answered."))
    async with client_of(api, live=False) as client:
        session_id = await client.create_session()
        response = await client.post_message(session_id, {"content": "hello there", "role": role})
        assert response.status_code == 200, response.text
        history = await client.history(session_id)
    assert response.json()["role"] == "assistant"
    assert (history[0]["role"], history[0]["content"]) == ("user", "hello there")


# ---------------------------------------------------------------------- kept on purpose


async def test_kept_an_empty_message_is_refused_over_rest(make_api: MakeApi) -> None:
    api = await start(make_api)
    async with client_of(api, live=False) as client:
        session_id = await client.create_session()
        for content in ("", "   "):
            response = await client.post_message(session_id, {"content": content})
            assert response.status_code == 422, response.text
        assert await client.history(session_id) == []
    assert api.fake.requests == []


async def test_kept_a_message_on_a_socket_of_a_closed_session_is_refused(
    make_api: MakeApi, live: bool
) -> None:
    api = await start(make_api)
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await client.close_session(session_id)
            await send(ws, {"type": "message", "content": "still there?"})
            turn = await read_turn(ws)
        assert await client.history(session_id) == []
    assert turn[-1]["type"] == "error" and "is closed" in turn[-1]["data"]["message"]
    assert api.fake.requests == []


async def test_kept_rest_turns_are_routed_like_socket_turns(make_api: MakeApi) -> None:
    """A greeting over REST is a direct answer: the model is offered no tools."""
    api = await start(make_api)
    api.script(text_reply("Hello!"), text_reply("Looked."))
    async with client_of(api, live=False) as client:
        session_id = await client.create_session()
        greeted = await client.post_message(session_id, {"content": "hello"})
        asked = await client.post_message(session_id, {"content": "look at the readme"})
    assert greeted.json()["content"] == "Hello!" and asked.json()["content"] == "Looked."
    offered = [request.json().get("tools") for request in api.fake.requests]
    assert not offered[0] and offered[1]


async def test_kept_a_frame_over_the_body_limit_closes_with_1009(
    make_api: MakeApi, live: bool
) -> None:
    api = await start(make_api, serve={"max_body_bytes": 65_536})
    async with client_of(api, live=live) as client:
        session_id = await client.create_session()
        async with client.socket(session_id) as ws:
            await send(ws, {"type": "message", "content": "x" * 70_000})
            with pytest.raises(ConnectionClosed):
                await receive(ws)
    assert ws.close_code == 1009
    assert api.fake.requests == []
