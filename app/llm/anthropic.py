"""Anthropic Messages over SSE (``POST {base_url}/v1/messages``).

Requests: the system prompt goes in ``system``; tool results go back as ``tool_result``
blocks at the start of the user message that follows the ``tool_use`` message;
consecutive same-role messages are merged; signed thinking blocks are sent back, unchanged
and in order, ahead of the ``tool_use`` blocks they led to. Streams: ``message_start``,
``content_block_start/delta/stop`` (text, thinking, signature, input JSON), ``message_delta``
(stop reason, usage), ``message_stop``, ``ping`` and in-stream ``error``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from app.llm.caps import ITEM_COST, CharBudget, PendingBytes
from app.llm.errors import LLMError, error_for_stream_event
from app.llm.history import repaired, system_text
from app.llm.replycheck import ended_early, unreadable_reply
from app.llm.sse import SSEEvent, SSEParser
from app.llm.toolcalls import ToolCallAssembler, anthropic_id
from app.llm.types import (
    SCHEMA_ERRORS,
    ChatMessage,
    ChatRequest,
    Chunk,
    FinishChunk,
    ReasoningBlock,
    ReasoningChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallChunk,
    UsageChunk,
    finish_reason,
    text_or_none,
    token_count,
)

log = logging.getLogger(__name__)

PATH = "/v1/messages"
MODELS_PATH = "/v1/models"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 8192


def build_payload(request: ChatRequest, model: str) -> dict[str, Any]:
    """The JSON body of a streamed Messages call for ``request``."""
    max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": convert_messages(request),
        "stream": True,
    }
    system = system_text(request)
    if system:
        payload["system"] = system
    if request.tools:
        payload["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    if request.thinking_budget:
        payload["thinking"] = {"type": "enabled", "budget_tokens": request.thinking_budget}
        payload["max_tokens"] = max(max_tokens, request.thinking_budget + 1024)
    elif request.temperature is not None:
        payload["temperature"] = request.temperature  # not allowed together with thinking
    return payload


def convert_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """Our history as Messages ``messages``: alternating roles, content as blocks."""
    out: list[dict[str, Any]] = []
    for message in repaired(request.messages):
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            previous: list[dict[str, Any]] = out[-1]["content"]
            if role == "user" and blocks[0]["type"] == "tool_result":
                # tool_result blocks must come first in a user message.
                first_text = next(
                    (i for i, b in enumerate(previous) if b["type"] != "tool_result"), None
                )
                if first_text is not None:
                    previous[first_text:first_text] = blocks
                    continue
            previous.extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    if out and out[0]["role"] != "user":
        out.insert(
            0,
            {
                "role": "user",
                "content": [{"type": "text", "text": "(continuing the conversation)"}],
            },
        )
    return out


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": anthropic_id(message.tool_call_id or ""),
            "content": message.content or "(no output)",
        }
        if message.is_error:
            block["is_error"] = True
        return [block]
    blocks: list[dict[str, Any]] = []
    if message.role == "assistant":
        for reasoning in message.reasoning:
            if reasoning.provider not in (None, "anthropic"):
                continue
            if reasoning.kind == "thinking" and reasoning.signature:
                blocks.append(
                    {
                        "type": "thinking",
                        "thinking": reasoning.text,
                        "signature": reasoning.signature,
                    }
                )
            elif reasoning.kind == "redacted_thinking" and reasoning.data:
                blocks.append({"type": "redacted_thinking", "data": reasoning.data})
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": anthropic_id(call.id),
                "name": call.name,
                "input": call.arguments,
            }
        )
    return blocks


def model_names(body: Any) -> list[str]:
    """Model ids from a ``GET /v1/models`` reply."""
    data = body.get("data", []) if isinstance(body, dict) else []
    return sorted(str(item["id"]) for item in data if isinstance(item, dict) and "id" in item)


class AnthropicDecoder:
    """Parse a Messages SSE body into chunks."""

    def __init__(self, provider: str, model: str, *, max_chars: int | None = None) -> None:
        self.provider = provider
        self.model = model
        self.finished = False
        self.error: LLMError | None = None
        self.progress = 0
        self._sse = SSEParser()
        self._calls = ToolCallAssembler(max_chars=max_chars, provider=provider)
        self._pending = PendingBytes(provider, max_chars)
        self._opaque = CharBudget(provider, max_chars, "the content blocks and signatures")
        self._blocks: dict[int, dict[str, Any]] = {}
        self._reasoning: list[ReasoningBlock] = []
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._started = False
        self._skipped = 0
        self._head = b""  # the body's first bytes, until one event is read
        self._said = False  # some text or thinking came out

    def feed(self, data: bytes) -> list[Chunk]:
        """Parse more of the body; an ``error`` event stops parsing and is kept in ``error``."""
        out: list[Chunk] = []
        if self.finished or self.error is not None:
            return out
        if not self.progress:
            self._head = (self._head + data)[:256]
        events = self._sse.feed(data)
        for event in events:
            if event.event != "ping":  # pings, like comments, only keep the line open
                self.progress += 1
            try:
                self._handle_safely(event, out)
            except LLMError as exc:
                self.error = exc
                return out
            if self.finished:
                return out
        self.error = self._pending.after_events(data, idle=self._sse.idle, ended=bool(events))
        self._said = self._said or bool(out)
        return out

    def close(self) -> list[Chunk]:
        """End of body: finish the reply, or raise if ``message_stop`` never came."""
        out: list[Chunk] = []
        for event in self._sse.close():
            self._handle_safely(event, out)
        if self.finished:
            return out
        if self._stop_reason is not None:
            self._finish(out)  # message_delta arrived; only message_stop is missing
            return out
        head = None if self.progress else self._head
        raise ended_early(self.provider, skipped=self._skipped, unit="events", head=head)

    def _handle_safely(self, event: SSEEvent, out: list[Chunk]) -> None:
        """Handle one event; one of the wrong shape is skipped like one of invalid JSON."""
        try:
            self._handle(event, out)
        except SCHEMA_ERRORS:
            self._skip(event)

    def _skip(self, event: SSEEvent) -> None:
        self._skipped += 1
        log.warning(
            "%s: skipping an unreadable %s event: %.120s", self.provider, event.event, event.data
        )

    def _handle(self, event: SSEEvent, out: list[Chunk]) -> None:
        kind = event.event
        if kind == "ping":
            return
        try:
            obj = json.loads(event.data)
        except ValueError:
            self._skip(event)
            return
        if not isinstance(obj, dict):
            self._skip(event)
            return
        if kind == "message":
            kind = str(obj.get("type", ""))
        if kind == "content_block_delta":
            self._delta(obj, out)
        elif kind == "content_block_start":
            index = int(obj.get("index", len(self._blocks)))
            block = dict(obj.get("content_block") or {})
            self._blocks[index] = block
            btype = block.get("type")
            if btype not in ("tool_use", "server_tool_use"):  # those count as tool calls
                self._opaque.spend(ITEM_COST + len(str(block.get("data") or "")))
            if btype == "text" and block.get("text"):
                out.append(TextDelta(text=block["text"]))
            elif btype == "thinking":
                block["parts"] = [block["thinking"]] if block.get("thinking") else []
                if block.get("thinking"):
                    out.append(ThinkingDelta(text=block["thinking"]))
            elif btype in ("tool_use", "server_tool_use"):
                # The "input": {} here is a placeholder; the real input follows as deltas
                # (a non-empty one is used only if no delta comes).
                whole = block.get("input")
                self._calls.add(
                    index,
                    call_id=text_or_none(block.get("id")),
                    name=text_or_none(block.get("name")),
                    whole=whole if isinstance(whole, dict) and whole else None,
                )
        elif kind == "content_block_stop":
            self._block_stop(int(obj.get("index", -1)), out)
        elif kind == "message_start":
            self._started = True
            message = obj.get("message") or {}
            self._usage.update(message.get("usage") or {})
        elif kind == "message_delta":
            delta = obj.get("delta") or {}
            if delta.get("stop_reason"):
                self._stop_reason = str(delta["stop_reason"])
            self._usage.update(obj.get("usage") or {})
        elif kind == "message_stop":
            self._finish(out)
        elif kind == "error":
            raise error_for_stream_event(obj, provider=self.provider)
        else:
            log.warning("%s: skipping unknown event type %r", self.provider, kind)

    def _delta(self, obj: dict[str, Any], out: list[Chunk]) -> None:
        index = int(obj.get("index", -1))
        delta = obj.get("delta") or {}
        dtype = delta.get("type")
        if dtype == "text_delta":
            text = delta.get("text")
            if text:
                out.append(TextDelta(text=text))
        elif dtype == "input_json_delta":
            self._calls.add(index, fragment=text_or_none(delta.get("partial_json")))
        elif dtype == "thinking_delta":
            text = delta.get("thinking")
            if text and isinstance(text, str):
                self._blocks.setdefault(index, {"type": "thinking", "parts": []}).setdefault(
                    "parts", []
                ).append(text)
                out.append(ThinkingDelta(text=text))
        elif dtype == "signature_delta":
            block = self._blocks.setdefault(index, {"type": "thinking", "parts": []})
            signature = str(delta.get("signature", ""))
            self._opaque.spend(len(signature))
            block["signature"] = block.get("signature", "") + signature
        elif dtype != "citations_delta":
            log.warning("%s: skipping unknown delta type %r", self.provider, dtype)

    def _block_stop(self, index: int, out: list[Chunk]) -> None:
        block = self._blocks.get(index)
        if block is None:
            return
        if block.get("type") == "thinking":
            self._reasoning.append(
                ReasoningBlock(
                    kind="thinking",
                    text="".join(block.get("parts", [])),
                    signature=block.get("signature") or None,
                    provider="anthropic",
                    model=self.model,
                )
            )
        elif block.get("type") == "redacted_thinking":
            self._reasoning.append(
                ReasoningBlock(
                    kind="redacted_thinking",
                    data=block.get("data"),
                    provider="anthropic",
                    model=self.model,
                )
            )

    def _finish(self, out: list[Chunk]) -> None:
        if self._skipped and not (self._said or out or self._calls or self._reasoning):
            raise unreadable_reply(self.provider, skipped=self._skipped, unit="events")
        self.finished = True
        for block in self._reasoning:
            out.append(ReasoningChunk(block=block))
        calls = self._calls.finish(truncated=self._stop_reason == "max_tokens")
        out.extend(ToolCallChunk(call=call) for call in calls)
        if self._usage:
            usage = self._usage
            input_tokens = sum(
                token_count(usage.get(key))
                for key in (
                    "input_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                )
            )
            out.append(
                UsageChunk(
                    input_tokens=input_tokens,
                    output_tokens=token_count(usage.get("output_tokens")),
                    raw=usage,
                )
            )
        out.append(
            FinishChunk(
                reason=finish_reason(self._stop_reason, has_tool_calls=bool(calls)),
                native_reason=self._stop_reason,
                model=self.model,
            )
        )
