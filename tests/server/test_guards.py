"""The ASGI guards one by one, in process: what each lets through, what it refuses and with
which answer, and what the access log writes. HTTP goes through httpx's ASGI transport;
WebSockets are driven with the ASGI messages a server sends. (The same guards in front of
the real API, under uvicorn, are tested in test_auth.py and test_loopback.py; these run in
milliseconds, so the mutation runner can afford them for every mutant.)"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest

from app.server.guards import (
    CLOSE_BAD_KEY,
    FORBIDDEN_HOST_DETAIL,
    INVALID_KEY_EVENT,
    SERVER_LOGGERS,
    UNAUTHORIZED_DETAIL,
    AccessLog,
    ApiKeyGuard,
    BodyLimit,
    LoopbackOnly,
    Message,
    Receive,
    RedactSecrets,
    Scope,
    Send,
    key_matches,
    loopback_host,
    loopback_origin,
    redact_server_logs,
    split_host,
    supplied_keys,
)

PORT = 8765
KEY = "guards-test-key"


class Inner:
    """The app behind a guard: answers 200 with the body it read, and records each call."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close"})  # the code defaults to 1000
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            assert message["type"] == "http.request", message
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        seen = {"body": body.decode()}
        if scope.get("then_receive"):  # what comes after the body (only when driven by hand)
            seen["after"] = (await receive())["type"]
        raw = json.dumps(seen).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": raw})


def client(app: Any, host: str = f"127.0.0.1:{PORT}") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"http://{host}", timeout=5.0
    )


async def drive(app: Any, scope: Scope, incoming: list[Message]) -> list[Message]:
    """Run ``app`` on ``scope`` with ``incoming`` to receive; what it sent, in order."""
    sent: list[Message] = []
    queue = list(incoming)

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def ws_scope(headers: list[tuple[bytes, bytes]], **extra: Any) -> Scope:
    return {"type": "websocket", "path": "/chat/ws/s1", "headers": headers, **extra}


CONNECT = [{"type": "websocket.connect"}]
LOOPBACK = [(b"host", f"127.0.0.1:{PORT}".encode())]


# ----------------------------------------------------------------------------- the API key


async def test_without_the_key_http_is_401_with_a_bearer_challenge() -> None:
    inner = Inner()
    async with client(ApiKeyGuard(inner, KEY)) as http:
        for headers, params in (
            ({}, {}),
            ({"Authorization": "Bearer wrong"}, {}),
            ({"Authorization": f"Basic {KEY}"}, {}),
            ({"Authorization": "Bearer "}, {"api_key": "wrong"}),
        ):
            refused = await http.get("/chat/sessions", headers=headers, params=params)
            assert refused.status_code == 401
            assert refused.json() == {"detail": UNAUTHORIZED_DETAIL}
            assert refused.headers["www-authenticate"] == "Bearer"
            assert refused.headers["content-type"] == "application/json"
            assert int(refused.headers["content-length"]) == len(refused.content)
    assert inner.scopes == []


async def test_the_key_opens_the_door_as_bearer_or_query() -> None:
    inner = Inner()
    async with client(ApiKeyGuard(inner, KEY)) as http:
        assert (await http.get("/a", headers={"Authorization": f"bearer {KEY}"})).is_success
        assert (await http.get("/b", headers={"Authorization": f"Bearer  {KEY} "})).is_success
        assert (await http.get("/c", params={"api_key": KEY})).is_success
    assert [scope["path"] for scope in inner.scopes] == ["/a", "/b", "/c"]


async def test_no_key_configured_and_lifespan_pass_untouched() -> None:
    inner = Inner()
    async with client(ApiKeyGuard(inner, None)) as http:
        assert (await http.get("/open")).is_success
    await drive(ApiKeyGuard(inner, KEY), {"type": "lifespan"}, [])
    assert [scope["type"] for scope in inner.scopes] == ["http", "lifespan"]


