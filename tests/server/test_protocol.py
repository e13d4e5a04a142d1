"""Protocol conformance: the WebSocket messages of the reference chat service, written down
here from its documentation (issue 8 and DESIGN.md "Events on the wire") rather than from our
event models, and a session that exercises them. A reference client must not notice a
difference: every message we send has a documented type and the documented fields, and
every documented client message is understood."""

from __future__ import annotations

from typing import Any

from tests.fakes.provider import Gate
from tests.server.conftest import (
    Api,
    gated_reply,
    receive,
    send,
    text_reply,
    tool_calls,
    types,
    until,
)

STATUSES = {"completed", "cancelled", "error", "max_steps", "loop_stopped"}

# Top-level keys every server → client message of a type carries (beyond "type"), and for
# "data" messages the keys inside "data". Plan and team events are {"type", "data"}.
TOP: dict[str, dict[str, type]] = {
    "connected": {"session_id": str},
    "pong": {},
    "token": {"content": str},
    "thinking": {"content": str},
    "final_answer": {"content": str, "is_final": bool},
    "ask_human": {"question": str, "request_id": str},
}
DATA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "skill_match": {"skill": str, "method": str, "confidence": (int, float)},
    "step": {"event_type": str, "step": int, "data": dict},
    "confirmation_request": {"confirmation_id": str, "command": str, "reason": str},
    "confirmation_result": {"confirmation_id": str, "approved": bool},
    "error": {"message": str},
    "result": {"status": str},
    "notice": {"code": str, "message": str},
    "usage": {"input_tokens": int, "output_tokens": int, "model": str},
    "plan_update": {"plan_phases": list},
    "plan_step": {"phase_id": str, "step": int, "content": str},
    "phase_started": {"phase_id": str, "index": int, "title": str},
    "phase_completed": {"phase_id": str, "result": str},
    "phase_failed": {"phase_id": str, "error": str},
    "replanning": {"reason": str, "attempt": int},
    "team_formed": {
        "team_id": str,
        "status": str,
        "experts": list,
        "plan_phases": list,
        "lead_expert": str,
    },
    "expert_step": {
        "expert_id": str,
        "expert_name": str,
        "expert_color": str,
        "content": str,
        "step": int,
    },
    "expert_result": {"expert_id": str, "expert_name": str, "expert_color": str, "content": str},
    "team_synthesis": {"content": str},
    "team_dissolved": {"team_id": str},
}
STEP_DATA = {
    "tool_call": {"id": str, "name": str, "arguments": dict},
    "tool_result": {"id": str, "name": str, "output": str, "is_error": bool},
}


def check(message: dict[str, Any]) -> None:
    """Fail unless ``message`` is a documented server message with its documented fields."""
    kind = message.get("type")
    assert kind in TOP or kind in DATA, f"undocumented message type: {message}"
    if kind in TOP:
        _fields(message, TOP[kind], kind)
        if kind == "final_answer":
            assert message["is_final"] is True
        return
    data = message.get("data")
    assert isinstance(data, dict), message
    _fields(data, DATA[kind], kind)
    if kind == "step":
        assert data["event_type"] in STEP_DATA, message
        _fields(data["data"], STEP_DATA[data["event_type"]], f"step/{data['event_type']}")
    elif kind == "result":
        assert data["status"] in STATUSES, message
    elif kind == "error":
        assert 0 < len(data["message"]) <= 200 and "\n" not in data["message"], message
        assert "Traceback" not in data["message"]


def _fields(obj: dict[str, Any], wanted: dict[str, Any], kind: str) -> None:
    for key, kinds in wanted.items():
        assert key in obj, f"{kind}: missing {key!r} in {obj}"
        assert isinstance(obj[key], kinds), f"{kind}: {key!r} is {type(obj[key]).__name__}"


