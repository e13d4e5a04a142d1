"""OpenAI Chat Completions over SSE: OpenAI, OpenRouter, Groq, DeepSeek, Mistral, vLLM,
llama.cpp, LM Studio and Ollama's ``/v1`` all speak it, each with its own quirks.

Quirks handled: tool-call arguments in fragments keyed by ``index`` (or no index at all,
Mistral), ids only on the first fragment or missing (vLLM, Ollama ``/v1``), ``arguments:
null`` for no-argument tools, reasoning in ``reasoning_content`` (DeepSeek, llama.cpp) or
``reasoning`` (Groq, OpenRouter), a usage-only last chunk with empty ``choices``, keep-alive
comments, ``data: [DONE]``, and ``error`` events or objects inside a 200 stream.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from app.llm.caps import PendingBytes
from app.llm.errors import LLMError, error_for_stream_event
from app.llm.history import repaired, system_text
from app.llm.replycheck import ended_early, unreadable_reply
from app.llm.sse import SSEEvent, SSEParser
from app.llm.toolcalls import ToolCallAssembler, nine_alnum_id
from app.llm.types import (
    SCHEMA_ERRORS,
    ChatMessage,
    ChatRequest,
    FinishChunk,
    Piece,
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

PATH = "/chat/completions"

#: The hot path: a chunk whose only choice carries nothing but a piece of text. Matching
#: this literal structure (compact JSON; quotes inside JSON strings are always escaped, so
#: it cannot match inside a value) skips a full JSON parse per token. Anything else (tool
#: calls, reasoning, usage, a finish reason, spaced JSON, several choices) takes the full path.
_TEXT_PATTERN = (
    r'"choices":\[\{"index":0,"delta":\{(?:"role":"assistant",)?"content":"((?:[^"\\]|\\.)*)"\}'
    r'(?:,"logprobs":null)?,"finish_reason":null\}\]'
)
_TEXT_ONLY = re.compile(_TEXT_PATTERN)
_TEXT_ONLY_BYTES = re.compile(_TEXT_PATTERN.encode())
MODELS_PATH = "/models"


def wants_nine_char_ids(base_url: str) -> bool:
    """Mistral's API rejects tool-call ids that are not exactly 9 alphanumerics."""
    return "mistral" in base_url


def replays_reasoning(base_url: str) -> bool:
    """DeepSeek's thinking mode wants ``reasoning_content`` back on assistant messages."""
    return "deepseek" in base_url


