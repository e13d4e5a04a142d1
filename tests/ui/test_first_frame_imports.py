"""The first frame is drawn before the engine's modules are imported (issue #19: start-up).

The app draws the sidebar and the newest session's history from the store alone; the engine
(its event models, the live-turn hub, the tools, the gateway) is imported in a thread right
after. A module-level import of any of them from a UI module puts it back on the first
frame's path. Checked in a fresh interpreter, with the app started headless over a real
store holding a session, by ``agentkit tui``'s own command path, the engine never finishing.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from app.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]

#: Starts ``agentkit tui`` headless (``run_async`` swapped for ``run_test``); at the moment
#: the app would begin importing the engine (its first frame painted), prints what it drew
#: and the modules loaded, and quits.
PROGRAM = """
import asyncio, sys
from app import cli
from app.ui.app import AgentKitApp

def begin_engine(self):
    # Called once the history's frame is painted, just before the engine is imported:
    # what is loaded now is what the first frame needed. The engine is not started.
    print("TITLE", self.current.title if self.current else "")
    print("ROWS", len(self.transcript.children))
    print("LOADED", " ".join(sorted(sys.modules)), flush=True)
    self.first_frame.set()

async def headless(self, **_ignored):
    self.first_frame = asyncio.Event()
    async with self.run_test(size=(100, 30)):
        await asyncio.wait_for(self.first_frame.wait(), 60)

AgentKitApp._begin_engine = begin_engine
AgentKitApp.run_async = headless
sys.exit(cli.main(["tui"]))
"""

#: Modules of the layers below the UI that the first frame must not need.
ENGINE_ONLY = (
    "app.engine.events",
    "app.engine.live",
    "app.engine.human",
    "app.engine.service",
    "app.engine.skills",
    "app.llm",
    "app.tools",
    "tomlkit",
    "httpx",
)


async def _make_home(home: Path) -> None:
    """A store holding one session whose history has code and a tool call (real store)."""
    store = await SessionStore.open(home / "agentkit.db")
    try:
        session = await store.create_session("default", title="First frame")
        await store.append_message(session.id, "user", "list the files, then show code")
        calls = [{"id": "call_1", "name": "shell", "arguments": {"command": "ls"}}]
        await store.append_message(session.id, "assistant", "", tool_calls=calls)
        await store.append_message(
            session.id, "tool", "README.md", tool_call_id="call_1", tool_name="shell"
        )
        await store.append_message(session.id, "assistant", "Here:\n\n```python\nprint(1)\n```\n")
    finally:
        await store.close()


def test_history_is_drawn_without_the_engine_modules(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    asyncio.run(_make_home(home))
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=tmp_path,
        env={"AGENTKIT_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["TITLE"] == "First frame"  # it drew the session's history
    assert int(lines["ROWS"]) >= 3
    loaded = lines["LOADED"].split()
    assert "app.ui.widgets.transcript" in loaded
    early = [m for m in loaded if m.startswith(ENGINE_ONLY)]
    assert early == []


#: ``agentkit tui`` headless until the engine is up: is the cyclic collector running again?
COLLECTOR_PROGRAM = """
import asyncio, gc, sys
from app import cli
from app.ui.app import AgentKitApp

async def headless(self, **_ignored):
    async with self.run_test(size=(100, 30)):
        print("PAUSED", not gc.isenabled())  # paused for start-up by cli.main
        print("ENGINE", await self.engine_started())
        print("COLLECTING", gc.isenabled(), flush=True)

AgentKitApp.run_async = headless
sys.exit(cli.main(["tui"]))
"""


def test_the_collector_runs_again_once_the_engine_is_up(tmp_path: Path) -> None:
    """Start-up pauses the cyclic garbage collector; a long session must not run without it."""
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", COLLECTOR_PROGRAM],
        cwd=tmp_path,
        env={
            "AGENTKIT_HOME": str(home),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "OLLAMA_HOST": "127.0.0.1:9",  # refused at once: the demo model
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines == {"PAUSED": "True", "ENGINE": "True", "COLLECTING": "True"}
