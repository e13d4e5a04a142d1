"""The context budget: how big a model's window is, how big a request is, and how to fit.

Before every model call (ReAct steps, direct answers, plan phases, experts, synthesis all
go through :func:`app.engine.react.stream_step`) the request is measured — characters / 4,
calibrated per model by the input tokens the provider reported for an earlier request —
and, when it would pass ``[engine] compact_at`` of the window:

1. old tool output is elided: results older than the last few steps keep their head and
   tail with a marker (the stored messages are untouched);
2. if that is not enough, the oldest turns are left out of the request, and the first
   kept user message says how many were left out and repeats the first request (the task).

A provider's "context too long" answer does the same once, harder, and retries once. The
session's messages are never changed: this shapes what one request sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from app.config import Settings
from app.llm.gateway import Gateway
from app.llm.types import ChatMessage, ChatRequest
from app.llm.windows import Window, configured_window, context_window

__all__ = ["Window", "context_window", "model_window"]

CHARS_PER_TOKEN = 4.0
#: Tool results in the last this-many steps are sent whole.
KEEP_RECENT_STEPS = 2
#: Older tool results longer than this keep their head and tail only.
ELIDE_OVER_CHARS = 2_000
_HEAD, _TAIL = 800, 400


async def model_window(settings: Settings, gateway: Gateway, model: str) -> Window | None:
    """``model``'s window by the precedence of :mod:`app.llm.windows`; the provider is asked
    (once per run, under a short timeout) only when the config does not say."""
    if configured_window(settings, model) is None:
        await gateway.provider_window(model)
    return context_window(settings, model, gateway.windows)


#: Tokens each message costs beyond its text (role markers of the chat template).
MESSAGE_OVERHEAD_TOKENS = 4
#: Requests smaller than this many tokens (characters / 4) teach the calibration no ratio:
#: fixed costs dominate them (a provider's tool-use instructions: about 300 tokens on
#: Anthropic and Ollama in the compat recordings), and a ratio learnt there would scale
#: big requests by it. They teach the fixed cost instead.
LEARN_MIN_TOKENS = 1_000
#: The largest fixed cost per request we believe (tokens).
MAX_FIXED_TOKENS = 2_000


@dataclass
class Calibration:
    """Tokens per character, and a fixed cost per request, learnt per model from what
    providers reported."""

    factors: dict[str, float] = field(default_factory=dict)
    #: Tokens a provider adds to every request of the model (its template, tool-use text).
    fixed: dict[str, int] = field(default_factory=dict)

    def estimate(self, model: str, request: ChatRequest) -> int:
        """The request's size in tokens, as well as we can tell without a tokenizer."""
        raw = request_chars(request) / CHARS_PER_TOKEN
        return int(self._overhead(model, request) + raw * self.factors.get(model, 1.0))

    def learn(self, model: str, request: ChatRequest, input_tokens: int) -> None:
        """Remember how the provider counted a request we measured: a small request says
        what it adds to each request, a big one how it counts characters."""
        if input_tokens <= 0:
            return
        raw = request_chars(request) / CHARS_PER_TOKEN
        if raw < LEARN_MIN_TOKENS:
            counted = raw * self.factors.get(model, 1.0) + self._overhead("", request)
            self.fixed[model] = max(0, min(MAX_FIXED_TOKENS, int(input_tokens - counted)))
            return
        counted = input_tokens - self._overhead(model, request)
        # Real tokenizers land within about 0.6–2× of characters / 4.
        self.factors[model] = max(0.6, min(2.0, counted / raw))

    def refused(self, model: str) -> None:
        """The provider said a request we thought fitted was too long: count higher."""
        self.factors[model] = max(1.0, self.factors.get(model, 1.0) * 1.3)

    def _overhead(self, model: str, request: ChatRequest) -> int:
        """Tokens beyond the characters: per message, plus the model's learnt fixed cost."""
        return MESSAGE_OVERHEAD_TOKENS * (len(request.messages) + 1) + self.fixed.get(model, 0)


