"""The MCP servers of one engine: started in the background, their tools registered as
``mcp__<server>__<tool>``, their news told to the turns, and all stopped at the end.

Nothing waits for the servers when the engine starts. A turn that starts while some are
still starting waits for them, at most :data:`TURN_WAIT_SECONDS`; the ones still not up
are left out of that turn, and a notice says so. What goes wrong in the background (a
server that failed to start, crashes in a row, the SDK missing, servers of an untrusted
workspace file) is told as a ``notice`` at the start of the next turn of each session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app import secretenv
from app.config import McpServerConfig, Settings, WorkspaceRules
from app.mcp import INSTALL_HINT, sdk_missing
from app.mcp.connection import ServerConnection, Status, ToolInfo
from app.mcp.naming import tool_name
from app.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

#: Longest a turn waits for servers that are still starting.
TURN_WAIT_SECONDS = 5.0


@dataclass
class ServerState:
    """What ``agentkit mcp list`` shows for one server."""

    name: str
    transport: str
    target: str
    status: Status
    error: str | None = None
    stderr: list[str] = field(default_factory=list)
    tools: list[ToolInfo] = field(default_factory=list)
    origin: str = "user"

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "name": self.name,
            "transport": self.transport,
            "target": self.target,
            "origin": self.origin,
            "status": self.status,
            "error": self.error,
            "stderr": self.stderr,
            "tools": [
                {
                    "name": tool.full_name,
                    "server_tool": tool.name,
                    "description": tool.description,
                    "read_only_hint": tool.read_only_hint,
                }
                for tool in self.tools
            ],
        }


class McpManager:
    """Owns every configured MCP server of one engine (TUI, ``run`` or ``serve``)."""

    def __init__(
        self,
        settings: Settings,
        workspace: Path,
        *,
        log_file: Path | None,
        workspace_rules: WorkspaceRules | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.log_file = log_file
        self._env = dict(secretenv.environ() if env is None else env)
        self.connections: dict[str, ServerConnection] = {}
        self.disabled: dict[str, McpServerConfig] = {}
        self.untrusted: dict[str, McpServerConfig] = {}
        self._workspace_names: set[str] = set()
        self._news: list[tuple[str, str]] = []
        self._told: dict[str, int] = {}
        self._starts: dict[str, asyncio.Task[None]] = {}
        self._registry: ToolRegistry | None = None
        self._stopped = False
        if workspace_rules is not None:
            if workspace_rules.trusted:
                # Merged into the settings already (the person's own server of the same
                # name wins): these are the workspace's.
                self._workspace_names = {
                    name
                    for name, config in workspace_rules.mcp_servers
                    if settings.mcp.servers.get(name) == config
                }
            else:
                self.untrusted = {
                    name: config
                    for name, config in workspace_rules.mcp_servers
                    if name not in settings.mcp.servers
                }
                if self.untrusted:
                    listed = ", ".join(sorted(self.untrusted))
                    self._tell(
                        "mcp_untrusted",
                        f"MCP servers of {workspace_rules.file} are not started ({listed}): "
                        "the file is not trusted. Run agentkit in a terminal in this workspace "
                        "to review and trust it.",
                    )
        for name, config in settings.mcp.servers.items():
            if not config.enabled:
                self.disabled[name] = config
                continue
            self.connections[name] = ServerConnection(
                name,
                config,
                workspace=workspace,
                log_file=log_file,
                env=self._env,
                news=self._tell,
                tools_changed=self._tools_changed,
            )

    @property
    def configured(self) -> bool:
        """Whether any server is configured at all (enabled, disabled or untrusted)."""
        return bool(self.connections or self.disabled or self.untrusted)

    # ----------------------------------------------------------------- starting

    def start(self, registry: ToolRegistry, only: list[str] | None = None) -> None:
        """Start the enabled servers in the background; their tools go into ``registry``."""
        self._registry = registry
        if not self.connections:
            return
        if sdk_missing():
            self._tell("mcp_unavailable", INSTALL_HINT)
            for connection in self.connections.values():
                connection.status, connection.error = "failed", INSTALL_HINT
            return
        for name, connection in self.connections.items():
            if only is not None and name not in only:
                continue
            self._starts[name] = asyncio.get_running_loop().create_task(
                self._start_one(connection), name=f"mcp-start:{name}"
            )

    async def _start_one(self, connection: ServerConnection) -> None:
        if await connection.start():
            self.register(connection)
        elif not self._stopped:
            self._tell("mcp_failed", connection.failure_line())

    def register(self, connection: ServerConnection) -> None:
        """Put the server's tools into the registry (new names only: a restart keeps them)."""
        from app.mcp.tools import make_tool

        if self._registry is None:
            return
        for info in connection.tools:
            if info.full_name not in self._registry:
                self._registry.register(make_tool(connection, info))

    def _tools_changed(
        self, connection: ServerConnection, added: list[str], removed: list[str]
    ) -> None:
        """A running server changed its tools: the registry follows, the next turns are told."""
        if self._registry is not None:
            for name in removed:
                self._registry.unregister(tool_name(connection.name, name))
        self.register(connection)
        if not added and not removed:
            return
        what = [f"added {', '.join(added)}"] if added else []
        what += [f"removed {', '.join(removed)}"] if removed else []
        self._tell(
            "mcp_tools_changed",
            f"The MCP server {connection.name!r} changed its tools ({'; '.join(what)}).",
        )

    async def wait_started(self, within: float = TURN_WAIT_SECONDS) -> list[str]:
        """Wait until every server has started or failed (at most ``within`` seconds);
        the names of those still starting."""
        pending = [task for task in self._starts.values() if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=within)
        return [name for name, task in self._starts.items() if not task.done()]

    # ----------------------------------------------------------------- news

    def _tell(self, code: str, message: str) -> None:
        # Told to the turns as a notice; also a line in the log file (the logging module
        # would print it on stderr in `agentkit run`, twice with the notice).
        log.info("%s", message)
        if self.log_file is not None:
            stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            with contextlib.suppress(OSError), open(self.log_file, "a", encoding="utf-8") as f:
                f.write(f"{stamp} mcp: {message}\n")
        self._news.append((code, message))

    def news_for(self, session_id: str) -> list[tuple[str, str]]:
        """What happened since this session's last turn was told: ``(code, message)``."""
        start = self._told.get(session_id, 0)
        self._told[session_id] = len(self._news)
        return self._news[start:]

    # ----------------------------------------------------------------- states

    def states(self) -> list[ServerState]:
        """Every configured server with its status and tools, in config order."""
        states: list[ServerState] = []
        for name, connection in self.connections.items():
            config = connection.config
            status, error = connection.status, connection.error
            if status == "running" and connection.process_ended:
                status, error = "crashed", "it exited; it is started again on the next call"
            states.append(
                ServerState(
                    name=name,
                    transport=config.transport,
                    target=config.command_line(),
                    status=status,
                    error=error,
                    stderr=list(connection.stderr_head),
                    tools=list(connection.tools),
                    origin="workspace" if name in self._workspace_names else "user",
                )
            )
        for name, config in self.disabled.items():
            states.append(ServerState(name, config.transport, config.command_line(), "disabled"))
        for name, config in self.untrusted.items():
            states.append(
                ServerState(
                    name,
                    config.transport,
                    config.command_line(),
                    "not_trusted",
                    error="the workspace file is not trusted",
                    origin="workspace",
                )
            )
        return states

    # ----------------------------------------------------------------- stopping

    async def shutdown(self) -> None:
        """Stop every server (idempotent); no server process outlives this."""
        self._stopped = True
        for task in self._starts.values():
            if not task.done():
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._starts.values(), return_exceptions=True)
        await asyncio.gather(
            *(connection.stop() for connection in self.connections.values()),
            return_exceptions=True,
        )
