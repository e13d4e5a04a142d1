"""The composition root (app/wiring.py): the one place that builds the store, gateway,
skills, MCP manager and ChatService. What it opens it closes; what it is lent it leaves
open; and it is the only constructor of ChatService in the app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import Settings
from app.engine.human import PolicyHuman
from app.store import SessionStore
from app.wiring import load_skill_set, open_engine, open_store

REPO_ROOT = Path(__file__).resolve().parents[2]
OFFLINE = {"OLLAMA_HOST": "127.0.0.1:9"}  # the Ollama probe is refused at once


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    return root


async def test_an_engine_over_a_database_file_runs_a_turn_and_closes_what_it_opened(
    tmp_path: Path, workspace: Path
) -> None:
    engine = await open_engine(
        Settings(),
        store=tmp_path / "agentkit.db",
        workspace=workspace,
        user_config_file=tmp_path / "config.toml",
        gateway_env=OFFLINE,
        demo_delay=0,
    )
    async with engine:
        assert engine.owns_store and engine.owns_gateway
        assert engine.service.store is engine.store and engine.service.gateway is engine.gateway
        assert "review" in engine.skills.skills  # the built-in skills by default
        assert engine.service.mcp is None
        session = await engine.store.create_session("default")
        kinds = [
            event.type
            async for event in engine.service.send(
                session.id, "hello", human=PolicyHuman(approve=False)
            )
        ]
        assert kinds[-1] == "result"
    assert engine.closed
    with pytest.raises(ValueError):  # the store's connection is closed
        await engine.store.list_sessions()
    await engine.aclose()  # a second close does nothing


async def test_a_lent_store_stays_open_after_the_engine_closes(
    tmp_path: Path, workspace: Path
) -> None:
    store = await open_store(tmp_path / "agentkit.db")
    async with store:
        engine = await open_engine(
            Settings(),
            store=store,
            workspace=workspace,
            user_config_file=tmp_path / "config.toml",
            gateway_env=OFFLINE,
        )
        await engine.aclose()
        assert not engine.owns_store
        assert await store.list_sessions() == []  # still usable


async def test_configured_mcp_servers_start_only_when_a_log_file_is_given(
    tmp_path: Path, workspace: Path
) -> None:
    settings = Settings.model_validate(
        {"mcp": {"servers": {"off": {"command": "true", "enabled": False}}}}
    )
    store = await SessionStore.open(tmp_path / "agentkit.db")
    async with store:
        without = await open_engine(
            settings, store=store, workspace=workspace, user_config_file=tmp_path / "c.toml"
        )
        async with without:
            assert without.service.mcp is None
        with_log = await open_engine(
            settings,
            store=store,
            workspace=workspace,
            user_config_file=tmp_path / "c.toml",
            mcp_log_file=tmp_path / "agentkit.log",
        )
        async with with_log:
            assert with_log.service.mcp is not None
            assert with_log.service.mcp.configured


def test_skills_come_from_the_user_and_the_workspace_over_the_built_in_ones(
    tmp_path: Path, workspace: Path
) -> None:
    user_skills = tmp_path / "skills"
    user_skills.mkdir()
    (user_skills / "mine.md").write_text("---\nname: mine\ndescription: Mine.\n---\nDo it.\n")
    assert "mine" not in load_skill_set().skills
    chosen = load_skill_set(user_skills, workspace)
    assert "mine" in chosen.skills and "review" in chosen.skills


def test_chat_service_is_constructed_only_in_the_composition_root() -> None:
    constructed = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("app", "tests")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if re.search(r"\bChatService\(", path.read_text(encoding="utf-8"))
        and path.name != Path(__file__).name
    ]
    # Nothing calls the class itself; the root makes it (or a subclass a benchmark names).
    assert constructed == []
    assert "make = service_class or ChatService" in (REPO_ROOT / "app/wiring.py").read_text()
