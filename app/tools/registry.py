"""Tool registry: name → tool, JSON specs for the model, and clear unknown-tool errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from app.tools.base import Tool, ToolError
from app.tools.edits import EditFileTool, WriteFileTool
from app.tools.files import FindFilesTool, ListDirTool, ReadFileTool, SearchTextTool
from app.tools.human import AskHumanTool
from app.tools.names import BUILTIN_TOOL_NAMES
from app.tools.shell import ShellTool
from app.tools.web import WebFetchTool

__all__ = ["BUILTIN_TOOL_NAMES", "ToolRegistry", "UnknownToolError", "builtin_registry"]


class UnknownToolError(ToolError):
    """The model (or a config) named a tool that is not registered."""


class ToolRegistry:
    """The tools an agent may use, by name, in registration order."""

    def __init__(self, tools: Iterable[Tool[Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any]) -> None:
        """Add a tool; a second tool with the same name is a programming error."""
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def unregister(self, name: str) -> None:
        """Remove the tool called ``name``, if there is one (an MCP server dropped it)."""
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool[Any]:
        """The tool called ``name``, or an UnknownToolError that lists the available tools."""
        try:
            return self._tools[name]
        except KeyError:
            available = ", ".join(self._tools) or "none"
            raise UnknownToolError(
                f"Unknown tool {name!r}. Available tools: {available}."
            ) from None

    def names(self) -> list[str]:
        """Every registered tool name, in registration order."""
        return list(self._tools)

    def specs(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """``{name, description, parameters}`` for the named tools (all when ``names`` is None)."""
        chosen = self._tools.values() if names is None else [self.get(n) for n in names]
        return [tool.spec() for tool in chosen]

    def subset(self, names: Iterable[str] | None) -> ToolRegistry:
        """A registry holding only ``names`` (all tools when ``None``); unknown names raise."""
        if names is None:
            return ToolRegistry(self._tools.values())
        return ToolRegistry(self.get(name) for name in dict.fromkeys(names))

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool[Any]]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)


def builtin_registry() -> ToolRegistry:
    """A fresh registry with every built-in tool."""
    return ToolRegistry(
        [
            ListDirTool(),
            ReadFileTool(),
            FindFilesTool(),
            SearchTextTool(),
            WriteFileTool(),
            EditFileTool(),
            ShellTool(),
            WebFetchTool(),
            AskHumanTool(),
        ]
    )
