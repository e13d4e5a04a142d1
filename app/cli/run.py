"""``agentkit run`` (one headless turn)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.context import Context, UsageError, silence_stdout
from app.cli.printers import JsonPrinter, PlainPrinter
from app.cli.text import argv_text
from app.config import WorkspaceRules, read_workspace_rules, with_workspace_rules
from app.paths import workspace_config_file
from app.textsafe import one_line, strip_controls

if TYPE_CHECKING:
    from app.engine.cancel import CancellationToken
    from app.engine.human import Human
    from app.engine.service import ChatService


# The engine, gateway and tools are imported inside the commands that use them, so
# `agentkit sessions …` starts without loading them.
MODES = {
    "react": "REACT",
    "direct": "DIRECT_CHAT",
    "plan": "PLAN_EXEC",
    "team": "TEAM_COLLAB",
}


EXIT_FOR_STATUS = {"completed": 0, "max_steps": 0, "loop_stopped": 0, "error": 1, "cancelled": 130}


def register(
    commands: argparse._SubParsersAction[Any],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``run`` to the ``agentkit`` parser."""
    run = commands.add_parser(
        "run",
        help="run one agent turn without the TUI (prompt as argument or on stdin)",
        description="Run one agent turn headless. The answer goes to stdout, a trace of tool "
        "steps to stderr; --json prints one event per line instead.",
    )
    run.add_argument("prompt", nargs="*", help="the message (read from stdin when absent)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--session", metavar="ID", help="continue this session (id or prefix)")
    where.add_argument("--new", action="store_true", help="start a new session (the default)")
    run.add_argument("--agent", help="agent for a new session (default: default_agent)")
    run.add_argument("--model", help="model for this message (provider/model, alias, demo)")
    run.add_argument(
        "--approve",
        choices=["ask", "auto", "read-only"],
        default=None,
        help="approvals: ask (on a terminal; otherwise deny), auto, read-only",
    )
    run.add_argument("--mode", choices=sorted(MODES), help="force an execution mode")
    run.add_argument("--workspace", type=Path, help="root for file tools and commands (default .)")
    run.add_argument("--json", action="store_true", help="print events as JSON lines")
    add_common(run)
    run.set_defaults(handler=cmd_run)


def _prompt(ctx: Context) -> str:
    """The prompt from the arguments or stdin; bytes that are not UTF-8 become U+FFFD."""
    if ctx.args.prompt:
        return " ".join(argv_text(part) for part in ctx.args.prompt)
    if sys.stdin.isatty():
        raise UsageError("give a prompt as an argument or on stdin")
    raw = getattr(sys.stdin, "buffer", None)
    text = raw.read().decode("utf-8", "replace") if raw is not None else sys.stdin.read()
    if not text.strip():
        raise UsageError("the prompt on stdin is empty")
    return text


AUTO_STILL_ASKS = (
    "auto mode runs every call it can decide alone; this one needs a person, and there is "
    "no terminal to ask on"
)


def _human(mode: str) -> Human:
    from app.engine.human import PolicyHuman, TerminalHuman

    # In auto mode the policy itself allows every call it can; what still asks (a protected
    # path, a command it cannot see through, a tool whose deny rule is broken) needs a person.
    if sys.stdin.isatty() and sys.stderr.isatty() and mode in ("ask", "auto"):
        return TerminalHuman()
    if mode == "auto":
        return PolicyHuman(approve=False, reason=AUTO_STILL_ASKS)
    return PolicyHuman(approve=False)


async def cmd_run(ctx: Context) -> int:
    """``agentkit run``: one turn through the engine, streamed to the terminal."""
    from app.engine.cancel import CancellationToken
    from app.engine.skills import resolve_agent
    from app.wiring import load_skill_set

    text = _prompt(ctx)
    workspace = ctx.workspace()
    approve = ctx.args.approve or ctx.settings.approval.mode
    rules = _trust_on_terminal(
        ctx, read_workspace_rules(workspace_config_file(workspace), ctx.settings)
    )
    settings = with_workspace_rules(ctx.settings, rules)
    settings = settings.model_copy(
        update={"approval": settings.approval.model_copy(update={"mode": approve})}
    )
    skills = load_skill_set(ctx.paths.skills_dir, workspace)
    for problem in skills.problems:
        ctx.err.write(f"agentkit: warning: {problem}\n")
    store = await ctx.open_store(create=True)
    assert store is not None
    token = CancellationToken()
    try:
        with _ctrl_c_stops(ctx, token):
            async with store:
                if ctx.args.session:
                    session_id = await store.resolve_session_id(ctx.args.session)
                else:
                    agent = resolve_agent(settings, ctx.args.agent)
                    session_id = (await store.create_session(agent.name)).id
                ctx.err.write(f"session {session_id}\n")
                engine = await ctx.open_engine(
                    settings, store, workspace=workspace, skills=skills, workspace_rules=rules
                )
                async with engine:  # MCP servers stop with the command
                    where = f"{rules.file}: " if rules is not None else ""
                    for problem in engine.service.rule_problems:
                        ctx.err.write(f"agentkit: warning: {where}{one_line(problem, 300)}\n")
                    status, reader_gone = await _stream_turn(
                        ctx, engine.service, session_id, text, approve, token
                    )
    except KeyError as exc:
        raise UsageError(str(exc).strip("'\"")) from None
    if reader_gone:
        return EXIT_FOR_STATUS["cancelled"]
    return EXIT_FOR_STATUS.get(status, 1)


