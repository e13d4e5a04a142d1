"""Without an API key the server only answers requests addressed to loopback: a web page
that rebinds its domain to 127.0.0.1 (its name arrives as ``Host``), or that opens a
WebSocket from its own origin (``Origin``), is refused with 403 before anything runs.
Everything goes through a real uvicorn on loopback and a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from app.server.guards import FORBIDDEN_HOST_DETAIL, loopback_host, loopback_origin
from app.store import SessionStore
from tests.conftest import REPO_ROOT
from tests.server.conftest import WITHIN, Api, MakeApi, receive, send, text_reply, until

KEY = "loopback-test-key-0b5e55ed"

#: Host headers a rebinding page (or anything but a loopback client) would send; PORT is
#: the server's own port. Each must be refused.
REFUSED_HOSTS = [
    "evil.example:PORT",
    "evil.example",
    "127.0.0.1.nip.io:PORT",
    "localhost.evil.example:PORT",
    "sub.localhost:PORT",
    "localhost..:PORT",
    "localhost:OTHER",  # loopback, someone else's port
    "127.0.0.1",  # no port: 80, not ours
    "[::1]",
    "::1:PORT",  # IPv6 must be bracketed
    "127.1:PORT",  # not a dotted quad
    "0x7f.0.0.1:PORT",
    "2130706433:PORT",
    "127.0.0.1:PORT@evil.example",
    "127.0.0.1:PORT.evil.example",
    "user@127.0.0.1:PORT",
    "[::ffff:7f00:1]:PORT",  # IPv4-mapped: not a name the server listens on
    "10.0.0.8:PORT",
    "0.0.0.0:PORT",
    "",
    "localhost:+PORT",
    "localhost:PORT:PORT",
]
ALLOWED_HOSTS = [
    "localhost:PORT",
    "LocalHost:PORT",
    "localhost.:PORT",
    "127.0.0.1:PORT",
    "127.42.0.9:PORT",
    "[::1]:PORT",
]
REFUSED_ORIGINS = [
    "http://evil.example",
    "https://127.0.0.1.nip.io",
    "http://localhost.evil.example:8765",
    "null",
    "file://",
    "chrome-extension://abcdef",
    "http://user@localhost:PORT",
    "http://[::1",
    "http://localhost:OTHER",  # another loopback server's page (a dev server of a repo)
    "http://127.0.0.1:OTHER",
    "http://localhost",  # port 80
]
ALLOWED_ORIGINS = ["http://localhost:PORT", "http://127.0.0.1:PORT/", "http://[::1]:PORT"]


def host_for(template: str, port: int) -> str:
    return template.replace("OTHER", str(port + 1 if port < 65535 else 1)).replace(
        "PORT", str(port)
    )


async def stored_sessions(api: Api) -> int:
    return len(await api.store.list_sessions())


async def assert_forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, (response.status_code, response.text)
    assert response.json() == {"detail": FORBIDDEN_HOST_DETAIL}


@pytest.mark.parametrize("template", REFUSED_HOSTS)
async def test_a_foreign_host_is_refused_and_creates_nothing(api: Api, template: str) -> None:
    host = host_for(template, api.server.port)
    async with httpx.AsyncClient(base_url=api.base, timeout=WITHIN) as bare:
        created = await bare.post(
            "/chat/sessions", json={"agent_name": "default"}, headers={"Host": host}
        )
        await assert_forbidden(created)
        await assert_forbidden(await bare.get("/chat/sessions", headers={"Host": host}))
        await assert_forbidden(await bare.get("/docs", headers={"Host": host}))
    assert await stored_sessions(api) == 0
    assert api.fake.requests == []


@pytest.mark.parametrize("template", ALLOWED_HOSTS)
async def test_a_loopback_host_with_our_port_gets_through(api: Api, template: str) -> None:
    host = host_for(template, api.server.port)
    async with httpx.AsyncClient(base_url=api.base, timeout=WITHIN) as bare:
        created = await bare.post(
            "/chat/sessions", json={"agent_name": "default"}, headers={"Host": host}
        )
        assert created.status_code == 200, created.text
        listed = await bare.get("/chat/sessions", headers={"Host": host})
    assert [s["session_id"] for s in listed.json()] == [created.json()["session_id"]]
    assert await stored_sessions(api) == 1


@pytest.mark.parametrize("template", REFUSED_ORIGINS)
async def test_a_request_from_a_foreign_page_is_refused(api: Api, template: str) -> None:
    origin = host_for(template, api.server.port)
    async with httpx.AsyncClient(base_url=api.base, timeout=WITHIN) as bare:
        created = await bare.post(
            "/chat/sessions", json={"agent_name": "default"}, headers={"Origin": origin}
        )
    await assert_forbidden(created)
    assert await stored_sessions(api) == 0


@pytest.mark.parametrize("template", ALLOWED_ORIGINS)
async def test_a_request_from_a_page_of_the_server_gets_through(api: Api, template: str) -> None:
    origin = host_for(template, api.server.port)
    async with httpx.AsyncClient(base_url=api.base, timeout=WITHIN) as bare:
        created = await bare.post(
            "/chat/sessions", json={"agent_name": "default"}, headers={"Origin": origin}
        )
    assert created.status_code == 200, created.text
    assert await stored_sessions(api) == 1


async def raw_request(port: int, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` as it is over a plain socket; the status and body of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), WITHIN)  # the server closes
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    found = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    assert found, answer
    return int(found.group(1)), body


async def test_a_request_without_a_host_is_refused(api: Api) -> None:
    port = api.server.port
    body = json.dumps({"agent_name": "default"}).encode()
    post = (
        b"POST /chat/sessions HTTP/1.0\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n%s" % (len(body), body)
    )
    status, answer = await raw_request(port, post)
    assert status == 403 and json.loads(answer) == {"detail": FORBIDDEN_HOST_DETAIL}
    # Two Host headers, one of them ours: ambiguous, refused (by us or by the HTTP parser).
    twice = post.replace(
        b"HTTP/1.0\r\n", b"HTTP/1.1\r\nhost: 127.0.0.1:%d\r\nhost: evil.example\r\n" % port
    ).replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n", 1)
    status, _answer = await raw_request(port, twice)
    assert status in (400, 403)
    assert await stored_sessions(api) == 0
    # The same request with our Host works (so the refusals above were about the Host).
    ours = post.replace(b"HTTP/1.0\r\n", b"HTTP/1.0\r\nhost: localhost:%d\r\n" % port)
    status, answer = await raw_request(port, ours)
    assert status == 200 and json.loads(answer)["agent_name"] == "default"
    assert await stored_sessions(api) == 1


async def ws_status(api: Api, session_id: str, *, host: str | None, origin: str | None) -> int:
    """Open a WebSocket to the session with this ``Host`` (through the URL, while the TCP
    connection goes to the server) and ``Origin``; the HTTP status of a refusal, or 101."""
    port = api.server.port
    url = f"ws://{host or f'127.0.0.1:{port}'}/chat/ws/{session_id}"
    try:
        async with connect(
            url,
            host="127.0.0.1",
            port=port,
            origin=Origin(origin) if origin else None,
            open_timeout=WITHIN,
        ) as ws:
            assert (await receive(ws))["type"] == "connected"
            return 101
    except InvalidStatus as refused:
        response = refused.response
        assert json.loads(response.body or b"{}") == {"detail": FORBIDDEN_HOST_DETAIL}
        return response.status_code


@pytest.mark.parametrize("template", ["evil.example:PORT", "127.0.0.1.nip.io:PORT", "[::1]:OTHER"])
async def test_a_websocket_to_a_foreign_host_is_refused_before_it_opens(
    api: Api, template: str
) -> None:
    session_id = await api.new_session()
    host = host_for(template, api.server.port)
    assert await ws_status(api, session_id, host=host, origin=None) == 403
    assert await api.store.count_messages(session_id) == 0
    assert await ws_status(api, session_id, host=None, origin=None) == 101


@pytest.mark.parametrize("template", [*REFUSED_ORIGINS[:4], "http://localhost:OTHER"])
async def test_a_websocket_from_a_foreign_page_is_refused_before_it_opens(
    api: Api, template: str
) -> None:
    origin = host_for(template, api.server.port)
    session_id = await api.new_session()
    assert await ws_status(api, session_id, host=None, origin=origin) == 403
    assert await api.store.count_messages(session_id) == 0
    assert api.fake.requests == []


async def test_a_websocket_from_a_page_of_the_server_works(api: Api) -> None:
    session_id = await api.new_session()
    port = api.server.port
    api.script(text_reply("hello from loopback"))
    url = f"ws://localhost:{port}/chat/ws/{session_id}"
    async with connect(
        url,
        host="127.0.0.1",
        port=port,
        origin=Origin(f"http://localhost:{port}"),
        open_timeout=WITHIN,
    ) as ws:
        assert (await receive(ws))["type"] == "connected"
        await send(ws, {"type": "message", "content": "hi"})
        assert (await until(ws, "result"))[-1]["data"]["status"] == "completed"


async def test_with_a_key_the_key_decides_not_the_host(make_api: MakeApi) -> None:
    api = await make_api(api_key=KEY)
    foreign = {"Host": "evil.example", "Origin": "http://evil.example"}
    async with httpx.AsyncClient(base_url=api.base, timeout=WITHIN) as bare:
        refused = await bare.post("/chat/sessions", json={"agent_name": "default"}, headers=foreign)
        assert refused.status_code == 401
        keyed = await bare.post(
            "/chat/sessions",
            json={"agent_name": "default"},
            headers={**foreign, "Authorization": f"Bearer {KEY}"},
        )
        assert keyed.status_code == 200, keyed.text


@pytest.mark.parametrize(
    ("value", "port", "allowed"),
    [
        ("localhost:8765", 8765, True),
        ("LOCALHOST:8765", 8765, True),
        ("localhost.:8765", 8765, True),
        ("[::1]:8765", 8765, True),
        ("[0:0:0:0:0:0:0:1]:8765", 8765, True),
        ("127.255.255.254:8765", 8765, True),
        ("localhost", 80, True),
        ("localhost", 8765, False),
        ("localhost:80", 8765, False),
        ("[::1:8765", 8765, False),
        ("[127.0.0.1]:8765", 8765, False),
        ("localhost:", 8765, False),
        ("localhost:８７６５", 8765, False),  # fullwidth digits
        ("localhost:0", 0, False),
        (":8765", 8765, False),
    ],
)
def test_host_header_rules(value: str, port: int, allowed: bool) -> None:
    assert loopback_host(value, port, "http") is allowed


def test_origin_rules() -> None:
    for template in ALLOWED_ORIGINS:
        assert loopback_origin(host_for(template, 8765), 8765), template
    refused = [*REFUSED_ORIGINS, "http://localhost:PORT/path", "ws://localhost:PORT"]
    for template in refused:
        assert not loopback_origin(host_for(template, 8765), 8765), template


@pytest.mark.slow
async def test_a_rebinding_page_cannot_create_a_session_or_open_a_websocket(
    tmp_path: Path,
) -> None:
    """`agentkit serve` in its own process, default settings (no key): what a page on
    evil.example rebound to 127.0.0.1 can send is refused, and the database shows it."""
    db = tmp_path / "served.db"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "config.toml").write_text("")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        "--port",
        "0",
        "--config",
        str(tmp_path / "config.toml"),
        "--db",
        str(db),
        "--workspace",
        str(workspace),
        cwd=REPO_ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        line = (await asyncio.wait_for(process.stderr.readline(), WITHIN)).decode()
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert found, line
        port = int(found.group(1))
        page = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WITHIN) as http:
            attack = await http.post("/chat/sessions", json={"agent_name": "default"}, headers=page)
            assert attack.status_code == 403
            assert attack.json() == {"detail": FORBIDDEN_HOST_DETAIL}
            # The person's own session (from a loopback client) is there to attack next.
            mine = await http.post("/chat/sessions", json={"agent_name": "default"})
            assert mine.status_code == 200
            session_id = mine.json()["session_id"]
        for url, origin in (
            (f"ws://evil.example:{port}/chat/ws/{session_id}", page["Origin"]),
            (f"ws://127.0.0.1:{port}/chat/ws/{session_id}", page["Origin"]),  # hijacking
        ):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(
                    url,
                    host="127.0.0.1",
                    port=port,
                    origin=Origin(origin) if origin else None,
                    open_timeout=WITHIN,
                ):
                    pass
            assert refused.value.response.status_code == 403
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), WITHIN)
    store = await SessionStore.open(db)
    try:
        sessions = await store.list_sessions()
        assert [s.id for s in sessions] == [session_id]
        assert await store.count_messages(session_id) == 0
    finally:
        await store.close()
