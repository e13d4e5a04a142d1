"""Streamed text travels as one token event per batch (what arrived together), in the model's
order, and the live hub keeps each run of tokens as its text, not as thousands of events."""

from __future__ import annotations

from datetime import UTC, datetime

from app.engine.cancel import CancellationToken
from app.engine.events import Event, ThinkingEvent, TokenEvent, result
from app.engine.live import LiveTurn
from tests.engine.conftest import Harness
from tests.fakes.provider import Reply
from tests.fakes.scripts import openai_chunk, openai_usage


def _one_write(*events: bytes) -> bytes:
    """Several SSE events sent as one chunk: the client reads them as one batch."""
    return b"".join(events)


async def test_text_that_arrives_together_is_one_token_event(harness: Harness) -> None:
    together = _one_write(*(openai_chunk({"content": part}) for part in ("Hel", "lo", " you")))
    harness.script(
        Reply(
            body=[
                together,
                openai_chunk({}, "stop"),
                openai_usage(3, 3),
                b"data: [DONE]\n\n",
            ]
        )
    )
    turn = await harness.turn("hi")
    tokens = turn.of("token")
    assert [t.content for t in tokens] == ["Hello you"]
    assert turn.types[turn.types.index("token") + 1] == "final_answer"
    assert turn.of("final_answer")[0].content == "Hello you"


async def test_thinking_between_texts_of_one_batch_keeps_its_place(harness: Harness) -> None:
    mixed = _one_write(
        openai_chunk({"content": "a"}),
        openai_chunk({"content": "b"}),
        openai_chunk({"reasoning_content": "hmm"}),
        openai_chunk({"content": "c"}),
    )
    harness.script(Reply(body=[mixed, openai_chunk({}, "stop"), b"data: [DONE]\n\n"]))
    turn = await harness.turn("hi")
    streamed = [
        (e.type, e.content) for e in turn.events if isinstance(e, TokenEvent | ThinkingEvent)
    ]
    assert streamed == [("token", "ab"), ("thinking", "hmm"), ("token", "c")]
    assert turn.of("final_answer")[0].content == "abc"


def _turn() -> LiveTurn:
    return LiveTurn("s", "t1", "hi", datetime.now(UTC), CancellationToken())


def test_the_replay_buffer_joins_runs_of_tokens_and_counts_every_event() -> None:
    turn = _turn()
    notice = ThinkingEvent(content="plan")
    emitted: list[Event] = [TokenEvent(content="a"), TokenEvent(content="b"), notice]
    emitted += [TokenEvent(content="c"), result("completed")]
    for event in emitted:
        turn.replay.keep(event)
    assert turn.events == [TokenEvent(content="ab"), notice, TokenEvent(content="c"), emitted[-1]]
    assert turn.emitted == 5


def test_a_long_run_of_tokens_is_kept_whole_and_in_order() -> None:
    turn = _turn()
    pieces = [f"w{index} " for index in range(1000)]
    for piece in pieces:
        turn.replay.keep(TokenEvent(content=piece))
    assert turn.events == [TokenEvent(content="".join(pieces))]  # the run so far, as one
    turn.replay.keep(result("completed"))
    assert turn.events == [TokenEvent(content="".join(pieces)), result("completed")]
    assert turn.emitted == 1001
