"""The WebSocket half of the API: ``/chat/ws/{session_id}``.

One connection watches one session. It gets ``connected`` first, then every event of every
turn in that session (its own, other clients', REST ones) in the wire shapes of DESIGN.md.
Its receive loop only reads and dispatches: turns run in the live hub, so a reply to a
confirmation or a question gets through while a turn waits for it. ``cancel`` stops the
turns this connection started; so does leaving, which also counts a pending confirmation
as denied, and the partial reply is saved and marked.

By default a connection gets a step's text as the reference sent it (held back: ``thinking``
for a step that calls tools, one ``token`` before ``final_answer``); ``?stream=live`` asks
for text as it is written. A connection the client says nothing on for a while gets a
``pong`` now and then, so proxies keep it open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.engine.events import result, short_error, to_wire
from app.engine.live import LiveTurn
from app.server.hub import Hub, Subscriber, dumps, encode
from app.server.schemas import (
    CLIENT_MESSAGE,
    CLIENT_TYPES,
    WsCancel,
    WsConfirmationReply,
    WsPing,
    WsReply,
    WsUserMessage,
)
from app.store import SessionNotFoundError, StoreError

log = logging.getLogger(__name__)

#: How long a leaving connection waits for its stopped turns to save their partial replies.
DISCONNECT_GRACE_SECONDS = 10.0
#: Close code for a client that fell too far behind (RFC 6455: try again later).
CLOSE_TOO_SLOW = 1013
PONG = '{"type":"pong"}'
#: The reference's keep-alive: a ``pong`` after this long without a client message.
KEEPALIVE_SECONDS = 300.0
#: What the reference said (event, close reason) to a client of a closed or unknown session.
CLOSED_TEXT, CLOSED_REASON = "Session is closed", "Session closed"
NOT_FOUND_REASON = "Session not found"
CANCELLED = dumps(to_wire(result("cancelled")))


async def _refuse(websocket: WebSocket, message: str, reason: str = "") -> None:
    """As the reference: an error event, then a normal close (with the reference's reason)."""
    await websocket.send_text(encode(short_error(message)))
    await websocket.close(code=1000, reason=reason)


async def serve_session(
    websocket: WebSocket,
    hub: Hub,
    session_id: str,
    *,
    live_tokens: bool = False,
    keepalive_seconds: float = KEEPALIVE_SECONDS,
) -> None:
    """Handle one WebSocket connection to ``session_id`` until either side leaves
    (``live_tokens``: stream answer text as it is written; ``keepalive_seconds``: how long
    the client may be silent before it gets a ``pong``)."""
    await websocket.accept()
    try:
        session = await hub.service.store.get_session(session_id)
    except SessionNotFoundError as exc:
        await _refuse(websocket, str(exc), NOT_FOUND_REASON)
        return
    except StoreError as exc:
        await _refuse(websocket, f"could not read the session: {exc}")
        return
    if session.is_closed:
        await _refuse(websocket, CLOSED_TEXT, CLOSED_REASON)
        return
    connection = _Connection(websocket, hub, session_id, live_tokens, keepalive_seconds)
    await connection.run()


class _Connection:
    """One client on one session: a sender task, a receive loop, and the turns it started."""

    def __init__(
        self,
        websocket: WebSocket,
        hub: Hub,
        session_id: str,
        live_tokens: bool,
        keepalive_seconds: float,
    ) -> None:
        self.websocket = websocket
        self.hub = hub
        self.session_id = session_id
        self.keepalive_seconds = keepalive_seconds
        self.subscriber = Subscriber(on_overflow=self._too_slow, live_tokens=live_tokens)
        #: The turns this connection started (pruned as they end).
        self.turns: set[LiveTurn] = set()
        self._slow = False

    def _too_slow(self) -> None:
        self._slow = True
        self.subscriber.end()

    async def run(self) -> None:
        """Say ``connected``, then read until the client leaves; clean up either way."""
        self.subscriber.put(dumps({"type": "connected", "session_id": self.session_id}))
        self.hub.subscribe(self.session_id, self.subscriber)
        sender = asyncio.create_task(self._send_all())
        try:
            await self._receive_all(sender)
        finally:
            self.hub.unsubscribe(self.session_id, self.subscriber)
            await self._stop_turns("disconnected")
            self.subscriber.end()
            with contextlib.suppress(BaseException):
                await sender
            if self._slow:
                with contextlib.suppress(Exception):
                    await self.websocket.close(CLOSE_TOO_SLOW, "client too slow")

    async def _send_all(self) -> None:
        following = self.subscriber.next
        send = self.websocket.send_text
        try:
            while (text := await following()) is not None:
                await send(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client left; the receive loop sees it too

    async def _receive_all(self, sender: asyncio.Task[None]) -> None:
        receiving = asyncio.ensure_future(self.websocket.receive())
        while True:
            done, _ = await asyncio.wait(
                {receiving, sender},
                timeout=self.keepalive_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not done:  # the client has been silent a while: keep the socket in use
                self.subscriber.put(PONG)
                continue
            if receiving not in done:  # the sender stopped: client gone or too slow
                receiving.cancel()
                with contextlib.suppress(BaseException):
                    await receiving
                return
            try:
                message = receiving.result()
            except (WebSocketDisconnect, RuntimeError, OSError):
                return
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None and message.get("bytes") is not None:
                raw = message["bytes"].decode("utf-8", "replace")
            receiving = asyncio.ensure_future(self.websocket.receive())
            if raw is not None:
                self._dispatch(raw)

    def _dispatch(self, raw: str) -> None:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            # Invalid JSON is ignored, as the reference did; so is JSON nested too deep to
            # parse ("[" * 100000), which would otherwise end the connection.
            return
        if not isinstance(data, dict):
            return
        kind = data.get("type")
        if kind not in CLIENT_TYPES:
            self.subscriber.put(
                encode(short_error(f"Unknown message type {str(kind)[:40]!r}: ignored"))
            )
            return
        try:
            message = CLIENT_MESSAGE.validate_python(data)
        except RecursionError:
            self.subscriber.put(encode(short_error(f"Invalid '{kind}' message: nested too deep")))
            return
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"][1:]) or str(kind)
            self.subscriber.put(
                encode(short_error(f"Invalid '{kind}' message: {where}: {problem['msg']}"))
            )
            return
        if isinstance(message, WsUserMessage):
            self._start_turn(message)
        elif isinstance(message, WsConfirmationReply):
            self.hub.answer_confirmation(
                self.session_id, message.confirmation_id, bool(message.approved)
            )
        elif isinstance(message, WsReply):
            self.hub.answer_question(self.session_id, message.request_id, message.content or "")
        elif isinstance(message, WsCancel):
            running = self._running()
            for turn in running:
                turn.cancel("user")
            if not running:  # nothing to stop; the client still waits for a result
                self.subscriber.put(CANCELLED)
        elif isinstance(message, WsPing):
            self.subscriber.put(PONG)

    def _start_turn(self, message: WsUserMessage) -> None:
        self._running()  # forget the turns that ended
        turn = self.hub.live.start(self.session_id, message.content, model=message.model)
        self.turns.add(turn)

    def _running(self) -> list[LiveTurn]:
        """This connection's turns still running."""
        self.turns = {turn for turn in self.turns if not turn.done}
        return list(self.turns)

    async def _stop_turns(self, reason: str) -> None:
        """Cancel this connection's turns and wait for their partial replies to be saved."""
        running = self._running()
        for turn in running:
            turn.cancel(reason)
        if running:
            waits = [asyncio.ensure_future(turn.wait()) for turn in running]
            _done, pending = await asyncio.wait(waits, timeout=DISCONNECT_GRACE_SECONDS)
            for each in pending:
                each.cancel()
