"""``agentkit tui`` and ``agentkit`` alone: the full-screen app on a terminal, an overview of
where things are in a pipe.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import __version__
from app.cli.context import Context, UsageError
from app.cli.logs import log_to_file, log_to_stream
from app.cli.sessions import print_session_table
from app.config import read_workspace_rules, with_workspace_rules
from app.paths import workspace_config_file

if TYPE_CHECKING:
    from app.engine.service import ChatService


def register(
    commands: argparse._SubParsersAction[Any],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``tui`` to the ``agentkit`` parser."""
    tui = commands.add_parser("tui", help="open the full-screen app (the default command)")
    tui.add_argument("--workspace", type=Path, help="root for file tools and commands (default .)")
    add_common(tui)
    tui.set_defaults(handler=cmd_tui)


async def cmd_default(ctx: Context) -> int:
    """``agentkit`` alone: the full-screen app on a terminal, an overview in a pipe."""
    if ctx.out.isatty() and sys.stdin.isatty():
        return await cmd_tui(ctx)
    if ctx.log_level is not None:  # not full-screen after all: stderr is free
        log_to_stream(ctx.err, ctx.log_level)
    return await cmd_home(ctx)


async def cmd_tui(ctx: Context) -> int:
    """``agentkit tui``: the full-screen app over the same store, gateway and engine.

    The app draws its first frame from the store alone; the engine (gateway, tools, skills)
    is imported and started right after, so start-up does not wait for it."""
    from app.ui.app import AgentKitApp

    workspace = ctx.workspace()
    found = read_workspace_rules(workspace_config_file(workspace), ctx.settings)
    store = await ctx.open_store(create=True)
    assert store is not None
    log_to_file(ctx.log_file, ctx.log_level)  # never onto the full-screen app
    async with store, contextlib.AsyncExitStack() as stack:
        app: AgentKitApp

        async def start_engine() -> tuple[ChatService, str]:
            import logging

            from app.ui.startup import settle_trust
            from app.wiring import load_skill_set

            rules = await settle_trust(app, found, ctx.paths.config_file)
            settings = with_workspace_rules(ctx.settings, rules)
            skills = load_skill_set(ctx.paths.skills_dir, workspace)
            engine = await ctx.open_engine(
                settings, store, workspace=workspace, skills=skills, workspace_rules=rules
            )
            await stack.enter_async_context(engine)
            default = (await engine.gateway.resolve(None)).name
            service = engine.service
            for problem in service.rule_problems:  # also in the first turn's notice
                logging.getLogger(__name__).warning("%s: %s", found and found.file, problem)
            for problem in skills.problems:
                app.notify(problem, severity="warning", markup=False)
            return service, default

        app = AgentKitApp(
            settings=ctx.settings,
            store=store,
            engine=start_engine,
            export_dir=workspace,
            config_file=ctx.paths.config_file,
        )
        await app.run_async(mouse=ctx.settings.ui.mouse)
        if app.engine_error is not None:
            from app.llm.errors import LLMError

            if isinstance(app.engine_error, LLMError):  # e.g. default_model names no provider
                raise UsageError(str(app.engine_error)) from app.engine_error
            raise app.engine_error
    return 0


#: The commands that may take over the terminal: they log to a file, never to stderr.
FULL_SCREEN = (cmd_default, cmd_tui)


async def cmd_home(ctx: Context) -> int:
    """``agentkit`` with no command outside a terminal: what this is, where things are."""
    store = await ctx.open_store(create=False)
    ctx.print(f"AgentKit TUI {__version__}: a terminal app for working with LLM agents.")
    ctx.print("Run `agentkit` in a terminal for the full-screen app; `agentkit --help` lists")
    ctx.print("the commands.")
    ctx.print()
    config_state = "" if ctx.paths.config_file.exists() else " (not created yet: defaults in use)"
    ctx.print(f"Config:   {ctx.paths.config_file}{config_state}")
    if store is None:
        ctx.print(f"Database: {ctx.db_path} (no sessions yet)")
    else:
        async with store:
            total = await store.count_sessions()
            ctx.print(f"Database: {ctx.db_path} ({total} session{'s' if total != 1 else ''})")
            recent = await store.list_sessions(limit=5)
            if recent:
                ctx.print()
                ctx.print("Recent sessions:")
                print_session_table(ctx, recent, indent="  ")
    ctx.print()
    ctx.print("Try: agentkit sessions list · agentkit config show · agentkit --help")
    return 0