def build_payload(
    request: ChatRequest,
    model: str,
    *,
    nine_char_ids: bool = False,
    replay_reasoning: bool = False,
) -> dict[str, Any]:
    """The JSON body of a streamed ``/chat/completions`` call for ``request``."""
    payload: dict[str, Any] = {
        "model": model,
        "messages": convert_messages(
            request, nine_char_ids=nine_char_ids, replay_reasoning=replay_reasoning
        ),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        payload["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
    if request.temperature is not None:
        payload["temperature"] = request.temperature
    if request.max_tokens is not None:
        payload["max_tokens"] = request.max_tokens
    return payload


def convert_messages(
    request: ChatRequest, *, nine_char_ids: bool = False, replay_reasoning: bool = False
) -> list[dict[str, Any]]:
    """Our history as Chat Completions ``messages``: tool calls, then one ``tool`` message each."""

    def map_id(call_id: str) -> str:
        return nine_alnum_id(call_id) if nine_char_ids else call_id

    out: list[dict[str, Any]] = []
    system = system_text(request)
    if system:
        out.append({"role": "system", "content": system})
    for message in repaired(request.messages):
        out.append(_convert(message, map_id, replay_reasoning))
    return out


def _convert(message: ChatMessage, map_id: Any, replay_reasoning: bool) -> dict[str, Any]:
    if message.role == "tool":
        return {
            "role": "tool",
            "tool_call_id": map_id(message.tool_call_id or ""),
            "content": message.content,
        }
    if message.role == "assistant":
        item: dict[str, Any] = {"role": "assistant", "content": message.content or None}
        if message.tool_calls:
            item["tool_calls"] = [
                {
                    "id": map_id(call.id),
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": call.raw_arguments
                        if call.parse_error and call.raw_arguments
                        else json.dumps(call.arguments, ensure_ascii=False),
                    },
                }
                for call in message.tool_calls
            ]
        elif item["content"] is None:
            item["content"] = ""
        if replay_reasoning:
            reasoning = "".join(b.text for b in message.reasoning if b.kind == "reasoning_content")
            if reasoning:
                item["reasoning_content"] = reasoning
        return item
    return {"role": "user", "content": message.content}


def model_names(body: Any) -> list[str]:
    """Model ids from a ``GET /models`` reply."""
    data = body.get("data", []) if isinstance(body, dict) else []
    return sorted(str(item["id"]) for item in data if isinstance(item, dict) and "id" in item)


class OpenAIDecoder:
    """Parse a Chat Completions SSE body into chunks."""

    def __init__(
        self, provider: str, model: str, *, max_chars: int | None = None, raw_text: bool = False
    ) -> None:
        """``raw_text``: answer text comes back as a plain ``str``
        instead of a :class:`TextDelta` (the gateway's hot path: no model per token)."""
        self.provider = provider
        self.model = model
        self.raw_text = raw_text
        self.finished = False
        self.error: LLMError | None = None
        self.progress = 0
        self._sse = SSEParser()
        self._calls = ToolCallAssembler(max_chars=max_chars, provider=provider)
        self._pending = PendingBytes(provider, max_chars)
        self._native_reason: str | None = None
        self._usage: dict[str, Any] | None = None
        self._reasoning: list[str] = []
        self._skipped = 0
        self._head = b""  # the body's first bytes, until one event is read
        self._said = False  # some text or thinking came out

    def feed(self, data: bytes) -> list[Piece]:
        """Parse more of the body; an error event stops parsing and is kept in ``error``.
        Chunks, and with ``raw_text`` plain strings for answer text."""
        if self.finished or self.error is not None:
            return []
        if not self.progress:
            self._head = (self._head + data)[:256]
        out = self._feed(data)
        if out:
            self._said = True
        if self.error is None and not self._sse.idle:  # an event that never ends is cut too
            self.error = self._pending.open_bytes(self._sse.pending_size)
        return out

    def _feed(self, data: bytes) -> list[Piece]:
        """``feed`` past its guards: the fast paths, else the SSE parser."""
        if data.endswith(b"}\n\n") and self._sse.idle and data.count(b"\n\n") == 1:
            # One whole event (how servers flush tokens): the text fast path on the bytes,
            # before any decoding or SSE bookkeeping.
            text = self._text_only(data[:-2])
            if text is not None:
                return [text] if text else []
        if not self._sse.idle:
            data = self._sse.take_pending() + data
        cut = data.rfind(b"\n\n") + 2
        if cut < 2 or b"\r" in data:
            return self._events(data)  # no whole event yet, or CR line ends: the full parser
        # The whole events (several that piled up, or a read cut mid-event): text-only ones
        # on the fast path; the partial one after them waits in the SSE parser.
        out = self._whole_events(data[:cut])
        if cut < len(data) and not self.finished and self.error is None:
            self._said = self._said or bool(out)
            out += self._events(data[cut:])
        return out

    def _text_only(self, block: bytes) -> Piece | None:
        """The answer text of a one-line, text-only ``data`` event (``""`` for none), or
        None when the event needs the full parse."""
        if not block.startswith(b"data: {") or b"\n" in block:
            return None
        fast = _TEXT_ONLY_BYTES.search(block)
        if fast is None or b'"usage":{' in block or b'"error"' in block:
            return None
        raw = fast.group(1)
        if b"\\" in raw:
            try:
                text: str = json.loads(b'"' + raw + b'"')
            except ValueError:
                return None  # a broken escape: the full parse skips the event, as it should
        else:
            text = raw.decode("utf-8", "replace")
        self.progress += 1
        if not text:
            return ""
        return text if self.raw_text else TextDelta(text=text)

    def _whole_events(self, data: bytes) -> list[Piece]:
        """Parse bytes that end at an event boundary, text-only events on the fast path."""
        out: list[Piece] = []
        for block in data.split(b"\n\n")[:-1]:
            text = self._text_only(block)
            if text is not None:
                if text:
                    out.append(text)
            elif block:
                self._said = self._said or bool(out)  # before an event that may finish
                out += self._events(block + b"\n\n")
                if self.finished or self.error is not None:
                    break
        return out

    def _events(self, data: bytes) -> list[Piece]:
        """Parse bytes through the SSE parser (the general path)."""
        out: list[Piece] = []
        for event in self._sse.feed(data):
            self.progress += 1  # comments (keep-alives) never make an event
            try:
                self._handle_safely(event, out)
            except LLMError as exc:
                self.error = exc
                return out
            if self.finished:
                return out
        return out

    def close(self) -> list[Piece]:
        """End of body: finish the reply, or raise if it stopped before it finished."""
        out: list[Piece] = []
        for event in self._sse.close():
            self._handle_safely(event, out)
            if self.finished:
                return out
        if self.error is not None:
            raise self.error
        if self._native_reason is None:
            head = None if self.progress else self._head
            raise ended_early(self.provider, skipped=self._skipped, unit="events", head=head)
        self._finish(out)
        return out

    def _handle_safely(self, event: SSEEvent, out: list[Piece]) -> None:
        """Handle one event; one of the wrong shape is skipped like one of invalid JSON."""
        try:
            self._handle(event, out)
        except SCHEMA_ERRORS:
            self._skip(event.data)

    def _skip(self, data: str) -> None:
        self._skipped += 1
        log.warning("%s: skipping an unreadable stream event: %.120s", self.provider, data)

    def _handle(self, event: SSEEvent, out: list[Piece]) -> None:
        data = event.data
        fast = _TEXT_ONLY.search(data) if event.event == "message" else None
        if fast is not None and '"usage":{' not in data and '"error"' not in data:
            text = fast.group(1)
            if "\\" in text:
                text = json.loads(f'"{text}"')
            if text:
                out.append(text if self.raw_text else TextDelta(text=text))
            return
        if data == "[DONE]":
            self._finish(out)
            return
        try:
            obj = json.loads(data)
        except ValueError:
            self._skip(data)
            return
        if event.event == "error" or (
            isinstance(obj, dict) and "error" in obj and "choices" not in obj
        ):
            raise error_for_stream_event(obj, provider=self.provider)
        if event.event not in ("message", ""):
            log.warning("%s: skipping unknown event type %r", self.provider, event.event)
            return
        if not isinstance(obj, dict):
            self._skip(data)
            return
        usage = obj.get("usage")
        if usage and isinstance(usage, dict):
            self._usage = usage
        choices = obj.get("choices")
        if not choices:
            return
        choice = choices[0]
        delta = choice.get("delta")
        if delta:
            content = delta.get("content") or delta.get("refusal")
            if content and isinstance(content, str):
                out.append(content if self.raw_text else TextDelta(text=content))
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                self._reasoning.append(reasoning)
                out.append(ThinkingDelta(text=reasoning))
            tool_calls = delta.get("tool_calls")
            if tool_calls:
                for position, fragment in enumerate(tool_calls):
                    self._add_call(position, fragment)
        reason = choice.get("finish_reason")
        if reason:
            self._native_reason = str(reason)

    def _add_call(self, position: int, fragment: dict[str, Any]) -> None:
        function = fragment.get("function") or {}
        index = fragment.get("index")
        arguments = function.get("arguments")
        whole = arguments if isinstance(arguments, dict) else None
        self._calls.add(
            index if isinstance(index, int | str) else None,
            call_id=text_or_none(fragment.get("id")),
            name=text_or_none(function.get("name")),
            fragment=arguments if isinstance(arguments, str) else None,
            whole=whole,
        )

    def _finish(self, out: list[Piece]) -> None:
        if self._skipped and not (self._said or out or self._calls):
            raise unreadable_reply(self.provider, skipped=self._skipped, unit="events")
        self.finished = True
        if self._reasoning:
            block = ReasoningBlock(
                kind="reasoning_content",
                text="".join(self._reasoning),
                provider="openai",
                model=self.model,
            )
            out.append(ReasoningChunk(block=block))
        truncated = self._native_reason == "length"
        calls = self._calls.finish(truncated=truncated)
        out.extend(ToolCallChunk(call=call) for call in calls)
        if self._usage is not None:
            usage = self._usage
            out.append(
                UsageChunk(
                    input_tokens=token_count(usage.get("prompt_tokens")),
                    output_tokens=token_count(usage.get("completion_tokens")),
                    raw=usage,
                )
            )
        out.append(
            FinishChunk(
                reason=finish_reason(self._native_reason, has_tool_calls=bool(calls)),
                native_reason=self._native_reason,
                model=self.model,
            )
        )
