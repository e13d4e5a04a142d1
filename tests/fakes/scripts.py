"""Builders for scripted provider streams, written from the public protocol documentation.

Each returns a list of byte pieces (one network write each) for :class:`Reply.body`:
OpenAI Chat Completions SSE chunks, Anthropic Messages SSE events and Ollama ``/api/chat``
NDJSON lines. They aim at the documented shapes, not at any one recording.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.provider import Reply

# ---------------------------------------------------------------------------- OpenAI


def sse(data: Any, event: str | None = None) -> bytes:
    """One SSE event; ``data`` is JSON-encoded unless it is already a string."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


def openai_chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
    """One ``chat.completion.chunk`` with a single choice."""
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return sse(body)


def openai_usage(prompt: int, completion: int) -> bytes:
    """The usage-only last chunk sent with ``stream_options.include_usage``."""
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    return sse(
        {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [], "usage": usage}
    )


def openai_text_events(
    parts: list[str],
    *,
    finish: str | None = "stop",
    usage: tuple[int, int] | None = None,
    done: bool = True,
) -> list[bytes]:
    """A text answer streamed in ``parts``."""
    events = [openai_chunk({"role": "assistant", "content": ""})]
    events += [openai_chunk({"content": part}) for part in parts]
    if finish is not None:
        events.append(openai_chunk({}, finish))
    if usage is not None:
        events.append(openai_usage(*usage))
    if done:
        events.append(b"data: [DONE]\n\n")
    return events


def openai_reply(parts: list[str], **options: Any) -> Reply:
    """A 200 SSE reply with a text answer."""
    return Reply(body=list(openai_text_events(parts, **options)))


def openai_tool_call_events(
    calls: list[tuple[str | None, str, list[str]]],
    *,
    text: str = "",
    finish: str = "tool_calls",
    usage: tuple[int, int] | None = (20, 10),
) -> list[bytes]:
    """Tool calls (id, name, argument fragments), each on its own index, fragments streamed."""
    events = [openai_chunk({"role": "assistant", "content": text or None})]
    for index, (call_id, name, fragments) in enumerate(calls):
        first: dict[str, Any] = {
            "index": index,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        if call_id is not None:
            first["id"] = call_id
        events.append(openai_chunk({"tool_calls": [first]}))
        for fragment in fragments:
            events.append(
                openai_chunk(
                    {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
                )
            )
    events.append(openai_chunk({}, finish))
    if usage is not None:
        events.append(openai_usage(*usage))
    events.append(b"data: [DONE]\n\n")
    return events


# ---------------------------------------------------------------------------- Anthropic


def anthropic_event(event: str, data: dict[str, Any]) -> bytes:
    """One Messages SSE event (the ``type`` field repeats the event name, as documented)."""
    return sse({"type": event, **data}, event=event)


def anthropic_events(
    blocks: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    usage: tuple[int, int] = (25, 12),
    stop: bool = True,
) -> list[bytes]:
    """A whole Messages stream. Blocks: {"text": [...]} | {"thinking": [...], "signature": s}
    | {"tool_use": (id, name, [json fragments])}."""
    message = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": "claude-fake",
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": usage[0], "output_tokens": 1},
    }
    events = [
        anthropic_event("message_start", {"message": message}),
        b'event: ping\ndata: {"type": "ping"}\n\n',
    ]
    for index, block in enumerate(blocks):
        if "text" in block:
            events.append(
                anthropic_event(
                    "content_block_start",
                    {"index": index, "content_block": {"type": "text", "text": ""}},
                )
            )
            for part in block["text"]:
                events.append(
                    anthropic_event(
                        "content_block_delta",
                        {"index": index, "delta": {"type": "text_delta", "text": part}},
                    )
                )
        elif "thinking" in block:
            start = {"type": "thinking", "thinking": ""}
            events.append(
                anthropic_event("content_block_start", {"index": index, "content_block": start})
            )
            for part in block["thinking"]:
                delta = {"type": "thinking_delta", "thinking": part}
                events.append(
                    anthropic_event("content_block_delta", {"index": index, "delta": delta})
                )
            if block.get("signature"):
                delta = {"type": "signature_delta", "signature": block["signature"]}
                events.append(
                    anthropic_event("content_block_delta", {"index": index, "delta": delta})
                )
        else:
            call_id, name, fragments = block["tool_use"]
            start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
            events.append(
                anthropic_event("content_block_start", {"index": index, "content_block": start})
            )
            for fragment in fragments:
                delta = {"type": "input_json_delta", "partial_json": fragment}
                events.append(
                    anthropic_event("content_block_delta", {"index": index, "delta": delta})
                )
        events.append(anthropic_event("content_block_stop", {"index": index}))
    events.append(
        anthropic_event(
            "message_delta",
            {
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": usage[1]},
            },
        )
    )
    if stop:
        events.append(anthropic_event("message_stop", {}))
    return events


# ---------------------------------------------------------------------------- Ollama


def ollama_line(message: dict[str, Any], *, done: bool = False, **extra: Any) -> bytes:
    """One NDJSON line of ``/api/chat``."""
    body = {
        "model": "fake",
        "created_at": "2025-01-01T00:00:00Z",
        "message": {"role": "assistant", **message},
        "done": done,
        **extra,
    }
    return json.dumps(body).encode() + b"\n"


def ollama_lines(
    parts: list[str],
    *,
    thinking: list[str] | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    done_reason: str = "stop",
    counts: tuple[int, int] = (30, 7),
    done: bool = True,
) -> list[bytes]:
    """A whole ``/api/chat`` stream: thinking, content, a tool-call line, the done line."""
    lines = [ollama_line({"content": "", "thinking": part}) for part in thinking or []]
    lines += [ollama_line({"content": part}) for part in parts]
    if tool_calls:
        lines.append(ollama_line({"content": "", "tool_calls": tool_calls}))
    if done:
        lines.append(
            ollama_line(
                {"content": ""},
                done=True,
                done_reason=done_reason,
                prompt_eval_count=counts[0],
                eval_count=counts[1],
                total_duration=1000,
                eval_duration=500,
            )
        )
    return lines


def ollama_reply(parts: list[str], **options: Any) -> Reply:
    """A 200 NDJSON reply."""
    return Reply(body=ollama_lines(parts, **options), content_type="application/x-ndjson")
