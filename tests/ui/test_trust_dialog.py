"""At start-up the app asks, once, whether to trust the allow rules of the workspace's own
``.agentkit/config.toml`` (issue 12, item 5): the dialog lists them (literally: they come from a
cloned repository), ``t`` trusts the file — remembered by its hash in the user's config — and
``n`` leaves its allow rules out of the engine. Built as ``agentkit tui`` builds it: the engine
starter asks through ``settle_trust`` before it makes the service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from textual.widgets import Static

from app.config import Settings, load_settings, read_workspace_rules, with_workspace_rules
from app.engine.service import ChatService
from app.llm.gateway import Gateway
from app.paths import workspace_config_file
from app.store import SessionStore
from app.ui.app import AgentKitApp
from app.ui.dialogs.trust import TrustDialog
from app.ui.startup import settle_trust
from app.wiring import build_service
from tests.conftest import FrozenClock
from tests.ui.conftest import until

RULES = '[approval]\nallow = ["shell", "shell(echo [b]hi[/b])"]\ndeny = ["shell(rm *)"]\n'

Build = Callable[[], Awaitable[AgentKitApp]]


@pytest.fixture
async def build(tmp_path: Path, workspace: Path, clock: FrozenClock) -> AsyncIterator[Build]:
    """An app whose engine starter settles trust first, as ``agentkit tui`` does."""
    user_config = tmp_path / "config.toml"
    user_config.write_text('# mine\n[ui]\ntheme = "textual-dark"\n')
    closing: list[SessionStore | Gateway] = []

    async def make() -> AgentKitApp:
        settings = load_settings(user_config, {})
        found = read_workspace_rules(workspace_config_file(workspace), settings)
        store = await SessionStore.open(tmp_path / "agentkit.db", clock=clock)
        closing.append(store)
        app: AgentKitApp

        async def engine() -> tuple[ChatService, str]:
            rules = await settle_trust(app, found, user_config)
            merged = with_workspace_rules(settings, rules)
            gateway = Gateway(merged, env={"OLLAMA_HOST": "127.0.0.1:9"}, demo_delay=0.0)
            closing.append(gateway)
            service = build_service(
                merged,
                store,
                gateway,
                workspace=workspace,
                user_config_file=user_config,
                workspace_rules=rules,
            )
            return service, "demo"

        app = AgentKitApp(settings=settings, store=store, engine=engine, clock=clock)
        return app

    yield make
    for item in reversed(closing):
        if isinstance(item, Gateway):
            await item.aclose()
        else:
            await item.close()


def _trusted(tmp_path: Path, workspace: Path) -> bool:
    settings: Settings = load_settings(tmp_path / "config.toml", {})
    rules = read_workspace_rules(workspace_config_file(workspace), settings)
    assert rules is not None
    return rules.trusted


@pytest.fixture
def rules_file(workspace: Path) -> Path:
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text(RULES)
    return path


async def test_trust_shows_the_rules_and_remembers_the_file(
    build: Build, rules_file: Path, workspace: Path, tmp_path: Path
) -> None:
    app = await build()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TrustDialog))
        shown = [str(static.content) for static in app.screen.query(Static)]
        assert any(str(rules_file) in line for line in shown)
        assert "allow  shell" in shown
        assert "allow  shell(echo [b]hi[/b])" in shown  # literally, not as markup
        assert "deny   shell(rm *)  (applies either way)" in shown
        assert app._service is None  # the engine waits for the answer

        await pilot.press("t")
        assert await app.engine_started()
        assert app.service.settings.approval.allow == ["shell", "shell(echo [b]hi[/b])"]
        assert app.service.settings.approval.deny == ["shell(rm *)"]
    assert _trusted(tmp_path, workspace)
    assert (tmp_path / "config.toml").read_text().startswith("# mine\n")

    app = await build()  # remembered: the next start does not ask
    async with app.run_test(size=(120, 40)) as pilot:
        assert await app.engine_started()
        await pilot.pause()
        assert not isinstance(app.screen, TrustDialog)
        assert app.service.settings.approval.allow == ["shell", "shell(echo [b]hi[/b])"]


async def test_not_now_leaves_the_allow_rules_out_and_asks_again(
    build: Build, rules_file: Path, workspace: Path, tmp_path: Path
) -> None:
    app = await build()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TrustDialog))
        await pilot.press("n")
        assert await app.engine_started()
        assert app.service.settings.approval.allow == []
        assert app.service.settings.approval.deny == ["shell(rm *)"]
    assert not _trusted(tmp_path, workspace)
    assert "trusted_workspaces" not in (tmp_path / "config.toml").read_text()

    app = await build()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TrustDialog))
        await pilot.press("escape")
        assert await app.engine_started()
        assert app.service.settings.approval.allow == []


async def test_a_file_without_allow_rules_asks_nothing(
    build: Build, workspace: Path, tmp_path: Path
) -> None:
    path = workspace_config_file(workspace)
    path.parent.mkdir()
    path.write_text('[approval]\ndeny = ["shell(rm *)"]\n')
    app = await build()
    async with app.run_test(size=(120, 40)) as pilot:
        assert await app.engine_started()
        await pilot.pause()
        assert not isinstance(app.screen, TrustDialog)
        assert app.service.settings.approval.deny == ["shell(rm *)"]