async def test_a_websocket_with_a_bad_key_is_told_why_then_closed_4001() -> None:
    inner = Inner()
    guard = ApiKeyGuard(inner, KEY)
    sent = await drive(guard, ws_scope([], query_string=b"api_key=wrong"), CONNECT)
    assert sent == [
        {"type": "websocket.accept"},
        {"type": "websocket.send", "text": json.dumps(INVALID_KEY_EVENT)},
        {"type": "websocket.close", "code": CLOSE_BAD_KEY, "reason": "Invalid api_key"},
    ]
    # A client gone before its handshake is left alone.
    assert await drive(guard, ws_scope([]), [{"type": "websocket.disconnect"}]) == []
    good = await drive(guard, ws_scope([], query_string=f"api_key={KEY}".encode()), CONNECT)
    assert good[0] == {"type": "websocket.accept"} and len(inner.scopes) == 1


# ----------------------------------------------------------------------------- loopback only


async def test_a_foreign_host_gets_403_and_loopback_gets_through() -> None:
    inner = Inner()
    guard = LoopbackOnly(inner, PORT)
    async with client(guard, "evil.example") as http:
        refused = await http.get("/chat/sessions")
    assert refused.status_code == 403 and refused.json() == {"detail": FORBIDDEN_HOST_DETAIL}
    async with client(guard) as http:
        assert (await http.get("/ok", headers={"Origin": f"http://localhost:{PORT}"})).is_success
        from_page = await http.get("/no", headers={"Origin": "http://evil.example"})
        assert from_page.status_code == 403
        other_port = await http.get("/no", headers={"Origin": "http://localhost:3000"})
        assert other_port.status_code == 403
    assert [scope["path"] for scope in inner.scopes] == ["/ok"]


ORIGIN = f"http://localhost:{PORT}".encode()


@pytest.mark.parametrize(
    "headers",
    [
        [],  # HTTP/1.0 without a Host
        [*LOOPBACK, *LOOPBACK],
        [*LOOPBACK, (b"origin", ORIGIN), (b"origin", ORIGIN)],
    ],
)
async def test_a_missing_or_ambiguous_host_or_origin_is_refused(
    headers: list[tuple[bytes, bytes]],
) -> None:
    inner = Inner()
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    sent = await drive(LoopbackOnly(inner, PORT), scope, [])
    assert sent[0]["status"] == 403 and inner.scopes == []


async def test_the_scheme_decides_the_port_a_bare_host_means() -> None:
    inner = Inner()
    for scheme in ("https", "wss"):
        scope = {
            "type": "http",
            "scheme": scheme,
            "path": "/",
            "headers": [(b"host", b"localhost")],
        }
        await drive(LoopbackOnly(inner, 443), scope, [{"type": "http.request"}])
    assert len(inner.scopes) == 2
    assert loopback_host("localhost", 80, "http") and not loopback_host("localhost", 80, "https")


