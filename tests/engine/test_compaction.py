"""Compaction: the older conversation summarised, stored, and sent in its place.

The loopback fake provider enforces a window (a largest request body) and answers bigger
requests with the provider's recorded "context too long" 400; summary requests (known by
the summariser's prompt) get a summary, everything else the scripted replies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app.engine.compaction import SUMMARY_PROMPT, CompactionGuard, choose_span, compact_session
from app.engine.events import Event
from app.engine.turn import SUMMARY_LABEL
from tests.conftest import SHARED_DIR
from tests.engine.conftest import Harness
from tests.fakes.provider import Recorded, Reply
from tests.fakes.scripts import openai_reply, openai_tool_call_events


def _too_long() -> Reply:
    """The recorded OpenAI refusal when the corpus is here, else its documented shape."""
    path = SHARED_DIR / "compat" / "openai" / "error_400_context_length_exceeded.json"
    if path.exists():
        return Reply.json(400, json.loads(path.read_bytes()))
    return Reply.json(
        400,
        {
            "error": {
                "code": "context_length_exceeded",
                "message": "This model's maximum context length is 8192 tokens.",
                "param": "messages",
                "type": "invalid_request_error",
            }
        },
    )


def _is_summary_request(request: Recorded) -> bool:
    return SUMMARY_PROMPT[:60] in request.body.decode("utf-8", "replace")


class Summariser:
    """Answers summary requests with a numbered summary, counting them."""

    def __init__(self, fail: bool = False) -> None:
        self.count = 0
        self.fail = fail

    def __call__(self, request: Recorded) -> Reply | None:
        if not _is_summary_request(request):
            return None
        self.count += 1
        if self.fail:
            return Reply.json(500, {"error": {"message": "summariser down"}})
        return openai_reply([f"SUMMARY-{self.count}: the task is reading big files; done so far."])


def _big_tool_turns(harness: Harness, turns: int, size: int) -> None:
    for index in range(turns):
        call = ("call_r", "read_file", [json.dumps({"path": f"big{index % 3}.txt"})])
        harness.script(
            Reply(body=list(openai_tool_call_events([call], usage=None))),
            openai_reply([f"Read part {index}."]),
        )
    for index in range(3):
        (harness.workspace / f"big{index}.txt").write_text(f"file {index}\n" + "y" * size)


def _codes(events: list[Event]) -> list[str]:
    return [e.data.code for e in events if e.type == "notice"]


async def test_a_long_session_compacts_and_keeps_every_message(
    make_harness: Callable[..., Any],
) -> None:
    # A 6,000-token window; every tool result is ~3,000 tokens.
    harness: Harness = await make_harness(fake_options={"context_window": 6_000})
    harness.fake.max_request_bytes = 6_000 * 4
    harness.fake.too_long = _too_long()
    summariser = Summariser()
    harness.fake.responder = summariser
    turns = 30
    _big_tool_turns(harness, turns=turns, size=12_000)
    compacted = 0
    for index in range(turns):
        turn = await harness.turn(f"Read the next part ({index}).")
        assert turn.status == "completed", [getattr(e, "data", e) for e in turn.of("error")]
        compacted += _codes(turn.events).count("compacted")
    assert harness.fake.refused == 0  # every request stayed under the window
    assert compacted == summariser.count > 0
    body = harness.request(-1)
    system = body["messages"][0]
    assert system["role"] == "system" and SUMMARY_LABEL in system["content"]
    assert f"SUMMARY-{summariser.count}" in system["content"]
    stored = await harness.store.get_messages(harness.session_id)
    assert sum(1 for m in stored if m.role == "user") == turns  # nothing was deleted
    assert sum(1 for m in stored if m.role == "tool" and len(m.content) > 12_000) == turns
    assert sum(1 for m in stored if m.summary_through is not None) == compacted
    exported = await harness.store.export_session(harness.session_id, "md")
    assert "Read the next part (0)." in exported and f"SUMMARY-{summariser.count}" in exported


def _long_answers(harness: Harness, count: int) -> None:
    for index in range(count):
        harness.script(openai_reply([f"Answer {index}: " + "z" * 3_000]))


async def test_a_refusal_mid_session_compacts_once_and_retries(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness()  # no window known: only the refusal tells
    harness.fake.too_long = _too_long()
    summariser = Summariser()
    harness.fake.responder = summariser
    _long_answers(harness, 11)
    for index in range(10):
        assert (await harness.turn(f"Question {index}?")).status == "completed"
    harness.fake.max_request_bytes = 12_000  # the history is ~32 KB now
    turn = await harness.turn("And the last question?")
    assert turn.status == "completed", [getattr(e, "data", e) for e in turn.of("error")]
    assert _codes(turn.events).count("compacted") == 1 and summariser.count == 1
    assert harness.fake.refused == 2  # the request, then its harder fit; then compacted
    last = harness.request(-1)
    assert "SUMMARY-1" in json.dumps(last) and len(json.dumps(last)) <= 12_000
    stored = await harness.store.get_messages(harness.session_id)
    assert [m.content for m in stored if m.role == "user"][-1] == "And the last question?"


async def test_a_second_refusal_after_compacting_is_the_clear_error(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness()
    harness.fake.too_long = _too_long()
    summariser = Summariser()
    harness.fake.responder = summariser
    _long_answers(harness, 4)
    for index in range(4):
        assert (await harness.turn(f"Question {index}?")).status == "completed"
    harness.fake.max_request_bytes = 8_000
    huge = "Please read this: " + "q" * 20_000  # the new message alone is over the window
    turn = await harness.turn(huge)
    assert turn.status == "error"
    (error,) = turn.of("error")
    assert "/compact" in error.data.message and "saved" in error.data.message
    assert summariser.count == 1  # exactly one compaction
    stored = await harness.store.get_messages(harness.session_id)
    assert [m.content for m in stored if m.role == "user"][-1] == huge


async def test_a_failed_compaction_leaves_the_session_as_it_was(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness()
    summariser = Summariser(fail=True)
    harness.fake.responder = summariser
    _long_answers(harness, 3)
    for index in range(3):
        await harness.turn(f"Question {index}?")
    before = await harness.store.get_messages(harness.session_id)
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    done = await compact_session(harness.service, harness.session_id, emit)
    assert done is None and summariser.count == 1
    assert _codes(events) == ["compacting", "compaction_failed"]
    assert await harness.store.get_messages(harness.session_id) == before


async def test_compact_on_request_keeps_the_last_turn_and_never_runs_twice(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness()
    summariser = Summariser()
    harness.fake.responder = summariser
    _long_answers(harness, 4)
    for index in range(3):
        await harness.turn(f"Question {index}?")
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    with harness.service.compactions.hold(harness.session_id):
        assert await compact_session(harness.service, harness.session_id, emit) is None
    assert _codes(events)[-1] == "compaction_failed" and summariser.count == 0
    done = await compact_session(harness.service, harness.session_id, emit, focus="the parser")
    assert done is not None and done.summarised == 4  # two turns of two messages each
    assert "the parser" in json.dumps(harness.request(-1))
    history = await harness.store.get_chat_messages(harness.session_id)
    assert history[0].summary and history[1].content == "Question 2?"
    again = await compact_session(harness.service, harness.session_id, emit)
    assert again is None and _codes(events)[-1] == "compaction_skipped"
    turn = await harness.turn("Question 3?")
    assert turn.status == "completed"
    sent = harness.request(-1)["messages"]
    assert sent[0]["role"] == "system" and "SUMMARY-1" in sent[0]["content"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["Question 2?", "Question 3?"]


def test_the_span_leaves_running_turns_and_the_newest_turn_out() -> None:
    assert choose_span([], 1) is None
    assert not CompactionGuard().busy("s")
