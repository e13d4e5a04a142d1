"""Variants of the #13 items that their own tests do not list (the re-test with new cases):
each must end as a clear error the caller sees, never a crash."""

from __future__ import annotations

from pathlib import Path

from app.tools.base import ToolContext, execute
from app.tools.registry import builtin_registry


async def test_a_nul_byte_in_a_shell_command_is_a_tool_error_that_names_it(tmp_path: Path) -> None:
    """Item 3 checked paths; a command with a NUL byte is refused just as plainly."""
    ctx = ToolContext(workspace=tmp_path, timeout=10.0, max_output_chars=4_000)
    shell = builtin_registry().get("shell")
    result = await execute(shell, {"command": "echo a\x00b"}, ctx)
    assert result.is_error
    assert "the command contains a NUL byte" in result.output
    assert "ValueError" not in result.output
