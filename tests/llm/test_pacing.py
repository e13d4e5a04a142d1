"""Read pacing (``app/llm/pacing.py``): at a model's pace several tokens come in one wake-up,
while the first data, full-speed reads and cancelling are never held back."""

from __future__ import annotations

import asyncio
import contextlib

import httpcore

from app.llm.pacing import PacedStream
from tests.fakes.provider import FakeProvider, Repeat, Reply
from tests.fakes.scripts import openai_chunk
from tests.fakes.support import GatewayFactory
from tests.llm.test_llm_batches import REQUEST

#: Longer than any test waits: a read that is held this long is visibly held.
LONG_PACE = 30.0


async def test_a_paced_server_s_tokens_come_several_to_a_batch(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    # One token every 5 ms (200 tokens/s), each its own chunk and TCP segment, for as long
    # as the client reads.
    fake.script(Reply(body=[Repeat(openai_chunk({"content": "tok "}), every=0.005)]))
    gateway = make_gateway()
    sizes: list[int] = []
    pieces: list[object] = []
    async with contextlib.aclosing(gateway.batches(REQUEST)) as batches:
        async for batch in batches:
            sizes.append(len(batch))
            pieces += batch
            if len(pieces) >= 60:
                break
    assert set(pieces) == {"tok "}  # every token, in plain text
    # Unpaced, nearly every token wakes the reader alone (~60 batches); paced, a wake-up
    # takes what gathered in up to 33 ms (~6 tokens).
    assert len(sizes) <= 25, sizes
    assert sizes[0] == 1  # the first token is handed on alone, at once
    await fake.wait_disconnect()  # leaving the loop closed the connection


async def test_closing_a_paced_stream_ends_it_at_once(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(Reply(body=[Repeat(openai_chunk({"content": "tok "}), every=0.005)]))
    gateway = make_gateway()
    stream = gateway.batches(REQUEST)
    await anext(stream)
    await anext(stream)  # paced from here on: the reader sleeps between reads
    async with asyncio.timeout(2.0):
        await stream.aclose()
    await fake.wait_disconnect()


async def _gap() -> None:
    """Let more than ``MIN_GAP_SECONDS`` pass between two reads (a server's pace)."""
    await asyncio.sleep(0.01)


async def test_a_small_read_after_a_wait_holds_the_next_one_until_the_interval_ends() -> None:
    stream = PacedStream(httpcore.AsyncMockStream([b"a", b"b", b"c"]))
    stream.pace(LONG_PACE)
    async with asyncio.timeout(LONG_PACE / 3):
        assert await stream.read(1024) == b"a"  # the first read after pacing starts: at once
    await _gap()
    assert await stream.read(1024) == b"b"  # small, after a wait: the next one is held
    held = asyncio.ensure_future(stream.read(1024))
    done, _ = await asyncio.wait({held}, timeout=1.0)
    assert not done  # still waiting for the interval to end
    held.cancel()  # and cancelling ends the wait at once
    await asyncio.gather(held, return_exceptions=True)
    assert held.cancelled()


async def test_big_reads_quick_reads_and_unpaced_streams_are_never_held() -> None:
    big = b"x" * 64 * 1024  # 64 KiB in ~10 ms: megabytes a second, a full-speed stream
    stream = PacedStream(httpcore.AsyncMockStream([big, big, b"small", b"quick", b"after"]))
    stream.pace(LONG_PACE)
    async with asyncio.timeout(LONG_PACE / 3):
        assert await stream.read(64 * 1024) == big
        await _gap()
        assert await stream.read(64 * 1024) == big  # behind: a full read goes on at once
        assert await stream.read(64 * 1024) == b"small"  # came at once: server is fast
        assert await stream.read(64 * 1024) == b"quick"
        stream.pace(0)
        await _gap()
        assert await stream.read(64 * 1024) == b"after"  # pacing off: never held
