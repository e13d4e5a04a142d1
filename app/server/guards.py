"""ASGI layers in front of the API: the API key, the body size limit, and an access log.

They are plain ASGI (no framework types), so they see every request and WebSocket before
any route does. The key is compared in constant time and never written anywhere: the
access log has the path without its query string, and errors never repeat what was sent.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("app.server.access")

#: The WebSocket close code the reference used for a bad key.
CLOSE_BAD_KEY = 4001
INVALID_KEY_EVENT = {"type": "error", "data": {"message": "Invalid api_key"}}
UNAUTHORIZED_DETAIL = "Invalid or missing API key: send it as 'Authorization: Bearer KEY'"


_SECRET = re.compile(r"(?i)(api_key=)[^&\s\"']+|(bearer\s+)[^\s\"']+")
#: Loggers the server (and uvicorn, and the websockets protocol under it) write to.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "app.server", "app.server.access")


class RedactSecrets(logging.Filter):
    """Replace ``api_key=…`` and ``Bearer …`` in log records (uvicorn logs WebSocket request
    lines with their query string, and headers at debug level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without secrets; never drops a record."""
        message = record.getMessage()
        cleaned = _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_REDACT = RedactSecrets()


def redact_server_logs() -> None:
    """Put the redacting filter on every logger the server writes to (once)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)


def supplied_keys(scope: Scope) -> list[str]:
    """The keys a request carries: ``Authorization: Bearer KEY`` and ``?api_key=KEY``."""
    keys: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                keys.append(token.strip())
    query = scope.get("query_string", b"").decode("latin-1")
    keys += [value for name, value in parse_qsl(query) if name == "api_key"]
    return keys


def key_matches(expected: str, supplied: list[str]) -> bool:
    """Whether any supplied key is the expected one, compared in constant time."""
    wanted = expected.encode()
    matched = False
    for key in supplied:
        # Every candidate is compared (no early exit), each in constant time.
        matched |= hmac.compare_digest(wanted, key.encode())
    return matched


async def send_json(send: Send, status: int, body: dict[str, Any], **headers: str) -> None:
    """A whole JSON response."""
    raw = json.dumps(body).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(name.encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


class ApiKeyGuard:
    """Every HTTP request and WebSocket must carry the key (when one is configured)."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self._key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._key is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if key_matches(self._key, supplied_keys(scope)):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            await send_json(
                send, 401, {"detail": UNAUTHORIZED_DETAIL}, **{"www-authenticate": "Bearer"}
            )
            return
        # As the reference: accept, say why, close with 4001.
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(INVALID_KEY_EVENT)})
        await send({"type": "websocket.close", "code": CLOSE_BAD_KEY, "reason": "Invalid api_key"})


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not they say their size."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        # Read the body up front (it is small by definition), then replay it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client left; let the app see it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        detail = f"Request body too large: the limit is {self.max_bytes} bytes"
        await send_json(send, 413, {"detail": detail})


class AccessLog:
    """One line per request: method, path (never the query string) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            elif message["type"] == "websocket.accept":
                access_log.info("WS %s accepted", scope.get("path", ""))
            elif message["type"] == "websocket.close":
                status.append(int(message.get("code", 1000)))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            took = (time.perf_counter() - started) * 1000
            if scope["type"] == "http":
                method = scope.get("method", "")
                code = status[0] if status else 0
                access_log.info("%s %s %s %.0fms", method, scope.get("path", ""), code, took)
            else:
                closed = f"closed {status[-1]}" if status else "ended by the client"
                path = scope.get("path", "")
                access_log.info("WS %s %s after %.1fs", path, closed, took / 1e3)
