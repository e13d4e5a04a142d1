"""The app draws its first frame from the store alone and starts the engine right after
(``AgentKitApp(engine=...)``, as ``agentkit tui`` does). A message sent before the engine
is up waits for it and is then sent; an engine that cannot start ends the app with its
error, as it did when the engine started before the app."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import OptionList

from app.config import Settings
from app.engine.service import ChatService
from app.engine.skills import BUILTIN_SKILLS_DIR, load_skills
from app.llm.errors import ConfigurationError
from app.llm.gateway import Gateway
from app.store import SessionStore
from app.ui.app import AgentKitApp
from app.ui.widgets.message_views import AssistantMessage, UserMessage
from tests.conftest import FrozenClock
from tests.ui.conftest import type_and_send, until


async def test_history_shows_before_the_engine_and_an_early_message_waits_for_it(
    tmp_path: Path, workspace: Path, clock: FrozenClock
) -> None:
    settings = Settings.model_validate({"ui": {"theme": "textual-dark"}})
    store = await SessionStore.open(tmp_path / "agentkit.db", clock=clock)
    old = await store.create_session("default", title="Earlier work")
    await store.append_message(old.id, "user", "what changed?")
    await store.append_message(old.id, "assistant", "The parser, mostly.")
    gate = asyncio.Event()
    gateways: list[Gateway] = []

    async def engine() -> tuple[ChatService, str]:
        await gate.wait()  # held back by the test: the engine is "still importing"
        gateway = Gateway(settings, env={"OLLAMA_HOST": "127.0.0.1:9"}, demo_delay=0.0)
        gateways.append(gateway)
        service = ChatService(
            settings,
            store,
            gateway,
            workspace=workspace,
            user_config_file=tmp_path / "config.toml",
            skills=load_skills([BUILTIN_SKILLS_DIR]),
        )
        return service, (await gateway.resolve(None)).name

    app = AgentKitApp(settings=settings, store=store, engine=engine, clock=clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            # The first frame came from the store: sidebar, the newest session, a composer.
            assert app.sidebar.query_one(OptionList).option_count > 0
            assert "The parser, mostly." in app.transcript.query_one(AssistantMessage).text
            assert app._service is None
            await type_and_send(pilot, "hello")
            await until(pilot, lambda: app.status.state == "thinking")
            assert len(app.transcript.query(UserMessage)) == 1  # not sent yet: it waits
            gate.set()
            await until(pilot, lambda: app.status.model == "demo")
            await until(pilot, lambda: len(app.transcript.query(UserMessage)) == 2)
            await until(pilot, lambda: not app.turns.live and app.status.state == "idle")
            messages = await store.get_messages(old.id)
            assert [m.content for m in messages if m.role == "user"] == ["what changed?", "hello"]
            assert messages[-1].role == "assistant" and messages[-1].content
    finally:
        for gateway in gateways:
            await gateway.aclose()
        await store.close()


async def test_an_engine_that_cannot_start_ends_the_app_with_its_error(
    tmp_path: Path, clock: FrozenClock
) -> None:
    settings = Settings.model_validate({"ui": {"theme": "textual-dark"}})
    store = await SessionStore.open(tmp_path / "agentkit.db", clock=clock)

    async def engine() -> tuple[ChatService, str]:
        raise ConfigurationError("unknown provider 'nope' in model 'nope/x'")

    app = AgentKitApp(settings=settings, store=store, engine=engine, clock=clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.engine_error is not None)
            await until(pilot, lambda: not app.is_running)
        assert isinstance(app.engine_error, ConfigurationError)
        assert app.return_code == 1
    finally:
        await store.close()


def test_the_first_frame_imports_no_engine_and_no_http_client() -> None:
    """What the app needs for its first frame must not pull in the engine, the gateway or
    httpx (a third of start-up): ``agentkit tui`` imports them after the first frame."""
    import subprocess
    import sys

    probe = (
        "import sys, app.cli, app.ui.app; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'httpx' "
        "or m.startswith(('app.engine.service', 'app.llm.gateway', 'app.tools.registry')))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
