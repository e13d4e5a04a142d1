"""The running app does not import the screenshot scenarios (they are for snapshot tests and
``python -m app.ui.screenshots``), checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Imports the app, starts it headless over a real store (the engine never finishes
#: starting, so no service is built here), and prints the app's modules once it has drawn.
PROGRAM = """
import asyncio, sys
from pathlib import Path
from app.config import Settings
from app.store import SessionStore
from app.ui.app import AgentKitApp

async def main(folder: str) -> None:
    store = await SessionStore.open(Path(folder) / "agentkit.db")
    started = asyncio.Event()

    async def engine():
        started.set()
        await asyncio.Event().wait()  # never up: this test needs none

    settings = Settings.model_validate({"ui": {"theme": "textual-dark"}})
    app = AgentKitApp(settings=settings, store=store, engine=engine)
    async with app.run_test(size=(100, 30)) as pilot:
        while not started.is_set():
            await pilot.pause(0.01)
        print(" ".join(sorted(m for m in sys.modules if m.startswith("app."))))
    await store.close()

asyncio.run(main(sys.argv[1]))
"""


def test_starting_the_app_does_not_load_the_scenarios(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = done.stdout.split()
    assert "app.ui.app" in loaded and "app.ui.session.conversation" in loaded  # it ran
    assert "app.ui.scenarios" not in loaded
    assert "app.ui.screenshots" not in loaded
