"""``agentkit mcp list|test`` and ``agentkit run`` with MCP servers, as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from app.mcp import INSTALL_HINT
from tests.engine.test_run_cli import SCRIPT
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import openai_reply, openai_tool_call_events
from tests.mcp.conftest import FAKE_SERVER, alive, server_pids

pytestmark = pytest.mark.slow


async def agentkit(
    *argv: str, home: Path, cwd: Path, env: dict[str, str] | None = None, program: str = SCRIPT
) -> tuple[int, str, str]:
    """Run ``agentkit`` (or ``program``) with its own home; exit code, stdout, stderr."""
    environment = {**os.environ, "AGENTKIT_HOME": str(home), **(env or {})}
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        environment.pop(name, None)
    environment["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens: no local Ollama is probed
    process = await asyncio.create_subprocess_exec(
        program,
        *argv,
        cwd=cwd,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _config(home: Path, extra: str = "") -> None:
    server = f"command = {json.dumps(sys.executable)}\nargs = [{json.dumps(FAKE_SERVER)}]\n"
    (home / "config.toml").write_text(
        f'[mcp.servers.fake]\n{server}env = {{ FAKE_MCP_MARKS = "TEST_MCP_MARKS" }}\n'
        f'[mcp.servers.broken]\n{server}env = {{ FAKE_MCP_FAIL_START = "TEST_FAIL" }}\n'
        '[mcp.servers.off]\ncommand = "never-started"\nenabled = false\n' + extra
    )


async def test_mcp_list_shows_status_and_tools(
    agentkit_home: Path, tmp_path: Path, marks: Path
) -> None:
    _config(agentkit_home)
    env = {"TEST_MCP_MARKS": str(marks), "TEST_FAIL": "1"}
    code, out, err = await agentkit(
        "mcp", "list", "--json", home=agentkit_home, cwd=tmp_path, env=env
    )
    assert code == 0, err
    states = {state["name"]: state for state in json.loads(out)}
    assert states["fake"]["status"] == "running"
    names = [tool["name"] for tool in states["fake"]["tools"]]
    assert "mcp__fake__echo" in names and "mcp__fake__crash" in names
    echo = next(t for t in states["fake"]["tools"] if t["name"] == "mcp__fake__echo")
    assert echo["read_only_hint"] is True
    assert states["broken"]["status"] == "failed"
    assert "fatal: the fake server was told to fail" in states["broken"]["stderr"]
    assert states["off"]["status"] == "disabled" and states["off"]["tools"] == []
    assert "fake server" not in err  # servers' stderr goes to the log file
    [log] = agentkit_home.rglob("agentkit.log")
    assert "mcp[broken] stderr: fatal: the fake server was told to fail" in log.read_text()
    assert server_pids(marks) and not any(alive(pid) for pid in server_pids(marks))

    code, out, _ = await agentkit("mcp", "list", home=agentkit_home, cwd=tmp_path, env=env)
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[:2] for row in rows] == [
        ["fake", "running"],
        ["broken", "failed"],
        ["off", "disabled"],
    ]


async def test_mcp_test_starts_one_server(agentkit_home: Path, tmp_path: Path, marks: Path) -> None:
    _config(agentkit_home)
    env = {"TEST_MCP_MARKS": str(marks), "TEST_FAIL": "1"}
    code, out, err = await agentkit(
        "mcp", "test", "fake", home=agentkit_home, cwd=tmp_path, env=env
    )
    assert code == 0, err
    assert "status: running" in out and "mcp__fake__slow" in out
    assert len(server_pids(marks)) == 1
    code, out, err = await agentkit(
        "mcp", "test", "broken", home=agentkit_home, cwd=tmp_path, env=env
    )
    assert code == 1 and "stderr: fatal: the fake server was told to fail" in out
    assert err.startswith("agentkit: error: failed:") and len(err.splitlines()) == 1
    code, _, err = await agentkit("mcp", "test", "nope", home=agentkit_home, cwd=tmp_path, env=env)
    assert code == 2 and "no MCP server named 'nope' (known: fake, broken, off)" in err


async def test_run_json_events_carry_the_full_tool_name(
    agentkit_home: Path, tmp_path: Path, marks: Path
) -> None:
    async with FakeProvider() as fake:
        _config(
            agentkit_home,
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
            '[approval]\nallow = ["mcp__fake__add"]\n',
        )
        call = [("call_1", "mcp__fake__add", [json.dumps({"a": 2, "b": 3})])]
        fake.script(Reply(body=openai_tool_call_events(call)), openai_reply(["Five."]))
        env = {"TEST_MCP_MARKS": str(marks), "TEST_FAIL": "1"}
        code, out, err = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            "add 2 and 3",
            home=agentkit_home,
            cwd=tmp_path,
            env=env,
        )
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    steps = [line["data"] for line in lines if line["type"] == "step"]
    assert [(s["event_type"], s["data"]["name"]) for s in steps] == [
        ("tool_call", "mcp__fake__add"),
        ("tool_result", "mcp__fake__add"),
    ]
    assert steps[1]["data"]["output"] == "5"
    notices = [line["data"]["code"] for line in lines if line["type"] == "notice"]
    assert "mcp_failed" in notices  # the broken one, told once
    assert "fake server" not in err
    pids = server_pids(marks)
    assert len(pids) == 1 and not alive(pids[0])  # nothing left behind


async def test_without_the_sdk_one_line_says_how_to_install_it(
    agentkit_home: Path, tmp_path: Path
) -> None:
    _config(agentkit_home)
    code, _, err = await agentkit(
        "-c",
        "import sys; sys.modules['mcp'] = None\n"  # as if the extra were not installed
        "from app.cli import main; sys.exit(main(['mcp', 'list']))",
        home=agentkit_home,
        cwd=tmp_path,
        program=sys.executable,
    )
    assert code == 2 and err == f"agentkit: error: {INSTALL_HINT}\n"


async def test_serve_turns_get_the_same_tools_and_stop_the_servers(
    tmp_path: Path, marks: Path
) -> None:
    import re
    import signal

    import httpx

    from tests.conftest import REPO_ROOT

    workspace = tmp_path / "ws"
    workspace.mkdir()
    async with FakeProvider() as fake:
        config = tmp_path / "config.toml"
        server = f"command = {json.dumps(sys.executable)}\nargs = [{json.dumps(FAKE_SERVER)}]\n"
        config.write_text(
            'default_model = "fake/test-model"\n'
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
            '[approval]\nallow = ["mcp__fake__add"]\n'
            f'[mcp.servers.fake]\n{server}env = {{ FAKE_MCP_MARKS = "TEST_MCP_MARKS" }}\n'
        )
        call = [("call_1", "mcp__fake__add", [json.dumps({"a": 40, "b": 2})])]
        fake.script(Reply(body=openai_tool_call_events(call)), openai_reply(["It is 42."]))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "app", "serve", "--port", "0", "--config", str(config)),
            *("--db", str(tmp_path / "served.db"), "--workspace", str(workspace)),
            cwd=REPO_ROOT,
            env={**os.environ, "TEST_MCP_MARKS": str(marks)},
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        try:
            line = (await asyncio.wait_for(process.stderr.readline(), 60)).decode()
            port = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            assert port, line
            base = f"http://127.0.0.1:{port.group(1)}"
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                created = await http.post("/chat/sessions", json={"agent_name": "default"})
                session_id = created.json()["session_id"]
                reply = await http.post(
                    f"/chat/sessions/{session_id}/messages", json={"content": "40 + 2?"}
                )
                assert reply.status_code == 200 and reply.json()["content"] == "It is 42."
                messages = (await http.get(f"/chat/sessions/{session_id}/messages")).json()
            assert [m["content"] for m in messages if m["role"] == "tool"] == ["42"]
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), 60) == 0
            err = (await process.stderr.read()).decode()
            assert "Traceback" not in err and "fake MCP server" not in err
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    [pid] = server_pids(marks)
    assert not alive(pid)


async def test_the_terminal_trust_prompt_lists_workspace_servers_and_a_yes_starts_them(
    agentkit_home: Path, tmp_path: Path, marks: Path
) -> None:
    import pty

    workspace = tmp_path / "cloned"
    (workspace / ".agentkit").mkdir(parents=True)
    server = f"command = {json.dumps(sys.executable)}\nargs = [{json.dumps(FAKE_SERVER)}]\n"
    (workspace / ".agentkit" / "config.toml").write_text(
        f'[mcp.servers.ws]\n{server}env = {{ FAKE_MCP_MARKS = "TEST_MCP_MARKS" }}\n'
    )
    async with FakeProvider() as fake:
        (agentkit_home / "config.toml").write_text(
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
            '[approval]\nallow = ["mcp__ws__echo"]\n'
        )
        call = [("call_1", "mcp__ws__echo", [json.dumps({"text": "trusted"})])]
        fake.script(Reply(body=openai_tool_call_events(call)), openai_reply(["Done."]))
        leader, follower = pty.openpty()
        try:
            process = await asyncio.create_subprocess_exec(
                SCRIPT,
                *("run", "--json", "--model", "fake/m", "echo it"),
                cwd=workspace,
                env={
                    **os.environ,
                    "AGENTKIT_HOME": str(agentkit_home),
                    "TEST_MCP_MARKS": str(marks),
                },
                stdin=follower,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            os.close(follower)
            follower = -1
            assert process.stderr is not None
            asked = (await asyncio.wait_for(process.stderr.readuntil(b"[y/N] "), 60)).decode()
            assert server_pids(marks) == []  # nothing starts before the answer
            os.write(leader, b"y\n")
            out, err = await asyncio.wait_for(process.communicate(), 120)
        finally:
            os.close(leader)
            if follower != -1:
                os.close(follower)
    assert process.returncode == 0, err
    assert "has MCP servers (programs it would start):" in asked
    assert f"  mcp server ws: {sys.executable} {FAKE_SERVER}" in asked
    assert "so its MCP servers start?" in asked
    lines = [json.loads(line) for line in out.splitlines()]
    results = [e["data"]["data"] for e in lines if e["type"] == "step"]
    assert results[-1]["output"] == "echo: trusted"
    assert "trusted_workspaces" in (agentkit_home / "config.toml").read_text()


async def test_the_trust_dialog_lists_workspace_servers(tmp_path: Path) -> None:
    from textual.app import App
    from textual.widgets import Static

    from app.config import load_settings, read_workspace_rules
    from app.ui.dialogs.trust import TrustDialog

    rules_file = tmp_path / ".agentkit" / "config.toml"
    rules_file.parent.mkdir()
    rules_file.write_text(
        '[mcp.servers.gh]\ncommand = "github-mcp"\nargs = ["--token-file", "[b]x[/b]"]\n'
    )
    rules = read_workspace_rules(rules_file, load_settings(None, {}))
    assert rules is not None and rules.needs_trust
    app: App[None] = App()
    async with app.run_test() as pilot:
        app.push_screen(TrustDialog(rules))
        await pilot.pause()
        shown = [str(static.content) for static in app.screen.query(Static)]
    assert "mcp    gh: github-mcp --token-file '[b]x[/b]'" in shown  # literally, not markup
    assert any("has MCP servers (programs it would start)." in line for line in shown)
