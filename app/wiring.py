"""The composition root: the one place that builds the store, the gateway, the skills, the
MCP manager and the ``ChatService`` over them.

The CLI commands (``run``, ``tui``, ``serve``, ``mcp``), the screenshot scenarios, the test
harnesses and the benchmarks all build their engine here, so a new part of the engine is
wired in once. The engine, gateway and MCP modules are imported inside the functions that
build them: ``agentkit sessions …`` opens a store through this module without loading them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.store import SessionStore
from app.store.base import Clock, utc_now

if TYPE_CHECKING:
    import httpx

    from app.config import Settings, WorkspaceRules
    from app.engine.service import ChatService
    from app.engine.skills import SkillSet
    from app.llm.gateway import Gateway
    from app.mcp.manager import McpManager
    from app.tools.registry import ToolRegistry


async def open_store(path: Path, *, create: bool = True, clock: Clock = utc_now) -> SessionStore:
    """Open (and if ``create``, create and migrate) the session database at ``path``."""
    return await SessionStore.open(path, create=create, clock=clock)


def load_skill_set(user_skills: Path | None = None, workspace: Path | None = None) -> SkillSet:
    """The built-in skills, then the user's and the workspace's (when given) over them."""
    from app.engine.skills import BUILTIN_SKILLS_DIR, load_skills, skill_folders

    if user_skills is None or workspace is None:
        return load_skills([BUILTIN_SKILLS_DIR])
    return load_skills(skill_folders(user_skills, workspace))


def build_mcp(
    settings: Settings,
    workspace: Path,
    *,
    log_file: Path | None,
    workspace_rules: WorkspaceRules | None = None,
    env: Mapping[str, str] | None = None,
) -> McpManager:
    """The manager of the configured MCP tool servers (none started yet)."""
    from app.mcp.manager import McpManager

    return McpManager(
        settings, workspace, log_file=log_file, workspace_rules=workspace_rules, env=env
    )


def build_service(
    settings: Settings,
    store: SessionStore,
    gateway: Gateway,
    *,
    workspace: Path,
    user_config_file: Path,
    skills: SkillSet | None = None,
    registry: ToolRegistry | None = None,
    protected_dirs: tuple[Path, ...] = (),
    workspace_rules: WorkspaceRules | None = None,
    mcp: McpManager | None = None,
    service_class: type[ChatService] | None = None,
) -> ChatService:
    """The chat engine over parts that are already open (the caller closes them);
    ``service_class`` is a subclass to build instead (benchmarks that time events)."""
    from app.engine.service import ChatService

    make = service_class or ChatService  # the one place a chat service is made
    return make(
        settings,
        store,
        gateway,
        workspace=workspace,
        user_config_file=user_config_file,
        skills=skills if skills is not None else load_skill_set(),
        registry=registry,
        protected_dirs=protected_dirs,
        workspace_rules=workspace_rules,
        mcp=mcp,
    )


@dataclass
class Engine:
    """An engine and the parts it runs on; ``aclose`` stops it and closes what it opened."""

    settings: Settings
    store: SessionStore
    gateway: Gateway
    skills: SkillSet
    service: ChatService
    #: Whether ``aclose`` closes the store and the gateway (False: the caller lent them).
    owns_store: bool = True
    owns_gateway: bool = True
    closed: bool = False

    async def aclose(self) -> None:
        """Stop running turns and MCP servers, then close the gateway and store it opened."""
        if self.closed:
            return
        self.closed = True
        try:
            await self.service.shutdown()
        finally:
            try:
                if self.owns_gateway:
                    await self.gateway.aclose()
            finally:
                if self.owns_store:
                    await self.store.close()

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def open_engine(
    settings: Settings,
    *,
    workspace: Path,
    user_config_file: Path,
    store: SessionStore | Path,
    gateway: Gateway | None = None,
    gateway_env: Mapping[str, str] | None = None,
    demo_delay: float | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    skills: SkillSet | None = None,
    clock: Clock = utc_now,
    registry: ToolRegistry | None = None,
    protected_dirs: tuple[Path, ...] = (),
    workspace_rules: WorkspaceRules | None = None,
    mcp: McpManager | None = None,
    mcp_log_file: Path | None = None,
) -> Engine:
    """Open an engine over ``settings`` for ``workspace``.

    ``store`` is an open store (lent: not closed by ``aclose``) or a database file to open
    with ``clock``. ``gateway`` is lent the same way; without one, a gateway is made over
    ``gateway_env`` (default: the process's), ``demo_delay`` and ``transport``. Skills
    default to the built-in ones. MCP: pass a ``mcp`` manager, or ``mcp_log_file`` to start
    the configured servers (if any) in the background, as the commands do; neither means
    no MCP tools.
    """
    from app.llm.gateway import Gateway

    owns_store = not isinstance(store, SessionStore)
    opened = await open_store(store, clock=clock) if not isinstance(store, SessionStore) else store
    owns_gateway = gateway is None
    made_gateway = gateway or Gateway(
        settings, gateway_env, demo_delay=demo_delay, transport=transport
    )
    try:
        if mcp is None and mcp_log_file is not None:
            mcp = _configured_mcp(settings, workspace, mcp_log_file, workspace_rules)
        chosen_skills = skills if skills is not None else load_skill_set()
        service = build_service(
            settings,
            opened,
            made_gateway,
            workspace=workspace,
            user_config_file=user_config_file,
            skills=chosen_skills,
            registry=registry,
            protected_dirs=protected_dirs,
            workspace_rules=workspace_rules,
            mcp=mcp,
        )
    except BaseException:
        if owns_gateway:
            await made_gateway.aclose()
        if owns_store:
            await opened.close()
        raise
    return Engine(
        settings,
        opened,
        made_gateway,
        chosen_skills,
        service,
        owns_store=owns_store,
        owns_gateway=owns_gateway,
    )


def _configured_mcp(
    settings: Settings, workspace: Path, log_file: Path, rules: WorkspaceRules | None
) -> McpManager | None:
    """A manager of the configured MCP servers, or ``None`` when none is configured."""
    manager = build_mcp(settings, workspace, log_file=log_file, workspace_rules=rules)
    return manager if manager.configured else None
