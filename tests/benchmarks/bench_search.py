"""Benchmark: search with huge messages in the store (not collected by pytest).

    python tests/benchmarks/bench_search.py [--runs N] [--sessions N]

Builds a store of ``--sessions`` sessions of 10 messages each (bulk-filled through the real
schema and triggers), then adds, through the real store API, one session holding a 10 MB
pasted log and a 1 MB one, both made of the same common words as everything else. Times:

- saving the 10 MB message (it is indexed in parts by the triggers);
- ``store.search(word)`` for a common word, a word found only at the very end of the 10 MB
  message, a prefix while typing, and a two-word query, each ``--runs`` times (median, worst);
- the same searches scoped to the session holding the big messages.

Target: every search ≤ 100 ms (median) with the 10 MB message in the store. Before schema v2
(one index row per message) the common-word search took 13 s with a 1 MB message and did not
finish in 12 minutes with a 10 MB one.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.store import SessionStore
from tests.benchmarks._fill import add_messages, add_sessions, bulk, sentence

TARGET_MS = 100.0


def fill(db_file: Path, sessions: int) -> None:
    """``sessions`` ordinary sessions of 10 messages each."""
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with bulk(db_file) as raw:
        ids = [(f"s{n:05d}", (start + timedelta(minutes=n)).isoformat()) for n in range(sessions)]
        add_sessions(raw, ids)
        add_messages(
            raw,
            (
                (sid, seq, "user" if seq % 2 else "assistant", sentence(rng, 30), at)
                for sid, at in ids
                for seq in range(1, 11)
            ),
        )


def log_text(rng: random.Random, chars: int, last_word: str) -> str:
    """A pasted log of about ``chars`` characters, ending with ``last_word``."""
    lines: list[str] = []
    size = 0
    while size < chars:
        line = sentence(rng, 12)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + f"\n{last_word}\n"


async def measure(db_file: Path, runs: int) -> bool:
    """Add the big messages, then time the searches; True when every median meets the target."""
    rng = random.Random(11)
    async with await SessionStore.open(db_file) as store:
        session = await store.create_session("default", title="pasted logs")
        big = log_text(rng, 10_000_000, "xylophone")
        began = time.perf_counter()
        await store.append_message(session.id, "user", big)
        print(f"saving a {len(big) / 1e6:.1f} MB message: {time.perf_counter() - began:.2f} s")
        await store.append_message(session.id, "assistant", log_text(rng, 1_000_000, "marimba"))
        ok = True
        for label, scope in (("whole store", None), ("one session", session.id)):
            for query in ("error", "xylophone", "depl", "deploy error"):
                times: list[float] = []
                hits = 0
                for _ in range(runs):
                    began = time.perf_counter()
                    hits = len(await store.search(query, session_id=scope))
                    times.append((time.perf_counter() - began) * 1000)
                median = statistics.median(times)
                verdict = "ok" if median <= TARGET_MS else "SLOW"
                ok = ok and median <= TARGET_MS
                print(
                    f"{label:12} search {query!r:16} {hits:3} hits: median {median:6.1f} ms, "
                    f"worst {max(times):6.1f} ms   target <= {TARGET_MS:.0f} ms  {verdict}"
                )
        return ok


def main() -> None:
    """Run the benchmark and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sessions", type=int, default=1000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_file = Path(folder) / "agentkit.db"
        fill(db_file, options.sessions)
        ok = asyncio.run(measure(db_file, options.runs))
    print("all targets met" if ok else "some targets missed")


if __name__ == "__main__":
    main()
