"""Cost in dollars from the bundled genai-prices list: in the usage event where the price is
known, absent where it is not (a local server, an unknown model)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.config import ProviderConfig
from app.engine.events import to_wire
from app.llm.prices import cost_usd, model_cost
from tests.engine.conftest import Harness
from tests.fakes.scripts import openai_reply

pytest.importorskip("genai_prices", reason="the cost extra (genai-prices) is not installed")


def test_known_models_are_priced_and_the_rest_are_not() -> None:
    openai = ProviderConfig(kind="openai")
    assert cost_usd(openai, "gpt-4o", 1_000, 100) == pytest.approx(0.0035)  # $2.5 / $10 per M
    anthropic = ProviderConfig(kind="anthropic")
    assert cost_usd(anthropic, "claude-sonnet-4-5", 1_000, 100) == pytest.approx(0.0045)
    assert cost_usd(openai, "my-own-fine-tune", 1_000, 100) is None
    assert cost_usd(ProviderConfig(kind="ollama"), "llama3.1:8b", 1_000, 100) is None
    local = ProviderConfig(kind="openai", base_url="http://127.0.0.1:8000/v1")
    assert cost_usd(local, "gpt-4o", 1_000, 100) is None  # a local server is not OpenAI
    proxy = local.model_copy(update={"prices_from": "openai"})
    assert cost_usd(proxy, "gpt-4o", 1_000, 100) == pytest.approx(0.0035)
    assert model_cost({"p": proxy}, "p/gpt-4o", 1_000, 100) == pytest.approx(0.0035)
    assert model_cost({"p": proxy}, "demo", 1_000, 100) is None


async def test_the_usage_event_carries_the_cost_when_known(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(
        default_model="fake/gpt-4o", fake_options={"prices_from": "openai"}
    )
    harness.script(openai_reply(["Hello."], usage=(1_000, 100)))
    turn = await harness.turn("Hi there, how are you?")
    (usage,) = turn.of("usage")
    assert usage.data.cost_usd == pytest.approx(0.0035)
    assert to_wire(usage)["data"]["cost_usd"] == pytest.approx(0.0035)


async def test_the_usage_event_has_no_cost_when_unknown(harness: Harness) -> None:
    harness.script(openai_reply(["Hello."], usage=(1_000, 100)))
    turn = await harness.turn("Hi there, how are you?")
    (usage,) = turn.of("usage")
    assert "cost_usd" not in to_wire(usage)["data"]  # absent, not 0 or null
    assert to_wire(usage)["data"]["input_tokens"] == 1_000
