"""Compaction: the older part of a conversation summarised by the session's model.

The summary is stored with :meth:`SessionStore.add_summary`; from then on the history a
model is sent (``get_chat_messages``) is the summary, then the turns that started after it,
verbatim. Nothing is deleted: people still see, search and export every message.

A compaction runs when a request would pass ``[engine] compact_at`` of the model's window
(``[engine] auto_compact = false`` turns that off), once when a provider answers "context
too long", and on request (``/compact``, ``agentkit sessions compact``). One at a time per
session; cancellable; one that fails leaves the session as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from app.config import Settings
from app.engine.cancel import CancellationToken, TurnCancelled, cancellable_iter
from app.engine.context import CHARS_PER_TOKEN, model_window
from app.engine.events import notice
from app.engine.skills import resolve_agent
from app.engine.turn import Emit, TurnContext
from app.llm.errors import ContextTooLongError
from app.llm.gateway import Gateway
from app.llm.types import (
    ChatMessage,
    ChatRequest,
    FinishChunk,
    TextDelta,
    ToolSpec,
    UsageChunk,
)
from app.store import Message, SessionStore

#: Tool results inside the summarised span are cut to this many characters first.
TOOL_CUT_CHARS = 2_000
#: The newest turns that stay verbatim after a compaction.
KEEP_TURNS = 1
#: The summary request may use this share of the window (the rest is the reply's).
REQUEST_SHARE = 0.6

SUMMARY_PROMPT = (
    "You are compacting the earlier part of a working conversation between a person and an "
    "AI agent that uses tools. The agent will read your summary instead of those messages and "
    "must be able to carry on without asking again. Write it in short sections:\n"
    "- Goals: what the person asked for, in their words where it matters.\n"
    "- Decisions: what was decided or agreed, and why.\n"
    "- Files: paths read, created or changed, with what changed.\n"
    "- Commands: commands and tools run, with their outcomes (errors included).\n"
    "- Open: questions not yet answered, steps not yet done.\n"
    "- In progress: what was being done when this summary was made.\n"
    "Keep exact names, paths, numbers and error messages. Leave out greetings and tool output "
    "that no longer matters. Reply with the summary only."
)


class CompactionError(Exception):
    """A compaction could not be made; the session is as it was."""


@dataclass(frozen=True)
class Compacted:
    """A stored compaction: how many messages it stands for, and where its mark is."""

    summarised: int
    through_seq: int
    summary: str
    message_id: int
    usage: dict[str, Any] | None = None


class CompactionGuard:
    """Sessions with a compaction running now in this process (never two at once)."""

    def __init__(self) -> None:
        self._busy: set[str] = set()

    def busy(self, session_id: str) -> bool:
        """Whether a compaction of the session runs now."""
        return session_id in self._busy

    @contextlib.contextmanager
    def hold(self, session_id: str) -> Iterator[None]:
        """Mark the session busy for the block; raises CompactionError when it already is."""
        if session_id in self._busy:
            raise CompactionError("a compaction of this session is already running")
        self._busy.add(session_id)
        try:
            yield
        finally:
            self._busy.discard(session_id)


@dataclass
class _Span:
    """What to summarise: the earlier summary (if any), the messages, and the new mark."""

    previous: str
    messages: list[Message]
    through_seq: int


def choose_span(
    messages: list[Message], keep_turns: int = KEEP_TURNS, exclude_turns: Collection[str] = ()
) -> _Span | None:
    """The part of the main thread a new summary covers: every turn after the last summary's
    mark except the newest ``keep_turns`` (and running ones); None when there is none."""
    main = [m for m in messages if m.thread == "main"]
    summaries = [m for m in main if m.summary_through is not None and m.status == "complete"]
    previous = summaries[-1] if summaries else None
    after = previous.summary_through or 0 if previous else 0
    starts: dict[str, int] = {}
    for message in main:
        if message.turn_id is not None and message.summary_through is None:
            starts.setdefault(message.turn_id, message.seq)

    def start(message: Message) -> int:
        return starts.get(message.turn_id or "", message.seq)

    rows = [m for m in main if m.summary_through is None and start(m) > after]
    turn_starts = sorted({start(m) for m in rows if m.role == "user"})
    running = {starts[t] for t in exclude_turns if t in starts}
    kept = [s for s in turn_starts if s not in running][-keep_turns:] if keep_turns else []
    limit = min([*kept, *running], default=max((m.seq for m in main), default=0) + 1)
    span = [m for m in rows if start(m) < limit]
    if not span:
        return None
    return _Span(previous.content if previous else "", span, limit - 1)


def render(span: _Span, budget_chars: int) -> str:
    """The span as one plain-text transcript for the summariser, tool output cut to
    :data:`TOOL_CUT_CHARS`; over ``budget_chars``, the oldest middle is left out (the first
    request is kept: it is usually the task)."""
    parts = [f"[earlier summary]\n{span.previous}"] if span.previous else []
    for message in span.messages:
        parts.append(_line(message))
    text = "\n\n".join(parts)
    if len(text) <= budget_chars:
        return text
    head = parts[0][: budget_chars // 4]
    tail_budget = budget_chars - len(head) - 200
    tail: list[str] = []
    size = 0
    for part in reversed(parts[1:]):
        if size + len(part) > tail_budget:
            break
        tail.append(part)
        size += len(part) + 2
    left_out = len(parts) - 1 - len(tail)
    note = f"[… {left_out} messages left out here: too long to summarise in one request]"
    return "\n\n".join([head, note, *reversed(tail)])


def _line(message: Message) -> str:
    """One message of the transcript."""
    if message.role == "tool":
        text = message.content
        if len(text) > TOOL_CUT_CHARS:
            cut = len(text) - TOOL_CUT_CHARS
            text = f"{text[: TOOL_CUT_CHARS - 500]}\n[… {cut:,} characters cut]\n{text[-500:]}"
        flag = " (error)" if message.is_error else ""
        return f"[tool {message.tool_name or ''} result{flag}]\n{text}"
    body = message.content
    for call in message.tool_calls:
        body += f"\n(calls {call.name} {call.raw_arguments or call.arguments})"
    return f"[{message.role}]\n{body}"


def summary_request(
    model: str, transcript: str, focus: str, window_tokens: int | None = None
) -> ChatRequest:
    """The request that asks ``model`` for the summary (``window_tokens``: the window to ask
    an Ollama server for)."""
    ask = "Summarise this conversation."
    if focus.strip():
        ask += f" Pay particular attention to: {focus.strip()}"
    content = f"{ask}\n\n<conversation>\n{transcript}\n</conversation>"
    return ChatRequest(
        model=model,
        system=SUMMARY_PROMPT,
        messages=[ChatMessage(role="user", content=content)],
        num_ctx=window_tokens,
    )


async def compact(
    store: SessionStore,
    gateway: Gateway,
    session_id: str,
    model: str,
    *,
    window_tokens: int | None = None,
    focus: str = "",
    cancel: CancellationToken | None = None,
    turn_id: str | None = None,
    exclude_turns: Collection[str] = (),
    keep_turns: int = KEEP_TURNS,
) -> Compacted | None:
    """Summarise the older part of the session with ``model`` and store the summary; None
    when there is nothing to summarise. Raises CompactionError (the session unchanged), or
    TurnCancelled when ``cancel`` fires."""
    messages = await store.get_messages(session_id, thread="main")
    span = choose_span(messages, keep_turns, exclude_turns)
    if span is None:
        return None
    budget = int((window_tokens or 32_000) * REQUEST_SHARE * CHARS_PER_TOKEN)
    for _attempt in range(3):  # a refused summary request is tried smaller, twice
        request = summary_request(model, render(span, budget), focus, window_tokens)
        try:
            text, usage = await _ask(gateway, request, cancel or CancellationToken())
            break
        except ContextTooLongError:
            budget //= 2
    else:
        raise CompactionError("even the summary request was too long for the model")
    # The row's usage also says how many messages it stands for (the divider's count).
    recorded = {**(usage or {}), "summarised": len(span.messages)}
    stored = await store.add_summary(
        session_id, text, span.through_seq, model=model, turn_id=turn_id, usage=recorded
    )
    return Compacted(len(span.messages), span.through_seq, text, stored.id, usage)


async def _ask(
    gateway: Gateway, request: ChatRequest, cancel: CancellationToken
) -> tuple[str, dict[str, Any] | None]:
    """The model's summary text and usage; CompactionError when it gave none."""
    pieces: list[str] = []
    usage: dict[str, Any] | None = None
    finish: FinishChunk | None = None
    try:
        chunks: AsyncIterator[Any] = cancellable_iter(gateway.stream(request), cancel)
        async for chunk in chunks:
            if isinstance(chunk, TextDelta):
                pieces.append(chunk.text)
            elif isinstance(chunk, UsageChunk):
                usage = {"input_tokens": chunk.input_tokens, "output_tokens": chunk.output_tokens}
            elif isinstance(chunk, FinishChunk):
                finish = chunk
    except (TurnCancelled, ContextTooLongError):
        raise
    except Exception as exc:
        raise CompactionError(f"the model could not summarise the conversation: {exc}") from exc
    text = "".join(pieces).strip()
    if not text or finish is None or finish.reason == "content_filter":
        raise CompactionError("the model gave no usable summary; nothing was changed")
    return text, usage