@contextlib.contextmanager
def _ctrl_c_stops(ctx: Context, token: CancellationToken) -> Iterator[None]:
    """While inside, a first Ctrl-C stops the turn (its partial reply is saved) and a second
    one quits at once."""
    loop = asyncio.get_running_loop()

    def interrupted() -> None:
        if not token.cancelled:
            ctx.err.write("\nstopping the turn… (Ctrl-C again quits at once)\n")
            token.cancel("user")
            return
        # A second Ctrl-C: back to Python's handler, which raises KeyboardInterrupt (exit 130).
        loop.remove_signal_handler(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


async def _stream_turn(
    ctx: Context,
    service: ChatService,
    session_id: str,
    text: str,
    approve: str,
    token: CancellationToken,
) -> tuple[str, bool]:
    """Run the turn and print its events; its final status, and whether stdout's reader left."""
    from app.engine.skills import ExecutionMode

    status = "error"
    reader_gone = False
    printer = JsonPrinter(ctx) if ctx.args.json else PlainPrinter(ctx)
    mode = ExecutionMode(MODES[ctx.args.mode]) if ctx.args.mode else None
    events = service.send(
        session_id,
        text,
        human=_human(approve),
        model_override=argv_text(ctx.args.model) if ctx.args.model else None,
        cancel=token,
        mode=mode,
    )
    # aclosing: whatever ends the loop, the turn has finished writing (its partial reply
    # saved) before the store closes.
    async with contextlib.aclosing(events):
        async for event in events:
            if not reader_gone:
                try:
                    printer.show(event)
                except BrokenPipeError:
                    # The reader of stdout went away (`| head`): stop the turn as Ctrl+C
                    # does, and read its events to the end without printing.
                    reader_gone = True
                    silence_stdout()
                    token.cancel("closed")
            if event.type == "result":
                status = event.data.status
    if not reader_gone:
        try:
            printer.close()
        except BrokenPipeError:
            reader_gone = True
            silence_stdout()
    return status, reader_gone


def _trust_on_terminal(ctx: Context, rules: WorkspaceRules | None) -> WorkspaceRules | None:
    """Ask on the terminal whether to trust the workspace file's allow rules (remembered by
    its hash); without a terminal they are ignored, and a note on stderr says so."""
    if rules is None or not rules.needs_trust:
        return rules
    if not sys.stdin.isatty():
        ctx.err.write(f"agentkit: note: {strip_controls(rules.ignored_note())}\n")
        return rules
    from app.tools.rules import RuleError, trust_rules_file

    changed = " (changed since you trusted it)" if rules.changed else ""
    what = {
        (True, False): "rules that let tools run without asking you",
        (False, True): "MCP servers (programs it would start)",
        (True, True): "rules that let tools run without asking you, and MCP servers",
    }[(bool(rules.allow), bool(rules.mcp_servers))]
    ctx.err.write(f"The workspace file {rules.file}{changed} has {what}:\n")
    for rule in rules.allow:
        ctx.err.write(f"  allow {one_line(rule, 200)}\n")
    for name, server in rules.mcp_servers:
        ctx.err.write(
            f"  mcp server {one_line(name, 40)}: {one_line(server.command_line(), 200)}\n"
        )
    for kind in ("deny", "ask"):
        for rule in getattr(rules, kind):
            ctx.err.write(f"  {kind} {one_line(rule, 200)} (applies either way)\n")
    applies = {
        (True, False): "its allow rules apply",
        (False, True): "its MCP servers start",
        (True, True): "its allow rules apply and its MCP servers start",
    }[(bool(rules.allow), bool(rules.mcp_servers))]
    ctx.err.write(f"Trust this file, so {applies}? (asked again if it changes) [y/N] ")
    ctx.err.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        ctx.err.write("Not trusted: its allow rules and MCP servers are ignored this time.\n")
        return rules
    try:
        trust_rules_file(ctx.paths.config_file, rules.file, rules.digest)
    except (RuleError, OSError) as exc:
        ctx.err.write(f"agentkit: warning: the trust was not remembered: {exc}\n")
    return dataclasses.replace(rules, trusted=True, changed=False)
