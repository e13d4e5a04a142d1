"""Small helpers shared by tests that use the fake provider."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from app.llm.gateway import Gateway

#: The API key the test gateways send; it must never show up in an error message.
API_KEY = "sk-test-SECRET-0123456789abcdef"

GatewayFactory = Callable[..., Gateway]


class RecordingSleep:
    """Stands in for asyncio.sleep in retries: records each delay, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def closed_port() -> int:
    """A local port with nothing listening (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def wait_for_row(
    db: Path, sql: str, params: tuple[object, ...] = (), *, within: float = 30.0
) -> sqlite3.Row:
    """The first row ``sql`` finds in the SQLite file ``db``, polled until one appears.

    For checks on what another process has committed (read-only: this never writes, and
    never runs our own recovery). Fails after ``within`` seconds, a deadline generous enough
    for a loaded machine; it returns as soon as the row is there.
    """
    deadline = time.monotonic() + within
    while True:
        if db.exists():
            with contextlib.closing(
                sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            ) as connection:
                connection.row_factory = sqlite3.Row
                try:
                    row: sqlite3.Row | None = connection.execute(sql, params).fetchone()
                except sqlite3.OperationalError:  # no schema yet
                    row = None
            if row is not None:
                return row
        if time.monotonic() > deadline:
            raise AssertionError(f"no row for {sql!r} {params!r} within {within} s")
        await asyncio.sleep(0.02)  # a poll interval, not a wait for the answer
