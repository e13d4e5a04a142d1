"""Benchmark: 50 WebSocket clients on 50 sessions of `agentkit serve`, each streaming a
1,000-token reply from the loopback provider at full speed (not collected by pytest).

    python tests/benchmarks/bench_serve.py [--clients 50] [--tokens 1000] [--rounds 3]
    python tests/benchmarks/bench_serve.py --interval-ms 10    # a 100 token/s model instead
    BENCH_SERVE_PROFILE=serve.prof python tests/benchmarks/bench_serve.py   # cProfile the server

Three processes on one machine:

- the provider (this script with ``--provider``): an OpenAI-compatible SSE server that
  answers every request with ``--tokens`` chunks as fast as it can, one network write per
  chunk; each token's text is the ``time.monotonic_ns()`` at which it was written;
- the server (this script with ``--server``): the API of ``agentkit serve`` — ``ApiServer``,
  ``Hub``, ``ChatService``, ``Gateway`` and a SQLite file, as the CLI builds them — whose
  gateway transport notes when each provider byte was read (same clock: CLOCK_MONOTONIC is
  system-wide on Linux); it reports its peak RSS when it stops;
- the clients (this process): ``websockets`` connections, one per session; they send all
  messages at once and read every event.

Reported per round: provider tokens delivered per second over all clients (first message
sent → last ``result``), and how many ``token`` events carried them (tokens that pile up
behind a client's earlier messages are merged into one event: see ``app.server.hub``);
every stream complete and in order; and two delays per token:

- provider write → client event: what the brief asks; at full speed the provider writes a
  whole reply into the socket buffers in milliseconds, so this includes the time a token
  waits in line behind the other 49,999 (queueing, not the server's own latency);
- server read → client event: from the moment the server's HTTP client read the provider's
  bytes to the client having the token: what the server itself adds.

Targets (issue #19; 2 cores): p99 <= 100 ms, >= 20,000 provider tokens/s. The server's CPU
per provider token (from /proc, per round) is printed too: on a shared machine the wall-time
numbers follow the load, the CPU numbers much less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

STAMP = re.compile(rb'"content":"(\d{6,}) "')


# ------------------------------------------------------------------------------ provider


def _sse(delta: str, finish: str | None = None) -> bytes:
    chunk = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "bench",
        "choices": [{"index": 0, "delta": json.loads(delta), "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n".encode()


async def run_provider(tokens: int, interval: float) -> None:
    """Serve ``tokens`` timestamped tokens per request, one write (and drain) per chunk,
    ``interval`` seconds apart (0: as fast as the socket takes them)."""
    head = _sse('{"role":"assistant","content":""}')
    template = _sse('{"content":"@@ "}').split(b"@@")
    tail = _sse("{}", "stop")
    usage = {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": tokens + 10}
    tail += f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode()
    tail += b"data: [DONE]\n\n"

    def chunked(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length:\s*(\d+)", request)
                await reader.readexactly(int(length.group(1)) if length else 0)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"transfer-encoding: chunked\r\n\r\n" + chunked(head)
                )
                for _ in range(tokens):
                    stamp = str(time.monotonic_ns()).encode()
                    writer.write(chunked(template[0] + stamp + template[1]))
                    await writer.drain()
                    if interval:
                        await asyncio.sleep(interval)
                writer.write(chunked(tail) + b"0\r\n\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


# ------------------------------------------------------------------------------ server


async def run_server(provider_port: int, db: Path, timings: Path) -> None:
    """The API over the real engine and store; notes when provider bytes arrive."""
    import httpx

    from app.config import Settings
    from app.llm.gateway import Gateway
    from app.llm.http import tls_context
    from app.llm.pacing import paced_transport
    from app.server.app import ServerOptions
    from app.server.hub import Hub
    from app.server.runner import ApiServer, bind_socket, server_settings
    from app.store import SessionStore
    from app.wiring import build_service

    arrivals: dict[int, int] = {}

    class TimedStream(httpx.AsyncByteStream):
        def __init__(self, inner: httpx.AsyncByteStream) -> None:
            self.inner = inner

        async def __aiter__(self) -> Any:
            async for data in self.inner:
                now = time.monotonic_ns()
                for stamp in STAMP.findall(data):
                    if stamp.endswith(b"7"):  # a 1-in-10 sample keeps the server's memory honest
                        arrivals[int(stamp)] = now
                yield data

        async def aclose(self) -> None:
            await self.inner.aclose()

    class TimedTransport(httpx.AsyncBaseTransport):
        """The gateway's own (paced) transport, noting when provider bytes arrive."""

        def __init__(self, limits: httpx.Limits) -> None:
            self.inner = paced_transport(tls_context(), limits=limits)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = TimedStream(response.stream)
            return response

        async def aclose(self) -> None:
            await self.inner.aclose()

    settings = server_settings(
        Settings.model_validate(
            {
                "default_model": "bench/model",
                "providers": {
                    "bench": {
                        "kind": "openai",
                        "base_url": f"http://127.0.0.1:{provider_port}",
                        "max_retries": 0,
                    }
                },
            }
        )
    )
    workspace = Path(tempfile.mkdtemp(prefix="bench-serve-ws-"))
    store = await SessionStore.open(db)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with store, Gateway(settings, env={}, transport=TimedTransport(limits=limits)) as gw:
        service = build_service(
            settings,
            store,
            gw,
            workspace=workspace,
            user_config_file=workspace / "config.toml",
        )
        server = ApiServer(Hub(service), ServerOptions(), bind_socket("127.0.0.1", 0))
        print(server.port, _rss_kib("VmRSS"), flush=True)
        await server.run_until_stopped()
    timings.write_text(json.dumps({"arrivals": arrivals, "peak_rss_kib": _rss_kib("VmHWM")}))


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# ------------------------------------------------------------------------------ clients