async def test_a_refused_websocket_gets_a_403_before_it_opens() -> None:
    inner = Inner()
    guard = LoopbackOnly(inner, PORT)
    foreign = [(b"host", b"evil.example")]
    with_response = ws_scope(foreign, extensions={"websocket.http.response": {}})
    sent = await drive(guard, with_response, CONNECT)
    assert sent == [
        {
            "type": "websocket.http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json")],
        },
        {
            "type": "websocket.http.response.body",
            "body": json.dumps({"detail": FORBIDDEN_HOST_DETAIL}).encode(),
        },
    ]
    # Without the extension the server turns a close before accept into its own 403.
    assert await drive(guard, ws_scope(foreign), CONNECT) == [
        {"type": "websocket.close", "code": 1008}
    ]
    assert await drive(guard, ws_scope(foreign), [{"type": "websocket.disconnect"}]) == []
    await drive(guard, ws_scope(LOOPBACK), CONNECT)
    await drive(guard, {"type": "lifespan"}, [])
    assert [scope["type"] for scope in inner.scopes] == ["websocket", "lifespan"]


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("  LocalHost:8765 ", ("localhost", 8765)),
        ("[::1]", ("::1", None)),
        ("[::1]:65535", ("::1", 65535)),
        ("[::1]:65536", None),
        ("[::1]8765", None),
        ("[]:8765", None),
        ("[::1]:", None),
        ("[::1]:80]", None),
        ("localhost:\u066380", None),  # an Arabic-Indic digit first: a digit, not ASCII
        ("localhost:0", None),
        ("localhost:1", ("localhost", 1)),
    ],
)
def test_host_headers_split_into_name_and_port(
    value: str, parts: tuple[str, int | None] | None
) -> None:
    assert split_host(value) == parts


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost/", False),  # port 80 is not ours
        ("http://localhost:8765/", True),
        (" HTTP://LOCALHOST:8765 ", True),
        ("https://127.0.0.1:8765", True),
        ("http://localhost:3000", False),
        ("http://[::1]:8766", False),
        ("http://localhost:3000?x=1", False),
        ("http://localhost:3000#top", False),
        ("http://:secret@localhost:3000", False),
        ("http://localhost:99999", False),
        ("http://", False),
    ],
)
def test_origins_are_pages_served_from_loopback(origin: str, allowed: bool) -> None:
    assert loopback_origin(origin, 8765) is allowed


# ----------------------------------------------------------------------------- body limit


async def test_a_body_over_the_limit_is_413_whether_or_not_it_says_its_size() -> None:
    inner = Inner()
    guard = BodyLimit(inner, 10)
    async with client(guard) as http:
        said = await http.post("/x", content=b"x" * 11)
        assert said.status_code == 413
        assert said.json() == {"detail": "Request body too large: the limit is 10 bytes"}
        assert (await http.post("/x", content=b"x" * 10)).json()["body"] == "x" * 10
    chunks = [
        {"type": "http.request", "body": b"x" * 6, "more_body": True},
        {"type": "http.request", "body": b"x" * 5, "more_body": True},
    ]
    unsaid = {"type": "http", "method": "POST", "path": "/x", "headers": []}
    sent = await drive(guard, unsaid, chunks)
    assert sent[0]["status"] == 413 and len(inner.scopes) == 1


async def test_a_body_in_pieces_reaches_the_app_whole_then_the_client_as_it_is() -> None:
    inner = Inner()
    pieces = [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"cd"},
        {"type": "http.disconnect"},
    ]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": [(b"content-length", b"4")],
        "then_receive": True,
    }
    sent = await drive(BodyLimit(inner, 4), scope, pieces)
    assert json.loads(sent[1]["body"]) == {"body": "abcd", "after": "http.disconnect"}


async def test_a_client_that_leaves_mid_body_is_seen_by_the_app() -> None:
    inner = Inner()
    pieces = [{"type": "http.request", "body": b"ab", "more_body": True}]
    scope = {"type": "http", "method": "POST", "path": "/x", "headers": [], "then_receive": True}
    sent = await drive(BodyLimit(inner, 100), scope, pieces)  # then http.disconnect
    assert json.loads(sent[1]["body"]) == {"body": "ab", "after": "http.disconnect"}
    await drive(BodyLimit(inner, 1), ws_scope(LOOPBACK), CONNECT)
    assert inner.scopes[-1]["type"] == "websocket"


# ----------------------------------------------------------------------------- logs


