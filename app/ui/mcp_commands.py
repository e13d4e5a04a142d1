"""The MCP servers in the command palette: one entry per configured server with its status
(running and its tool count, starting, failed and why, disabled, not trusted); choosing one
tells its status in full, with the names of its tools. The status is a snapshot from the
engine (``app.engine.clients``), read each time the palette searches, so it follows servers
that start or fail later."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from app.textsafe import one_line

if TYPE_CHECKING:
    from textual.app import App

    from app.engine.clients import McpServerStatus
    from app.ui.app import AgentKitApp


def app_servers(app: App[Any]) -> list[McpServerStatus]:
    """The MCP servers of the app's engine (empty until the engine is up, or with none)."""
    agent = cast("AgentKitApp", app)
    if not getattr(agent, "has_service", False):
        return []
    from app.engine.clients import mcp_servers  # the engine is up: its modules are loaded

    return mcp_servers(agent.service)


def palette_text(server: McpServerStatus) -> str:
    """What the palette shows (and matches) for a server: ``MCP server NAME``."""
    return f"MCP server {one_line(server.name)}"


class McpCommands(Provider):
    """Palette entries for the MCP servers and their status."""

    def _entries(self) -> list[tuple[str, str, McpServerStatus]]:
        return [
            (palette_text(server), one_line(server.summary, 120), server)
            for server in app_servers(self.app)
        ]

    def _tell(self, server: McpServerStatus) -> None:
        failed = server.status in ("failed", "crashed")
        tools = f": {one_line(', '.join(server.tools), 400)}" if server.tools else ""
        self.app.notify(
            f"{one_line(server.name)} ({server.transport}): {one_line(server.summary, 300)}"
            + tools,
            title="MCP server",
            severity="error" if failed else "information",
            markup=False,
        )

    async def discover(self) -> Hits:
        """Every server, listed when the palette opens with nothing typed."""
        for text, summary, server in self._entries():
            yield DiscoveryHit(text, functools.partial(self._tell, server), text, summary)

    async def search(self, query: str) -> Hits:
        """The servers whose entry (name or status) matches what is typed."""
        matcher = self.matcher(query)
        for text, summary, server in self._entries():
            score = max(matcher.match(text), matcher.match(f"{text} {summary}") * 0.9)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    functools.partial(self._tell, server),
                    text,
                    summary,
                )
