"""The ReAct loop: stream a step, run the tools it asks for, repeat until an answer.

Every mode reuses it. Tokens stream live; when a step turns out to call tools, the text it
streamed is re-labelled with one ``thinking`` event (clients move it from the answer into a
thinking block). Bounded by ``max_steps`` (the last step is sent without tools and told to
answer); the same call with the same arguments in three steps in a row stops the turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.cancel import TurnCancelled, cancellable_iter
from app.engine.context import fit, model_window
from app.engine.events import (
    FinalAnswerEvent,
    ThinkingEvent,
    TokenEvent,
    TurnStatus,
    notice,
)
from app.engine.tooling import (
    announce_calls,
    call_key,
    close_open_calls,
    run_tool_calls,
)
from app.engine.turn import EMPTY_REPLY_TEXT, ReplyWriter, TurnContext
from app.llm.errors import ContextTooLongError
from app.llm.types import (
    ChatMessage,
    ChatRequest,
    FinishChunk,
    Piece,
    ReasoningChunk,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallChunk,
    ToolSpec,
    UsageChunk,
)

LAST_STEP_NOTE = (
    "You have no tool calls left in this turn. Answer now with what you have, and say "
    "plainly what is unfinished."
)
LOOP_REPEATS = 3
STEP_LIMIT_RESULT = "Not run: the turn reached its limit of {limit} steps."
LOOP_RESULT = "Not run: the same call was repeated {times} times in a row, so the turn was stopped."


@dataclass
class StepReply:
    """What one model call produced."""

    text: str
    calls: list[ToolCall]
    finish: FinishChunk | None
    writer: ReplyWriter


@dataclass
class ReactOutcome:
    """How a ReAct run ended."""

    status: TurnStatus
    answer: str


async def stream_step(
    ctx: TurnContext, request: ChatRequest, *, live_tokens: bool = True
) -> StepReply:
    """Stream one model call, emitting tokens and thinking, saving the reply as it grows.

    The request is first fitted to the model's context window; a "context too long" answer
    before anything streamed is fitted harder and tried once more.
    """
    step = _Step(ctx, ReplyWriter(ctx, request.model), live_tokens)
    writer = step.writer
    sent = _Sent(await _fit(ctx, request, hard=False))
    batches: AsyncIterator[list[Piece]] = cancellable_iter(_stream_fitted(ctx, sent), ctx.cancel)
    try:
        async for batch in batches:
            await step.take(batch)
    except BaseException as exc:
        # Keep what arrived, marked: cancelled by the person, or cut by an error.
        cut = isinstance(exc, Exception) and not isinstance(exc, TurnCancelled)
        await asyncio.shield(writer.finish("error" if cut else "cancelled", usage=step.usage))
        raise
    finish, usage = step.finish, step.usage
    model = finish.model if finish and finish.model else request.model
    writer.model = model
    if usage:
        ctx.usage.add(model, usage["input_tokens"], usage["output_tokens"])
        window = await model_window(ctx.settings, ctx.gateway, request.model)
        if window is not None:
            ctx.usage.context[model] = (usage["input_tokens"], window.tokens)
        writer.usage = usage
        ctx.calibration.learn(request.model, sent.request, usage["input_tokens"])
    return StepReply(text=writer.text, calls=step.calls, finish=finish, writer=writer)


@dataclass
class _Step:
    """What one model call has produced so far, fed a batch of the gateway's pieces at a time."""

    ctx: TurnContext
    writer: ReplyWriter
    live_tokens: bool
    calls: list[ToolCall] = field(default_factory=list)
    finish: FinishChunk | None = None
    usage: dict[str, Any] | None = None

    async def take(self, batch: list[Piece]) -> None:
        """Emit the batch in order, each run of answer text as ONE token event (a batch is
        what arrived since the last one: at a model's pace a few tokens, at full speed
        many), and save the batch's answer text once."""
        ctx, writer = self.ctx, self.writer
        text: list[str] = []
        run = 0  # where the run of answer text not emitted yet starts in ``text``
        for chunk in batch:
            if isinstance(chunk, str | TextDelta):
                text.append(chunk if isinstance(chunk, str) else chunk.text)
                continue
            if run < len(text) and self.live_tokens:
                await ctx.emit(TokenEvent(content="".join(text[run:])))
            run = len(text)
            if isinstance(chunk, ThinkingDelta):
                await ctx.emit(ThinkingEvent(content=chunk.text))
                await writer.add_thinking(chunk.text)
            elif isinstance(chunk, ReasoningChunk):
                writer.reasoning.append(chunk.block)
            elif isinstance(chunk, ToolCallChunk):
                self.calls.append(chunk.call)
            elif isinstance(chunk, UsageChunk):
                self.usage = {
                    "input_tokens": chunk.input_tokens,
                    "output_tokens": chunk.output_tokens,
                }
            elif isinstance(chunk, FinishChunk):
                self.finish = chunk
        if run < len(text) and self.live_tokens:
            await ctx.emit(TokenEvent(content="".join(text[run:])))
        if text:
            await writer.add_text(text[0] if len(text) == 1 else "".join(text))


