"""The reply writer: a streaming reply is in the database from its first piece, then saved
about once a second (also when the stream goes quiet), and whole at the end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.store.models import Message
from tests.engine.conftest import Harness
from tests.fakes.provider import Gate, Reply
from tests.fakes.scripts import openai_chunk


async def _stored_reply(
    harness: Harness, condition: Callable[[Message], bool], within: float = 10.0
) -> Message:
    """The assistant row of the session once ``condition`` holds for it (polled)."""
    deadline = time.monotonic() + within
    while True:
        rows = await harness.store.get_messages(harness.session_id)
        replies = [m for m in rows if m.role == "assistant"]
        if replies and condition(replies[-1]):
            return replies[-1]
        assert time.monotonic() < deadline, [(m.content, m.status) for m in replies]
        await asyncio.sleep(0.01)  # a poll interval, not a wait for the answer


async def test_a_quiet_stream_is_saved_within_a_second_and_whole_at_the_end(
    harness: Harness,
) -> None:
    more, rest = Gate(), Gate()
    thought = openai_chunk({"reasoning_content": "hmm "})
    harness.script(
        Reply(
            body=[
                openai_chunk({"role": "assistant", "content": "First "}),
                more,
                thought,
                openai_chunk({"content": "second "}),
                rest,
                openai_chunk({"content": "third."}),
                openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    turn = asyncio.ensure_future(harness.turn("go"))
    first = await _stored_reply(harness, lambda m: m.content == "First ")
    assert first.status == "streaming"  # in the database from the first piece
    more.open()
    opened = time.monotonic()
    grown = await _stored_reply(harness, lambda m: m.content == "First second ")
    waited = time.monotonic() - opened
    assert grown.id == first.id and grown.status == "streaming"
    assert grown.thinking == "hmm "
    assert waited < 3.0  # about a second, with room for a slow machine
    rest.open()
    done = await turn
    assert done.status == "completed"
    final = await _stored_reply(harness, lambda m: m.status == "complete")
    assert (final.id, final.content, final.thinking) == (first.id, "First second third.", "hmm ")


async def test_pieces_close_together_are_saved_at_most_once_a_second(harness: Harness) -> None:
    more, rest = Gate(), Gate()
    harness.script(
        Reply(
            body=[
                openai_chunk({"role": "assistant", "content": "a"}),
                more,
                *(openai_chunk({"content": "b"}) for _ in range(20)),
                rest,
                openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    turn = asyncio.ensure_future(harness.turn("go"))
    await _stored_reply(harness, lambda m: m.content == "a")
    more.open()
    opened = time.monotonic()
    # The 20 pieces right after the first save are not written one by one: the timer
    # writes them together, a second after that save.
    await _stored_reply(harness, lambda m: m.content == "a" + "b" * 20)
    assert time.monotonic() - opened >= 0.3
    rest.open()
    await turn


async def test_a_reply_of_tool_calls_only_is_written_whole_at_the_end(harness: Harness) -> None:
    """No text streamed, so the row is created by the end: with the calls, usage, model,
    the turn it belongs to and the main thread, and nothing left as streaming."""
    harness.script(
        harness.calls(("read_file", {"path": "README.md"})),
        harness.text("It says hello."),
    )
    turn = await harness.turn("read it")
    assert turn.status == "completed"
    rows = await harness.store.get_messages(harness.session_id)
    calling, answer = [m for m in rows if m.role == "assistant"]
    assert (calling.content, calling.thinking, calling.status) == ("", "", "complete")
    assert [(c.id, c.name, c.arguments) for c in calling.tool_calls] == [
        ("call_0rea", "read_file", {"path": "README.md"})
    ]
    assert calling.usage == {"input_tokens": 20, "output_tokens": 10}
    assert calling.model == "fake/test-model" and calling.thread == "main"
    assert calling.agent_name == "default"
    assert calling.turn_id is not None and calling.turn_id == answer.turn_id
    assert (answer.content, answer.status, answer.tool_calls) == ("It says hello.", "complete", [])
    assert answer.usage == {"input_tokens": 11, "output_tokens": 7}
    assert (answer.model, answer.agent_name, answer.thread) == (
        "fake/test-model",
        "default",
        "main",
    )
    assert all(m.status != "streaming" for m in rows)


async def test_reasoning_and_thinking_are_kept_with_the_reply(harness: Harness) -> None:
    harness.script(
        Reply(
            body=[
                openai_chunk({"role": "assistant", "reasoning_content": "Think. "}),
                openai_chunk({"reasoning_content": "Then answer."}),
                openai_chunk({"content": "Answer."}),
                openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    await harness.turn("go")
    [reply] = [
        m for m in await harness.store.get_messages(harness.session_id) if m.role == "assistant"
    ]
    assert (reply.thinking, reply.content, reply.status) == (
        "Think. Then answer.",
        "Answer.",
        "complete",
    )


async def test_a_reply_that_is_only_thinking_is_kept(harness: Harness) -> None:
    more = Gate()
    harness.script(
        Reply(
            body=[
                openai_chunk({"role": "assistant", "reasoning_content": "Only thinking"}),
                more,
                openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    turn = asyncio.ensure_future(harness.turn("go"))
    first = await _stored_reply(harness, lambda m: m.thinking == "Only thinking")
    assert (first.content, first.status) == ("", "streaming")
    more.open()
    await turn


async def test_text_then_tool_calls_are_one_row_with_both(harness: Harness) -> None:
    harness.script(
        harness.calls(("read_file", {"path": "README.md"}), text="Let me look."),
        harness.text("Done."),
    )
    await harness.turn("read it")
    rows = await harness.store.get_messages(harness.session_id)
    calling = next(m for m in rows if m.role == "assistant")
    assert (calling.content, calling.status) == ("Let me look.", "complete")
    assert [c.name for c in calling.tool_calls] == ["read_file"]