async def one_client(
    port: int, session_id: str, start: asyncio.Event, tokens: int
) -> dict[str, Any]:
    """Send one message when told to, then read every event until ``result``."""
    from websockets.asyncio.client import connect

    stamps: list[tuple[int, int]] = []  # (provider write, client receipt)
    events = 0
    other = 0
    status = ""
    text: list[str] = []
    answer = ""
    url = f"ws://127.0.0.1:{port}/chat/ws/{session_id}?stream=live"  # tokens as written
    async with connect(url, max_size=2**24, compression=None, open_timeout=60) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        await start.wait()
        await ws.send(json.dumps({"type": "message", "content": "stream please"}))
        async for raw in ws:
            now = time.monotonic_ns()
            message = json.loads(raw)
            kind = message["type"]
            if kind == "token":
                content = message["content"]
                text.append(content)
                events += 1
                # Tokens that waited behind others arrive merged: one stamp per provider token.
                stamps.extend((int(stamp), now) for stamp in content.split())
                continue
            other += 1
            if kind == "final_answer":
                answer = message["content"]
            elif kind == "result":
                status = message["data"]["status"]
                break
    complete = (
        status == "completed"
        and len(stamps) == tokens
        and all(a[0] < b[0] for a, b in itertools.pairwise(stamps))
        and answer == "".join(text)
    )
    return {
        "stamps": stamps,
        "events": events,
        "other": other,
        "complete": complete,
        "status": status,
    }