@dataclass
class _Sent:
    """The request as last sent (it changes when a refusal makes us fit it harder)."""

    request: ChatRequest


async def _stream_fitted(ctx: TurnContext, sent: _Sent) -> AsyncIterator[list[Piece]]:
    """The gateway's batches; one harder fit and retry on "context too long" before any."""
    started = False
    try:
        async for batch in ctx.gateway.batches(sent.request):
            started = True
            yield batch
        return
    except ContextTooLongError:
        if started:
            raise
    ctx.calibration.refused(sent.request.model)
    sent.request = await _fit(ctx, sent.request, hard=True)
    async for batch in ctx.gateway.batches(sent.request):
        yield batch


async def _fit(ctx: TurnContext, request: ChatRequest, *, hard: bool) -> ChatRequest:
    """Fit ``request`` to the window (see :mod:`app.engine.context`) and say what was done."""
    window = await model_window(ctx.settings, ctx.gateway, request.model)
    if window is None and not hard:
        return request
    estimate = ctx.calibration.estimate(request.model, request)
    limit = int(window.tokens * ctx.settings.engine.compact_at) if window else estimate
    fitted = fit(request, limit, ctx.calibration, hard=hard)
    if fitted.elided or fitted.left_out:
        parts = []
        if fitted.elided:
            parts.append(
                f"{fitted.elided} older tool output{'s' if fitted.elided != 1 else ''} "
                f"shortened ({fitted.elided_chars:,} characters)"
            )
        if fitted.left_out:
            parts.append(f"the {fitted.left_out} earliest messages left out")
        why = "the provider said the request was too long" if hard else (
            f"the request would fill over {ctx.settings.engine.compact_at:.0%} of "
            f"{request.model}'s {window.tokens:,}-token window" if window else "it was too long"
        )  # fmt: skip
        text = f"To fit the context window ({why}): {'; '.join(parts)}. The session keeps it all."
        await ctx.emit(notice("context_fitted", text))
    if window is None:
        return fitted.request
    # Ollama serves the window the request asks for (``num_ctx``); other protocols ignore it.
    return fitted.request.model_copy(update={"num_ctx": window.tokens})


async def run_react(
    ctx: TurnContext,
    history: list[ChatMessage],
    *,
    max_steps: int | None = None,
    finished: Callable[[], bool] | None = None,
) -> ReactOutcome:
    """Run the tool loop from ``history`` until the model answers without tools.

    ``finished`` is asked after each step's tool calls: when it says yes the loop ends there
    (a plan phase or an expert reported its outcome through a tool), status ``completed``.
    """
    limit = max_steps or ctx.settings.engine.max_steps
    specs = [ToolSpec.model_validate(spec) for spec in ctx.registry.specs(ctx.tool_names)]
    loop = _Loop(history)
    for step in range(1, limit + 1):
        last = step == limit
        system = ctx.system_prompt + (f"\n\n{LAST_STEP_NOTE}" if last and specs else "")
        request = ChatRequest(
            model=ctx.model, messages=loop.history, tools=[] if last else specs, system=system
        )
        reply = await stream_step(ctx, request)
        if reply.calls and last:
            # Tools were not offered on the last step; calls made anyway are not run.
            await _take_calls(ctx, reply, step)
            await close_open_calls(ctx, STEP_LIMIT_RESULT.format(limit=limit))
            break
        if reply.calls:
            outcome = await _tool_step(ctx, reply, step, loop)
            if outcome is None and not (finished is not None and finished()):
                continue
            return outcome or ReactOutcome("completed", "")
        return await _answer(ctx, reply, limit=limit if last and step > 1 else None)
    summary = ", ".join(loop.done_calls[-10:]) or "nothing"
    answer = (
        f"Stopped after {limit} steps without a final answer. Done so far: {summary}. "
        "Ask me to continue to go on."
    )
    await _final(ctx, answer, model=ctx.model)
    return ReactOutcome("max_steps", answer)