async def test_the_access_log_has_method_path_status_and_never_the_query(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    with caplog.at_level(logging.INFO, logger="app.server.access"):
        async with client(AccessLog(ApiKeyGuard(Inner(), KEY))) as http:
            await http.get("/chat/sessions", params={"api_key": "wrong-key-here"})
        await drive(AccessLog(Inner()), {"type": "lifespan"}, [])
        await drive(AccessLog(Inner()), ws_scope(LOOPBACK), CONNECT)
        await drive(AccessLog(silent), {"type": "http", "method": "GET", "path": "/gone"}, [])
        await drive(AccessLog(silent), ws_scope(LOOPBACK), CONNECT)
    lines = [r.getMessage() for r in caplog.records if r.name == "app.server.access"]
    assert len(lines) == 5, lines
    assert lines[0].startswith("GET /chat/sessions 401 ") and lines[0].endswith("ms")
    assert float(lines[0].split()[-1].removesuffix("ms")) < 60_000  # milliseconds, not a date
    assert lines[1] == "WS /chat/ws/s1 accepted"
    assert lines[2].startswith("WS /chat/ws/s1 closed 1000 after ") and lines[2].endswith("s")
    assert float(lines[2].split()[-1].removesuffix("s")) < 60  # seconds
    assert lines[3].startswith("GET /gone 0 ")
    assert lines[4].startswith("WS /chat/ws/s1 ended by the client after ")
    assert all("wrong-key-here" not in line for line in lines)


def test_secrets_are_redacted_from_server_logs() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        "%s - %s",
        ("GET /ws?api_key=s3cr3t&x=1", "Bearer t0k3n"),
        None,
    )
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "GET /ws?api_key=[redacted]&x=1 - Bearer [redacted]"
    assert record.args is None
    plain = logging.LogRecord("uvicorn", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    assert RedactSecrets().filter(plain) and plain.args == ("/x",)
    for name in SERVER_LOGGERS:  # as in a fresh process: no filter yet
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, RedactSecrets)]:
            logger.removeFilter(old)
    redact_server_logs()
    redact_server_logs()
    for name in SERVER_LOGGERS:
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, RedactSecrets) for f in filters) == 1, name


def test_one_matching_key_among_several_is_enough() -> None:
    """A client may send the key twice (header and query); any one that matches counts."""
    scope = {
        "headers": [(b"authorization", f"Bearer {KEY}".encode())],
        "query_string": b"api_key=stale-key",
    }
    assert key_matches(KEY, supplied_keys(scope))
    assert not key_matches(KEY, ["stale-key", "other"])


async def test_a_declared_size_over_the_limit_is_refused_before_reading() -> None:
    """Nothing of the body is read (the client may still be sending it); a big number in
    another header is no size at all."""
    inner = Inner()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": [(b"content-length", b"11")],
    }
    read: list[Message] = []

    async def receive() -> Message:
        read.append({})
        return {"type": "http.request", "body": b"x" * 11}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await BodyLimit(inner, 10)(scope, receive, send)
    assert sent[0]["status"] == 413 and read == [] and inner.scopes == []
    other = {"type": "http", "method": "POST", "path": "/x", "headers": [(b"x-count", b"99999")]}
    answer = await drive(BodyLimit(inner, 10), other, [{"type": "http.request", "body": b"ok"}])
    assert answer[0]["status"] == 200


async def test_the_app_gets_the_body_when_the_last_piece_says_so() -> None:
    """A piece without ``more_body`` is the last (ASGI's default); one without ``body`` is
    empty. The app must not wait for the client to leave."""
    inner = Inner()
    pieces: list[Message] = [
        {"type": "http.request", "more_body": True},
        {"type": "http.request", "body": b"ab"},
    ]
    waiting_for_ever = asyncio.Event()

    async def receive() -> Message:
        if pieces:
            return pieces.pop(0)
        await waiting_for_ever.wait()
        raise AssertionError("unreachable")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": []}
    await asyncio.wait_for(BodyLimit(inner, 10)(scope, receive, send), 10)
    assert json.loads(sent[1]["body"]) == {"body": "ab"}


async def test_lifespan_messages_pass_both_ways_through_every_layer() -> None:
    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.complete"})

    for layer in (
        AccessLog(lifespan),
        ApiKeyGuard(lifespan, KEY),
        LoopbackOnly(lifespan, PORT),
        BodyLimit(lifespan, 10),
    ):
        sent = await drive(layer, {"type": "lifespan"}, [{"type": "lifespan.startup"}])
        assert sent == [{"type": "lifespan.startup.complete"}], layer
