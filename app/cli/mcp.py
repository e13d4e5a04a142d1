"""``agentkit mcp list`` and ``agentkit mcp test NAME``: the configured MCP tool servers,
started for a moment to show their status and tools."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.context import Context, UsageError
from app.config import read_workspace_rules, with_workspace_rules
from app.paths import workspace_config_file
from app.textsafe import one_line

if TYPE_CHECKING:
    from app.mcp.manager import McpManager, ServerState


def register(
    commands: argparse._SubParsersAction[Any],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``mcp list`` and ``mcp test`` to the ``agentkit`` parser."""
    mcp = commands.add_parser("mcp", help="MCP tool servers: their status and tools")
    add_common(mcp)
    mcp.set_defaults(handler=cmd_mcp_list, json=False, workspace=None)
    actions = mcp.add_subparsers(title="mcp commands", metavar="ACTION")

    listing = actions.add_parser(
        "list", help="every configured server: running, failed and why, or disabled; its tools"
    )
    listing.add_argument("--json", action="store_true", help="print JSON for machines")
    listing.add_argument(
        "--workspace", type=Path, help="whose .agentkit/config.toml servers to include (default .)"
    )
    add_common(listing)
    listing.set_defaults(handler=cmd_mcp_list)

    test = actions.add_parser("test", help="start one server and list its tools")
    test.add_argument("name", metavar="NAME", help="the server's name in [mcp.servers.NAME]")
    test.add_argument("--json", action="store_true", help="print JSON for machines")
    test.add_argument("--workspace", type=Path, help="the workspace (default .)")
    add_common(test)
    test.set_defaults(handler=cmd_mcp_test)


def _manager(ctx: Context, only_enable: str | None = None) -> McpManager:
    from app.wiring import build_mcp

    workspace = ctx.workspace()
    rules = read_workspace_rules(workspace_config_file(workspace), ctx.settings)
    settings = with_workspace_rules(ctx.settings, rules)
    if only_enable is not None:
        servers = settings.mcp.servers
        if only_enable not in servers:
            untrusted = rules is not None and any(n == only_enable for n, _ in rules.mcp_servers)
            if untrusted:
                raise UsageError(
                    f"the MCP server {only_enable!r} comes from {rules.file if rules else ''}, "
                    "which is not trusted: run agentkit in a terminal there to review and trust it"
                )
            known = ", ".join(servers) or "none configured"
            raise UsageError(f"no MCP server named {only_enable!r} (known: {known})")
        chosen = servers[only_enable].model_copy(update={"enabled": True})
        settings = settings.model_copy(
            update={"mcp": settings.mcp.model_copy(update={"servers": {only_enable: chosen}})}
        )
        rules = None
    if ctx.is_default_db:
        ctx.paths.ensure_data_dir()  # the log file lives there
    return build_mcp(settings, workspace, log_file=ctx.log_file, workspace_rules=rules)


async def _run(manager: McpManager) -> list[ServerState]:
    from app.mcp import INSTALL_HINT
    from app.tools.registry import ToolRegistry

    manager.start(ToolRegistry())
    try:
        longest = max((c.config.startup_timeout for c in manager.connections.values()), default=0)
        await manager.wait_started(longest + 5.0)
        return manager.states()
    finally:
        await manager.shutdown()
        if any(state.error == INSTALL_HINT for state in manager.states()):
            raise UsageError(INSTALL_HINT)


def _status(state: ServerState) -> str:
    if state.status in ("failed", "crashed", "not_trusted") and state.error:
        return f"{state.status.replace('_', ' ')}: {state.error}"
    return state.status.replace("_", " ")


async def cmd_mcp_list(ctx: Context) -> int:
    """``agentkit mcp list``: start every enabled server, show status and tools, stop them."""
    manager = _manager(ctx)
    states = await _run(manager)
    if ctx.args.json:
        ctx.print_json([state.as_json() for state in states])
        return 0
    if not states:
        ctx.print("No MCP servers are configured (add [mcp.servers.NAME] to the config file).")
        return 0
    if not ctx.is_tty:
        for state in states:
            tools = ",".join(tool.full_name for tool in state.tools)
            row = [
                state.name,
                state.status,
                state.transport,
                state.target,
                state.error or "",
                tools,
            ]
            ctx.print("\t".join(one_line(cell, 1000) for cell in row))
        return 0
    for state in states:
        _print_state(ctx, state)
    return 0


def _print_state(ctx: Context, state: ServerState) -> None:
    origin = " (workspace)" if state.origin == "workspace" else ""
    ctx.print(f"{state.name}{origin}  [{state.transport}] {one_line(state.target, 120)}")
    ctx.print(f"  status: {one_line(_status(state), 200)}")
    for line in state.stderr:
        ctx.print(f"  stderr: {one_line(line, 200)}")
    for tool in state.tools:
        hint = " (read-only hint)" if tool.read_only_hint else ""
        ctx.print(f"  {tool.full_name}{hint}  {one_line(tool.description, 90)}")
    ctx.print()


async def cmd_mcp_test(ctx: Context) -> int:
    """``agentkit mcp test NAME``: start one server (even a disabled one), list its tools."""
    manager = _manager(ctx, only_enable=ctx.args.name)
    states = await _run(manager)
    state = states[0]
    if ctx.args.json:
        ctx.print_json(state.as_json())
    else:
        _print_state(ctx, state)
    if state.status == "running":
        return 0
    ctx.err.write(f"agentkit: error: {one_line(_status(state), 300)}\n")
    return 1
