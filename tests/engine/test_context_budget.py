"""The context budget: windows, fitting requests under them, and recovering from a refusal.

The loopback fake provider enforces a window (a largest request body) and answers bigger
requests with a provider's "context too long" 400, as real servers do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from app.config import Settings
from app.engine.context import context_window, elide_old_output
from app.llm.types import ChatMessage, ToolCall
from tests.conftest import SHARED_DIR
from tests.engine.conftest import Harness
from tests.fakes.provider import Reply
from tests.fakes.scripts import openai_reply, openai_tool_call_events

#: OpenAI's documented error for a request over the window.
TOO_LONG = Reply.json(
    400,
    {
        "error": {
            "code": "context_length_exceeded",
            "message": "This model's maximum context length is 8192 tokens. However, your "
            "messages resulted in 9000 tokens. Please reduce the length of the messages.",
            "param": "messages",
            "type": "invalid_request_error",
        }
    },
)


def test_windows_come_from_the_config_then_the_built_in_table() -> None:
    settings = Settings.model_validate(
        {
            "providers": {
                "local": {
                    "kind": "openai",
                    "base_url": "http://127.0.0.1:9/v1",
                    "context_window": 16_000,
                    "context_windows": {"big": 64_000},
                }
            }
        }
    )
    big = context_window(settings, "local/big")
    assert big is not None and (big.tokens, big.source) == (64_000, "config")
    window = context_window(settings, "local/other")
    assert window is not None and (window.tokens, window.source) == (16_000, "config")
    builtin = context_window(settings, "anthropic/claude-sonnet-4-5")
    assert builtin is not None and (builtin.tokens, builtin.source) == (200_000, "built-in")
    assert context_window(settings, "openai/some-new-model") is None


def test_calibration_follows_the_provider_within_bounds() -> None:
    from app.engine.context import Calibration
    from app.llm.types import ChatRequest

    calibration = Calibration()
    request = ChatRequest(model="m", messages=[ChatMessage(role="user", content="w" * 4_000)])
    assert 990 <= calibration.estimate("m", request) <= 1_010
    calibration.learn("m", request, 1_500)  # this model counts 1.5× characters / 4
    assert 1_480 <= calibration.estimate("m", request) <= 1_520
    calibration.learn("m", request, 1)  # a nonsense report is bounded
    assert calibration.estimate("m", request) >= 590
    calibration.refused("m")
    assert calibration.estimate("m", request) >= 1_000


def _step(index: int, output: str) -> list[ChatMessage]:
    call = ToolCall(id=f"c{index}", name="read_file", arguments={"path": "x"})
    return [
        ChatMessage(role="assistant", tool_calls=[call]),
        ChatMessage(role="tool", content=output, tool_call_id=f"c{index}", tool_name="read_file"),
    ]


def test_old_tool_output_keeps_its_head_and_tail_and_recent_steps_stay_whole() -> None:
    big = "head-" + "x" * 10_000 + "-tail"
    messages = [ChatMessage(role="user", content="task")]
    for index in range(4):
        messages += _step(index, big)
    fitted, count, chars = elide_old_output(messages)
    assert count == 2 and chars > 15_000
    old, recent = fitted[2].content, fitted[-1].content
    assert old.startswith("head-") and old.endswith("-tail") and "elided" in old
    assert recent == big and fitted[6].content == big  # the last two steps are whole
    assert messages[2].content == big  # the input is not changed


def _big_tool_turns(harness: Harness, turns: int, size: int) -> None:
    for index in range(turns):
        call = ("call_r", "read_file", [json.dumps({"path": f"big{index % 3}.txt"})])
        harness.script(
            Reply(body=list(openai_tool_call_events([call], usage=None))),
            openai_reply([f"Read part {index}."]),  # no usage: calibration is tested apart
        )
    for index in range(3):
        (harness.workspace / f"big{index}.txt").write_text(f"file {index}\n" + "y" * size)


async def test_a_long_session_with_big_tool_output_never_hits_the_window(
    make_harness: Callable[..., Any],
) -> None:
    # A 6,000-token window: every tool result is ~3,000 tokens of text. Compaction is off:
    # this is the fitting layer under it (tests/engine/test_compaction.py has it on).
    harness: Harness = await make_harness(
        fake_options={"context_window": 6_000}, engine={"auto_compact": False}
    )
    harness.fake.max_request_bytes = 6_000 * 4
    harness.fake.too_long = TOO_LONG
    _big_tool_turns(harness, turns=12, size=12_000)
    fitted = 0
    for index in range(12):
        turn = await harness.turn(f"Read the next part ({index}).")
        assert turn.status == "completed", [
            (e.type, getattr(e, "data", None)) for e in turn.events if e.type in ("notice", "error")
        ]
        fitted += sum(1 for n in turn.of("notice") if n.data.code == "context_fitted")
    assert harness.fake.refused == 0
    assert fitted > 0
    stored = await harness.store.get_messages(harness.session_id)
    assert sum(1 for m in stored if m.role == "user") == 12  # nothing was deleted
    assert sum(1 for m in stored if m.role == "tool" and len(m.content) > 12_000) == 12


async def test_a_refusal_fits_harder_and_retries_once(make_harness: Callable[..., Any]) -> None:
    harness: Harness = await make_harness()  # no window known: only the refusal tells
    harness.fake.max_request_bytes = 40_000
    harness.fake.too_long = TOO_LONG
    _big_tool_turns(harness, turns=3, size=15_000)
    for index in range(3):
        turn = await harness.turn(f"Read the next part ({index}).")
        assert turn.status == "completed", [getattr(e, "data", e) for e in turn.of("error")]
    assert harness.fake.refused >= 1
    last = harness.fake.requests[-1]
    assert len(last.body) <= 40_000
    notices = [n.data.message for n in turn.of("notice") if n.data.code == "context_fitted"]
    assert any("too long" in text for text in notices)


async def test_a_second_refusal_is_one_clear_error_and_the_message_is_kept(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness()
    harness.fake.max_request_bytes = 10  # nothing fits
    harness.fake.too_long = TOO_LONG
    turn = await harness.turn("Hello there, a question about the parser")
    assert turn.status == "error"
    (error,) = turn.of("error")
    assert "too long for this model's context window" in error.data.message
    assert harness.fake.refused == 2  # one retry, no more
    stored = await harness.store.get_messages(harness.session_id)
    assert stored[0].role == "user" and "parser" in stored[0].content


async def test_leaving_out_turns_keeps_the_task_and_valid_tool_pairs(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(
        fake_options={"context_windows": {"test-model": 3_000}}, engine={"auto_compact": False}
    )
    harness.fake.max_request_bytes = 3_000 * 4
    harness.fake.too_long = TOO_LONG
    for index in range(8):
        harness.script(openai_reply([f"Answer {index}: " + "z" * 3_000]))
    first = "THE TASK: rename the parser module"
    await harness.turn(first)
    for index in range(1, 8):
        turn = await harness.turn(f"And then step {index}?")
        assert turn.status == "completed"
    body = harness.request(-1)
    text = json.dumps(body)
    assert "THE TASK: rename the parser module" in text and "left out" in text
    roles = [m["role"] for m in body["messages"] if m["role"] != "system"]
    assert roles[0] == "user"


def _recorded(kind: str, name: str) -> bytes:
    path = SHARED_DIR / "compat" / kind / name
    if not path.exists():
        pytest.skip(
            f"the recorded provider corpus is not here ({path.parent}); it lives in ../shared"
        )
    return path.read_bytes()


async def test_the_recorded_openai_refusal_starts_the_retry(
    make_harness: Callable[..., Any],
) -> None:
    body = _recorded("openai", "error_400_context_length_exceeded.json")
    harness: Harness = await make_harness()
    harness.fake.max_request_bytes = 30_000
    harness.fake.too_long = Reply.json(400, body)
    _big_tool_turns(harness, turns=2, size=20_000)
    for index in range(2):
        turn = await harness.turn(f"Read the next part ({index}).")
        assert turn.status == "completed"
    assert harness.fake.refused == 1


@pytest.mark.parametrize(
    ("kind", "name"),
    [("openai", "error_400_context_length_exceeded.json"),
     ("ollama", "error_400_context_length.json"),
     ("anthropic", "error_400_prompt_too_long.json")],
)  # fmt: skip
def test_recorded_refusals_are_read_as_context_too_long(kind: str, name: str) -> None:
    from app.llm.errors import ContextTooLongError, error_for_status

    error = error_for_status(400, _recorded(kind, name), provider=kind)
    assert isinstance(error, ContextTooLongError)


async def test_agentkit_models_shows_the_windows() -> None:
    from app.llm.describe import describe_models, format_report

    settings = Settings.model_validate(
        {
            "providers": {
                "local": {
                    "kind": "openai",
                    "base_url": "http://127.0.0.1:9/v1",
                    "models": ["qwen2.5-coder", "mystery"],
                    "context_windows": {"mystery": 48_000},
                }
            }
        }
    )
    report = await describe_models(settings, env={"OLLAMA_HOST": "127.0.0.1:9"}, probe_timeout=0.2)
    local = next(p for p in report.providers if p.name == "local")
    assert local.context_windows == {"qwen2.5-coder": 32_768, "mystery": 48_000}
    text = format_report(report)
    assert "local/mystery  48k context" in text and "local/qwen2.5-coder  32k context" in text
    assert '"context_windows"' in report.model_dump_json()
