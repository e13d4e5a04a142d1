"""The reply writer at its edges, through real turns: a session closed while the reply
streams, a reply that is only the empty-reply text, Anthropic reasoning blocks, and an end
that does not wait for the save timer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from app.engine.events import Event
from app.engine.turn import EMPTY_REPLY_TEXT, SAVE_INTERVAL_SECONDS
from app.store.models import Message
from tests.engine.conftest import Harness
from tests.fakes.provider import Gate, Reply
from tests.fakes.scripts import anthropic_events, openai_chunk, openai_tool_call_events


async def _reply_rows(
    harness: Harness, condition: Callable[[list[Message]], bool], within: float = 10.0
) -> list[Message]:
    """The session's assistant rows once ``condition`` holds for them (polled)."""
    deadline = time.monotonic() + within
    while True:
        rows = [m for m in await harness.store.get_messages(harness.session_id)]
        replies = [m for m in rows if m.role == "assistant"]
        if condition(replies):
            return replies
        assert time.monotonic() < deadline, [(m.content, m.status) for m in replies]
        await asyncio.sleep(0.01)  # a poll interval, not a wait for the answer


async def test_a_reply_streaming_when_its_session_closes_is_still_saved(
    harness: Harness,
) -> None:
    """Closing a session stops new turns, not the one already running: its text and its
    calls (a row created at the end) are both kept."""
    first, second = Gate(), Gate()
    harness.script(
        Reply(
            body=[
                first,
                *openai_tool_call_events([("call_1", "read_file", ['{"path": "README.md"}'])]),
            ]
        ),
        Reply(
            body=[
                second,
                openai_chunk({"role": "assistant", "content": "It says hello."}),
                openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        ),
    )
    turn = asyncio.ensure_future(harness.turn("read it"))
    await harness.fake.wait_requests(1)
    await harness.store.close_session(harness.session_id)
    first.open()
    await harness.fake.wait_requests(2)
    second.open()
    await turn
    calling, answer = await _reply_rows(harness, lambda rows: len(rows) == 2)
    assert [c.name for c in calling.tool_calls] == ["read_file"]
    assert (answer.content, answer.status) == ("It says hello.", "complete")


async def test_an_empty_reply_is_saved_as_the_fallback_text(harness: Harness) -> None:
    harness.script(Reply(body=[openai_chunk({"role": "assistant"}), b"data: [DONE]\n\n"]))
    await harness.turn("hello?")
    [reply] = await _reply_rows(harness, lambda rows: len(rows) == 1)
    assert (reply.content, reply.status) == (EMPTY_REPLY_TEXT, "complete")


async def test_anthropic_reasoning_blocks_are_kept_for_the_next_turn(
    make_harness: Callable[..., Any],
) -> None:
    """The signed thinking block goes back to the API as it came (it refuses it otherwise):
    stored whole with the reply, with no empty fields added."""
    harness = await make_harness(fake_options={"kind": "anthropic"})
    harness.script(
        Reply(
            body=anthropic_events(
                [{"thinking": ["Let me ", "think."], "signature": "sig-1"}, {"text": ["Done."]}]
            )
        )
    )
    await harness.turn("go")
    [reply] = await _reply_rows(harness, lambda rows: len(rows) == 1)
    assert (reply.content, reply.thinking) == ("Done.", "Let me think.")
    assert reply.reasoning == [
        {
            "kind": "thinking",
            "text": "Let me think.",
            "signature": "sig-1",
            "provider": "anthropic",
            "model": "fake/test-model",
        }
    ]


async def test_the_end_of_a_reply_does_not_wait_for_the_save_timer(harness: Harness) -> None:
    """Pieces that came after a save wait for the timer; the end writes them at once."""
    more, rest, last = Gate(), Gate(), Gate()
    harness.script(
        Reply(
            body=[
                openai_chunk({"role": "assistant", "content": "a"}),
                more,
                openai_chunk({"content": "b"}),
                rest,
                openai_chunk({"content": "c"}),
                last,
                openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    got_c = asyncio.Event()

    def on_event(event: Event) -> None:
        if getattr(event, "content", None) == "c":
            got_c.set()

    turn = asyncio.ensure_future(harness.turn("go", on_event=on_event))
    await _reply_rows(harness, lambda rows: bool(rows) and rows[0].content == "a")
    more.open()
    await _reply_rows(harness, lambda rows: rows[0].content == "ab")  # the timer saved it
    rest.open()
    await asyncio.wait_for(got_c.wait(), 10)  # "c" is in; a timer is waiting again
    last.open()
    ended = time.monotonic()
    await turn
    took = time.monotonic() - ended
    [reply] = await _reply_rows(harness, lambda rows: rows[0].status == "complete")
    assert reply.content == "abc"
    assert took < SAVE_INTERVAL_SECONDS * 0.8, took


async def test_the_end_does_not_wait_for_the_first_save_timer_either(harness: Harness) -> None:
    more, last = Gate(), Gate()
    harness.script(
        Reply(
            body=[
                openai_chunk({"role": "assistant", "content": "a"}),
                more,
                openai_chunk({"content": "b"}),
                last,
                openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    got_b = asyncio.Event()

    def on_event(event: Event) -> None:
        if getattr(event, "content", None) == "b":
            got_b.set()

    turn = asyncio.ensure_future(harness.turn("go", on_event=on_event))
    await _reply_rows(harness, lambda rows: bool(rows) and rows[0].content == "a")
    more.open()
    await asyncio.wait_for(got_b.wait(), 10)  # "b" waits for the first timer
    last.open()
    ended = time.monotonic()
    await turn
    took = time.monotonic() - ended
    [reply] = await _reply_rows(harness, lambda rows: rows[0].status == "complete")
    assert reply.content == "ab"
    assert took < SAVE_INTERVAL_SECONDS * 0.8, took
