"""MCP fixtures: the fake MCP server (tests/fakes/mcp_server.py, written with the SDK) run for
real over stdio or streamable HTTP, and a ChatService over real parts that starts it."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings, WorkspaceRules
from app.llm.gateway import Gateway
from app.mcp.manager import McpManager
from app.store import SessionStore
from app.wiring import build_service
from tests.engine.conftest import MODEL, Harness
from tests.fakes.provider import FakeProvider

FAKE_SERVER = str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py")


async def until(condition: Callable[[], bool], within: float = 30.0) -> None:
    """Wait until ``condition()`` holds; fail after ``within`` seconds (busy machines)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def server_pids(marks: Path) -> list[int]:
    """Process ids of every fake server started so far (each writes ``pid-<pid>``)."""
    return sorted(int(path.name.removeprefix("pid-")) for path in marks.glob("pid-*"))


def stdio_server(**extra: Any) -> dict[str, Any]:
    """A ``[mcp.servers.NAME]`` table for the fake server over stdio."""
    table: dict[str, Any] = {
        "command": sys.executable,
        "args": [FAKE_SERVER],
        "env": {"FAKE_MCP_MARKS": "TEST_MCP_MARKS"},
        "startup_timeout": 60.0,
    }
    env = extra.pop("env", {})
    table["env"] = {**table["env"], **env}
    table.update(extra)
    return table


@dataclass
class McpHarness(Harness):
    """The engine harness plus the MCP side: the manager, its marks folder and log file."""

    manager: McpManager | None = None
    marks: Path = Path()
    log_file: Path = Path()
    db_path: Path = Path()

    async def ready(self) -> None:
        """Wait until every server has started or failed."""
        assert self.manager is not None
        assert await self.manager.wait_started(60.0) == []


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder


@pytest.fixture
def mcp_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "README.md").write_text("# Demo\n")
    return root


@pytest.fixture
async def make_mcp(
    tmp_path: Path, mcp_workspace: Path, marks: Path
) -> AsyncIterator[Callable[..., Any]]:
    """Build harnesses whose ChatService runs the given MCP servers; closed after the test
    (each service is shut down, so its servers are stopped)."""
    made: list[McpHarness] = []
    fakes: list[FakeProvider] = []

    async def factory(
        servers: dict[str, dict[str, Any]],
        *,
        env: dict[str, str] | None = None,
        workspace_rules: WorkspaceRules | None = None,
        **overrides: Any,
    ) -> McpHarness:
        fake = await FakeProvider().start()
        fakes.append(fake)
        providers = {"fake": {"kind": "openai", "base_url": fake.url, "max_retries": 0}}
        data: dict[str, Any] = {
            "default_model": MODEL,
            "providers": providers,
            "tools": {"sandbox": "off"},
            "mcp": {"servers": servers},
            **overrides,
        }
        settings = Settings.model_validate(data)
        db_path = tmp_path / f"agentkit-{len(made)}.db"
        log_file = tmp_path / "agentkit.log"
        store = await SessionStore.open(db_path)
        gateway = Gateway(settings, env={}, demo_delay=0)
        manager = McpManager(
            settings,
            mcp_workspace,
            log_file=log_file,
            workspace_rules=workspace_rules,
            env={"TEST_MCP_MARKS": str(marks), "PATH": os.environ["PATH"], **(env or {})},
        )
        service = build_service(
            settings,
            store,
            gateway,
            workspace=mcp_workspace,
            user_config_file=tmp_path / "config.toml",
            workspace_rules=workspace_rules,
            mcp=manager,
        )
        harness = McpHarness(
            fake,
            store,
            gateway,
            service,
            mcp_workspace,
            settings,
            manager=manager,
            marks=marks,
            log_file=log_file,
            db_path=db_path,
        )
        harness.session_id = (await store.create_session("default")).id
        made.append(harness)
        return harness

    yield factory
    for harness in made:
        await harness.service.shutdown()
        await harness.gateway.aclose()
        await harness.store.close()
    for fake in fakes:
        await fake.stop()


@pytest.fixture
async def http_server(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Start the fake server over streamable HTTP on loopback: ``await start(token)`` gives
    its URL (``http://127.0.0.1:PORT/mcp``); every server is stopped after the test."""
    processes: list[asyncio.subprocess.Process] = []

    async def start(token: str | None = None) -> str:
        port_file = tmp_path / f"port-{len(processes)}"
        env = {**os.environ, "FAKE_MCP_TOKEN": token or ""}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            FAKE_SERVER,
            "--http",
            str(port_file),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        processes.append(process)
        await until(lambda: port_file.exists() and port_file.read_text().strip() != "", 60.0)
        return f"http://127.0.0.1:{port_file.read_text().strip()}/mcp"

    yield start
    for process in processes:
        if process.returncode is None:
            process.terminate()
            await process.wait()