@dataclass
class _Loop:
    """What a ReAct run carries from step to step."""

    history: list[ChatMessage]
    #: Per call (tool and arguments): in how many steps in a row it was made.
    streaks: dict[str, int] = field(default_factory=dict)
    done_calls: list[str] = field(default_factory=list)


async def _take_calls(ctx: TurnContext, reply: StepReply, step: int) -> ChatMessage:
    """Relabel the step's text as thinking, store the step and announce its calls."""
    if reply.text.strip():
        await ctx.emit(ThinkingEvent(content=reply.text))
    await reply.writer.finish("complete", tool_calls=reply.calls, usage=reply.writer.usage)
    assistant = ChatMessage(
        role="assistant",
        content=reply.text,
        tool_calls=reply.calls,
        reasoning=reply.writer.reasoning,
    )
    await announce_calls(ctx, reply.calls, step)
    return assistant


async def _tool_step(
    ctx: TurnContext, reply: StepReply, step: int, loop: _Loop
) -> ReactOutcome | None:
    """Run a step's tool calls (unless they repeat); an outcome when the run ends here."""
    assistant = await _take_calls(ctx, reply, step)
    keys = {call_key(call) for call in reply.calls}
    loop.streaks = {key: loop.streaks.get(key, 0) + 1 for key in keys}
    repeated = [key for key, count in loop.streaks.items() if count >= LOOP_REPEATS]
    if repeated:
        await close_open_calls(ctx, LOOP_RESULT.format(times=LOOP_REPEATS))
        answer = (
            f"Stopped: the model repeated `{repeated[0]}` {LOOP_REPEATS} times in a "
            "row without making progress. Rephrase the request or give more detail "
            "to go on."
        )
        await _final(ctx, answer, model=reply.writer.model)
        return ReactOutcome("loop_stopped", answer)
    outcome = await run_tool_calls(ctx, reply.calls, step)
    loop.done_calls += [f"{call.name}" for call in reply.calls]
    loop.history = [*loop.history, assistant, *outcome.messages]
    return ReactOutcome("cancelled", "") if outcome.aborted else None


async def _answer(ctx: TurnContext, reply: StepReply, *, limit: int | None) -> ReactOutcome:
    """The model answered: store and emit it (``limit``: it was made to, on its last step)."""
    answer = reply.text if reply.text.strip() else EMPTY_REPLY_TEXT
    await reply.writer.finish("complete", content=answer, usage=reply.writer.usage)
    await ctx.emit(FinalAnswerEvent(content=answer))
    if limit is None:
        return ReactOutcome("completed", answer)
    await ctx.emit(
        notice(
            "max_steps",
            f"Reached the limit of {limit} steps; the model was asked to answer with what it had.",
        )
    )
    return ReactOutcome("max_steps", answer)


async def _final(ctx: TurnContext, text: str, *, model: str) -> None:
    """Store and emit an answer the engine wrote itself (loop stop, max steps)."""
    await ctx.store.append_message(
        ctx.session_id,
        "assistant",
        text,
        model=model,
        agent_name=ctx.agent_name,
        turn_id=ctx.turn_id,
        thread=ctx.thread,
    )
    await ctx.emit(FinalAnswerEvent(content=text))