def request_chars(request: ChatRequest) -> int:
    """Characters of everything the request sends: system prompt, tools, messages."""
    total = len(request.system or "")
    total += sum(
        len(json.dumps(tool.model_dump(), separators=(",", ":"))) for tool in request.tools
    )
    for message in request.messages:
        total += len(message.content) + 8
        total += sum(
            len(call.name) + len(json.dumps(call.arguments)) for call in message.tool_calls
        )
        total += sum(len(block.text) for block in message.reasoning)
    return total


@dataclass
class Fitted:
    """A request made to fit, and what was done to it."""

    request: ChatRequest
    elided: int = 0  #: tool results cut to head and tail
    elided_chars: int = 0
    left_out: int = 0  #: older messages not sent


def fit(request: ChatRequest, limit: int, calibration: Calibration, *, hard: bool) -> Fitted:
    """Shape ``request`` to stay under ``limit`` tokens (``hard``: after a provider refusal).

    Elides old tool output first; then leaves out the oldest turns, keeping at least the
    last one whole; then, when one turn alone is too big (a long tool loop, a plan phase's
    or an expert's own run), elides its older results too, the newest step's last.
    ``hard`` elides every older result and aims at 70 % of the limit.
    """
    target = int(limit * 0.7) if hard else limit
    fitted = Fitted(request)

    def fits() -> bool:
        return calibration.estimate(request.model, fitted.request) <= target

    if fits() and not hard:
        return fitted
    messages, count, chars = elide_old_output(request.messages, keep_steps=0 if hard else None)
    fitted.elided, fitted.elided_chars = count, chars
    fitted.request = request.model_copy(update={"messages": messages})
    if fits():
        return fitted
    starts = [i for i, m in enumerate(messages) if m.role == "user"]
    for start in starts[1:]:
        trimmed = _leave_out(messages, start)
        fitted.request, fitted.left_out = request.model_copy(update={"messages": trimmed}), start
        if fits():
            return fitted
    for keep in (1, 0):
        messages, count, chars = elide_old_output(fitted.request.messages, keep_steps=keep)
        fitted.request = request.model_copy(update={"messages": messages})
        fitted.elided, fitted.elided_chars = fitted.elided + count, fitted.elided_chars + chars
        if fits():
            break
    return fitted


def elide_old_output(
    messages: list[ChatMessage], keep_steps: int | None = None
) -> tuple[list[ChatMessage], int, int]:
    """Cut tool results older than the last ``keep_steps`` steps to their head and tail."""
    keep = KEEP_RECENT_STEPS if keep_steps is None else keep_steps
    steps = [i for i, m in enumerate(messages) if m.role == "assistant" and m.tool_calls]
    if keep == 0:
        boundary = len(messages)
    elif len(steps) <= keep:
        return list(messages), 0, 0  # nothing is old yet
    else:
        boundary = steps[-keep]
    out: list[ChatMessage] = []
    count = chars = 0
    for index, message in enumerate(messages):
        text = message.content
        if index < boundary and message.role == "tool" and len(text) > ELIDE_OVER_CHARS:
            cut = len(text) - _HEAD - _TAIL
            marker = (
                f"\n[… {cut:,} characters of output elided to fit the context window; the "
                "full output is in the session log]\n"
            )
            message = message.model_copy(update={"content": text[:_HEAD] + marker + text[-_TAIL:]})
            count += 1
            chars += cut
        out.append(message)
    return out, count, chars


def _leave_out(messages: list[ChatMessage], start: int) -> list[ChatMessage]:
    """Messages from ``start`` (a user message), told what was left out and what the task was."""
    first = next((m for m in messages if m.role == "user"), None)
    # A compaction summary (a system message) stays: it is what stands for the older turns.
    summaries = [m for m in messages[:start] if m.role == "system"]
    kept = list(messages[start:])
    task = first.content if first is not None else ""
    if len(task) > 2_000:
        task = task[:2_000] + " […]"
    note = (
        f"[The {start} earliest messages of this conversation were left out to fit the "
        "model's context window; they are still in the session. The conversation began "
        f"with this request: «{task}»]\n\n"
    )
    kept[0] = kept[0].model_copy(update={"content": note + kept[0].content})
    return summaries + kept