async def test_a_reference_client_session_conforms(api: Api) -> None:
    """Drive every documented client message and most server events through one session."""
    marker = api.workspace / "made.txt"
    session_id = await api.new_session()
    gate = Gate()
    api.script(
        # 1: @review → skill_match; text then a call → thinking, step/tool_call.
        tool_calls(("read_file", {"path": "README.md"}), text="Reading first. "),
        text_reply("Looks fine."),
        # 2: a call that needs approval, then one that asks the person.
        tool_calls(("shell", {"command": f"touch {marker}"})),
        tool_calls(("ask_human", {"question": "Name?"})),
        text_reply("Thanks, done."),
        # 3: stopped mid-stream by a cancel.
        gated_reply(["wait "], gate, ["never"]),
    )
    received: list[dict[str, Any]] = []
    async with api.ws(session_id) as ws:
        first = await receive(ws)
        assert first == {"type": "connected", "session_id": session_id}
        received.append(first)

        await send(ws, {"type": "message", "content": "@review the readme"})
        turn = await until(ws, "result")
        received += turn
        assert types(turn)[:3] == ["skill_match", "thinking", "step"]
        assert "token" in types(turn) and turn[-1]["data"]["status"] == "completed"

        await send(ws, {"type": "message", "content": "make a file, then ask me"})
        asked = await until(ws, "confirmation_request")
        confirmation_id = asked[-1]["data"]["confirmation_id"]
        await send(
            ws,
            {"type": "confirmation_reply", "confirmation_id": confirmation_id, "approved": True},
        )
        question = await until(ws, "ask_human")
        await send(
            ws, {"type": "reply", "request_id": question[-1]["request_id"], "content": "Ada"}
        )
        rest = await until(ws, "result")
        received += asked + question + rest
        assert marker.exists() and rest[-1]["data"]["status"] == "completed"

        await send(ws, {"type": "message", "content": "@nosuchskill hello"})
        local = await until(ws, "result")  # a local answer with a notice
        received += local
        assert "notice" in types(local)

        await send(ws, {"type": "message", "content": "hi", "model": "nowhere/none"})
        failed = await until(ws, "result")  # an unknown model: error, result error
        received += failed
        assert types(failed)[-2:] == ["error", "result"]

        await send(ws, {"type": "message", "content": "long"})
        await api.fake.wait_requests(6, within=30)  # the model is writing (text held back)
        await send(ws, {"type": "cancel"})
        cancelled = await until(ws, "result")
        received += cancelled
        assert cancelled[-1]["data"]["status"] == "cancelled"

        await ws.send("not json at all")  # ignored
        await send(ws, {"type": "ping"})
        pong = await receive(ws)
        received.append(pong)
        assert pong == {"type": "pong"}

    for message in received:
        check(message)
    documented_and_seen = {
        "connected",
        "pong",
        "token",
        "thinking",
        "final_answer",
        "ask_human",
        "skill_match",
        "step",
        "confirmation_request",
        "confirmation_result",
        "error",
        "result",
        "notice",
        "usage",
    }
    assert documented_and_seen <= set(types(received))
    steps = {m["data"]["event_type"] for m in received if m["type"] == "step"}
    assert steps == {"tool_call", "tool_result"}


def test_the_checker_rejects_what_a_reference_client_would_not_read() -> None:
    """The conformance check itself fails on wrong shapes (so the test above can fail)."""
    bad = [
        {"type": "tokens", "content": "x"},
        {"type": "token", "text": "x"},
        {"type": "result", "data": {"status": "finished"}},
        {"type": "error", "message": "flat, not in data"},
        {"type": "error", "data": {"message": "x" * 201}},
        {"type": "final_answer", "content": "x", "is_final": False},
        {"type": "step", "data": {"event_type": "tool_call", "step": 1, "data": {"id": "1"}}},
        {"type": "confirmation_request", "data": {"confirmation_id": "1", "command": "ls"}},
    ]
    for message in bad:
        try:
            check(message)
        except AssertionError:
            continue
        raise AssertionError(f"accepted {message}")


async def test_plan_and_team_events_reach_the_socket_in_their_documented_shapes(api: Api) -> None:
    """The offline demo model plans and runs a team; every event conforms."""
    session_id = await api.new_session()
    received: list[dict[str, Any]] = []
    async with api.ws(session_id) as ws:
        await receive(ws)
        for text in ("/plan look at the readme", "/team look at the readme"):
            await send(ws, {"type": "message", "content": text, "model": "demo"})
            turn = await until(ws, "result", within=30)
            assert turn[-1]["data"]["status"] == "completed", turn[-3:]
            received += turn
    for message in received:
        check(message)
    seen = set(types(received))
    assert {"plan_update", "phase_started", "plan_step", "phase_completed"} <= seen
    assert {"team_formed", "expert_step", "expert_result", "team_dissolved"} <= seen
