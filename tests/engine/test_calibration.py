"""The estimate's calibration: small requests teach a fixed cost, big ones a ratio."""

from __future__ import annotations

from app.engine.context import LEARN_MIN_TOKENS, Calibration
from app.llm.types import ChatMessage, ChatRequest, ToolSpec

TOOL = ToolSpec(name="fixed_version", description="Return a fixed test version string")


def _request(chars: int, *, tools: bool = True) -> ChatRequest:
    return ChatRequest(
        model="m",
        messages=[ChatMessage(role="user", content="w" * chars)],
        tools=[TOOL] if tools else [],
    )


def test_a_small_request_teaches_the_fixed_cost_not_a_ratio() -> None:
    # As in anthropic/thinking_tool_use: ~60 tokens of text, 598 counted (tool-use prompt).
    calibration = Calibration()
    small = _request(200)
    calibration.learn("m", small, 598)
    assert calibration.factors == {}  # the old rule learnt ×2 here and doubled everything
    assert abs(calibration.estimate("m", small) - 598) <= 2
    big = _request(400_000)  # 100,000 tokens of text: the fixed cost is added, not scaled
    assert 100_500 <= calibration.estimate("m", big) <= 100_700


def test_a_big_request_teaches_the_ratio_beyond_the_fixed_cost() -> None:
    calibration = Calibration()
    calibration.learn("m", _request(200), 550)
    big = _request(LEARN_MIN_TOKENS * 40)
    calibration.learn("m", big, 550 + 15_000)  # this model counts 1.5× characters / 4
    assert 1.45 <= calibration.factors["m"] <= 1.55
    assert abs(calibration.estimate("m", big) - 15_550) <= 50
    calibration.learn("m", _request(200, tools=False), -1)  # nonsense is ignored
    assert abs(calibration.estimate("m", big) - 15_550) <= 50
