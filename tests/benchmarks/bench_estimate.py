"""Benchmark: how far the context budget's token estimate is from what providers counted
(not collected by pytest).

    python tests/benchmarks/bench_estimate.py

Every recording in the compat corpus (``../shared/compat``, see its README) that has both
the request body and a reply reporting input tokens is read back into our
:class:`~app.llm.types.ChatRequest` (system prompt, tool specs, messages, tool calls,
reasoning) and measured with the engine's own estimate (characters / 4, uncalibrated). The
table gives, per recording, the provider's count, our estimate and the error, then the
mean absolute error and the bias: first uncalibrated (a model's first call), then after
learning from the same provider's other recordings with or without tools alike (as the
calibration learns from a session's earlier calls). The two "context too long" refusals,
whose request bodies were too big to keep, are compared by body size / 4 (a rougher
measure).
Without the corpus it says so and exits 0.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.engine.context import CHARS_PER_TOKEN, Calibration  # noqa: E402
from app.llm.types import ChatMessage, ChatRequest, ReasoningBlock, ToolCall, ToolSpec  # noqa: E402

CORPUS = ROOT.parent / "shared" / "compat"


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict))


def _arguments(raw: Any) -> dict[str, Any]:
    parsed = json.loads(raw) if isinstance(raw, str) and raw else raw
    return parsed if isinstance(parsed, dict) else {}


def _openai_like(body: dict[str, Any]) -> ChatRequest:
    """An OpenAI Chat Completions or Ollama ``/api/chat`` body as our request."""
    system = [_text(m.get("content")) for m in body["messages"] if m["role"] == "system"]
    messages = []
    for item in body["messages"]:
        if item["role"] == "system":
            continue
        calls = [
            ToolCall(
                id=str(call.get("id") or f"call_{n}"),
                name=call["function"]["name"],
                arguments=_arguments(call["function"].get("arguments")),
            )
            for n, call in enumerate(item.get("tool_calls") or [])
        ]
        messages.append(
            ChatMessage(role=item["role"], content=_text(item.get("content")), tool_calls=calls)
        )
    tools = [
        ToolSpec(
            name=t["function"]["name"],
            description=t["function"].get("description", ""),
            parameters=t["function"].get("parameters") or {},
        )
        for t in body.get("tools") or []
    ]
    return ChatRequest(messages=messages, tools=tools, system="\n\n".join(system) or None)


def _anthropic(body: dict[str, Any]) -> ChatRequest:
    """An Anthropic Messages body as our request."""
    messages = []
    for item in body["messages"]:
        blocks = item["content"] if isinstance(item["content"], list) else []
        text = _text(item["content"])
        calls = [
            ToolCall(id=b["id"], name=b["name"], arguments=b.get("input") or {})
            for b in blocks
            if b.get("type") == "tool_use"
        ]
        thinking = [
            ReasoningBlock(kind="thinking", text=b.get("thinking", ""))
            for b in blocks
            if b.get("type") == "thinking"
        ]
        for block in blocks:
            if block.get("type") == "tool_result":
                result = _text(block.get("content"))
                messages.append(ChatMessage(role="tool", content=result))
        if text or calls or thinking or not blocks:
            role = item["role"]
            messages.append(
                ChatMessage(role=role, content=text, tool_calls=calls, reasoning=thinking)
            )
    tools = [
        ToolSpec(name=t["name"], description=t.get("description", ""), parameters=t["input_schema"])
        for t in body.get("tools") or []
    ]
    return ChatRequest(messages=messages, tools=tools, system=_text(body.get("system")) or None)


def _reported(usage: dict[str, Any]) -> int | None:
    for key in ("prompt_tokens", "input_tokens", "prompt_eval_count"):
        if isinstance(usage.get(key), int):
            return int(usage[key])
    return None


def _requests() -> list[tuple[str, str, int, ChatRequest]]:
    """(file, provider, provider's input tokens, our request) for each usable recording."""
    found = []
    for entry in json.loads((CORPUS / "MANIFEST.json").read_text()):
        usage = (entry.get("expected") or {}).get("usage")
        if not usage or not entry.get("request_file"):
            continue
        reported = _reported(usage)
        if not reported:
            continue
        body = json.loads((CORPUS / entry["request_file"]).read_text())
        request = _anthropic(body) if entry["provider"] == "anthropic" else _openai_like(body)
        found.append((entry["file"], entry["provider"], reported, request))
    return found


def _rows(calibrated: bool) -> list[tuple[str, int, int]]:
    """(file, provider's input tokens, our estimate); ``calibrated``: after learning from
    the same provider's other recordings (as a session learns from its earlier calls)."""
    requests = _requests()
    rows = []
    for name, provider, reported, request in requests:
        calibration = Calibration()
        for other, same, tokens, earlier in requests if calibrated else []:
            if same == provider and other != name and bool(earlier.tools) == bool(request.tools):
                calibration.learn("bench", earlier, tokens)
        rows.append((name, reported, calibration.estimate("bench", request)))
    return rows


def _refusals() -> list[tuple[str, int, int]]:
    """(file, tokens the refusal says the request had, request bytes / 4)."""
    rows = []
    for entry in json.loads((CORPUS / "MANIFEST.json").read_text()):
        size = entry.get("request_omitted_bytes")
        if entry.get("http_status") != 400 or not size:
            continue
        message = json.dumps(json.loads((CORPUS / entry["file"]).read_text()))
        found = re.search(r"resulted in (\d+) tokens|prompt is too long: (\d+) tokens", message)
        if found:
            tokens = int(found.group(1) or found.group(2))
            rows.append((entry["file"], tokens, int(size / CHARS_PER_TOKEN)))
    return rows


def _table(rows: list[tuple[str, int, int]]) -> list[float]:
    errors = []
    for name, reported, estimate in rows:
        error = (estimate - reported) / reported
        errors.append(error)
        print(f"{name:<52} {reported:>8,} {estimate:>8,} {error:>+8.0%}")
    return errors


def main() -> int:
    """Print the comparison; exit 0 (a skip) when the corpus is not there."""
    if not (CORPUS / "MANIFEST.json").exists():
        print(f"skipped: the compat corpus is not at {CORPUS} (it lives in ../shared/compat)")
        return 0
    for calibrated in (False, True):
        how = "calibrated on the provider's other recordings" if calibrated else "uncalibrated"
        print(f"\n{'recording (' + how + ')':<52} {'provider':>8} {'estimate':>8} {'error':>8}")
        errors = _table(_rows(calibrated))
        absolute = [abs(e) for e in errors]
        print(
            f"{len(errors)} requests: mean |error| {statistics.mean(absolute):.0%}, median "
            f"{statistics.median(absolute):.0%}, worst {max(absolute):.0%}; bias "
            f"{statistics.mean(errors):+.0%} (negative: the estimate is low)"
        )
    print("\nrefusals (request body / 4 against the tokens the provider counted):")
    _table(_refusals())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
