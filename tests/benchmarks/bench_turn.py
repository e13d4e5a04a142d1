"""Benchmark: one turn through ChatService with the store on disk (not collected by pytest).

    python tests/benchmarks/bench_turn.py [tokens] [rounds]

1. A 5,000-token streamed answer. The loopback fake provider runs in its own process and
   sends one write per SSE event. Baseline: a bare httpx loop that only reads the bytes of
   the same reply (the provider's own send time as a client sees it). Engine: the whole turn
   (route, save the user message, stream through the gateway, emit an event per token,
   save the reply at least once a second, usage and result events). Target: wall ratio
   <= 1.3 (issue #19), measured in one run; the CPU ratio of the two is printed too.
2. A turn with 10 tool calls (read_file, run concurrently) and then an answer, from an
   in-process fake provider: wall time, split into model, tools and engine time.

For both, the number of store writes (inserts and updates) per turn is counted.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.engine.human import PolicyHuman  # noqa: E402
from app.engine.service import ChatService  # noqa: E402
from app.llm.gateway import Gateway  # noqa: E402
from app.store import SessionStore  # noqa: E402
from app.wiring import build_service  # noqa: E402
from tests.fakes.provider import FakeProvider, Reply  # noqa: E402
from tests.fakes.scripts import openai_reply, openai_tool_call_events  # noqa: E402

TARGET = 1.3


class CountingStore(SessionStore):
    """The real store, counting the writes a turn makes (inserts and updates)."""

    writes = 0

    async def append_message(self, *args: Any, **kwargs: Any) -> Any:
        self.writes += 1
        return await super().append_message(*args, **kwargs)

    async def update_message(self, *args: Any, **kwargs: Any) -> Any:
        self.writes += 1
        return await super().update_message(*args, **kwargs)

    async def append_event(self, *args: Any, **kwargs: Any) -> Any:
        self.writes += 1
        return await super().append_event(*args, **kwargs)


def _settings(url: str) -> Settings:
    return Settings.model_validate(
        {
            "default_model": "bench/m",
            "providers": {"bench": {"kind": "openai", "base_url": url, "max_retries": 0}},
            "approval": {"mode": "auto"},
        }
    )


async def _bare(url: str) -> tuple[float, float]:
    """Wall and CPU seconds to read the reply's bytes with httpx."""
    async with httpx.AsyncClient(timeout=60) as client:
        began, cpu = time.perf_counter(), time.process_time()
        async with client.stream("POST", f"{url}/chat/completions", json={"stream": True}) as reply:
            async for _chunk in reply.aiter_raw():
                pass
        return time.perf_counter() - began, time.process_time() - cpu


async def _turn(
    service: ChatService, store: CountingStore, text: str
) -> tuple[float, float, int, str]:
    """Wall and CPU seconds of one turn, its store writes and how it ended."""
    session = await store.create_session("default")
    store.writes = 0
    began, cpu = time.perf_counter(), time.process_time()
    status = ""
    async for event in service.send(session.id, text, human=PolicyHuman(approve=True)):
        if event.type == "result":
            status = event.data.status
    return time.perf_counter() - began, time.process_time() - cpu, store.writes, status


def _service(
    settings: Settings, store: CountingStore, gateway: Gateway, workspace: Path
) -> ChatService:
    return build_service(
        settings,
        store,
        gateway,
        workspace=workspace,
        user_config_file=workspace / "config.toml",
    )


async def streamed_answer(tokens: int, rounds: int, folder: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.provider", str(tokens)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        settings = _settings(url)
        store = await CountingStore.open(folder / "stream.db")
        async with Gateway(settings, env={}) as gateway:
            service = _service(settings, store, gateway, folder)
            await _bare(url)
            await _turn(service, store, "warm up")
            bare, engine, writes, bare_cpu, engine_cpu = [], [], [], [], []
            for _ in range(rounds):
                wall, cpu = await _bare(url)
                bare.append(wall)
                bare_cpu.append(cpu)
                took, used, wrote, status = await _turn(service, store, "Write a long answer")
                assert status == "completed", status
                engine.append(took)
                engine_cpu.append(used)
                writes.append(wrote)
        await store.close()
    finally:
        server.terminate()
        server.wait()
    b, e = statistics.median(bare), statistics.median(engine)
    bc, ec = statistics.median(bare_cpu), statistics.median(engine_cpu)
    ratio = e / b
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(f"{tokens:,}-token answer, {rounds} rounds (interleaved), median:")
    print(f"  provider send time (bare httpx read)  {b * 1000:8.1f} ms  ({bc * 1000:6.1f} ms CPU)")
    print(f"  whole turn through ChatService        {e * 1000:8.1f} ms  ({ec * 1000:6.1f} ms CPU)")
    print(f"  engine overhead ratio (wall)          {ratio:8.2f}   target <= {TARGET}  {verdict}")
    print(f"  CPU ratio (turn / bare read)          {ec / bc:8.2f}")
    per_token = (ec - bc) / tokens * 1e6
    print(f"  per token                             {per_token:8.1f} µs CPU over the bare read")
    print(f"  store writes per turn                 {statistics.median(writes):8.0f}")


async def tool_turn(rounds: int, folder: Path) -> None:
    workspace = folder / "ws"
    workspace.mkdir()
    for index in range(10):
        (workspace / f"file{index}.txt").write_text(f"line {index}\n" * 200)
    calls = [
        (f"call_{index}", "read_file", [json.dumps({"path": f"file{index}.txt"})])
        for index in range(10)
    ]
    async with FakeProvider() as fake:
        settings = _settings(fake.url)
        store = await CountingStore.open(folder / "tools.db")
        async with Gateway(settings, env={}) as gateway:
            service = _service(settings, store, gateway, workspace)
            walls, writes = [], []
            for _ in range(rounds + 1):
                fake.script(
                    Reply(body=list(openai_tool_call_events(calls))),
                    openai_reply(["All ten files read."]),
                )
                took, _cpu, wrote, status = await _turn(service, store, "Read the ten files")
                assert status == "completed", status
                walls.append(took)
                writes.append(wrote)
        await store.close()
    wall = statistics.median(walls[1:])
    print(f"10-tool-call turn, {rounds} rounds, median:")
    print(f"  whole turn (2 model calls, 10 read_file calls)  {wall * 1000:8.1f} ms")
    print(f"  store writes per turn                           {statistics.median(writes):8.0f}")


def main() -> None:
    tokens = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    with tempfile.TemporaryDirectory(prefix="agentkit-bench-turn-") as folder:
        asyncio.run(streamed_answer(tokens, rounds, Path(folder)))
        asyncio.run(tool_turn(rounds, Path(folder)))


if __name__ == "__main__":
    main()
