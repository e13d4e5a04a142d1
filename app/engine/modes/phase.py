"""The shared phase runner: one plan phase, or one expert's task, as a nested ReAct run.

A phase runs in a child context: its own thread of stored messages (never replayed into the
conversation), its own prompt, tools and model, the turn's cancellation, approvals and usage.
It ends well when the model answers without tools (its text is the result) or calls
``finish_phase`` with ``done``; it fails on ``finish_phase`` with ``failed``, a provider
error, its step limit or the loop detector.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from app.engine.cancel import TurnCancelled
from app.engine.modes.finish import FINISH_TOOL, FinishPhaseTool, PhaseReport
from app.engine.modes.progress import ProgressMapper
from app.engine.modes.text import one_line
from app.engine.react import ReactOutcome, run_react
from app.engine.tooling import NOT_RUN_STOPPED, close_open_calls
from app.engine.turn import EMPTY_REPLY_TEXT, Emit, TurnContext, Usage
from app.llm.errors import LLMError
from app.llm.types import ChatMessage
from app.store import StoreError

log = logging.getLogger(__name__)

#: Model calls one phase (or one expert's task) may make.
PHASE_MAX_STEPS = 10
#: Characters of the short result in ``phase_completed``.
SHORT_RESULT_CHARS = 300

EXECUTOR_NOTE = (
    "You are carrying out one phase of a larger plan. Work only on this phase, using the "
    "tools when they help; do not redo earlier phases. When the phase is done, answer with a "
    "concise summary of what you did and what you found or produced: it is handed to the "
    "later phases and to the final answer. If you cannot complete the phase, call the "
    f'`{FINISH_TOOL}` tool with status "failed" and say why.'
)


@dataclass
class PhaseOutcome:
    """How one phase (or one expert's task) ended."""

    ok: bool
    result: str
    error: str = ""
    #: Tokens the phase's own model calls used (input and output).
    tokens: int = 0


def child_context(ctx: TurnContext, *, thread: str, emit: Emit, **changes: Any) -> TurnContext:
    """A context for a nested run: same turn, store, usage, approvals and cancellation."""
    return dataclasses.replace(ctx, thread=thread, emit=emit, open_calls={}, **changes)


async def run_phase(ctx: TurnContext, **options: Any) -> PhaseOutcome:
    """Run one phase (see :func:`_run_phase`), counting the tokens its model calls use."""
    usage = Usage(context=ctx.usage.context, parent=ctx.usage)
    outcome = await _run_phase(dataclasses.replace(ctx, usage=usage), **options)
    outcome.tokens = usage.total()
    return outcome


async def _run_phase(
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
        await _tidy(child, emit)
    return _judge(ctx, report, outcome, limit)


async def _tidy(child: TurnContext, emit: Emit) -> None:
    """Whatever ended the phase: every announced call gets a result, streamed text goes out."""
    with contextlib.suppress(Exception):
        await asyncio.shield(close_open_calls(child, NOT_RUN_STOPPED))
    if isinstance(emit, ProgressMapper):
        with contextlib.suppress(Exception):
            await emit.flush()


def _judge(
    ctx: TurnContext, report: PhaseReport, outcome: ReactOutcome, limit: int
) -> PhaseOutcome:
    """How the phase went, from what ``finish_phase`` recorded and how its loop ended."""
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
