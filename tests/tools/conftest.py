"""Fixtures for tool tests: a workspace in a temp dir, a context, and helpers that run tools."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from app.tools.base import ToolContext, ToolResult, execute
from app.tools.registry import ToolRegistry, builtin_registry


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace directory (its parent holds files "outside" it)."""
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.fixture
def ctx(workspace: Path) -> ToolContext:
    """A tool context on the workspace with short limits."""
    return ToolContext(workspace=workspace, timeout=10.0, max_output_chars=4_000)


@pytest.fixture
def registry() -> ToolRegistry:
    """Every built-in tool."""
    return builtin_registry()


class Runner:
    """Runs a built-in tool by name through :func:`execute`, as the engine does."""

    def __init__(self, registry: ToolRegistry, ctx: ToolContext) -> None:
        self.registry = registry
        self.ctx = ctx

    async def __call__(self, name: str, args: Mapping[str, Any] | str) -> ToolResult:
        return await execute(self.registry.get(name), args, self.ctx)


@pytest.fixture
def run(registry: ToolRegistry, ctx: ToolContext) -> Runner:
    """``await run("read_file", {...})`` → ToolResult."""
    return Runner(registry, ctx)


@pytest.fixture(autouse=True)
def _fresh_effective_cache() -> None:
    """Each test sees the analysis of its own code: ``_effective_top`` caches lines, and a
    mutation run forks test processes from a warm one."""
    from app.tools.shellparse.effective import _effective_top

    _effective_top.cache_clear()
