"""Who hears a session's events, and who answers its questions.

Every turn the server starts (WebSocket or REST) runs through :meth:`Hub.run_turn`, which
iterates ``ChatService.send`` and hands each event, encoded once, to every connection
watching that session. Confirmations and ask-human questions wait on futures kept per
session, so any client of the session may answer them, and the receive loop that delivers
the answer is never blocked by the turn that waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field

from app.config import ApprovalMode
from app.engine.cancel import CancellationToken
from app.engine.events import Event, result, short_error, to_wire
from app.engine.human import ConfirmationRequest, Decision, Human, Question
from app.engine.service import ChatService

log = logging.getLogger(__name__)

#: Messages a connection may fall behind before it is dropped (a stalled client must not
#: make the server hold a whole reply per token for it).
MAX_BACKLOG = 50_000


def encode(event: Event) -> str:
    """The event as one WebSocket text message (compact JSON of its wire shape)."""
    if event.type == "token":  # the hot path: one per streamed piece of text
        return '{"type":"token","content":' + json.dumps(event.content, ensure_ascii=False) + "}"
    return dumps(to_wire(event))


def dumps(value: object) -> str:
    """Compact JSON, as the reference sent it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Subscriber:
    """One connection's outgoing messages, in order; ``None`` ends the stream."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._on_overflow = on_overflow
        self.overflowed = False

    def put(self, text: str) -> None:
        """Queue a message (a client too far behind is told to go)."""
        if self.overflowed:
            return
        if self.queue.qsize() >= MAX_BACKLOG:
            self.overflowed = True
            self._on_overflow()
            return
        self.queue.put_nowait(text)

    def end(self) -> None:
        """No more messages."""
        self.queue.put_nowait(None)


@dataclass
class SessionChannel:
    """The connections watching one session and the answers its turns wait for."""

    session_id: str
    subscribers: set[Subscriber] = field(default_factory=set)
    confirmations: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    questions: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    turns: int = 0

    @property
    def idle(self) -> bool:
        """Nobody watches and nothing runs: the channel can go."""
        return not (self.subscribers or self.turns or self.confirmations or self.questions)

    def publish(self, event: Event) -> None:
        """Hand the event to every connection of the session."""
        if event.type == "confirmation_request":
            self.expect_confirmation(event.data.confirmation_id)
        elif event.type == "ask_human":
            self.expect_answer(event.request_id)
        elif event.type == "confirmation_result":
            # Decided (by anyone, or timed out): a late reply finds nothing to answer.
            stale = self.confirmations.pop(event.data.confirmation_id, None)
            if stale is not None and not stale.done():
                stale.cancel()
        if not self.subscribers:
            return
        text = encode(event)
        for subscriber in tuple(self.subscribers):
            subscriber.put(text)

    def expect_confirmation(self, confirmation_id: str) -> asyncio.Future[bool]:
        """The future a confirmation's answer resolves (made by whoever comes first)."""
        future = self.confirmations.get(confirmation_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self.confirmations[confirmation_id] = future
        return future

    def expect_answer(self, request_id: str) -> asyncio.Future[str]:
        """The future an ask-human reply resolves."""
        future = self.questions.get(request_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self.questions[request_id] = future
        return future

    def answer_confirmation(self, confirmation_id: str, approved: bool) -> bool:
        """Resolve a waiting confirmation; False if none waits under that id."""
        future = self.confirmations.get(confirmation_id)
        if future is None or future.done():
            return False
        future.set_result(approved)
        return True

    def answer_question(self, request_id: str, content: str) -> bool:
        """Resolve a waiting question; False if none waits under that id."""
        future = self.questions.get(request_id)
        if future is None or future.done():
            return False
        future.set_result(content)
        return True


class ChannelHuman:
    """The people connected to a session: the first answer from any of them counts.

    The engine owns the timeout and the cancel race; this only waits.
    """

    def __init__(self, channel: SessionChannel) -> None:
        self.channel = channel

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        """Wait for a ``confirmation_reply``."""
        key = request.confirmation_id
        try:
            approved = await self.channel.expect_confirmation(key)
        finally:
            self.channel.confirmations.pop(key, None)
        return Decision(action="approve" if approved else "deny")

    async def ask(self, question: Question) -> str:
        """Wait for a ``reply``."""
        key = question.request_id
        try:
            return await self.channel.expect_answer(key)
        finally:
            self.channel.questions.pop(key, None)


class Hub:
    """The server's one way to run turns, and the channels of the sessions in use."""

    def __init__(self, service: ChatService) -> None:
        self.service = service
        self._channels: dict[str, SessionChannel] = {}
        self._closing = False

    @property
    def closing(self) -> bool:
        """Whether the server is shutting down (no new turns)."""
        return self._closing

    def channel(self, session_id: str) -> SessionChannel:
        """The session's channel, made on first use."""
        channel = self._channels.get(session_id)
        if channel is None:
            channel = self._channels[session_id] = SessionChannel(session_id)
        return channel

    def release(self, channel: SessionChannel) -> None:
        """Forget a channel nobody uses any more."""
        if channel.idle and self._channels.get(channel.session_id) is channel:
            del self._channels[channel.session_id]

    def subscribe(self, session_id: str, subscriber: Subscriber) -> SessionChannel:
        """Start sending the session's events to ``subscriber``."""
        channel = self.channel(session_id)
        channel.subscribers.add(subscriber)
        return channel

    def unsubscribe(self, channel: SessionChannel, subscriber: Subscriber) -> None:
        """Stop sending to ``subscriber``."""
        channel.subscribers.discard(subscriber)
        self.release(channel)

    async def run_turn(
        self,
        session_id: str,
        text: str,
        *,
        human: Human,
        cancel: CancellationToken,
        model: str | None = None,
        approval: ApprovalMode | None = None,
    ) -> AsyncIterator[Event]:
        """Run one turn through ``ChatService``; every watcher of the session gets its events."""
        channel = self.channel(session_id)
        channel.turns += 1
        try:
            if self._closing:
                cancel.cancel("shutdown")
            events: AsyncGenerator[Event] = self.service.send(  # type: ignore[assignment]
                session_id,
                text,
                human=human,
                model_override=model,
                cancel=cancel,
                approval=approval,
            )
            async with contextlib.aclosing(events):
                async for event in events:
                    channel.publish(event)
                    yield event
        except Exception as exc:  # the engine ends turns itself; this is a last resort
            log.exception("turn in session %s failed outside the engine", session_id)
            for event in (short_error(f"internal error: {type(exc).__name__}"), result("error")):
                channel.publish(event)
                yield event
        finally:
            channel.turns -= 1
            self.release(channel)

    async def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Refuse new turns, stop the running ones and wait for their partial replies."""
        self._closing = True
        await self.service.shutdown(grace_seconds)
