"""ASGI layers in front of the API: the loopback check, the API key, the body size limit, and
an access log.

They are plain ASGI (no framework types), so they see every request and WebSocket before
any route does. The key is compared in constant time and never written anywhere: the
access log has the path without its query string, and errors never repeat what was sent.
Without a key, :class:`LoopbackOnly` refuses any request not addressed to this machine by
a loopback name, which is what stops a web page from reaching the API by DNS rebinding.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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


FORBIDDEN_HOST_DETAIL = (
    "Forbidden: without an API key this server only answers requests addressed to "
    "localhost, 127.0.0.1 or [::1] on its own port, and no page but its own"
)


def _loopback_name(host: str) -> bool:
    """Whether ``host`` (lower case, IPv6 without brackets) names this machine's loopback:
    ``localhost`` (also as the absolute ``localhost.``), ``127.0.0.0/8`` written as a plain
    dotted quad, or ``::1``. Any other name is refused, even one that resolves to loopback
    (``127.0.0.1.nip.io``): a name that someone else's DNS answers is what rebinding uses."""
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, int | None] | None:
    """``host[:port]`` as (lower-case host, port or None); IPv6 must be bracketed.
    None when malformed (an unbracketed IPv6 address, a non-numeric port, a user-info)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
        if not host or ":" not in host:  # brackets are only for IPv6
            return None
    else:
        host, colon, port_text = value.partition(":")
        rest = colon + port_text
        if not host:
            return None
    if not rest:
        return host, None
    if not rest.startswith(":") or not rest[1:].isascii() or not rest[1:].isdigit():
        return None
    port = int(rest[1:])
    return (host, port) if 0 < port < 65536 else None


def loopback_host(value: str, port: int, scheme: str) -> bool:
    """Whether a ``Host`` header names loopback and ``port``. A missing port means the
    scheme's default (80, or 443 for https/wss)."""
    parts = split_host(value)
    if parts is None:
        return False
    host, given = parts
    if given is None:
        given = 443 if scheme in ("https", "wss") else 80
    return given == port and _loopback_name(host)


def loopback_origin(value: str, port: int) -> bool:
    """Whether an ``Origin`` header is a page of this server itself: http(s) on a loopback
    name and the server's own ``port`` (a missing port is the scheme's default). Pages on other
    ports are refused too: a development server on localhost may serve a repository's own
    script, and that page must not drive the agent. ``null`` (sandboxed frames, files) is
    not a page of ours."""
    try:
        parts = urlsplit(value.strip())
        given = parts.port
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or parts.username or parts.password:
        return False
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return False
    if given is None:
        given = 443 if scheme == "https" else 80
    host = parts.hostname  # lower case, IPv6 without brackets
    return host is not None and given == port and _loopback_name(host)


class LoopbackOnly:
    """Without an API key: refuse (403) every request and WebSocket whose ``Host`` is not a
    loopback name with our port, or that comes from a page (``Origin``) other than one of this
    server (loopback name, our port).

    The server listens on loopback only without a key, but a web page in the person's
    browser can still reach it: it rebinds its own domain to 127.0.0.1, and the browser
    then sends that domain as ``Host``. It can also open a WebSocket to 127.0.0.1 from its
    own origin (WebSockets are not bound by the same-origin policy; the browser says where
    the page came from in ``Origin``). A refused WebSocket is refused before it is accepted.
    """

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.port = port

    def allowed(self, scope: Scope) -> bool:
        """Whether the request is addressed to loopback (and, if from a page, one of ours)."""
        hosts: list[str] = []
        origins: list[str] = []
        for name, value in scope.get("headers", ()):
            if name == b"host":
                hosts.append(value.decode("latin-1"))
            elif name == b"origin":
                origins.append(value.decode("latin-1"))
        if len(hosts) != 1 or len(origins) > 1:
            return False  # no Host (HTTP/1.0), or an ambiguous request
        if not loopback_host(hosts[0], self.port, str(scope.get("scheme", "http"))):
            return False
        return all(loopback_origin(origin, self.port) for origin in origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            await send_json(send, 403, {"detail": FORBIDDEN_HOST_DETAIL})
            return
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        if "websocket.http.response" in scope.get("extensions", {}):
            raw = json.dumps({"detail": FORBIDDEN_HOST_DETAIL}).encode()
            head = [(b"content-type", b"application/json")]
            await send({"type": "websocket.http.response.start", "status": 403, "headers": head})
            await send({"type": "websocket.http.response.body", "body": raw})
        else:
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403


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
