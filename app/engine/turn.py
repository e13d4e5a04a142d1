"""What one turn shares: its collaborators, its event channel, and how replies are saved."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings
from app.engine.cancel import CancellationToken
from app.engine.context import Calibration
from app.engine.events import Event, UsageEvent, usage
from app.engine.human import Human
from app.llm.gateway import Gateway
from app.llm.types import ChatMessage, ReasoningBlock, ToolCall
from app.store import HistoryMessage, Message, SessionStore, ToolCallRecord
from app.store.errors import StoreError
from app.tools.policy import ApprovalPolicy
from app.tools.registry import ToolRegistry

Emit = Callable[[Event], Awaitable[None]]
#: The price in US dollars of (model, input tokens, output tokens), None when unknown.
Price = Callable[[str, int, int], float | None]

#: A streaming reply is written to the database at most this often (and when it ends).
SAVE_INTERVAL_SECONDS = 1.0
#: How a compaction summary is introduced to the model.
SUMMARY_LABEL = (
    "Summary of the earlier part of this conversation (compacted; the full messages are kept "
    "in the session):"
)
EMPTY_REPLY_TEXT = "The model returned an empty reply. Try asking again, or rephrase the request."


@dataclass
class Usage:
    """Tokens per model over a turn."""

    by_model: dict[str, list[int]] = field(default_factory=dict)
    #: Per model, the last request's estimated size and the window, in tokens.
    context: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: A nested run's usage (a team expert's) also counts toward the turn's.
    parent: Usage | None = None

    def add(self, model: str, input_tokens: int, output_tokens: int) -> None:
        """Count one call's tokens (and in the turn's usage, for a nested run)."""
        counts = self.by_model.setdefault(model, [0, 0])
        counts[0] += input_tokens
        counts[1] += output_tokens
        if self.parent is not None:
            self.parent.add(model, input_tokens, output_tokens)

    def total(self) -> int:
        """Input and output tokens of every model together."""
        return sum(i + o for i, o in self.by_model.values())

    def events(self, price: Price | None = None) -> list[UsageEvent]:
        """One ``usage`` event per model used (``price``: what a model's tokens cost)."""
        return [
            usage(i, o, m, self.context.get(m), price(m, i, o) if price else None)
            for m, (i, o) in self.by_model.items()
        ]


@dataclass
class TurnContext:
    """Everything a mode runner needs for one turn."""

    session_id: str
    turn_id: str
    agent_name: str
    model: str
    system_prompt: str
    tool_names: list[str] | None
    store: SessionStore
    gateway: Gateway
    registry: ToolRegistry
    policy: ApprovalPolicy
    human: Human
    cancel: CancellationToken
    settings: Settings
    workspace: Path
    user_config_file: Path
    emit: Emit
    usage: Usage = field(default_factory=Usage)
    #: Tokens per character per model, learnt from providers' counts (shared by the service).
    calibration: Calibration = field(default_factory=Calibration)
    thread: str = "main"
    #: Calls announced (stored on an assistant row) whose result is not stored yet, with
    #: the step that made them.
    open_calls: dict[str, tuple[ToolCall, int]] = field(default_factory=dict)
    #: Who is working, when a team expert (or a plan phase) runs the loop: named in approvals.
    expert_name: str | None = None
    #: One question to the person at a time, whoever asks: concurrent experts share this
    #: lock (a child context copies the reference), so each confirmation request is followed
    #: by its own result before the next request appears.
    human_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def confirm_timeout(self) -> float | None:
        """Seconds to wait for a person; ``None`` waits forever (config 0)."""
        seconds = self.settings.approval.timeout_seconds
        return None if seconds <= 0 else seconds


class ReplyWriter:
    """Saves one assistant reply as it streams: created at the first delta, then updated at
    most once a second and at least a second after any delta not yet saved (a timer covers
    a stream that goes quiet), so a process that dies loses at most a second of text."""

    def __init__(self, ctx: TurnContext, model: str) -> None:
        self.ctx = ctx
        self.model = model
        self._text: list[str] = []
        self._thinking: list[str] = []
        self.reasoning: list[ReasoningBlock] = []
        self.message: Message | None = None
        self.usage: dict[str, Any] | None = None
        self._saved_at = 0.0
        #: Text or thinking arrived since the last save.
        self._unsaved = False
        #: Saves the unsaved pieces a second after the last save, if no delta did it first.
        self._flush: asyncio.Task[None] | None = None
        self._flush_saving = False

    @property
    def text(self) -> str:
        """The answer text so far."""
        if len(self._text) > 1:
            self._text[:] = ["".join(self._text)]
        return self._text[0] if self._text else ""

    @text.setter
    def text(self, value: str) -> None:
        self._text[:] = [value]

    @property
    def thinking(self) -> str:
        """The reasoning text so far."""
        if len(self._thinking) > 1:
            self._thinking[:] = ["".join(self._thinking)]
        return self._thinking[0] if self._thinking else ""

    async def add_text(self, delta: str) -> None:
        """Append answer text (saved at the first delta, then about once a second)."""
        self._text.append(delta)
        await self._saved_soon()

    async def add_thinking(self, delta: str) -> None:
        """Append reasoning text (saved like the answer text)."""
        self._thinking.append(delta)
        await self._saved_soon()

    async def _saved_soon(self) -> None:
        self._unsaved = True
        if self.message is None or time.monotonic() - self._saved_at >= SAVE_INTERVAL_SECONDS:
            await self._touch()
        elif self._flush is None:
            self._flush = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(self._saved_at + SAVE_INTERVAL_SECONDS - time.monotonic())
            self._flush_saving = True
            if self._unsaved and self.message is not None:
                await self._save()
        except StoreError:
            pass  # the next save (a delta, or the end) tries again and reports its error
        finally:
            self._flush = None
            self._flush_saving = False

    async def _stop_flush(self) -> None:
        """No timer left behind: a sleeping one is cancelled, one that is saving is awaited
        (cancelling a write half-way could leave the store's transaction open)."""
        flush = self._flush
        if flush is None:
            return
        if not self._flush_saving:
            flush.cancel()
        await asyncio.gather(flush, return_exceptions=True)

    async def _touch(self) -> None:
        if self.message is None:
            self.message = await self.ctx.store.append_message(
                self.ctx.session_id,
                "assistant",
                self.text,
                thinking=self.thinking,
                status="streaming",
                model=self.model,
                agent_name=self.ctx.agent_name,
                turn_id=self.ctx.turn_id,
                thread=self.ctx.thread,
                allow_closed=True,
            )
            self._saved_at = time.monotonic()
            self._unsaved = False
        else:
            await self._save()

    async def _save(self, **extra: Any) -> None:
        assert self.message is not None
        self._unsaved = False
        self.message = await self.ctx.store.update_message(
            self.message.id, content=self.text, thinking=self.thinking, **extra
        )
        self._saved_at = time.monotonic()

    async def finish(
        self,
        status: str,
        *,
        content: str | None = None,
        tool_calls: list[ToolCall] | None = None,
        usage: dict[str, Any] | None = None,
    ) -> Message | None:
        """Write the final state; returns the stored message (``None`` if nothing to keep)."""
        await self._stop_flush()
        if content is not None:
            self.text = content
        records = [_record(call) for call in tool_calls or []]
        reasoning = [block.model_dump(exclude_none=True) for block in self.reasoning] or None
        if self.message is None:
            if not (self.text or self.thinking or records):
                return None
            self.message = await self.ctx.store.append_message(
                self.ctx.session_id,
                "assistant",
                self.text,
                thinking=self.thinking,
                tool_calls=records or None,
                status=status,  # type: ignore[arg-type]
                model=self.model,
                usage=usage,
                reasoning=reasoning,
                agent_name=self.ctx.agent_name,
                turn_id=self.ctx.turn_id,
                thread=self.ctx.thread,
                allow_closed=True,
            )
            return self.message
        self.message = await self.ctx.store.update_message(
            self.message.id,
            content=self.text,
            thinking=self.thinking,
            tool_calls=records or None,
            status=status,  # type: ignore[arg-type]
            usage=usage,
            reasoning=reasoning,
        )
        return self.message


def _record(call: ToolCall) -> ToolCallRecord:
    extra: dict[str, Any] = {}
    if call.parse_error:
        extra["parse_error"] = call.parse_error
    if call.provider_id:
        extra["provider_id"] = call.provider_id
    return ToolCallRecord(
        id=call.id,
        name=call.name,
        arguments=call.arguments,
        raw_arguments=call.raw_arguments,
        **extra,
    )


def to_chat_message(message: HistoryMessage) -> ChatMessage:
    """Convert a stored history message into the gateway's message type."""
    calls = [
        ToolCall(
            id=record.id,
            name=record.name,
            arguments=record.arguments,
            raw_arguments=record.raw_arguments,
            parse_error=(record.model_extra or {}).get("parse_error"),
            provider_id=(record.model_extra or {}).get("provider_id"),
        )
        for record in message.tool_calls
    ]
    blocks = [ReasoningBlock.model_validate(block) for block in message.reasoning or []]
    if message.summary:  # every protocol takes it with the system prompt
        return ChatMessage(role="system", content=f"{SUMMARY_LABEL}\n\n{message.content}")
    return ChatMessage(
        role=message.role,
        content=message.content,
        tool_calls=calls,
        tool_call_id=message.tool_call_id,
        tool_name=message.tool_name,
        is_error=message.is_error,
        reasoning=blocks,
    )
