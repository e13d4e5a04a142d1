"""What the clients of the engine (the TUI, the server) use of the layers below it, so they
never reach into ``app.tools`` or ``app.llm`` themselves: rule errors, which earlier calls a
rule would match, trusting a workspace's rules file, the demo model's notice, the
report ``agentkit models`` prints (loaded on first use: it needs the HTTP client), and the
MCP servers' status and the ``server › tool`` label of their tools.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.mcp.naming import split_name

if TYPE_CHECKING:
    from app.config import Settings
    from app.engine.service import ChatService
    from app.llm.demo import DEMO_NOTICE
    from app.llm.describe import ModelsReport
    from app.tools.rules import RuleError, matching_calls, trust_rules_file

__all__ = [
    "DEMO_NOTICE",
    "McpServerStatus",
    "RuleError",
    "describe_models",
    "display_tool_name",
    "matching_calls",
    "mcp_servers",
    "trust_rules_file",
]

#: Names loaded on first use: the TUI draws its first frame before the tools and the models
#: are imported (``tools.rules`` brings tomlkit, ``llm.demo`` the gateway's types).
_LAZY = {
    "DEMO_NOTICE": "app.llm.demo",
    "RuleError": "app.tools.rules",
    "matching_calls": "app.tools.rules",
    "trust_rules_file": "app.tools.rules",
}


def __getattr__(name: str) -> Any:
    """Import a lazily loaded name (PEP 562) the first time it is asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


async def describe_models(settings: Settings) -> ModelsReport:
    """Which providers are usable, their models and windows, and the default (probes them)."""
    from app.llm.describe import describe_models as describe

    return await describe(settings)


@dataclass(frozen=True)
class McpServerStatus:
    """One configured MCP server as the TUI shows it: its status, why it failed, its tools."""

    name: str
    #: running, starting, failed, crashed, disabled, not_trusted or stopped.
    status: str
    transport: str
    #: Why it failed or is not started (None when nothing went wrong).
    error: str | None
    tool_count: int
    #: The server's own names of its tools, in its order.
    tools: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """One line: the status, the tool count when running, the reason when not."""
        status = self.status.replace("_", " ")
        if self.status == "running":
            return f"running · {self.tool_count} tool{'s' if self.tool_count != 1 else ''}"
        return f"{status}: {self.error}" if self.error else status


def mcp_servers(service: ChatService) -> list[McpServerStatus]:
    """A snapshot of the service's MCP servers, in config order (empty: none configured)."""
    if service.mcp is None:
        return []
    return [
        McpServerStatus(
            state.name,
            state.status,
            state.transport,
            state.error,
            len(state.tools),
            tuple(tool.name for tool in state.tools),
        )
        for state in service.mcp.states()
    ]


def display_tool_name(name: str) -> str:
    """How a tool is labelled for people: ``server › tool`` for an MCP tool, else its name."""
    parts = split_name(name)
    return f"{parts[0]} › {parts[1]}" if parts else name