def compacted_message(done: Compacted) -> str:
    """The ``compacted`` notice's text."""
    return (
        f"Earlier conversation compacted: {done.summarised} messages → summary "
        f"({len(done.summary):,} characters). The full messages are kept."
    )


async def before_call(
    ctx: TurnContext,
    guard: CompactionGuard,
    history: list[ChatMessage],
    exclude_turns: Collection[str],
    *,
    refused: bool = False,
) -> bool:
    """Compact the session when the turn's request would pass ``[engine] compact_at`` of
    the model's window, or when the provider ``refused`` it as too long; True when a summary
    was stored (the caller reads the history again). A failure is told and changes nothing."""
    engine = ctx.settings.engine
    if not engine.auto_compact or guard.busy(ctx.session_id):
        return False
    window = await model_window(ctx.settings, ctx.gateway, ctx.model)
    if not refused:
        if window is None:
            return False
        specs = [ToolSpec.model_validate(spec) for spec in ctx.registry.specs(ctx.tool_names)]
        request = ChatRequest(
            model=ctx.model, messages=history, tools=specs, system=ctx.system_prompt
        )
        if ctx.calibration.estimate(ctx.model, request) <= window.tokens * engine.compact_at:
            return False
    if window is not None:
        tokens = window.tokens
    else:  # refused with no window known: the summary request gets half the refused size
        tokens = int(sum(len(m.content) for m in history) / CHARS_PER_TOKEN / 2)
    done = await run_compaction(
        ctx.store,
        ctx.gateway,
        guard,
        ctx.session_id,
        ctx.model,
        emit=ctx.emit,
        window_tokens=max(tokens, 1_000),
        cancel=ctx.cancel,
        exclude_turns=exclude_turns,
    )
    if done is not None and done.usage:
        ctx.usage.add(ctx.model, done.usage["input_tokens"], done.usage["output_tokens"])
    return done is not None


