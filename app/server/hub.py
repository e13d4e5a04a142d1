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
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field

from app.config import ApprovalMode
from app.engine.cancel import CancellationToken
from app.engine.events import Event, result, short_error, to_wire
from app.engine.human import ConfirmationRequest, Decision, Human, Question
from app.engine.service import ChatService

log = logging.getLogger(__name__)

#: Text a connection may fall behind by before it is dropped (a stalled client must not
#: make the server keep every reply it has not read).
MAX_BACKLOG_CHARS = 32 * 1024 * 1024


def encode(event: Event) -> str:
    """The event as one WebSocket text message (compact JSON of its wire shape)."""
    if event.type == "token":
        return encode_token(event.content)
    return dumps(to_wire(event))


def encode_token(content: str) -> str:
    """A ``token`` message (the hot path: one per streamed piece of text)."""
    return '{"type":"token","content":' + json.dumps(content, ensure_ascii=False) + "}"


def dumps(value: object) -> str:
    """Compact JSON, as the reference sent it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _TokenRun:
    """Tokens of one turn waiting, in a row, to be sent as one ``token`` message."""

    __slots__ = ("parts", "turn")

    def __init__(self, turn: object, content: str) -> None:
        self.turn = turn
        self.parts = [content]


class Subscriber:
    """One connection's outgoing messages, in order.

    With ``live_tokens`` (the TUI's way, ``?stream=live`` on the WebSocket) answer text goes
    out as the model writes it, and a step that then calls tools is relabelled by one
    ``thinking`` event. Without it (the reference's way, the WebSocket's default) a step's
    text is held back: a step that calls tools is seen only as its ``thinking`` event, and
    the final answer goes out as one ``token`` right before ``final_answer``, so the tokens
    a client joins are exactly the answer.

    Tokens of a turn that pile up while the connection is still sending earlier messages
    are merged into one ``token`` message (same text, same order, fewer frames): a client
    that keeps up gets one message per token, one that falls behind catches up instead of
    falling further behind. Tokens of different turns are never merged. Nothing is dropped;
    a client too far behind is let go.
    """

    def __init__(
        self,
        on_overflow: Callable[[], None],
        *,
        live_tokens: bool = True,
        max_chars: int = MAX_BACKLOG_CHARS,
    ) -> None:
        self.live_tokens = live_tokens
        self._items: deque[str | _TokenRun | None] = deque()
        self._max_chars = max_chars
        self._ready = asyncio.Event()
        self._on_overflow = on_overflow
        self._pending_chars = 0
        self.overflowed = False

    def put(self, text: str) -> None:
        """Queue an encoded message."""
        if self._admit(len(text)):
            self._items.append(text)
            self._ready.set()

    def put_token(self, turn: object, content: str) -> None:
        """Queue a token's text, joined to the same turn's tokens still waiting before it."""
        if not self._admit(len(content)):
            return
        last = self._items[-1] if self._items else None
        if isinstance(last, _TokenRun) and last.turn is turn:
            last.parts.append(content)
        else:
            self._items.append(_TokenRun(turn, content))
        self._ready.set()

    def end(self) -> None:
        """No more messages after those queued."""
        self._items.append(None)
        self._ready.set()

    async def next(self) -> str | None:
        """The next message to send; ``None`` once the stream has ended."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        item = self._items[0]
        if item is None:
            return None  # stays ended
        self._items.popleft()
        if isinstance(item, _TokenRun):
            text = "".join(item.parts)
            self._pending_chars -= len(text)
            return encode_token(text)
        self._pending_chars -= len(item)
        return item

    def _admit(self, size: int) -> bool:
        if self.overflowed:
            return False
        if self._pending_chars + size > self._max_chars:
            self.overflowed = True
            self._on_overflow()
            return False
        self._pending_chars += size
        return True


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

    def publish(self, event: Event, turn: object = None) -> None:
        """Hand the event to every connection of the session (``turn``: which turn it is
        from, so only the same turn's waiting tokens are merged)."""
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
        if event.type == "token":
            for subscriber in tuple(self.subscribers):
                if subscriber.live_tokens:
                    subscriber.put_token(turn, event.content)
            return
        text = encode(event)
        # Held-back text: the whole answer as one token, just before the final answer.
        answer = encode_token(event.content) if event.type == "final_answer" else None
        for subscriber in tuple(self.subscribers):
            if answer is not None and not subscriber.live_tokens:
                subscriber.put(answer)
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

    @property
    def channels_in_use(self) -> int:
        """Sessions with a watcher, a running turn or a pending question (for tests, leaks)."""
        return len(self._channels)

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
        turn = object()  # identifies this turn's tokens in the connections' queues
        asked: list[str] = []
        questions: list[str] = []
        try:
            if self._closing:
                cancel.cancel("shutdown")
            events: AsyncGenerator[Event] = self.service.send(
                session_id,
                text,
                human=human,
                model_override=model,
                cancel=cancel,
                approval=approval,
            )
            async with contextlib.aclosing(events):
                async for event in events:
                    if event.type == "confirmation_request":
                        asked.append(event.data.confirmation_id)
                    elif event.type == "ask_human":
                        questions.append(event.request_id)
                    channel.publish(event, turn)
                    yield event
        except Exception as exc:  # the engine ends turns itself; this is a last resort
            log.exception("turn in session %s failed outside the engine", session_id)
            for event in (short_error(f"internal error: {type(exc).__name__}"), result("error")):
                channel.publish(event, turn)
                yield event
        finally:
            # Whatever the turn's person was (a socket, or a REST policy), nothing of it
            # waits any more: forget its questions so the channel can go.
            for key in asked:
                channel.confirmations.pop(key, None)
            for key in questions:
                channel.questions.pop(key, None)
            channel.turns -= 1
            self.release(channel)

    async def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Refuse new turns, stop the running ones and wait for their partial replies."""
        self._closing = True
        await self.service.shutdown(grace_seconds)
