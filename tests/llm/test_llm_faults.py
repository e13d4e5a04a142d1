"""Faults, each through the loopback server: retries, timeouts, drops, typed errors, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import sys
from email.utils import formatdate

import pytest

from app.llm import errors
from app.llm.types import ChatMessage, ChatRequest, TextDelta
from tests.fakes import scripts
from tests.fakes.collect import collect
from tests.fakes.provider import Drop, FakeProvider, Gate, Reply, Stall
from tests.fakes.support import API_KEY, GatewayFactory, RecordingSleep, closed_port

REQUEST = ChatRequest(model="fake/m", messages=[ChatMessage(role="user", content="hi")])


def _error(status: int, message: str, kind: str = "api_error", **headers: str) -> Reply:
    return Reply.json(status, {"error": {"message": message, "type": kind}}, **headers)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
async def test_retryable_status_is_retried_with_backoff_then_succeeds(
    status: int, fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    fake.script(
        _error(status, "try later"), _error(status, "try later"), scripts.openai_reply(["ok"])
    )
    result = await collect(make_gateway(max_retries=3).stream(REQUEST))
    assert result.error is None and result.text == "ok"
    assert len(fake.requests) == 3
    # exponential backoff with jitter: attempt n waits within [0.5, 1] x 0.5 x 2**n
    assert 0.25 <= sleeper.delays[0] <= 0.5
    assert 0.5 <= sleeper.delays[1] <= 1.0


async def test_retry_after_seconds_is_honoured(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    fake.script(
        _error(429, "slow down", "rate_limit_error", retry_after="7"), scripts.openai_reply(["ok"])
    )
    result = await collect(make_gateway().stream(REQUEST))
    assert result.text == "ok"
    assert sleeper.delays == [7.0]


async def test_retry_after_http_date_is_honoured(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    import time

    when = formatdate(time.time() + 30, usegmt=True)
    fake.script(_error(503, "busy", retry_after=when), scripts.openai_reply(["ok"]))
    result = await collect(make_gateway().stream(REQUEST))
    assert result.text == "ok"
    assert 25 <= sleeper.delays[0] <= 31


async def test_retry_after_beyond_the_limit_is_not_waited_for(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    fake.script(_error(429, "come back tomorrow", "rate_limit_error", retry_after="86400"))
    result = await collect(make_gateway().stream(REQUEST))
    assert isinstance(result.error, errors.RateLimitError)
    assert sleeper.delays == [] and len(fake.requests) == 1


async def test_retries_stop_after_max_attempts(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    fake.script(*[_error(500, "Internal server error") for _ in range(5)])
    result = await collect(make_gateway(max_retries=2).stream(REQUEST))
    assert isinstance(result.error, errors.ServerError)
    assert len(fake.requests) == 3 and len(sleeper.delays) == 2
    assert str(result.error) == (
        "fake: provider error (HTTP 500): Internal server error (gave up after 3 attempts)"
    )


@pytest.mark.parametrize(
    ("status", "body", "wanted"),
    [
        (
            400,
            {"error": {"message": "bad field 'x'", "type": "invalid_request_error"}},
            errors.BadRequestError,
        ),
        (
            401,
            {"error": {"message": "invalid x-api-key", "type": "authentication_error"}},
            errors.AuthError,
        ),
        (
            403,
            {"error": {"message": "model not allowed", "type": "permission_error"}},
            errors.PermissionError_,
        ),
        (404, {"error": "model 'nope' not found"}, errors.BadRequestError),
        (
            400,
            {"error": {"message": "prompt is too long: 201000 tokens > 200000 maximum"}},
            errors.ContextTooLongError,
        ),
        (
            429,
            {"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}},
            errors.RateLimitError,
        ),
    ],
)
async def test_http_errors_are_typed_quote_the_provider_and_are_not_retried(
    status: int,
    body: dict[str, object],
    wanted: type[errors.LLMError],
    fake: FakeProvider,
    make_gateway: GatewayFactory,
    sleeper: RecordingSleep,
) -> None:
    fake.script(Reply.json(status, body))
    result = await collect(make_gateway().stream(REQUEST))
    assert type(result.error) is wanted
    quoted, _ = errors.provider_message(body)
    assert quoted in str(result.error) and f"HTTP {status}" in str(result.error)
    assert "\n" not in str(result.error)
    assert len(fake.requests) == 1 and sleeper.delays == []


async def test_api_key_never_appears_in_errors(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(Reply.json(401, {"error": {"message": f"Incorrect API key provided: {API_KEY}."}}))
    result = await collect(make_gateway().stream(REQUEST))
    assert isinstance(result.error, errors.AuthError)
    assert API_KEY not in str(result.error) and API_KEY not in repr(result.error.args)
    assert "Incorrect API key provided: ***." in str(result.error)
    assert fake.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


async def test_missing_api_key_fails_before_any_request(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    result = await collect(make_gateway(env={}).stream(REQUEST))
    assert isinstance(result.error, errors.AuthError)
    assert "FAKE_KEY is not set" in str(result.error)
    assert fake.requests == []


async def test_connection_refused_is_a_network_error_after_retries(
    make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    gateway = make_gateway(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=2)
    result = await collect(gateway.stream(REQUEST))
    assert isinstance(result.error, errors.NetworkError)
    assert "cannot connect" in str(result.error) and len(sleeper.delays) == 2


@pytest.mark.skipif(
    sys.platform != "linux", reason="relies on Linux dropping SYNs to a full backlog"
)
async def test_connect_timeout_is_detected_and_retried(
    make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    # A listening socket that never accepts, its accept queue filled: the next SYN is dropped.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
            gateway = make_gateway(
                base_url=f"http://127.0.0.1:{port}", connect_timeout=0.2, max_retries=1
            )
            result = await collect(gateway.stream(REQUEST))
        finally:
            for filler in fillers:
                filler.close()
    assert isinstance(result.error, errors.TimeoutError_)
    assert "could not connect" in str(result.error) and "within 0.2 s" in str(result.error)
    assert len(sleeper.delays) == 1


async def test_first_byte_timeout_is_a_timeout_error_and_not_retried(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    fake.script(Reply(hold=True), scripts.openai_reply(["never asked for"]))
    result = await collect(make_gateway(first_byte_timeout=0.2).stream(REQUEST))
    assert isinstance(result.error, errors.TimeoutError_)
    assert "first-byte timeout" in str(result.error)
    assert len(fake.requests) == 1 and sleeper.delays == []
    await fake.wait_disconnect()  # the waiting connection was given up


async def test_connections_are_reused_after_a_finished_reply(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    gateway = make_gateway()
    for _ in range(3):
        fake.script(scripts.openai_reply(["again"]))
        assert (await collect(gateway.stream(REQUEST), catch=False)).text == "again"
    assert fake.connections == 1


async def test_stall_mid_stream_hits_the_idle_timeout_and_keeps_partial_text(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    events = scripts.openai_text_events(["Hel", "lo"])
    fake.script(Reply(body=[*events[:3], Stall()]))
    result = await collect(make_gateway(idle_timeout=0.2).stream(REQUEST))
    assert result.text == "Hello"
    assert isinstance(result.error, errors.TimeoutError_)
    assert "stopped sending" in str(result.error)
    assert len(fake.requests) == 1 and sleeper.delays == []  # no retry after the first chunk
    await fake.wait_disconnect()  # the stalled connection was closed by the client


async def test_a_slow_consumer_does_not_trip_the_idle_timeout(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    gate = Gate()
    events = scripts.openai_text_events(["slow ", "reader"])
    fake.script(Reply(body=[*events[:2], gate, *events[2:]]))
    texts: list[str] = []
    stream = make_gateway(idle_timeout=0.5).stream(REQUEST)
    async with contextlib.aclosing(stream):
        async for chunk in stream:
            if isinstance(chunk, TextDelta):
                texts.append(chunk.text)
                if len(texts) == 1:
                    # The consumer's own time, longer than the idle limit, counts for nothing;
                    # the server sends the rest only afterwards.
                    await asyncio.sleep(0.75)
                    gate.open()
    assert texts == ["slow ", "reader"]


async def test_dropped_connection_mid_stream_ends_with_a_network_error(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    events = scripts.openai_text_events(["par", "tial", "never"])
    fake.script(Reply(body=[*events[:3], Drop()]))
    result = await collect(make_gateway().stream(REQUEST))
    assert result.text == "partial"
    assert isinstance(result.error, errors.NetworkError)
    assert "middle of the reply" in str(result.error)
    assert sleeper.delays == []


async def test_drop_before_the_first_chunk_is_retried(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    fake.script(Reply(body=[b": keep-alive\n\n", Drop()]), scripts.openai_reply(["second try"]))
    result = await collect(make_gateway().stream(REQUEST))
    assert result.text == "second try" and len(sleeper.delays) == 1


async def test_stream_that_ends_without_finishing_is_a_stream_error(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(scripts.openai_reply(["cut"], finish=None, done=False))
    result = await collect(make_gateway(max_retries=0).stream(REQUEST))
    assert result.text == "cut"
    assert isinstance(result.error, errors.StreamError)
    assert "ended before the model finished" in str(result.error)


async def test_malformed_lines_and_unknown_events_are_skipped_with_a_warning(
    fake: FakeProvider, make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    events = scripts.openai_text_events(["a", "b"])
    junk = [
        b"data: {not json\n\n",
        b"event: mystery\ndata: {}\n\n",
        b": comment\n\n",
        b"retry: 10\n\n",
    ]
    fake.script(Reply(body=[events[0], *junk, *events[1:]]))
    with caplog.at_level(logging.WARNING, logger="app.llm"):
        result = await collect(make_gateway().stream(REQUEST))
    assert result.error is None and result.text == "ab"
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "unreadable" in messages and "mystery" in messages


async def test_error_event_inside_a_200_stream_is_typed_and_not_retried(
    fake: FakeProvider, make_gateway: GatewayFactory, sleeper: RecordingSleep
) -> None:
    events = scripts.openai_text_events(["so far"])
    error = {"error": {"message": "Overloaded", "type": "overloaded_error"}}
    fake.script(Reply(body=[*events[:2], scripts.sse(error, event="error")]))
    result = await collect(make_gateway().stream(REQUEST))
    assert result.text == "so far"
    assert isinstance(result.error, errors.ServerError)
    assert str(result.error) == "fake: provider error (in the reply stream): Overloaded"
    assert sleeper.delays == []


async def test_closing_the_iterator_closes_the_http_response(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    gate = Gate()
    events = scripts.openai_text_events(["one ", "two ", "three"])
    fake.script(Reply(body=[*events[:2], gate, *events[2:]]))
    stream = make_gateway().stream(REQUEST)
    async with contextlib.aclosing(stream):
        async for chunk in stream:
            assert isinstance(chunk, TextDelta) and chunk.text == "one "
            break
    await fake.wait_disconnect()
    gate.open()


async def test_cancelling_the_consumer_task_closes_the_response(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    events = scripts.openai_text_events(["first"])
    fake.script(Reply(body=[*events[:2], Stall()]))
    got_first = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(make_gateway().stream(REQUEST)) as stream:
            async for _chunk in stream:
                got_first.set()

    task = asyncio.create_task(consume())
    await got_first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await fake.wait_disconnect()


async def test_errors_from_anthropic_and_ollama_bodies(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(
        Reply.json(
            529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )
    )
    result = await collect(make_gateway("anthropic", max_retries=0).stream(REQUEST))
    assert isinstance(result.error, errors.ServerError)
    assert str(result.error) == "fake: provider error (HTTP 529): Overloaded"
    fake.script(Reply.json(400, {"error": "the input length exceeds the context length"}))
    result = await collect(make_gateway("ollama", max_retries=0).stream(REQUEST))
    assert isinstance(result.error, errors.ContextTooLongError)
    fake.script(
        Reply(
            body=[
                scripts.ollama_line({"content": "x"}),
                json.dumps({"error": "out of memory"}).encode() + b"\n",
            ],
            content_type="application/x-ndjson",
        )
    )
    result = await collect(make_gateway("ollama", max_retries=0).stream(REQUEST))
    assert result.text == "x" and isinstance(result.error, errors.StreamError)
    assert "out of memory" in str(result.error)


async def test_non_stream_json_reply_is_a_clear_error(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(Reply.json(200, {"id": "x", "choices": [{"message": {"content": "hi"}}]}))
    result = await collect(make_gateway(max_retries=0).stream(REQUEST))
    assert isinstance(result.error, errors.StreamError)
    assert "expected a streamed reply" in str(result.error)


def test_retry_after_parsing() -> None:
    assert errors.parse_retry_after("3") == 3.0
    assert errors.parse_retry_after("1.5") == 1.5
    assert errors.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert errors.parse_retry_after("garbage") is None
    assert errors.parse_retry_after(None) is None
