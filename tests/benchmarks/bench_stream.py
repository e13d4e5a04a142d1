"""Benchmark: gateway streaming throughput against a bare httpx loop.

A 50,000-token OpenAI-style SSE reply is served by the loopback fake provider running
in its own process (so it does not share the GIL with the client). Two server shapes:

* ``per-event``: one network write per SSE event, as a real server flushes tokens;
* ``bulk``: the whole body in one write (the client is the only bottleneck).

A third line runs both clients in-process over ``httpx.MockTransport`` (no sockets, no
HTTP framing, no second process competing for the CPU): the gateway's own cost per chunk.

For each, the bare loop reads the bytes with ``httpx`` and does nothing else; the gateway
parses SSE, JSON and tool-call state and hands over its pieces, two ways: ``batches`` (what
the engine reads: everything that arrived since it last asked, answer text as ``str``) and
``stream`` (one typed chunk per piece). Reported: pieces/s of each, their wall and CPU ratios
to the bare loop (target: wall ratio ≤ 1.3 on the per-event shape, measured in one run,
interleaved) and the gateway's CPU overhead per piece in µs.

Run: ``python tests/benchmarks/bench_stream.py [tokens] [rounds]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.config import ProviderConfig, Settings  # noqa: E402
from app.llm.gateway import Gateway  # noqa: E402
from app.llm.types import ChatMessage, ChatRequest, TextDelta  # noqa: E402

REQUEST = ChatRequest(model="bench/m", messages=[ChatMessage(role="user", content="go")])


async def bare(url: str, path: str) -> tuple[float, float, int]:
    """Wall and CPU seconds to read the whole reply with httpx, and the bytes read."""
    async with httpx.AsyncClient(base_url=url, timeout=None) as client:
        payload = {"model": "m", "messages": [{"role": "user", "content": "go"}], "stream": True}
        started, cpu = time.perf_counter(), time.process_time()
        size = 0
        async with client.stream("POST", path, json=payload) as response:
            async for data in response.aiter_raw():
                size += len(data)
        return time.perf_counter() - started, time.process_time() - cpu, size


async def gateway_run(url: str, prefix: str, batched: bool = True) -> tuple[float, float, int]:
    """Wall and CPU seconds to stream the reply through the gateway, and the text pieces:
    ``batched`` reads ``Gateway.batches`` (the engine's path), else ``Gateway.stream`` (one
    ``TextDelta`` model per piece)."""
    settings = Settings(providers={"bench": ProviderConfig(kind="openai", base_url=url + prefix)})
    async with Gateway(settings, env={}) as gateway:
        started, cpu = time.perf_counter(), time.process_time()
        chunks = 0
        if batched:
            async with contextlib.aclosing(gateway.batches(REQUEST)) as batches:
                async for batch in batches:
                    chunks += sum(isinstance(piece, str | TextDelta) for piece in batch)
        else:
            async with contextlib.aclosing(gateway.stream(REQUEST)) as stream:
                async for chunk in stream:
                    if isinstance(chunk, TextDelta):
                        chunks += 1
        return time.perf_counter() - started, time.process_time() - cpu, chunks


TARGET = 1.3


async def measure(url: str, tokens: int, rounds: int) -> list[str]:
    """Print one line per server shape and gateway path; the verdict lines for the summary."""
    print(
        f"{tokens:,} tokens, {rounds} rounds each, median shown (python {sys.version.split()[0]})"
    )
    verdicts = []
    for shape, prefix in (("per-event", ""), ("bulk", "/bulk")):
        await bare(url, prefix + "/chat/completions")  # warm up
        await gateway_run(url, prefix)
        bare_runs, batch_runs, stream_runs = [], [], []
        size = chunks = 0
        for _ in range(rounds):
            # Interleaved, so a change in the machine's load hits all three alike.
            wall, cpu, size = await bare(url, prefix + "/chat/completions")
            bare_runs.append((wall, cpu))
            wall, cpu, chunks = await gateway_run(url, prefix)
            batch_runs.append((wall, cpu))
            wall, cpu, streamed = await gateway_run(url, prefix, batched=False)
            stream_runs.append((wall, cpu))
            assert chunks == streamed == tokens, (chunks, streamed)
        bare_s = statistics.median(w for w, _ in bare_runs)
        bare_cpu = statistics.median(c for _, c in bare_runs)
        print(
            f"{shape:>9}: bare httpx {bare_s * 1000:7.1f} ms ({tokens / bare_s:>9,.0f} events/s, "
            f"{size / 1e6:.1f} MB, {bare_cpu / tokens * 1e6:.2f} µs CPU per event)"
        )
        for path, runs in (("batches", batch_runs), ("stream", stream_runs)):
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(
                f"{'':>11}gateway.{path:<8} {wall * 1000:7.1f} ms ({chunks / wall:>9,.0f} "
                f"pieces/s) | ratio wall {wall / bare_s:4.2f}, CPU {cpu / bare_cpu:4.2f} | "
                f"overhead {(cpu - bare_cpu) / chunks * 1e6:5.2f} µs CPU per piece"
            )
            if shape == "per-event":
                ratio = wall / bare_s
                verdict = "ok" if ratio <= TARGET else "OVER TARGET"
                verdicts.append(
                    f"gateway.{path} vs bare httpx, per-event server: wall ratio {ratio:.2f} "
                    f"(CPU {cpu / bare_cpu:.2f})   target <= {TARGET}  {verdict}"
                )
    return verdicts


class _Events(httpx.AsyncByteStream):
    def __init__(self, events: list[bytes]) -> None:
        self.events = events

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in self.events:
            yield event


async def in_process(tokens: int, rounds: int) -> None:
    """The same comparison without sockets: one body piece per event via MockTransport."""
    from tests.fakes.scripts import openai_text_events

    events = openai_text_events(["tok "] * tokens, usage=(10, tokens))

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_Events(events)
        )

    transport = httpx.MockTransport(reply)
    bare_cpu, gateway_cpu = [], []
    for _ in range(rounds):
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            cpu = time.process_time()
            async with client.stream("POST", "/chat/completions") as response:
                async for _data in response.aiter_raw():
                    pass
            bare_cpu.append(time.process_time() - cpu)
        settings = Settings(
            providers={"bench": ProviderConfig(kind="openai", base_url="http://bench")}
        )
        async with Gateway(settings, env={}, transport=transport) as gateway:
            cpu = time.process_time()
            async with contextlib.aclosing(gateway.stream(REQUEST)) as stream:
                async for _chunk in stream:
                    pass
            gateway_cpu.append(time.process_time() - cpu)
    bare_us = statistics.median(bare_cpu) / tokens * 1e6
    gateway_us = statistics.median(gateway_cpu) / tokens * 1e6
    print(
        f"{'in-process':>9}: bare httpx {bare_us:.2f} µs/event | "
        f"gateway.stream {gateway_us:.2f} µs/chunk "
        f"({tokens / statistics.median(gateway_cpu):,.0f} chunks/s) | "
        f"gateway overhead {gateway_us - bare_us:.2f} µs/chunk"
    )


def main(tokens: int, rounds: int) -> None:
    """Start the server process, measure, stop the server."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.provider", str(tokens)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        verdicts = asyncio.run(measure(f"http://127.0.0.1:{port}", tokens, rounds))
        asyncio.run(in_process(tokens, rounds))
        print("result (ratios measured in this run):")
        for line in verdicts:
            print(f"  {line}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 50_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 5,
    )
