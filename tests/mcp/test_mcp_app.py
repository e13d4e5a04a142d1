"""The full-screen app over an engine with MCP servers: its first frame does not wait for
them, and quitting stops them (no server process outlives the app)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.ui.app import AgentKitApp
from tests.mcp.conftest import alive, server_pids, stdio_server, until

pytestmark = pytest.mark.slow


async def test_quitting_the_app_stops_its_mcp_servers(
    make_mcp: Callable[..., Any], marks: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    late = tmp_path / "late.py"
    late.write_text(  # the server comes up only when the test says so
        "import os, runpy, sys, time\n"
        f"open(os.path.join({str(marks)!r}, f'pid-{{os.getpid()}}'), 'w').close()\n"
        f"while not os.path.exists({str(gate)!r}):\n"
        "    time.sleep(0.02)\n"
        "from tests.fakes import mcp_server\n"
        "mcp_server.main()\n"
    )
    h = await make_mcp(
        {"late": stdio_server(args=[str(late)], env={"PYTHONPATH": "TEST_PYTHONPATH"})},
        env={"TEST_PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    app = AgentKitApp(settings=h.settings, store=h.store, service=h.service)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        # The first frame is up while the server still waits to start.
        assert app.screen is not None and h.manager is not None
        assert [s.status for s in h.manager.states()] == ["starting"]
        gate.write_text("")
        await h.ready()
        pids = server_pids(marks)
        assert len(pids) == 1 and alive(pids[0])
    await until(lambda: not any(alive(pid) for pid in pids))
