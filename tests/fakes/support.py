"""Small helpers shared by tests that use the fake provider."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

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
