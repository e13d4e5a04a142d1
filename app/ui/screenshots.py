"""Render the README screenshots: ``python -m app.ui.screenshots screenshots/``.

Each shot runs the real app headless on a scenario (see ``scenarios``), does what a person
would do, and saves the screen as SVG.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from app.ui.dialogs.ask_human import AskDialog
from app.ui.dialogs.confirm import ConfirmDialog
from app.ui.scenarios import scenario_app
from app.ui.widgets.message_views import ToolStep, UserMessage
from app.ui.widgets.sidebar import SessionSidebar

Steps = Callable[[Pilot[Any]], Awaitable[None]]


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], within: float = 15) -> None:
    """Let the app run until ``condition`` holds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not reach the state for the screenshot")
        await pilot.pause(0.02)


def _history_shown(app: Any) -> bool:
    """Start-up has drawn its first screen: the open session's messages, or the welcome."""
    screen = app.screen
    if screen.query(".welcome"):
        return True
    return app.current is not None and bool(screen.query(UserMessage))


async def _still(pilot: Pilot[Any]) -> None:
    """Let what was just asked for finish drawing (animations, then queued messages)."""
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the screen to finish loading; stop the cursor blinking (stable pictures)."""
    await wait_until(pilot, lambda: _history_shown(pilot.app))
    pilot.app.screen.query_one("#composer").cursor_blink = False  # type: ignore[attr-defined]
    await _still(pilot)


async def ask_for_approval(pilot: Pilot[Any]) -> None:
    """Send a message that makes the demo model run a command, and wait for the dialog."""
    await settle(pilot)
    app = pilot.app
    composer = app.screen.query_one("#composer")
    composer.insert("please run `pytest tests/test_parser.py -q`")  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await _still(pilot)


async def ask_a_question(pilot: Pilot[Any]) -> None:
    """Make the demo model ask the person something, and wait for the dialog."""
    await settle(pilot)
    app = pilot.app
    app.screen.query_one("#composer").insert("ask me a question")  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, AskDialog))
    app.screen.query_one(Input).cursor_blink = False  # a stable picture
    await _still(pilot)


async def expand_tool_step(pilot: Pilot[Any]) -> None:
    """Open the finished read_file step to show its output."""
    await settle(pilot)
    step = pilot.app.screen.query_one(ToolStep)
    step.collapsed = False
    await wait_until(pilot, lambda: step.query_one("Contents").display)
    await _still(pilot)


async def review_closed_session(pilot: Pilot[Any]) -> None:
    """Open the closed session from the sidebar."""
    await settle(pilot)
    app = pilot.app
    closed = next(s for s in app.sidebar.sessions if s.is_closed)  # type: ignore[attr-defined]
    app.post_message(SessionSidebar.SessionSelected(closed.id))
    await wait_until(pilot, lambda: app.main.has_class("-read-only"))  # type: ignore[attr-defined]
    await _still(pilot)


async def expand_results(pilot: Pilot[Any]) -> None:
    """Open the first expert result in the team panel."""
    await settle(pilot)
    results = pilot.app.screen.query(".work-result")
    if results:
        result = results.first()
        result.collapsed = False  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: result.query_one("Contents").display)
    await _still(pilot)


async def search_sessions(pilot: Pilot[Any]) -> None:
    """Search the sessions for a word."""
    await settle(pilot)
    await pilot.press("ctrl+f", *"retry")
    pilot.app.screen.query_one("#session-search", Input).cursor_blink = False
    app = pilot.app
    await wait_until(
        pilot,
        lambda: (
            app.sidebar.searching  # type: ignore[attr-defined]
            and not any(worker.is_running for worker in app.workers if worker.group == "search")
        ),
    )
    await _still(pilot)


SHOTS: list[tuple[str, str, tuple[int, int], Steps]] = [
    ("conversation", "conversation", (130, 40), settle),
    ("approval", "conversation", (130, 40), ask_for_approval),
    ("welcome", "welcome", (130, 40), settle),
    ("narrow-80x24", "conversation", (80, 24), settle),
    ("plan-panel", "plan_finished", (140, 40), settle),
    ("team-panel", "team_running", (140, 40), settle),
]


async def render(target: Path) -> list[Path]:
    """Write every screenshot into ``target`` (which must exist); returns the files."""
    written: list[Path] = []
    for filename, scenario, size, steps in SHOTS:
        with tempfile.TemporaryDirectory(prefix="agentkit-shot-") as folder:
            app = scenario_app(scenario, Path(folder))
            async with app.run_test(size=size) as pilot:
                await steps(pilot)
                path = target / f"{filename}.svg"
                app.save_screenshot(filename=path.name, path=str(target))
                written.append(path)
    return written


def main() -> None:
    """Entry point of ``python -m app.ui.screenshots DIR``."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(render(target)):
        print(path)


if __name__ == "__main__":
    main()
