"""Benchmark: compacting a 1,000-message session against the loopback fake (not collected by
pytest).

    python tests/benchmarks/bench_compact.py [messages] [rounds]

A session of ``messages`` rows (user, assistant with a tool call, a 6 KB tool result, …) is
written to a store on disk; then :func:`app.engine.compaction.compact` summarises it through
the real gateway against the in-process fake provider. Reported: the wall time, the time
the model call took as the client saw it (request sent → summary read), the difference
(the engine's own time: reading the session, rendering the transcript, storing the
summary), the summary request's size, and the store writes (one expected).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.engine.compaction import compact  # noqa: E402
from app.llm.gateway import Gateway  # noqa: E402
from app.store import SessionStore  # noqa: E402
from tests.fakes.provider import FakeProvider  # noqa: E402
from tests.fakes.scripts import openai_reply  # noqa: E402


class CountingStore(SessionStore):
    """The real store, counting writes (messages added or changed, events)."""

    writes = 0

    async def append_message(self, *args: Any, **kwargs: Any) -> Any:
        self.writes += 1
        return await super().append_message(*args, **kwargs)

    async def add_summary(self, *args: Any, **kwargs: Any) -> Any:
        self.writes += 1
        return await super().add_summary(*args, **kwargs)

    async def append_event(self, *args: Any, **kwargs: Any) -> Any:
        self.writes += 1
        return await super().append_event(*args, **kwargs)


class TimedGateway(Gateway):
    """The real gateway, timing its streams (the model's part of the wall time)."""

    model_seconds = 0.0

    async def stream(self, request: Any) -> Any:  # type: ignore[override]
        started = time.perf_counter()
        async for chunk in super().stream(request):
            yield chunk
        self.model_seconds += time.perf_counter() - started


async def _fill(store: SessionStore, messages: int) -> str:
    session_id = (await store.create_session("default")).id
    index = 0
    while index < messages:
        turn = f"t{index}"
        await store.append_message(
            session_id, "user", f"Step {index}: read part {index}", turn_id=turn
        )
        call = {"id": f"c{index}", "name": "read_file", "arguments": {"path": f"f{index}.txt"}}
        await store.append_message(session_id, "assistant", "", tool_calls=[call], turn_id=turn)
        await store.append_message(
            session_id, "tool", "y" * 6_000, tool_call_id=f"c{index}", tool_name="read_file",
            turn_id=turn,
        )  # fmt: skip
        await store.append_message(session_id, "assistant", f"Part {index} read.", turn_id=turn)
        index += 4
    return session_id


async def one_round(messages: int) -> dict[str, float]:
    """Compact a fresh session of ``messages`` rows once; the timings and counts."""
    with tempfile.TemporaryDirectory() as folder:
        store = await CountingStore.open(Path(folder) / "bench.db")
        fake = await FakeProvider().start()
        settings = Settings.model_validate(
            {"providers": {"fake": {"kind": "openai", "base_url": fake.url, "max_retries": 0}}}
        )
        gateway = TimedGateway(settings, env={}, demo_delay=0)
        try:
            session_id = await _fill(store, messages)
            store.writes = 0
            fake.script(openai_reply(["Summary: parts read so far; next part pending."]))
            started = time.perf_counter()
            done = await compact(store, gateway, session_id, "fake/m", window_tokens=128_000)
            wall = time.perf_counter() - started
            assert done is not None
            return {
                "wall_ms": wall * 1000,
                "model_ms": gateway.model_seconds * 1000,
                "engine_ms": (wall - gateway.model_seconds) * 1000,
                "request_kb": len(fake.requests[-1].body) / 1024,
                "writes": store.writes,
                "summarised": done.summarised,
            }
        finally:
            await gateway.aclose()
            await fake.stop()
            await store.close()


def main() -> None:
    """Run the rounds and print the medians."""
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    results = [asyncio.run(one_round(messages)) for _ in range(rounds)]
    print(f"compacting a {messages:,}-message session, {rounds} rounds (medians):")
    for key in results[0]:
        print(f"  {key:<11} {statistics.median(r[key] for r in results):10.1f}")


if __name__ == "__main__":
    main()
