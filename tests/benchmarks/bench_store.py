"""Session store benchmark (not collected by pytest; run it by hand).

    python tests/benchmarks/bench_store.py [--db PATH] [--keep]

Builds a fresh file with 10,000 sessions x 10 messages plus one session of 5,000 messages
(105,000 messages, through the real schema and triggers), then times through the public
``SessionStore`` API:

- the first page (50) of ``list_sessions``          target <= 10 ms
- the last 100 messages of the 5,000-message session  target <= 10 ms
- an FTS search for a rare word over all messages     target <= 30 ms
- single appends, each its own transaction            target >= 1,000/s

Each timing is the median of repeated runs (p95 shown too) on a warm connection, which is
what the app sees after start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _fill import add_messages, add_sessions, bulk, sentence  # the script folder is on sys.path

from app.store import SessionStore

SESSIONS = 10_000
MESSAGES_PER_SESSION = 10
LONG_SESSION_MESSAGES = 5_000
RARE_WORD = "quillwort"


def populate(path: Path) -> str:
    """Fill a fresh database quickly (bulk transactions, same schema and triggers)."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with bulk(path) as raw:
        long_id = uuid.UUID(int=rng.getrandbits(128)).hex
        session_rows = []
        for number in range(SESSIONS + 1):
            session_id = long_id if number == SESSIONS else uuid.UUID(int=rng.getrandbits(128)).hex
            stamp = (start + timedelta(minutes=number)).isoformat(timespec="microseconds")
            session_rows.append((session_id, stamp))
        add_sessions(raw, session_rows)
        rare_left = 3
        for index, (session_id, stamp) in enumerate(session_rows):
            count = LONG_SESSION_MESSAGES if session_id == long_id else MESSAGES_PER_SESSION
            rows = []
            for seq in range(1, count + 1):
                role = "user" if seq % 2 else "assistant"
                text = sentence(rng, 8 if role == "user" else 40)
                if rare_left and index in (17, 4_000, 9_999) and seq == 5:
                    text += f" The {RARE_WORD} grows in shallow water."
                    rare_left -= 1
                rows.append((session_id, seq, role, text, stamp))
            add_messages(raw, rows)
    return long_id


async def timed(
    label: str, action: Callable[[], Awaitable[Any]], repeats: int, target_ms: float
) -> float:
    """Run ``action`` ``repeats`` times; print and return the median in milliseconds."""
    await action()  # warm caches once, as a running app would have them
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - began) * 1000)
    median = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1]
    verdict = "ok" if median <= target_ms else "SLOW"
    goal = f"target <= {target_ms:g} ms  {verdict}" if target_ms < 1e9 else "(no target)"
    print(f"{label:<44} median {median:7.2f} ms   p95 {p95:7.2f} ms   {goal}")
    return median


async def measure(path: Path, long_id: str) -> bool:
    """Time the four operations of the issue; True when every target is met."""
    ok = True
    async with await SessionStore.open(path) as store:
        total = await store.count_sessions()
        count = await store.count_messages(long_id)
        size_mb = store.path.stat().st_size / 1e6
        print(f"file: {path} ({size_mb:.1f} MB), {total} sessions")

        page = await store.list_sessions(limit=50)
        assert len(page) == 50
        ok &= (
            await timed(
                "list_sessions first page (50)", lambda: store.list_sessions(limit=50), 200, 10
            )
            <= 10
        )

        last = await store.get_messages(long_id, last=100)
        assert len(last) == 100 and last[-1].seq == count
        ok &= (
            await timed(
                f"last 100 of the {count}-message session",
                lambda: store.get_messages(long_id, last=100),
                200,
                10,
            )
            <= 10
        )

        hits = await store.search(RARE_WORD)
        assert len(hits) == 3, hits
        ok &= (
            await timed(
                f"search '{RARE_WORD}' over 105,000 messages",
                lambda: store.search(RARE_WORD),
                100,
                30,
            )
            <= 30
        )

        # Not a target: a common word ranks tens of thousands of matches (worst case).
        await timed(
            "search 'gateway' (common word, no target)", lambda: store.search("gateway"), 10, 1e9
        )

        target = await store.create_session("bench")
        appends = 3_000
        began = time.perf_counter()
        for number in range(appends):
            await store.append_message(target.id, "user", f"append number {number} {RARE_WORD}x")
        elapsed = time.perf_counter() - began
        rate = appends / elapsed
        verdict = "ok" if rate >= 1_000 else "SLOW"
        print(
            f"{'single appends (own transaction each)':<44} {rate:8.0f} /s "
            f"({elapsed / appends * 1e6:.0f} µs each)   target >= 1,000/s  {verdict}"
        )
        ok &= rate >= 1_000
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="where to build the file (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the file afterwards")
    args = parser.parse_args()
    folder = None if args.db else tempfile.TemporaryDirectory(prefix="agentkit-bench-")
    path = args.db or Path(folder.name) / "bench.db"  # type: ignore[union-attr]
    if path.exists():
        print(f"{path} exists; the benchmark needs a fresh file", file=sys.stderr)
        return 2
    began = time.perf_counter()
    long_id = populate(path)
    print(f"populated 105,000 messages in {time.perf_counter() - began:.1f} s")
    ok = asyncio.run(measure(path, long_id))
    if folder is not None and not args.keep:
        folder.cleanup()
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
