"""Smaller ones: a --config that is not there, IPv6 loopback for serve, odd session ids."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from tests.reliability.helpers import WITHIN, agentkit, assert_no_traceback, environment

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.mark.parametrize("command", [["sessions", "list"], ["run", "--model", "demo", "hi"], []])
async def test_a_config_file_that_is_not_there_is_a_usage_error(
    command: list[str], agentkit_home: Path, workspace: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nonexistent.toml"
    run = await agentkit("--config", str(missing), *command, home=agentkit_home, cwd=workspace)
    assert run.code == 2 and run.out == ""
    assert run.err == f"agentkit: error: --config {missing} does not exist\n"
    run = await agentkit("--config", str(tmp_path), *command, home=agentkit_home, cwd=workspace)
    assert run.code == 2 and run.err == f"agentkit: error: --config {tmp_path} is not a file\n"
    assert not (agentkit_home / "agentkit.db").exists()  # nothing was created


@pytest.mark.parametrize("host", ["[::1]", "::1"])
async def test_serve_listens_on_ipv6_loopback(host: str, tmp_path: Path, workspace: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        "--host",
        host,
        "--port",
        "0",
        cwd=workspace,
        env=environment(home),
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        line = (await asyncio.wait_for(process.stderr.readline(), WITHIN)).decode()
        found = re.search(r"listening on http://\[::1\]:(\d+)", line)
        assert found, line
        base = f"http://[::1]:{found.group(1)}"
        async with httpx.AsyncClient(base_url=base, timeout=WITHIN) as http:
            response = await http.get("/chat/sessions")
        assert response.status_code == 200 and response.json() == []
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), WITHIN) == 0
        rest = (await process.stderr.read()).decode()
        assert "Traceback" not in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


ODD_IDS = [
    b"abcd\xf4\x8f\xbf\xbf",  # U+10FFFF, the last code point
    b"ab\xff\xfecd",  # not UTF-8
    b"\xff\xfe\xfd\xfc",
    b"abcd\xed\xa0\xbd",  # a UTF-8-coded surrogate
    b"abcd\x1b[31m",  # an escape sequence
    "abcdé".encode(),
    b"ab%_",  # LIKE wildcards
]
COMMANDS = [
    ["sessions", "show", "ID"],
    ["sessions", "export", "ID"],
    ["sessions", "rename", "ID", "new title"],
    ["sessions", "close", "ID"],
    ["sessions", "delete", "ID", "--yes"],
    ["sessions", "search", "hello", "--session", "ID"],
    ["run", "--model", "demo", "--session", "ID", "hello"],
]


async def test_odd_session_ids_are_simply_not_found(agentkit_home: Path, workspace: Path) -> None:
    made = await agentkit("run", "--model", "demo", "hello", home=agentkit_home, cwd=workspace)
    assert made.code == 0, made.err  # a database with a session in it
    for odd in ODD_IDS:
        shown = re.sub(r"\x1b\[[0-9;]*m", "", odd.decode("utf-8", "replace"))
        for command in COMMANDS:
            argv = [odd if part == "ID" else part for part in command]
            run = await agentkit(*argv, home=agentkit_home, cwd=workspace)
            assert_no_traceback(run)
            assert (run.code, run.err) == (1, f"agentkit: error: Session '{shown}' not found\n"), (
                odd,
                command,
            )
    listed = await agentkit("sessions", "list", home=agentkit_home, cwd=workspace)
    assert len(listed.out.splitlines()) == 1  # nothing was created, renamed or closed
    assert listed.out.split("\t")[1] == "active" and listed.out.rstrip().endswith("hello")
