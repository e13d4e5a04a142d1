"""How an MCP server's tool is named for the model: ``mcp__<server>__<tool>``."""

from __future__ import annotations

import hashlib
import re

PREFIX = "mcp__"
#: Providers accept tool names of at most 64 characters from this alphabet.
MAX_NAME = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """The full name of ``tool`` of ``server``: unsafe characters become ``_``, and a name
    too long for the providers is cut and given a short hash so it stays unique."""
    full = f"{PREFIX}{server}__{_UNSAFE.sub('_', tool) or '_'}"
    if len(full) <= MAX_NAME:
        return full
    digest = hashlib.sha256(tool.encode("utf-8")).hexdigest()[:8]
    return f"{full[: MAX_NAME - 9]}_{digest}"


def split_name(full: str) -> tuple[str, str] | None:
    """``(server, tool)`` of a full MCP tool name (the tool as sanitised), else ``None``."""
    if not full.startswith(PREFIX):
        return None
    server, sep, tool = full[len(PREFIX) :].partition("__")
    return (server, tool) if sep and server and tool else None
