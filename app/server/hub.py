"""Who hears a session's events: the server's side of the engine's live-turn hub.

Every turn the server starts (WebSocket or REST) runs in the engine's :class:`LiveHub`; the
server's :class:`Hub` listens to it and hands each event, encoded once, to every connection
watching that session. Confirmations and ask-human questions wait in the live hub, so any
client of the session may answer them (``confirmation_reply``, ``reply``), and the receive
loop that delivers the answer is never blocked by the turn that waits for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable

from app.engine.events import Event, to_wire
from app.engine.human import Decision
from app.engine.live import LiveHub, LiveListener, LiveTurn
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


def publish(subscribers: set[Subscriber], event: Event, turn: object) -> None:
    """Hand the event to every connection of its session (``turn``: which turn it is from,
    so only the same turn's waiting tokens are merged)."""
    if event.type == "token":
        for subscriber in tuple(subscribers):
            if subscriber.live_tokens:
                subscriber.put_token(turn, event.content)
        return
    text = encode(event)
    # Held-back text: the whole answer as one token, just before the final answer.
    answer = encode_token(event.content) if event.type == "final_answer" else None
    for subscriber in tuple(subscribers):
        if answer is not None and not subscriber.live_tokens:
            subscriber.put(answer)
        subscriber.put(text)


class Hub(LiveListener):
    """The server's connections per session, fed by the engine's live-turn hub."""

    def __init__(self, service: ChatService, live: LiveHub | None = None) -> None:
        """Listen to ``live`` (a new hub over ``service`` when not given)."""
        self.service = service
        self.live = live or LiveHub(service)
        self.live.listen(self)
        self._watchers: dict[str, set[Subscriber]] = {}

    @property
    def closing(self) -> bool:
        """Whether the server is shutting down (no new turns)."""
        return self.live.closing

    @property
    def channels_in_use(self) -> int:
        """Sessions with a watcher, a running turn or a pending question (for tests, leaks)."""
        return len({*self._watchers, *self.live.sessions_in_use()})

    def subscribe(self, session_id: str, subscriber: Subscriber) -> None:
        """Start sending the session's events to ``subscriber``."""
        self._watchers.setdefault(session_id, set()).add(subscriber)

    def unsubscribe(self, session_id: str, subscriber: Subscriber) -> None:
        """Stop sending to ``subscriber``."""
        watchers = self._watchers.get(session_id)
        if watchers is None:
            return
        watchers.discard(subscriber)
        if not watchers:
            del self._watchers[session_id]

    def turn_event(self, turn: LiveTurn, event: Event) -> None:
        """Send a live turn's event to the connections watching its session."""
        watchers = self._watchers.get(turn.session_id)
        if watchers:
            publish(watchers, event, turn)

    def answer_confirmation(self, session_id: str, confirmation_id: str, approved: bool) -> bool:
        """Answer a waiting confirmation (first answer wins); False if none waits."""
        decision = Decision(action="approve" if approved else "deny")
        return self.live.answer_confirmation(session_id, confirmation_id, decision)

    def answer_question(self, session_id: str, request_id: str, content: str) -> bool:
        """Answer a waiting ask-human question; False if none waits."""
        return self.live.answer_question(session_id, request_id, content)

    async def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Refuse new turns, stop the running ones and wait for their partial replies."""
        await self.live.shutdown(grace_seconds)