async def one_round(port: int, clients: int, tokens: int) -> dict[str, Any]:
    """All clients at once; returns counts, times and per-token delays."""
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        ids = []
        for _ in range(clients):
            created = await http.post("/chat/sessions", json={"agent_name": "default"})
            ids.append(created.json()["session_id"])
    start = asyncio.Event()
    runs = [asyncio.create_task(one_client(port, sid, start, tokens)) for sid in ids]
    await asyncio.sleep(0.5)  # let every socket say "connected" first
    began = time.monotonic_ns()
    start.set()
    results = await asyncio.gather(*runs)
    ended = time.monotonic_ns()
    return {"results": results, "began": began, "ended": ended}


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) a process has used so far."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--interval-ms",
        type=float,
        default=0.0,
        help="pause between the provider's tokens (0 = full speed; 10 = a 100 token/s model)",
    )
    parser.add_argument(
        "--by-position", action="store_true", help="delays of early and late tokens apart"
    )
    parser.add_argument("--provider", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--server", nargs=3, metavar=("PORT", "DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.provider:
        asyncio.run(run_provider(args.tokens, args.interval_ms / 1000))
        return
    if args.server:
        serve = run_server(int(args.server[0]), Path(args.server[1]), Path(args.server[2]))
        profile_to = os.environ.get("BENCH_SERVE_PROFILE")
        if not profile_to:
            asyncio.run(serve)
            return
        import cProfile

        with cProfile.Profile() as profiler:
            asyncio.run(serve)
        profiler.dump_stats(profile_to)
        return

    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    me = [sys.executable, str(Path(__file__).resolve())]
    env = {**os.environ, "AGENTKIT_HOME": str(folder)}
    provider = subprocess.Popen(
        [*me, "--provider", "--tokens", str(args.tokens), "--interval-ms", str(args.interval_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert provider.stdout is not None
    provider_port = int(provider.stdout.readline())
    out = folder / "timings.json"
    server = subprocess.Popen(
        [*me, "--server", str(provider_port), str(folder / "serve.db"), str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    port_text, idle_rss = server.stdout.readline().split()
    port = int(port_text)
    rounds = []
    try:
        asyncio.run(one_round(port, 2, 50))  # warm-up
        for _ in range(args.rounds):
            cpu = [cpu_seconds(server.pid), cpu_seconds(provider.pid), cpu_seconds()]
            rounds.append(asyncio.run(one_round(port, args.clients, args.tokens)))
            after = [cpu_seconds(server.pid), cpu_seconds(provider.pid), cpu_seconds()]
            rounds[-1]["cpu"] = [b - a for a, b in zip(cpu, after, strict=True)]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        provider.terminate()
        provider.wait(timeout=10)
    stats = json.loads(out.read_text())
    arrivals = {int(k): v for k, v in stats["arrivals"].items()}

    print(
        f"{args.clients} WebSocket clients x {args.tokens}-token replies, {args.rounds} rounds, "
        f"provider {'at full speed' if not args.interval_ms else f'{args.interval_ms:g} ms/token'} "
        f"(server: ApiServer + ChatService + SQLite; provider and clients in their own processes)"
    )
    rates, event_rates, p50s, p99s, s50s, s99s = [], [], [], [], [], []
    for index, one in enumerate(rounds, 1):
        results = one["results"]
        seconds = (one["ended"] - one["began"]) / 1e9
        delivered = sum(len(r["stamps"]) for r in results)
        token_events = sum(r["events"] for r in results)
        all_events = token_events + sum(r["other"] for r in results)
        complete = sum(r["complete"] for r in results)
        delays = [(got - sent) / 1e6 for r in results for sent, got in r["stamps"]]
        server_delays = [
            (got - arrivals[sent]) / 1e6
            for r in results
            for sent, got in r["stamps"]
            if sent in arrivals
        ]
        if args.by_position:
            for lo, hi in ((0, 20), (20, 100), (100, 1000)):
                part = [(got - sent) / 1e6 for r in results for sent, got in r["stamps"][lo:hi]]
                print(f"    tokens {lo}-{hi}: p50 {pct(part, 0.5):.1f} p99 {pct(part, 0.99):.1f}")
        rate = delivered / seconds
        rates.append(rate)
        event_rates.append(token_events / seconds)
        p50s.append(pct(delays, 0.5))
        p99s.append(pct(delays, 0.99))
        s50s.append(pct(server_delays, 0.5))
        s99s.append(pct(server_delays, 0.99))
        print(
            f"  round {index}: {complete}/{len(results)} streams complete and in order, "
            f"{delivered:,} provider tokens in {seconds:.2f} s = {rate:,.0f} tokens/s, "
            f"carried by {token_events:,} token events ({all_events:,} events in all, "
            f"{token_events / seconds:,.0f} token events/s)"
        )
        server_cpu, provider_cpu, client_cpu = one["cpu"]
        print(
            f"    CPU seconds: server {server_cpu:.2f}, provider {provider_cpu:.2f}, "
            f"clients {client_cpu:.2f}"
        )
        print(f"    provider write -> client event  p50 {p50s[-1]:7.1f} ms  p99 {p99s[-1]:7.1f} ms")
        print(
            f"    server read    -> client event  p50 {s50s[-1]:7.1f} ms  p99 {s99s[-1]:7.1f} ms"
            f"  ({len(server_delays):,} tokens matched)"
        )
    rate = statistics.median(rates)
    p99 = statistics.median(p99s)
    server_us = statistics.median(
        one["cpu"][0] / max(1, sum(len(r["stamps"]) for r in one["results"])) * 1e6
        for one in rounds
    )
    print("median over rounds:")
    print(f"  server CPU per provider token    {server_us:10.1f} µs")
    print(f"  provider tokens delivered/s      {rate:10,.0f}   target >= 20,000")
    print(f"  token events/s (merged ones: 1)  {statistics.median(event_rates):10,.0f}")
    print(
        f"  provider write -> client event   p50 {statistics.median(p50s):.1f} ms, "
        f"p99 {p99:.1f} ms   target p99 <= 100 ms"
    )
    print(
        f"  server read -> client event      p50 {statistics.median(s50s):.1f} ms, "
        f"p99 {statistics.median(s99s):.1f} ms"
    )
    print(
        f"  server RSS: idle {int(idle_rss) / 1024:.0f} MiB, "
        f"peak {stats['peak_rss_kib'] / 1024:.0f} MiB"
    )
    met = rate >= 20_000 and p99 <= 100
    print(
        f"result: {rate:,.0f} tokens/s ({rate / 20_000:.2f}x the target), p99 {p99:.0f} ms "
        f"({p99 / 100:.2f}x the limit): {'ok' if met else 'targets missed'}"
    )


if __name__ == "__main__":
    main()
