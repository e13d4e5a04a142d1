"""Fast database filling for the benchmarks: the schema (and its triggers) made by the real
store, then rows bulk-inserted with raw sqlite3 in one transaction."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.store import SessionStore

WORDS = [
    "build",
    "test",
    "deploy",
    "parser",
    "config",
    "gateway",
    "session",
    "model",
    "token",
    "stream",
    "tool",
    "shell",
    "file",
    "read",
    "write",
    "commit",
    "branch",
    "merge",
    "error",
    "retry",
    "timeout",
    "cache",
    "index",
    "query",
    "table",
    "schema",
    "plan",
    "team",
    "review",
    "explain",
    "refactor",
    "function",
    "class",
    "module",
    "import",
    "package",
    "version",
    "release",
    "docs",
]


def sentence(rng: random.Random, words: int) -> str:
    """``words`` random words as a capitalised sentence."""
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


@contextmanager
def bulk(db_file: Path) -> Iterator[sqlite3.Connection]:
    """A fresh database with the real schema, open for one fast bulk transaction."""

    async def create() -> None:
        async with await SessionStore.open(db_file):
            pass

    asyncio.run(create())
    raw = sqlite3.connect(db_file, isolation_level=None)
    raw.execute("PRAGMA synchronous = OFF")
    raw.execute("BEGIN")
    try:
        yield raw
        raw.execute("COMMIT")
        raw.execute("PRAGMA optimize")
    finally:
        raw.close()


def add_sessions(raw: sqlite3.Connection, rows: Iterable[tuple[str, str]]) -> None:
    """Insert sessions of the default agent: (id, ISO time) each."""
    raw.executemany(
        "INSERT INTO sessions (id, agent_name, created_at, updated_at) VALUES (?, 'default', ?, ?)",
        ((session_id, stamp, stamp) for session_id, stamp in rows),
    )


def add_messages(
    raw: sqlite3.Connection,
    rows: Iterable[tuple[str, int, str, str, str]],
    model: str | None = None,
) -> None:
    """Insert messages: (session id, seq, role, content, ISO time) each."""
    raw.executemany(
        "INSERT INTO messages (session_id, seq, role, content, model, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        ((sid, seq, role, text, model, at, at) for sid, seq, role, text, at in rows),
    )
