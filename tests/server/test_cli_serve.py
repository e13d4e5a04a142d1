"""`agentkit serve` as a command: its options, its refusals, and a clean Ctrl+C in a real
process (running turns stopped, partial replies saved and marked, clients told)."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.asyncio.client import connect
from websockets.frames import Close, Frame, Opcode

from app.cli import main
from app.store import SessionStore
from tests.conftest import REPO_ROOT
from tests.fakes.provider import FakeProvider, Gate
from tests.server.conftest import (
    WITHIN,
    MakeApi,
    gated_reply,
    read_text,
    receive,
    send,
    text_reply,
    tool_calls,
    until,
)


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["serve", "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    for option in ("--host", "--port", "--api-key-env", "--workspace", "/chat/ws/SESSION_ID"):
        assert option in shown


def test_a_missing_extra_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "pip install 'agentkit-tui[serve]'" in err


def test_listening_beyond_loopback_needs_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0 without an API key" in err
    assert err.count("\n") == 1


def test_a_named_key_variable_must_be_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AGENTKIT_TEST_SERVE_KEY", raising=False)
    assert main(["serve", "--api-key-env", "AGENTKIT_TEST_SERVE_KEY", "--port", "0"]) == 2
    assert "AGENTKIT_TEST_SERVE_KEY is not set" in capsys.readouterr().err


def test_a_port_in_use_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and err.count("\n") == 1


@pytest.mark.slow
async def test_ctrl_c_stops_turns_saves_partials_and_exits_cleanly(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    db = tmp_path / "served.db"
    async with FakeProvider() as fake:
        config = tmp_path / "config.toml"
        config.write_text(
            'default_model = "fake/test-model"\n'
            "[providers.fake]\n"
            f'kind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
        )
        ws_gate, rest_gate = Gate(), Gate()
        fake.script(
            gated_reply(["streamed ", "so far"], ws_gate, ["never"]),
            gated_reply(["rest ", "partial"], rest_gate, ["never"]),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            "serve",
            "--port",
            "0",
            "--config",
            str(config),
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
            base = f"http://127.0.0.1:{found.group(1)}"
            async with httpx.AsyncClient(base_url=base, timeout=WITHIN) as http:
                created = await http.post("/chat/sessions", json={"agent_name": "default"})
                session_id = created.json()["session_id"]
                url = f"ws://127.0.0.1:{found.group(1)}/chat/ws/{session_id}?stream=live"
                async with connect(url, open_timeout=WITHIN) as ws:
                    await receive(ws)
                    await send(ws, {"type": "message", "content": "over the socket"})
                    await read_text(ws, "streamed so far")
                    posted = asyncio.create_task(
                        http.post(
                            f"/chat/sessions/{session_id}/messages",
                            json={"content": "over REST"},
                        )
                    )
                    await read_text(ws, "rest partial")  # REST turns reach the socket too
                    process.send_signal(signal.SIGINT)
                    rest = await until(ws, "result")
                    assert rest[-1] == {"type": "result", "data": {"status": "cancelled"}}
                    response = await posted
            assert response.status_code == 503
            assert "partial reply was saved" in response.json()["detail"]
            code = await asyncio.wait_for(process.wait(), WITHIN)
            err = (await process.stderr.read()).decode()
            assert code == 0, err  # stderr says why, should this ever fail again
            assert "agentkit serve: stopped" in err and "Traceback" not in err
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    store = await SessionStore.open(db)
    try:
        messages = await store.get_messages(session_id)
        replies = sorted((m.content, m.status) for m in messages if m.role == "assistant")
        assert replies == [("rest partial", "cancelled"), ("streamed so far", "cancelled")]
        users = sorted(m.content for m in messages if m.role == "user")
        assert users == ["over REST", "over the socket"]
        results = [e.data for e in await store.get_events(session_id, types=["result"])]
        assert results == [{"data": {"status": "cancelled"}}] * 2
    finally:
        await store.close()


@pytest.mark.slow
async def test_untrusted_workspace_allow_rules_are_ignored_and_logged(tmp_path: Path) -> None:
    """A cloned repository's ``allow = ["shell"]`` does not let a command run unasked over
    the API (nobody can be asked to trust the file here): the log says so in one line, and
    the WebSocket client is asked; denied, the command does not run."""
    workspace = (tmp_path / "cloned-repo").resolve()
    (workspace / ".agentkit").mkdir(parents=True)
    rules_file = workspace / ".agentkit" / "config.toml"
    rules_file.write_text('[approval]\nallow = ["shell"]\n')
    async with FakeProvider() as fake:
        config = tmp_path / "config.toml"
        config.write_text(
            'default_model = "fake/test-model"\n'
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
        )
        fake.script(tool_calls(("shell", {"command": "touch PWNED"})), text_reply("Not run."))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            "serve",
            "--port",
            "0",
            "--config",
            str(config),
            "--db",
            str(tmp_path / "served.db"),
            "--workspace",
            str(workspace),
            cwd=REPO_ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        try:
            logged: list[str] = []
            while not logged or "listening on" not in logged[-1]:
                logged.append((await asyncio.wait_for(process.stderr.readline(), WITHIN)).decode())
            note = next(line for line in logged if "workspace rules:" in line)
            assert f"1 allow rule in {rules_file} (shell) is ignored" in note
            port = re.search(r"listening on http://127\.0\.0\.1:(\d+)", logged[-1])
            assert port
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port.group(1)}", timeout=WITHIN
            ) as http:
                created = await http.post("/chat/sessions", json={"agent_name": "default"})
                session_id = created.json()["session_id"]
            url = f"ws://127.0.0.1:{port.group(1)}/chat/ws/{session_id}"
            async with connect(url, open_timeout=WITHIN) as ws:
                await receive(ws)
                await send(ws, {"type": "message", "content": "make the marker file"})
                seen = await until(ws, "confirmation_request")
                told = [
                    m["data"]["message"]
                    for m in seen
                    if m["type"] == "notice" and m["data"]["code"] == "workspace_rules"
                ]
                assert len(told) == 1 and "1 allow rule not trusted, so ignored (shell)" in told[0]
                asked = seen[-1]["data"]
                await send(
                    ws,
                    {
                        "type": "confirmation_reply",
                        "confirmation_id": asked["confirmation_id"],
                        "approved": False,
                    },
                )
                await until(ws, "result")
            assert not (workspace / "PWNED").exists()
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), WITHIN) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_a_client_close_that_crosses_the_stop_does_not_fail_it(make_api: MakeApi) -> None:
    """The race behind the flaky test above: a client's close frame is answered and its
    transport closed, and the stop reaches the connection before it is gone (one loop
    step). uvicorn then asked websockets for a second close frame: InvalidState out of
    Server.shutdown, a traceback and exit code 1 from ``agentkit serve``."""
    api = await make_api()
    session_id = await api.new_session()
    async with api.ws(session_id) as ws:
        await receive(ws)
        (connection,) = [
            c
            for c in api.server.server_state.connections
            if isinstance(c, WebSocketsSansIOProtocol)
        ]
        # The client's close frame arrives, and the stop follows in the same loop step.
        closing = Frame(Opcode.CLOSE, Close(1000, "bye").serialize())
        connection.data_received(closing.serialize(mask=True))
        await api.server.shutdown()
