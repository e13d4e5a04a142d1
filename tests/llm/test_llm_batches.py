"""Batches: the reader task decodes while the consumer works, and the consumer then takes
everything that piled up at once; answer text travels as plain ``str`` inside the gateway."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from app.llm import transport
from app.llm.openai_chat import OpenAIDecoder
from app.llm.transport import Endpoint, stream_batches
from app.llm.types import ChatMessage, ChatRequest, FinishChunk, Piece, TextDelta, UsageChunk
from tests.fakes import scripts
from tests.fakes.provider import FakeProvider, Gate, Reply
from tests.fakes.support import GatewayFactory

REQUEST = ChatRequest(model="fake/m", messages=[ChatMessage(role="user", content="hi")])
WITHIN = 10.0


async def _until(condition: object) -> None:
    async with asyncio.timeout(WITHIN):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.005)


async def test_what_arrives_while_the_consumer_is_busy_comes_as_one_batch(
    fake: FakeProvider,
) -> None:
    gate = Gate()
    events = scripts.openai_text_events(["one ", "two ", "three"], usage=(3, 3))
    fake.script(Reply(body=[*events[:2], gate, *events[2:]]))
    decoder = OpenAIDecoder("fake", "fake/m", raw_text=True)
    batches: list[list[Piece]] = []
    async with httpx.AsyncClient(base_url=fake.url) as client:
        endpoint = Endpoint(name="fake", kind="openai", base_url=fake.url)
        stream = stream_batches(client, endpoint, "/chat/completions", {}, decoder)
        async with contextlib.aclosing(stream):
            async for batch in stream:
                batches.append(batch)
                if len(batches) == 1:
                    # Busy with the first batch while the rest of the reply is read.
                    gate.open()
                    await _until(lambda: decoder.finished)
    assert batches[0] == ["one "]
    rest = batches[1]
    assert rest[:2] == ["two ", "three"]  # plain text, no model per piece
    assert isinstance(rest[2], UsageChunk) and isinstance(rest[3], FinishChunk)
    assert len(batches) == 2


async def test_a_consumer_far_behind_stops_the_reader_and_loses_nothing(
    fake: FakeProvider, make_gateway: GatewayFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "MAX_READ_AHEAD", 2)
    words = [f"w{index} " for index in range(60)]
    fake.script(scripts.openai_reply(words))
    gateway = make_gateway()
    sizes: list[int] = []
    pieces: list[str] = []
    async with asyncio.timeout(WITHIN), contextlib.aclosing(gateway.batches(REQUEST)) as batches:
        async for batch in batches:
            sizes.append(len(batch))
            pieces += [piece for piece in batch if isinstance(piece, str)]
            await asyncio.sleep(0)  # let the reader run up to its limit
    assert pieces == words
    # The reader holds at most its limit plus what one network read completes.
    assert max(sizes) < len(words)


async def test_stream_still_yields_one_text_delta_per_piece(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(scripts.openai_reply(["a", "b", "c"]))
    chunks = []
    async with contextlib.aclosing(make_gateway().stream(REQUEST)) as stream:
        async for chunk in stream:
            chunks.append(chunk)
    assert [c.text for c in chunks if isinstance(c, TextDelta)] == ["a", "b", "c"]
    assert isinstance(chunks[-1], FinishChunk)


def _decode(pieces: list[bytes], *, raw_text: bool) -> tuple[list[object], int]:
    decoder = OpenAIDecoder("fake", "fake/m", raw_text=raw_text)
    out: list[object] = []
    for piece in pieces:
        out += decoder.feed(piece)
    out += decoder.close()
    return out, decoder.progress


def _body() -> bytes:
    return b"".join(
        [
            scripts.openai_chunk({"role": "assistant", "content": ""}),
            b": keep-alive\n\n",
            scripts.openai_chunk({"content": "plain "}),
            scripts.openai_chunk({"content": 'quoted "word" \u00e9\n'}),
            b'data: {"choices":[{"index":0,"delta":{"content":"bad \\x"},'
            b'"finish_reason":null}]}\n\n',
            scripts.openai_chunk({"content": "with usage"}, usage={"prompt_tokens": 1}),
            scripts.openai_chunk({}, "stop"),
            b"data: [DONE]\n\n",
        ]
    )


@pytest.mark.parametrize("raw_text", [False, True])
def test_several_whole_events_in_one_read_decode_as_they_do_byte_by_byte(
    raw_text: bool,
) -> None:
    body = _body()
    whole, whole_progress = _decode([body], raw_text=raw_text)
    one_by_one, progress = _decode([body[i : i + 1] for i in range(len(body))], raw_text=False)

    def texts(chunks: list[object]) -> list[str]:
        return [
            c if isinstance(c, str) else c.text for c in chunks if isinstance(c, str | TextDelta)
        ]

    assert texts(whole) == texts(one_by_one) == ["plain ", 'quoted "word" \u00e9\n', "with usage"]
    assert whole[len(texts(whole)) :] == one_by_one[len(texts(one_by_one)) :]  # usage, finish
    assert whole_progress == progress
    # Reads cut in the middle of events: the whole ones go the fast way, the rest waits.
    cut_up, cut_progress = _decode(
        [body[i : i + 37] for i in range(0, len(body), 37)], raw_text=raw_text
    )
    assert (
        texts(cut_up) == texts(whole) and cut_up[len(texts(cut_up)) :] == whole[len(texts(whole)) :]
    )
    assert cut_progress == progress
    kinds = {type(c) for c in whole if isinstance(c, str | TextDelta)}
    assert kinds == ({str} if raw_text else {TextDelta})
