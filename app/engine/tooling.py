"""Running one step's tool calls: validate, decide (policy or person), run, record.

Whether each call may run (the policy, or the person) is decided in ``approvals.py``. Every
call ends with exactly one stored tool message and one ``step/tool_result`` event, in
the order the model made the calls, whatever happens: an unknown tool, bad arguments, a
denial, a timeout, a failing command, or the turn being stopped. Approvals are asked one at a
time in call order; calls that only read run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field, replace

from app.engine.approvals import Planned, StepAnswers, decide, error_result, tool_context
from app.engine.cancel import TurnCancelled, cancellable
from app.engine.events import (
    CallStep,
    ResultStep,
    StepEvent,
    ToolCallData,
    ToolResultData,
    notice,
)
from app.engine.turn import TurnContext
from app.llm.types import ChatMessage, ToolCall
from app.store import StoreError
from app.tools import sandbox
from app.tools.base import ToolError, ToolResult, execute

NOT_RUN_STOPPED = "Not run: the person stopped the turn before this call ran."
STOPPED_WHILE_RUNNING = (
    "Stopped: the person stopped the turn while this call was running; its effects may be partial."
)


@dataclass
class StepOutcome:
    """What running a step's calls produced."""

    messages: list[ChatMessage] = field(default_factory=list)
    aborted: bool = False


async def announce_calls(ctx: TurnContext, calls: list[ToolCall], step: int) -> None:
    """Emit ``step/tool_call`` events and mark the calls open until their results land."""
    for call in calls:
        ctx.open_calls[call.id] = (call, step)
        await ctx.emit(
            StepEvent(
                data=CallStep(
                    step=step,
                    data=ToolCallData(id=call.id, name=call.name, arguments=call.arguments),
                )
            )
        )


async def record_result(
    ctx: TurnContext, call: ToolCall, result: ToolResult, step: int, duration_ms: int | None
) -> ChatMessage:
    """Store the tool message, emit ``step/tool_result``, and close the call."""
    await ctx.store.append_message(
        ctx.session_id,
        "tool",
        result.output,
        tool_call_id=call.id,
        tool_name=call.name,
        is_error=result.is_error,
        agent_name=ctx.agent_name,
        turn_id=ctx.turn_id,
        thread=ctx.thread,
        allow_closed=True,
    )
    ctx.open_calls.pop(call.id, None)
    await ctx.emit(
        StepEvent(
            data=ResultStep(
                step=step,
                data=ToolResultData(
                    id=call.id,
                    name=call.name,
                    output=result.output,
                    is_error=result.is_error,
                    duration_ms=duration_ms,
                ),
            )
        )
    )
    return ChatMessage(
        role="tool",
        content=result.output,
        tool_call_id=call.id,
        tool_name=call.name,
        is_error=result.is_error,
    )


async def close_open_calls(ctx: TurnContext, text: str) -> None:
    """Give every announced call without a result a marked "not run" result."""
    for call, step in list(ctx.open_calls.values()):
        await record_result(ctx, call, ToolResult(output=text, is_error=True), step, None)


def _validate(ctx: TurnContext, planned: Planned) -> None:
    call = planned.call
    allowed = ctx.tool_names
    if not call.name:  # the arguments may be fine: the name is what is missing
        names = ", ".join(ctx.tool_names or ctx.registry.names())
        planned.result = error_result(
            f"Your tool call has no tool name. Send it again naming one of: {names}."
        )
        return
    if call.parse_error:
        raw = (call.raw_arguments or "")[:200]
        planned.result = error_result(
            f"The arguments of your `{call.name}` call are not valid JSON ({call.parse_error}); "
            f"you sent: {raw!r}. Send the call again with a JSON object."
        )
        return
    try:
        if allowed is not None and call.name not in allowed:
            raise ToolError(f"unknown tool `{call.name}`")
        tool = ctx.registry.get(call.name)
        planned.tool = tool
        planned.args = tool.parse_args(call.arguments)
    except (ToolError, KeyError) as exc:
        names = ", ".join(ctx.tool_names or ctx.registry.names())
        message = str(exc).strip("'\"")
        if "unknown tool" in message.lower():
            message = f"There is no tool called `{call.name}`. Available tools: {names}."
        planned.result = error_result(message)


