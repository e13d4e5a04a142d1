"""Replay every recorded stream of ../shared/compat through the loopback server.

Each entry of MANIFEST.json is served byte for byte (cut into small pieces, so the
incremental parsers see split lines and events) and the parsed text, thinking, tool calls,
finish reason and usage must equal the manifest's ``expected``. Error bodies are served
with their recorded status and must become the right typed error, quoting the provider.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.llm import errors
from app.llm.types import ChatMessage, ChatRequest
from app.textsafe import one_line
from tests.fakes.collect import collect
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.support import API_KEY, GatewayFactory

COMPAT = Path(__file__).resolve().parents[2].parent / "shared" / "compat"
MANIFEST = COMPAT / "MANIFEST.json"


def _entries() -> list[Any]:
    if not MANIFEST.is_file():
        return [
            pytest.param(
                None,
                marks=pytest.mark.skip(
                    reason=f"compat corpus not found at {COMPAT} (it lives in ../shared)"
                ),
                id="compat-corpus-absent",
            )
        ]
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [pytest.param(entry, id=entry["file"]) for entry in entries]


KIND = {
    "openai-chat-sse": "openai",
    "anthropic-messages-sse": "anthropic",
    "ollama-chat-ndjson": "ollama",
}
STATUS_ERRORS: dict[int, type[errors.LLMError]] = {
    401: errors.AuthError,
    404: errors.BadRequestError,
    429: errors.RateLimitError,
    500: errors.ServerError,
    529: errors.ServerError,
}


def _pieces(body: bytes, size: int = 97) -> list[bytes | Any]:
    return [body[start : start + size] for start in range(0, len(body), size)]


def _kind_for_error(entry: dict[str, Any]) -> str:
    return entry["provider"] if entry["provider"] in ("anthropic", "ollama") else "openai"


@pytest.mark.parametrize("entry", _entries())
async def test_compat_entry(
    entry: dict[str, Any], fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    body = (COMPAT / entry["file"]).read_bytes()
    expected = entry["expected"]
    request = ChatRequest(
        model=f"fake/{entry['request_model'] or 'model'}",
        messages=[ChatMessage(role="user", content="hi")],
    )
    if entry["protocol"] == "error-json":
        gateway = make_gateway(_kind_for_error(entry), max_retries=0)
        fake.script(
            Reply(status=entry["http_status"], body=[body], content_type="application/json")
        )
        result = await collect(gateway.stream(request))
        status = entry["http_status"]
        message, _code = errors.provider_message(expected["error"])
        context_error = "context" in entry["file"] or "too_long" in entry["file"]
        wanted = errors.ContextTooLongError if context_error else STATUS_ERRORS[status]
        assert isinstance(result.error, wanted), result.error
        assert result.error.status == status
        assert one_line(message, errors.MAX_MESSAGE_CHARS, keep_controls=True)[:120] in str(
            result.error
        )
        assert API_KEY not in str(result.error)
        assert result.chunks == []
        return

    kind = KIND[entry["protocol"]]
    gateway = make_gateway(kind, max_retries=0)
    content_type = "application/x-ndjson" if kind == "ollama" else "text/event-stream"
    fake.script(Reply(body=_pieces(body), content_type=content_type))
    result = await collect(gateway.stream(request))

    assert result.text == expected["text"]
    assert (result.thinking or None) == expected["thinking"]
    calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in result.calls]
    assert calls == expected["tool_calls"]
    assert all(c.parse_error is None for c in result.calls)
    if "stream_error" in expected:
        assert result.error is not None and result.finish is None
        provider_text = expected["stream_error"][0]["message"]
        assert one_line(provider_text, errors.MAX_MESSAGE_CHARS, keep_controls=True)[:100] in str(
            result.error
        )
        return
    assert result.error is None, result.error
    assert result.finish is not None
    assert result.finish.native_reason == expected["finish_reason"]
    if expected["tool_calls"]:
        assert result.finish.reason == "tool_calls"
    if expected["usage"] is None:
        assert result.usage is None
    else:
        assert result.usage is not None and result.usage.raw == expected["usage"]
        assert result.usage.output_tokens > 0
    if kind == "anthropic":
        signed = [block for block in result.reasoning if block.kind == "thinking"]
        assert len(signed) == expected["content_block_types"].count("thinking")
        assert all(block.signature for block in signed)
