"""What plan and team mode share: nested ReAct runs, their progress, structured replies.

A plan phase and an expert's task are both a ReAct run in a child context: its own thread
of stored messages (never replayed into the conversation), its own prompt, tools and model,
the turn's cancellation, approvals and usage. The run's events are mapped for the parent
stream: tool steps, approvals and questions pass through unchanged; streamed text becomes
coalesced progress pieces (``plan_step`` / ``expert_step``); the run's own final answer is
not the turn's answer and is dropped (it comes back as the phase result).

A phase ends well when the model answers without tools (its text is the result) or calls
``finish_phase`` with ``done``; it fails on ``finish_phase`` with ``failed``, a provider
error, its step limit or the loop detector.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.engine.cancel import TurnCancelled
from app.engine.events import Event, StepKind, TokenEvent, notice
from app.engine.react import run_react, stream_step
from app.engine.tooling import NOT_RUN_STOPPED, close_open_calls
from app.engine.turn import EMPTY_REPLY_TEXT, Emit, TurnContext
from app.llm.errors import LLMError
from app.llm.types import ChatMessage, ChatRequest
from app.store import StoreError
from app.tools.base import Tool, ToolArgs, ToolContext, ToolResult

log = logging.getLogger(__name__)

T = TypeVar("T")

FINISH_TOOL = "finish_phase"
#: Model calls one phase (or one expert's task) may make.
PHASE_MAX_STEPS = 10
#: Characters of a phase result handed on to later phases and to the synthesis.
RESULT_CHARS = 4_000
#: Characters of the short result in ``phase_completed``.
SHORT_RESULT_CHARS = 300
#: Streamed text is handed on as progress at most this often (and at each step's end).
PROGRESS_INTERVAL_SECONDS = 0.25

EXECUTOR_NOTE = (
    "You are carrying out one phase of a larger plan. Work only on this phase, using the "
    "tools when they help; do not redo earlier phases. When the phase is done, answer with a "
    "concise summary of what you did and what you found or produced: it is handed to the "
    "later phases and to the final answer. If you cannot complete the phase, call the "
    f'`{FINISH_TOOL}` tool with status "failed" and say why.'
)
REPAIR_PROMPT = (
    "That reply could not be used: {errors}\n\n"
    "Reply again with only the corrected JSON object, no prose and no code fence."
)


class ModeError(Exception):
    """A plan or team turn cannot go on (an invalid plan after its repair, a bad roster)."""


class ReplyInvalid(ValueError):
    """A structured reply that is not what was asked for; the text says what is wrong."""


PhaseT = TypeVar("PhaseT", bound="PhaseSpec")


# --------------------------------------------------------------------------- finish tool


@dataclass
class PhaseReport:
    """What the model said through ``finish_phase`` (nothing yet: ``status`` is None)."""

    status: Literal["done", "failed"] | None = None
    summary: str = ""


class FinishPhaseArgs(ToolArgs):
    """Arguments of finish_phase."""

    status: Literal["done", "failed"] = Field(
        description='"done" when the phase is complete, "failed" when it cannot be done.'
    )
    summary: str = Field(
        min_length=1, description="The phase's result, or why it failed (a few sentences)."
    )


class FinishPhaseTool(Tool[FinishPhaseArgs]):
    """Ends a phase with an explicit outcome (bound to one phase's report)."""

    name = FINISH_TOOL
    description = (
        "End the current phase. Use status 'failed' with the reason when the phase cannot be "
        "done; use 'done' with the result if you prefer it to a plain answer."
    )
    Args = FinishPhaseArgs
    access = "read"

    def __init__(self, report: PhaseReport) -> None:
        self.report = report

    async def run(self, args: FinishPhaseArgs, ctx: ToolContext) -> ToolResult:
        """Record the outcome; the engine ends the phase after this step."""
        self.report.status = args.status
        self.report.summary = args.summary.strip()
        return ToolResult(output=f"Recorded: the phase is {args.status}.")


# --------------------------------------------------------------------------- progress

#: Builds a progress event from its text, step, kind and (for tool lines) the call id.
MakeProgress = Callable[[str, int, StepKind, str | None], Event]


class ProgressMapper:
    """An ``Emit`` for a nested run: passes steps and approvals on, turns text into progress."""

    def __init__(self, emit: Emit, make: MakeProgress) -> None:
        self._emit = emit
        self._make = make
        self._pieces: list[str] = []
        #: The first text of each step goes out at once, so a panel shows work starting.
        self._flushed_at = -PROGRESS_INTERVAL_SECONDS
        #: The model call the run is in (1-based), as in its ``step`` events.
        self.step = 1

    async def __call__(self, event: Event) -> None:
        """Map one event of the nested run."""
        if event.type == "token":
            self._pieces.append(event.content)
            if time.monotonic() - self._flushed_at >= PROGRESS_INTERVAL_SECONDS:
                await self.flush()
            return
        if event.type in ("thinking", "final_answer", "usage"):
            # Thinking repeats the text already handed on; the answer is the phase result.
            await self.flush()
            return
        await self.flush()
        if event.type == "step":
            step = event.data
            if step.data.name == FINISH_TOOL:
                if step.event_type == "tool_result":
                    self.step = step.step + 1
                    self._flushed_at = -PROGRESS_INTERVAL_SECONDS
                return
            await self._emit(event)
            if step.event_type == "tool_call":
                arguments = json.dumps(step.data.arguments, ensure_ascii=False)
                line = f"{step.data.name} {one_line(arguments, 100)}"
                await self._emit(self._make(line, step.step, "tool_call", step.data.id))
            else:
                mark = "error: " if step.data.is_error else ""
                line = f"{step.data.name}: {mark}{one_line(step.data.output, 100)}"
                await self._emit(self._make(line, step.step, "tool_result", step.data.id))
                self.step = step.step + 1
                self._flushed_at = -PROGRESS_INTERVAL_SECONDS
            return
        if event.type == "notice":
            await self._emit(self._make(event.data.message, self.step, "note", None))
            return
        await self._emit(event)  # approvals, questions

    async def flush(self) -> None:
        """Hand on the text streamed since the last piece."""
        self._flushed_at = time.monotonic()
        if not self._pieces:
            return
        text, self._pieces = "".join(self._pieces), []
        await self._emit(self._make(text, self.step, "text", None))


def quiet(emit: Emit) -> Emit:
    """An ``Emit`` that drops streamed text (planner and lead calls answer in JSON)."""

    async def forward(event: Event) -> None:
        if event.type not in ("token", "thinking", "final_answer"):
            await emit(event)

    return forward


def locked(emit: Emit) -> Emit:
    """An ``Emit`` that hands on one event at a time, so the event log keeps the order the
    caller sees when concurrent experts emit."""
    lock = asyncio.Lock()

    async def forward(event: Event) -> None:
        async with lock:
            await emit(event)

    return forward


# --------------------------------------------------------------------------- nested runs


@dataclass
class PhaseOutcome:
    """How one phase (or one expert's task) ended."""

    ok: bool
    result: str
    error: str = ""


def child_context(ctx: TurnContext, *, thread: str, emit: Emit, **changes: Any) -> TurnContext:
    """A context for a nested run: same turn, store, usage, approvals and cancellation."""
    return dataclasses.replace(ctx, thread=thread, emit=emit, open_calls={}, **changes)


async def run_phase(
    ctx: TurnContext,
    *,
    thread: str,
    emit: Emit,
    system: str,
    prompt: str,
    model: str,
    tool_names: list[str] | None,
    expert_name: str | None = None,
) -> PhaseOutcome:
    """Run one phase as a ReAct loop and say whether it succeeded, with its result."""
    report = PhaseReport()
    registry = ctx.registry.subset(None)
    registry.register(FinishPhaseTool(report))
    names = None if tool_names is None else [*tool_names, FINISH_TOOL]
    child = child_context(
        ctx,
        thread=thread,
        emit=emit,
        registry=registry,
        tool_names=names,
        system_prompt=system,
        model=model,
        expert_name=expert_name,
    )
    limit = min(PHASE_MAX_STEPS, ctx.settings.engine.max_steps)
    try:
        outcome = await run_react(
            child,
            [ChatMessage(role="user", content=prompt)],
            max_steps=limit,
            finished=lambda: report.status is not None,
        )
    except (TurnCancelled, StoreError):
        raise
    except LLMError as exc:
        return PhaseOutcome(False, "", one_line(str(exc), 200))
    except Exception as exc:  # a bug ends this phase, not its siblings
        log.exception("phase %s failed", thread)
        return PhaseOutcome(False, "", f"internal error: {type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(close_open_calls(child, NOT_RUN_STOPPED))
        if isinstance(emit, ProgressMapper):
            with contextlib.suppress(Exception):
                await emit.flush()
    if outcome.status == "cancelled":
        # The person chose "stop" on an approval: that ends the whole turn.
        ctx.cancel.cancel("user")
        raise TurnCancelled("user")
    if report.status == "failed":
        return PhaseOutcome(False, "", report.summary or "the phase reported that it failed")
    if report.status == "done":
        return PhaseOutcome(True, report.summary or outcome.answer)
    if outcome.status == "completed":
        text = outcome.answer.strip()
        return PhaseOutcome(True, "" if text == EMPTY_REPLY_TEXT else text)
    if outcome.status == "max_steps":
        return PhaseOutcome(False, outcome.answer, f"reached its limit of {limit} steps")
    return PhaseOutcome(False, outcome.answer, "stopped: the model kept repeating the same call")


# --------------------------------------------------------------------------- JSON replies

#: Most phases a planner or a lead may plan.
MAX_PHASES = 8


class PhaseSpec(BaseModel):
    """A phase as a planner or a lead writes it: what plan and team phases share."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    title: str = Field(min_length=1, max_length=120)
    goal: str = Field(min_length=1)


def unique_phase_ids(phases: list[PhaseT]) -> list[PhaseT]:
    """Validator: phase ids must not repeat."""
    ids = [phase.id for phase in phases]
    if len(ids) != len(set(ids)):
        raise ValueError("phase ids must be unique")
    return phases


def extract_json(text: str) -> Any:
    """The JSON object in a model reply: bare, in a code fence, or amid a little prose."""
    stripped = text.strip()
    candidates = [stripped]
    fence = re.search(r"```(?:json|JSON)?\s*(.*?)```", stripped, re.DOTALL)
    if fence:
        candidates.insert(0, fence.group(1).strip())
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    if not stripped:
        raise ReplyInvalid("the reply was empty; a JSON object was expected")
    raise ReplyInvalid("the reply is not a JSON object")


def describe_errors(exc: ValidationError) -> str:
    """Pydantic errors as one line a model (and a person) can act on."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "the object"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems[:8])


async def structured_call(
    ctx: TurnContext,
    *,
    system: str,
    messages: list[ChatMessage],
    parse: Callable[[str], T],
    what: str,
) -> T:
    """Ask for a JSON reply and parse it; one repair attempt, then a clear ModeError."""
    request = ChatRequest(model=ctx.model, messages=messages, system=system)
    text = await _quiet_reply(ctx, request)
    try:
        return parse(text)
    except ReplyInvalid as exc:
        first = str(exc)
    await ctx.emit(
        notice("plan_repair", f"The {what} reply was not valid ({first}); asking again.")
    )
    repair = [
        *messages,
        ChatMessage(role="assistant", content=text or "(empty reply)"),
        ChatMessage(role="user", content=REPAIR_PROMPT.format(errors=first)),
    ]
    text = await _quiet_reply(ctx, request.model_copy(update={"messages": repair}))
    try:
        return parse(text)
    except ReplyInvalid as exc:
        raise ModeError(
            f"The {what} did not return a valid plan, even after one repair attempt: {exc}"
        ) from None


async def _quiet_reply(ctx: TurnContext, request: ChatRequest) -> str:
    reply = await stream_step(ctx, request, live_tokens=False)
    await reply.writer.finish("complete", usage=reply.writer.usage)
    return reply.text


# --------------------------------------------------------------------------- final answer


async def synthesise(
    ctx: TurnContext,
    history: list[ChatMessage],
    *,
    system: str,
    prompt: str,
    fallback: str,
    missing: str | None,
) -> str:
    """Stream the final answer (live tokens, stored on the main thread) and return it.

    ``missing`` — what failed or was skipped — is added by the engine, so the answer says it
    plainly whatever the model wrote. A failing model call falls back to ``fallback``.
    """
    messages = [*history[:-1], ChatMessage(role="user", content=prompt)]
    request = ChatRequest(model=ctx.model, messages=messages, system=system)
    try:
        reply = await stream_step(ctx, request)
    except LLMError as exc:
        await ctx.emit(notice("synthesis_failed", f"The final answer could not be written: {exc}"))
        answer = fallback + (f"\n\n{missing}" if missing else "")
        await ctx.store.append_message(
            ctx.session_id,
            "assistant",
            answer,
            model="local",
            agent_name=ctx.agent_name,
            turn_id=ctx.turn_id,
            thread=ctx.thread,
            allow_closed=True,
        )
        return answer
    answer = reply.text.strip() or fallback
    if not reply.text.strip():
        await ctx.emit(TokenEvent(content=answer))
    if missing:
        await ctx.emit(TokenEvent(content=f"\n\n{missing}"))
        answer = f"{answer}\n\n{missing}"
    await reply.writer.finish("complete", content=answer, usage=reply.writer.usage)
    return answer


# --------------------------------------------------------------------------- text helpers


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def cut(text: str, limit: int = RESULT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying so."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n[… {len(text) - limit:,} characters cut …]"


def tools_summary(ctx: TurnContext, names: list[str] | None) -> str:
    """One line per tool a phase may use: its name and the first sentence it is described by."""
    lines = []
    for spec in ctx.registry.specs(names):
        first = re.split(r"(?<=[.!?])\s", str(spec.get("description", "")).strip(), maxsplit=1)[0]
        lines.append(f"- {spec['name']}: {first}")
    return "\n".join(lines) or "- (no tools)"
