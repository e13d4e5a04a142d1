"""UI fixtures: the real app over a temp store, the demo model (no pauses) and a workspace."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from app.config import Settings
from app.llm.gateway import Gateway
from app.store import SessionStore
from app.ui.app import AgentKitApp
from app.wiring import build_service
from tests.conftest import FrozenClock

AppFactory = Callable[..., Awaitable[AgentKitApp]]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "README.md").write_text("# Demo\nHello.\n")
    return root


@pytest.fixture
async def make_app(
    tmp_path: Path, workspace: Path, clock: FrozenClock
) -> AsyncIterator[AppFactory]:
    """Build apps over real parts (call with settings overrides, e.g. demo_delay=0.01)."""
    opened: list[tuple[SessionStore, Gateway]] = []

    async def factory(*, demo_delay: float = 0.0, **overrides: Any) -> AgentKitApp:
        settings = Settings.model_validate({"ui": {"theme": "textual-dark"}, **overrides})
        store = await SessionStore.open(tmp_path / "agentkit.db", clock=clock)
        gateway = Gateway(settings, env={"OLLAMA_HOST": "127.0.0.1:9"}, demo_delay=demo_delay)
        opened.append((store, gateway))
        service = build_service(
            settings,
            store,
            gateway,
            workspace=workspace,
            user_config_file=tmp_path / "config.toml",
        )
        return AgentKitApp(
            settings=settings,
            store=store,
            service=service,
            clock=clock,
            default_model="demo",
            export_dir=tmp_path,
        )

    yield factory
    for store, gateway in opened:
        await gateway.aclose()
        await store.close()


async def until(pilot: Pilot[Any], condition: Callable[[], bool], within: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (fails after ``within`` seconds).

    The screen on top must be mounted too: a dialog is ``app.screen`` as soon as it is pushed,
    but its widgets (and its keys) exist only once its compose has run, which on a loaded
    machine can be a few frames later."""
    deadline = time.monotonic() + within
    while not (condition() and pilot.app.screen.is_mounted):
        if time.monotonic() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.01)


async def type_and_send(pilot: Pilot[Any], text: str) -> None:
    """Type into the composer and press Enter."""
    composer = pilot.app.screen.query_one("#composer")
    composer.focus()
    composer.insert(text)  # type: ignore[attr-defined]
    await pilot.press("enter")
