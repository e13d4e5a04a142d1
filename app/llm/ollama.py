"""Ollama's native chat API (``POST {base_url}/api/chat``), streamed as NDJSON.

Each line is one JSON object with ``message.content``, ``message.thinking`` and
``message.tool_calls`` (whole calls, arguments already objects, ids only on newer
servers); the last line has ``done: true``, ``done_reason`` and the eval counts. An
``{"error": ...}`` line reports a failure inside a 200 stream.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from app.llm.caps import PendingBytes
from app.llm.errors import LLMError, error_for_stream_event
from app.llm.history import repaired, system_text
from app.llm.replycheck import ended_early, unreadable_reply
from app.llm.sse import LineSplitter
from app.llm.toolcalls import ToolCallAssembler
from app.llm.types import (
    SCHEMA_ERRORS,
    ChatRequest,
    Chunk,
    FinishChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallChunk,
    UsageChunk,
    finish_reason,
    text_or_none,
    token_count,
)

log = logging.getLogger(__name__)

PATH = "/api/chat"
MODELS_PATH = "/api/tags"
#: Where a model's details are (its ``model_info`` carries the context length).
SHOW_PATH = "/api/show"
#: Ollama's own default window is small and it truncates silently from the front, so ask.
DEFAULT_NUM_CTX = 8192
USAGE_KEYS = (
    "prompt_eval_count",
    "eval_count",
    "total_duration",
    "load_duration",
    "prompt_eval_duration",
    "eval_duration",
)


def build_payload(request: ChatRequest, model: str) -> dict[str, Any]:
    """The JSON body of a streamed ``/api/chat`` call for ``request``."""
    options: dict[str, Any] = {"num_ctx": request.num_ctx or DEFAULT_NUM_CTX}
    if request.temperature is not None:
        options["temperature"] = request.temperature
    if request.max_tokens is not None:
        options["num_predict"] = request.max_tokens
    payload: dict[str, Any] = {
        "model": model,
        "messages": convert_messages(request),
        "stream": True,
        "options": options,
    }
    if request.tools:
        payload["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ]
    if request.thinking_budget:
        payload["think"] = True
    return payload


def convert_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """Our history as Ollama ``messages``: tool results are ``role: tool`` with the tool's name."""
    out: list[dict[str, Any]] = []
    system = system_text(request)
    if system:
        out.append({"role": "system", "content": system})
    for message in repaired(request.messages):
        if message.role == "tool":
            out.append(
                {
                    "role": "tool",
                    "content": message.content,
                    "tool_name": message.tool_name or "",
                    "tool_call_id": message.tool_call_id or "",
                }
            )
        elif message.role == "assistant":
            item: dict[str, Any] = {"role": "assistant", "content": message.content}
            if message.tool_calls:
                item["tool_calls"] = [
                    {
                        "id": call.id,
                        "function": {"index": n, "name": call.name, "arguments": call.arguments},
                    }
                    for n, call in enumerate(message.tool_calls)
                ]
            out.append(item)
        else:
            out.append({"role": "user", "content": message.content})
    return out


def model_names(body: Any) -> list[str]:
    """Model names from a ``GET /api/tags`` reply, in the server's order."""
    models = body.get("models", []) if isinstance(body, dict) else []
    return [str(item.get("name") or item.get("model")) for item in models if isinstance(item, dict)]


class OllamaDecoder:
    """Parse an ``/api/chat`` NDJSON body into chunks."""

    def __init__(self, provider: str, model: str, *, max_chars: int | None = None) -> None:
        self.provider = provider
        self.model = model
        self.finished = False
        self.error: LLMError | None = None
        self.progress = 0
        self._lines = LineSplitter()
        self._calls = ToolCallAssembler(max_chars=max_chars, provider=provider)
        self._pending = PendingBytes(provider, max_chars)
        self._skipped = 0
        self._head = b""  # the body's first bytes, until one line is read
        self._said = False  # some text or thinking came out
        self._call_count = 0

    def feed(self, data: bytes) -> list[Chunk]:
        """Parse more of the body; an ``error`` line stops parsing and is kept in ``error``."""
        out: list[Chunk] = []
        if self.finished or self.error is not None:
            return out
        if not self.progress:
            self._head = (self._head + data)[:256]
        for line in self._lines.feed(data):
            if line.strip():  # blank lines only keep the connection open
                self.progress += 1
            try:
                self._handle_safely(line, out)
            except LLMError as exc:
                self.error = exc
                return out
            if self.finished:
                return out
        self.error = self._pending.after_lines(data)  # a line that never ends
        self._said = self._said or bool(out)
        return out

    def close(self) -> list[Chunk]:
        """End of body: raise if the ``done`` line never came."""
        out: list[Chunk] = []
        for line in self._lines.close():
            self._handle_safely(line, out)
        if self.finished:
            return out
        head = None if self.progress else self._head
        raise ended_early(self.provider, skipped=self._skipped, unit="lines", head=head)

    def _handle_safely(self, line: bytes, out: list[Chunk]) -> None:
        """Handle one line; one of the wrong shape is skipped like one of invalid JSON."""
        try:
            self._handle(line, out)
        except SCHEMA_ERRORS:
            self._skip(line)

    def _skip(self, line: bytes) -> None:
        self._skipped += 1
        log.warning("%s: skipping an unreadable stream line: %.120r", self.provider, line)

    def _handle(self, line: bytes, out: list[Chunk]) -> None:
        if not line.strip():
            return
        try:
            obj = json.loads(line)
        except ValueError:
            self._skip(line)
            return
        if not isinstance(obj, dict):
            self._skip(line)
            return
        if "error" in obj:
            raise error_for_stream_event(obj, provider=self.provider)
        message = obj.get("message") or {}
        thinking = message.get("thinking")
        if thinking:
            out.append(ThinkingDelta(text=thinking))
        content = message.get("content")
        if content:
            out.append(TextDelta(text=content))
        calls = message.get("tool_calls") or []
        for call in calls if isinstance(calls, list) else [calls]:
            try:  # one call of the wrong shape is skipped, not the line's text and other calls
                self._add_call(call)
            except SCHEMA_ERRORS:
                self._skip(json.dumps(call).encode())
        if obj.get("done"):
            self._finish(obj, out)

    def _add_call(self, call: dict[str, Any]) -> None:
        function = call.get("function") or {}
        arguments = function.get("arguments")
        self._call_count += 1
        self._calls.add(
            self._call_count,
            call_id=text_or_none(call.get("id")),
            name=text_or_none(function.get("name")),
            fragment=arguments if isinstance(arguments, str) else None,
            whole=arguments if isinstance(arguments, dict) else None,
        )

    def _finish(self, obj: dict[str, Any], out: list[Chunk]) -> None:
        if self._skipped and not (self._said or out or self._calls):
            raise unreadable_reply(self.provider, skipped=self._skipped, unit="lines")
        self.finished = True
        native = text_or_none(obj.get("done_reason"))
        calls = self._calls.finish(truncated=native == "length")
        out.extend(ToolCallChunk(call=call) for call in calls)
        usage = {key: obj[key] for key in USAGE_KEYS if key in obj}
        if usage:
            out.append(
                UsageChunk(
                    input_tokens=token_count(usage.get("prompt_eval_count")),
                    output_tokens=token_count(usage.get("eval_count")),
                    raw=usage,
                )
            )
        out.append(
            FinishChunk(
                reason=finish_reason(native, has_tool_calls=bool(calls)),
                native_reason=native,
                model=self.model,
            )
        )