async def run_compaction(
    store: SessionStore,
    gateway: Gateway,
    guard: CompactionGuard,
    session_id: str,
    model: str,
    *,
    emit: Emit,
    window_tokens: int | None = None,
    focus: str = "",
    cancel: CancellationToken | None = None,
    exclude_turns: Collection[str] = (),
    keep_turns: int = KEEP_TURNS,
) -> Compacted | None:
    """:func:`compact` under the session's guard, telling progress and outcome as notices
    (``compacting``, then ``compacted``, ``compaction_skipped`` or ``compaction_failed``)."""
    await emit(notice("compacting", "Compacting the conversation…"))
    try:
        with guard.hold(session_id):
            done = await compact(
                store,
                gateway,
                session_id,
                model,
                window_tokens=window_tokens,
                focus=focus,
                cancel=cancel,
                exclude_turns=exclude_turns,
                keep_turns=keep_turns,
            )
    except CompactionError as exc:
        await emit(notice("compaction_failed", f"Could not compact the conversation: {exc}"))
        return None
    if done is None:
        await emit(notice("compaction_skipped", "Nothing to compact yet."))
        return None
    await emit(notice("compacted", compacted_message(done)))
    return done


class CompactionHost(Protocol):
    """What :func:`compact_session` needs of the chat service."""

    settings: Settings
    store: SessionStore
    gateway: Gateway
    compactions: CompactionGuard


async def compact_session(
    service: CompactionHost,
    session_id: str,
    emit: Emit,
    *,
    focus: str = "",
    model: str | None = None,
    cancel: CancellationToken | None = None,
) -> Compacted | None:
    """Compact a session on request (``/compact``, ``agentkit sessions compact``) with its
    agent's model (or ``model``), keeping the newest turn verbatim; None when nothing was
    stored (the notices say why)."""
    session = await service.store.get_session(session_id)
    agent = resolve_agent(service.settings, session.agent_name)
    resolved = await service.gateway.resolve(model or agent.model)
    window = await model_window(service.settings, service.gateway, resolved.name)
    return await run_compaction(
        service.store,
        service.gateway,
        service.compactions,
        session_id,
        resolved.name,
        emit=emit,
        window_tokens=window.tokens if window else None,
        focus=focus,
        cancel=cancel,
    )
