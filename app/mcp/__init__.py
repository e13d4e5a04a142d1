"""MCP tool servers: each tool of a configured ``[mcp.servers.NAME]`` becomes a tool named
``mcp__<server>__<tool>`` that runs through the same approvals as the built-in tools.

The official MCP SDK is an optional extra (``agentkit-tui[mcp]``); nothing here imports it
until a server starts, so the engine loads without it.
"""

from __future__ import annotations

import importlib.util

INSTALL_HINT = (
    "MCP servers are configured but the MCP SDK is not installed: pip install 'agentkit-tui[mcp]'"
)


def sdk_missing() -> bool:
    """Whether the ``mcp`` SDK cannot be imported."""
    try:
        return importlib.util.find_spec("mcp") is None
    except (ImportError, ValueError):
        return True
