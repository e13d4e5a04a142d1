"""Server fixtures: a real uvicorn on a free loopback port, in the test's own event loop, over
a real SQLite file and a gateway pointed at the loopback fake provider; real httpx and
WebSocket clients talk to it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from app.config import Settings
from app.engine.service import ChatService
from app.llm.gateway import Gateway
from app.server.app import ServerOptions
from app.server.hub import Hub
from app.server.runner import ApiServer, bind_socket, server_settings
from app.store import SessionStore
from app.wiring import build_service
from tests.fakes.provider import FakeProvider, Gate, Reply
from tests.fakes.scripts import openai_chunk, openai_reply, openai_tool_call_events

MODEL = "fake/test-model"
#: Every wait in these tests is for an event, bounded so a bug fails instead of hanging.
WITHIN = 10.0


@dataclass
class Api:
    """A running server and what it runs on."""

    server: ApiServer
    fake: FakeProvider
    store: SessionStore
    service: ChatService
    workspace: Path
    db_path: Path
    http: httpx.AsyncClient
    api_key: str | None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def ws_url(
        self, session_id: str, api_key: str | None = None, *, stream: str | None = None
    ) -> str:
        url = f"ws://127.0.0.1:{self.server.port}/chat/ws/{session_id}"
        query = [f"api_key={api_key}"] if api_key else []
        query += [f"stream={stream}"] if stream else []
        return url + ("?" + "&".join(query) if query else "")

    def ws(
        self,
        session_id: str,
        *,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
        max_size: int = 2**20,
        stream: str | None = None,
    ) -> AbstractAsyncContextManager[ClientConnection]:
        """A WebSocket to the session (with the server's key unless told otherwise;
        ``stream="live"`` for answer text as it is written)."""
        key = self.api_key if api_key is None and headers is None else api_key
        return connect(
            self.ws_url(session_id, key, stream=stream),
            additional_headers=headers,
            open_timeout=WITHIN,
            max_size=max_size,
        )

    async def new_session(self, agent: str = "default") -> str:
        response = await self.http.post("/chat/sessions", json={"agent_name": agent})
        assert response.status_code == 200, response.text
        return str(response.json()["session_id"])

    def script(self, *replies: Reply) -> None:
        self.fake.script(*replies)


# ---------------------------------------------------------------------- scripted replies


def text_reply(*parts: str) -> Reply:
    """A streamed text answer."""
    return openai_reply(list(parts), usage=(11, 7))


def gated_reply(first: list[str], gate: Gate, rest: list[str] | None = None) -> Reply:
    """Text that stops after ``first`` until ``gate`` opens (live streaming, cancel, limits)."""
    head = [openai_chunk({"role": "assistant", "content": ""})]
    head += [openai_chunk({"content": part}) for part in first]
    tail = [openai_chunk({"content": part}) for part in rest or []]
    tail += [openai_chunk({}, "stop"), b"data: [DONE]\n\n"]
    return Reply(body=[*head, gate, *tail])


def tool_calls(*calls: tuple[str, dict[str, Any]], text: str = "") -> Reply:
    """One step that calls tools."""
    specs = [
        (f"call_{index}{name[:3]}", name, [json.dumps(args)])
        for index, (name, args) in enumerate(calls)
    ]
    return Reply(body=list(openai_tool_call_events(specs, text=text)))


# ---------------------------------------------------------------------- WebSocket helpers


async def receive(ws: ClientConnection, within: float = WITHIN) -> dict[str, Any]:
    """The next message, parsed."""
    raw = await asyncio.wait_for(ws.recv(), within)
    message: dict[str, Any] = json.loads(raw)
    return message


async def until(ws: ClientConnection, kind: str, within: float = WITHIN) -> list[dict[str, Any]]:
    """Messages up to and including the first of type ``kind``."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while True:
            message = await receive(ws, within)
            seen.append(message)
            if message["type"] == kind:
                return seen


async def read_text(ws: ClientConnection, text: str, within: float = WITHIN) -> None:
    """Read ``token`` messages until they spell ``text`` (tokens that waited behind others
    may arrive merged into one message)."""
    got = ""
    async with asyncio.timeout(within):
        while got != text:
            message = await receive(ws, within)
            assert message["type"] == "token", (message, got)
            got += message["content"]
            assert text.startswith(got), (got, text)


def without_tokens(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [message for message in messages if message["type"] != "token"]


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


def types(messages: list[dict[str, Any]]) -> list[str]:
    return [message["type"] for message in messages]


def tokens(messages: list[dict[str, Any]]) -> str:
    return "".join(m["content"] for m in messages if m["type"] == "token")


# ---------------------------------------------------------------------- the fixture

MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "README.md").write_text("# Demo\n")
    return root


@pytest.fixture
async def make_api(tmp_path: Path, workspace: Path) -> AsyncIterator[MakeApi]:
    """Start servers (``api_key``, ``serve`` and other settings as keywords); all stopped after."""
    started: list[tuple[Api, asyncio.Task[None], Gateway]] = []

    async def factory(
        *, api_key: str | None = None, keepalive_seconds: float | None = None, **overrides: Any
    ) -> Api:
        fake = await FakeProvider().start()
        data: dict[str, Any] = {
            "default_model": MODEL,
            "providers": {"fake": {"kind": "openai", "base_url": fake.url, "max_retries": 0}},
            **overrides,
        }
        settings = server_settings(Settings.model_validate(data))
        db_path = tmp_path / f"agentkit-{len(started)}.db"
        store = await SessionStore.open(db_path)
        gateway = Gateway(settings, env={}, demo_delay=0)
        service = build_service(
            settings,
            store,
            gateway,
            workspace=workspace,
            user_config_file=tmp_path / "config.toml",
        )
        options = ServerOptions.from_config(settings.serve, api_key)
        if keepalive_seconds is not None:
            options = dataclasses.replace(options, keepalive_seconds=keepalive_seconds)
        server = ApiServer(Hub(service), options, bind_socket("127.0.0.1", 0), handle_signals=False)
        task = asyncio.create_task(server.run_until_stopped())
        ready = asyncio.ensure_future(server.ready.wait())
        await asyncio.wait({task, ready}, timeout=WITHIN, return_when=asyncio.FIRST_COMPLETED)
        assert server.ready.is_set(), "the server did not start"
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}", headers=headers, timeout=WITHIN
        )
        api = Api(server, fake, store, service, workspace, db_path, http, api_key)
        started.append((api, task, gateway))
        return api

    yield factory
    for api, task, gateway in started:
        await api.http.aclose()
        api.server.request_stop()
        await asyncio.wait_for(task, WITHIN)
        await gateway.aclose()
        await api.store.close()
        await api.fake.stop()


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    """A server without a key, default [serve] settings (REST approvals: deny)."""
    return await make_api()