async def _say_once_unsandboxed(ctx: TurnContext) -> None:
    """``[tools] sandbox = "auto"`` without a working sandbox: a notice, once per process."""
    global _TOLD_UNSANDBOXED
    mode = ctx.settings.tools.sandbox
    if mode != "auto" or _TOLD_UNSANDBOXED:
        return
    current = sandbox.state(mode)
    if not current.active:
        _TOLD_UNSANDBOXED = True
        await ctx.emit(
            notice(
                "sandbox_unavailable",
                f"Shell commands run {current.description}; only the approval rules and the "
                "known-safe checks protect this machine.",
            )
        )


_TOLD_UNSANDBOXED = False


async def run_tool_calls(ctx: TurnContext, calls: list[ToolCall], step: int) -> StepOutcome:
    """Validate, approve and run one step's calls; record every result in call order."""
    outcome = StepOutcome()
    planned = [Planned(call=call) for call in calls]
    for item in planned:
        _validate(ctx, item)
    answers = StepAnswers(planned)
    tool_ctx = tool_context(ctx)
    running: list[Planned] = []
    try:
        for index, item in enumerate(planned):
            if item.result is None and not await decide(ctx, item, answers):
                for later in planned[index + 1 :]:
                    later.result = error_result(NOT_RUN_STOPPED)
                outcome.aborted = True
                break
            if item.result is None:
                assert item.tool is not None and item.args is not None
                if item.call.name == "shell":
                    await _say_once_unsandboxed(ctx)
                call_ctx = replace(tool_ctx, network=not item.offline, hardened=item.known_safe)
                item.started = time.monotonic()
                item.task = asyncio.ensure_future(execute(item.tool, item.call.arguments, call_ctx))
                running.append(item)
                if item.tool.access_for(item.args) != "read":
                    # Writes and commands run one at a time, in the model's order.
                    await cancellable(asyncio.shield(item.task), ctx.cancel)
        for item in planned:
            duration: int | None = None
            if item.task is not None:
                item.result = await cancellable(asyncio.shield(item.task), ctx.cancel)
                duration = int((time.monotonic() - item.started) * 1000)
            assert item.result is not None
            outcome.messages.append(
                await record_result(ctx, item.call, item.result, step, duration)
            )
    except BaseException as exc:
        # Stopped by the person, or something failed: every call still gets exactly one
        # stored result, and no tool keeps running on its own.
        stopped = isinstance(exc, TurnCancelled | asyncio.CancelledError)
        failure = f"Not run: the turn ended with an error ({type(exc).__name__})."
        for item in running:
            if item.task is not None and not item.task.done():
                item.task.cancel()
        await asyncio.gather(*(i.task for i in running if i.task), return_exceptions=True)
        for item in planned:
            if item.call.id not in ctx.open_calls:
                continue
            text = NOT_RUN_STOPPED if stopped else failure
            if item.task is not None and item.task.cancelled():
                text = STOPPED_WHILE_RUNNING if stopped else failure
            elif item.task is not None and item.task.done() and item.result is None:
                item.result = item.task.result()
            if item.result is None:
                item.result = error_result(text)
            with contextlib.suppress(StoreError):
                await asyncio.shield(record_result(ctx, item.call, item.result, step, None))
        raise
    return outcome


def call_key(call: ToolCall) -> str:
    """A call's identity for loop detection: name plus canonical arguments."""
    arguments = json.dumps(call.arguments, sort_keys=True, separators=(",", ":"))
    return f"{call.name} {' '.join(arguments.split())}"
