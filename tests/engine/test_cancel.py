"""Stopping a turn: mid-stream, mid-tool (the process is gone), by closing the stream; and
the per-session limit of running turns."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.engine.cancel import CancellationToken
from tests.engine.conftest import Harness, ScriptedHuman
from tests.fakes.provider import Gate, Reply
from tests.fakes.scripts import openai_chunk


async def _until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def _gated_reply(gate: Gate) -> Reply:
    return Reply(
        body=[
            openai_chunk({"role": "assistant", "content": ""}),
            openai_chunk({"content": "The first half"}),
            gate,
            openai_chunk({"content": " and the second half."}),
            openai_chunk({}, "stop"),
            b"data: [DONE]\n\n",
        ]
    )


async def test_cancel_mid_stream_keeps_the_partial_reply(harness: Harness) -> None:
    gate = Gate()
    harness.script(_gated_reply(gate))
    token = CancellationToken()

    def stop_after_first_token(event: Any) -> None:
        if event.type == "token":
            token.cancel()

    turn = await harness.turn("Tell me a story", cancel=token, on_event=stop_after_first_token)
    assert turn.status == "cancelled" and turn.types[-1] == "result"
    await harness.fake.wait_disconnect()  # the HTTP response was closed at once
    stored = await harness.store.get_messages(harness.session_id)
    assert [(m.role, m.content, m.status) for m in stored] == [
        ("user", "Tell me a story", "complete"),
        ("assistant", "The first half", "cancelled"),
    ]
    gate.open()


async def test_cancel_mid_tool_kills_the_command(make_harness: Callable[..., Any]) -> None:
    harness: Harness = await make_harness(approval={"mode": "auto"})
    pid_file = harness.workspace / "pid"
    harness.script(
        harness.calls(("shell", {"command": f"sleep 300 & echo $! > {pid_file}; wait"})),
    )
    token = CancellationToken()
    running = asyncio.ensure_future(harness.turn("wait a long time", cancel=token))
    await _until(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    child = int(pid_file.read_text())
    token.cancel()
    turn = await asyncio.wait_for(running, 10)
    assert turn.status == "cancelled"
    await _until(lambda: not _alive(child))
    result = turn.tool_results()[0]
    assert result.is_error and "stopped the turn" in result.output
    history = await harness.store.get_chat_messages(harness.session_id)
    assert [h.role for h in history] == ["user", "assistant", "tool"]
    assert not history[-1].synthetic


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


async def test_closing_the_event_stream_cancels_the_turn(harness: Harness) -> None:
    gate = Gate()
    harness.script(_gated_reply(gate))
    events = harness.service.send(harness.session_id, "go", human=ScriptedHuman())
    async for event in events:
        if event.type == "token":
            break
    await events.aclose()  # type: ignore[attr-defined]
    await harness.fake.wait_disconnect()
    stored = await harness.store.get_messages(harness.session_id)
    assert stored[-1].status == "cancelled"


async def test_a_fifth_running_turn_is_refused_but_its_message_saved(harness: Harness) -> None:
    gates = [Gate() for _ in range(4)]
    harness.script(*(_gated_reply(gate) for gate in gates))
    running = [asyncio.ensure_future(harness.turn(f"turn {n}")) for n in range(4)]
    await harness.fake.wait_requests(4)
    assert harness.service.running_turns(harness.session_id) == 4
    refused = await harness.turn("one too many")
    assert refused.status == "error"
    error = refused.of("error")[0].data
    assert (
        error.message
        == "Too many concurrent requests. Please wait for the current task to complete."
    )
    assert error.detail is not None and "4 turns are already running" in error.detail
    contents = [m.content for m in await harness.store.get_messages(harness.session_id)]
    assert "one too many" in contents
    for gate in gates:
        gate.open()
    finished = await asyncio.gather(*running)
    assert [t.status for t in finished] == ["completed"] * 4, [t.of("error") for t in finished]
    assert harness.service.running_turns(harness.session_id) == 0


async def test_a_session_deleted_elsewhere_mid_turn_ends_it_with_one_clear_error(
    harness: Harness,
) -> None:
    """Another process deletes the session while a reply streams: the turn ends with one
    line that says so and a result, not "Message 4 not found"."""
    from app.store import SessionNotFoundError, SessionStore

    gate = Gate()
    harness.script(_gated_reply(gate))
    other = await SessionStore.open(harness.store.path)
    try:

        async def delete_then_open(event: Any) -> None:
            if event.type == "token" and not gate.event.is_set():
                await other.delete_session(harness.session_id)
                gate.open()

        events: list[Any] = []
        async for event in harness.service.send(
            harness.session_id, "Tell me a story", human=ScriptedHuman()
        ):
            events.append(event)
            await delete_then_open(event)
    finally:
        await other.close()
    assert [e.type for e in events][-2:] == ["error", "result"]
    assert "deleted" in events[-2].data.message and "not found" not in events[-2].data.message
    assert events[-1].data.status == "error"
    with pytest.raises(SessionNotFoundError):
        await harness.store.get_session(harness.session_id)
