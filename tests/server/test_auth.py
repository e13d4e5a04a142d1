"""The API key: required on REST and WebSocket alike when configured, compared in constant
time, never logged, stored or echoed; no key means loopback only."""

from __future__ import annotations

import logging

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.server.app import ServerOptions
from app.server.guards import key_matches, supplied_keys
from app.server.runner import BindError, check_bind, is_loopback
from tests.server.conftest import MakeApi, receive, send, text_reply, until

KEY = "test-key-SECRET-f00dfeed"


async def test_rest_needs_the_key_as_bearer_or_query(make_api: MakeApi) -> None:
    api = await make_api(api_key=KEY)
    session_id = await api.new_session()  # the fixture's client sends the bearer header
    async with httpx.AsyncClient(base_url=api.base) as bare:
        for path in ("/chat/sessions", f"/chat/sessions/{session_id}", "/docs", "/openapi.json"):
            refused = await bare.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == "Bearer"
        wrong = await bare.get("/chat/sessions", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "nope" not in wrong.text
        wrong_query = await bare.get("/chat/sessions", params={"api_key": KEY + "x"})
        assert wrong_query.status_code == 401 and KEY not in wrong_query.text
        posted = await bare.post(f"/chat/sessions/{session_id}/messages", json={"content": "x"})
        assert posted.status_code == 401
        assert (await bare.delete(f"/chat/sessions/{session_id}")).status_code == 401
        by_query = await bare.get("/chat/sessions", params={"api_key": KEY})
        assert by_query.status_code == 200 and by_query.json()[0]["session_id"] == session_id
        by_header = await bare.get(
            f"/chat/sessions/{session_id}", headers={"authorization": f"Bearer {KEY}"}
        )
        assert by_header.status_code == 200 and by_header.json()["status"] == "active"
    assert api.fake.requests == []


async def test_websocket_bad_key_is_an_error_then_4001(make_api: MakeApi) -> None:
    api = await make_api(api_key=KEY)
    session_id = await api.new_session()
    for key, headers in ((None, {}), ("wrong", None), (None, {"authorization": "Bearer no"})):
        async with api.ws(session_id, api_key=key, headers=headers) as ws:
            assert await receive(ws) == {"type": "error", "data": {"message": "Invalid api_key"}}
            with pytest.raises(ConnectionClosed):
                await receive(ws)
            assert ws.close_code == 4001


async def test_websocket_accepts_the_key_in_query_or_header(make_api: MakeApi) -> None:
    api = await make_api(api_key=KEY)
    session_id = await api.new_session()
    api.script(text_reply("by query"), text_reply("by header"))
    async with api.ws(session_id, api_key=KEY) as ws:
        assert (await receive(ws))["type"] == "connected"
        await send(ws, {"type": "message", "content": "hi"})
        assert (await until(ws, "result"))[-1]["data"]["status"] == "completed"
    async with api.ws(session_id, headers={"Authorization": f"Bearer {KEY}"}) as ws:
        assert (await receive(ws))["type"] == "connected"
        await send(ws, {"type": "message", "content": "hi again"})
        assert (await until(ws, "result"))[-1]["data"]["status"] == "completed"


async def test_no_key_configured_lets_everyone_on_loopback_in(make_api: MakeApi) -> None:
    api = await make_api()
    async with httpx.AsyncClient(base_url=api.base) as bare:
        assert (await bare.get("/chat/sessions")).status_code == 200


async def test_the_key_never_reaches_logs_database_or_errors(
    make_api: MakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = await make_api(api_key=KEY)
    session_id = await api.new_session()
    api.script(text_reply("fine"))
    async with httpx.AsyncClient(base_url=api.base) as bare:
        await bare.post(
            f"/chat/sessions/{session_id}/messages",
            params={"api_key": KEY},
            json={"content": "hello"},
        )
        await bare.get(f"/chat/sessions/{session_id}", params={"api_key": KEY + "-wrong"})
        await bare.get("/chat/sessions/nope", params={"api_key": KEY})
    async with api.ws(session_id, api_key=KEY) as ws:
        await receive(ws)
        await send(ws, {"type": "ping"})
        await receive(ws)
    async with api.ws(session_id, headers={"Authorization": f"Bearer {KEY}"}) as ws:
        await receive(ws)
    # Everything the server side logged (the test's own clients log their URLs, keys and all).
    server = [r.getMessage() for r in caplog.records if r.name.startswith(("uvicorn", "app."))]
    access = [r.getMessage() for r in caplog.records if r.name == "app.server.access"]
    assert any(f"/chat/sessions/{session_id}/messages 200" in line for line in access)
    assert any("/chat/sessions/nope 404" in line for line in access)
    assert any("api_key=[redacted]" in line for line in server)  # uvicorn's WebSocket line
    assert any("Bearer [redacted]" in line for line in server)  # the handshake at debug level
    assert all(KEY not in line for line in server)
    await api.store.close()
    for path in api.db_path.parent.glob(api.db_path.name + "*"):
        assert KEY.encode() not in path.read_bytes(), path


def test_the_options_never_show_the_key() -> None:
    options = ServerOptions(api_key=KEY)
    assert KEY not in repr(options) and KEY not in str(options)
    assert "api_key=set" in repr(options)


def test_keys_are_read_from_the_header_and_the_query() -> None:
    scope = {
        "headers": [(b"authorization", b"Bearer from-header")],
        "query_string": b"x=1&api_key=from-query",
    }
    assert supplied_keys(scope) == ["from-header", "from-query"]
    assert supplied_keys({"headers": [(b"authorization", b"Basic abc")]}) == []
    assert key_matches("from-query", supplied_keys(scope))
    assert not key_matches("other", supplied_keys(scope))
    assert not key_matches("k", [])


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.org", False),
    ],
)
def test_only_loopback_is_open_without_a_key(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_bind(host, None)
    else:
        with pytest.raises(BindError, match="without an API key"):
            check_bind(host, None)
    check_bind(host, KEY)  # with a key, any address
