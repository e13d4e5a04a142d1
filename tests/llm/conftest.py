"""Fixtures for the LLM layer: a loopback fake provider and gateways pointed at it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.fakes` must import without an editable install too
    sys.path.insert(0, str(ROOT))

from app.config import ProviderConfig, Settings  # noqa: E402
from app.llm.gateway import Gateway  # noqa: E402
from tests.fakes.provider import FakeProvider  # noqa: E402
from tests.fakes.support import API_KEY, GatewayFactory, RecordingSleep  # noqa: E402


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    """A running loopback provider; stopped after the test."""
    async with FakeProvider() as server:
        yield server


@pytest.fixture
def sleeper() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def make_gateway(
    fake: FakeProvider, sleeper: RecordingSleep
) -> AsyncIterator[GatewayFactory]:
    """Build gateways whose provider ``fake`` points at the loopback server."""
    made: list[Gateway] = []

    def factory(
        kind: str = "openai",
        *,
        base_url: str | None = None,
        env: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
        **provider: Any,
    ) -> Gateway:
        options: dict[str, Any] = {"api_key_env": "FAKE_KEY", "max_retries": 2} | provider
        config = ProviderConfig(kind=kind, base_url=base_url or fake.url, **options)  # type: ignore[arg-type]
        data: dict[str, Any] = {"providers": {"fake": config}} | (settings or {})
        gateway = Gateway(
            Settings.model_validate(data),
            env={"FAKE_KEY": API_KEY} if env is None else env,
            sleep=sleeper,
            demo_delay=0,
            probe_timeout=2.0,  # generous: a loaded machine answers a loopback probe late
        )
        made.append(gateway)
        return gateway

    yield factory
    for gateway in made:
        await gateway.aclose()
