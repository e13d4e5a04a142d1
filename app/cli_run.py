"""``agentkit run`` (one headless turn) and ``agentkit models`` (what can answer)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli_commands import (
    Context,
    UsageError,
    argv_text,
    cmd_home,
    one_line,
    safe_text,
    silence_stdout,
)
from app.config import WorkspaceRules, read_workspace_rules, with_workspace_rules
from app.paths import workspace_config_file
from app.textsafe import escape_controls_in_json

if TYPE_CHECKING:
    from app.engine.events import Event
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
    """Add ``run`` and ``models`` to the ``agentkit`` parser."""
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

    tui = commands.add_parser("tui", help="open the full-screen app (the default command)")
    tui.add_argument("--workspace", type=Path, help="root for file tools and commands (default .)")
    add_common(tui)
    tui.set_defaults(handler=cmd_tui)

    models = commands.add_parser("models", help="which models are available, and the default")
    models.add_argument("--json", action="store_true", help="print JSON for machines")
    add_common(models)
    models.set_defaults(handler=cmd_models)


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
    """``agentkit run``: one turn through ChatService, streamed to the terminal."""
    from app.engine.cancel import CancellationToken
    from app.engine.skills import ExecutionMode, load_skills, resolve_agent, skill_folders
    from app.llm.gateway import Gateway

    text = _prompt(ctx)
    workspace = (ctx.args.workspace or Path.cwd()).resolve()
    if not workspace.is_dir():
        raise UsageError(f"--workspace {workspace} is not a folder")
    approve = ctx.args.approve or ctx.settings.approval.mode
    rules = _trust_on_terminal(
        ctx, read_workspace_rules(workspace_config_file(workspace), ctx.settings)
    )
    settings = with_workspace_rules(ctx.settings, rules)
    settings = settings.model_copy(
        update={"approval": settings.approval.model_copy(update={"mode": approve})}
    )
    skills = load_skills(skill_folders(ctx.paths.skills_dir, workspace))
    for problem in skills.problems:
        ctx.err.write(f"agentkit: warning: {problem}\n")
    store = await ctx.open_store(create=True)
    assert store is not None
    token = CancellationToken()
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
    status = "error"
    reader_gone = False
    try:
        async with store, Gateway(settings) as gateway:
            if ctx.args.session:
                session_id = await store.resolve_session_id(ctx.args.session)
            else:
                agent = resolve_agent(settings, ctx.args.agent)
                session_id = (await store.create_session(agent.name)).id
            ctx.err.write(f"session {session_id}\n")
            service = ctx.chat_service(
                settings, store, gateway, workspace=workspace, skills=skills, workspace_rules=rules
            )
            try:
                where = f"{rules.file}: " if rules is not None else ""
                for problem in service.rule_problems:
                    ctx.err.write(f"agentkit: warning: {where}{one_line(problem, 300)}\n")
                printer = _JsonPrinter(ctx) if ctx.args.json else _PlainPrinter(ctx)
                mode = ExecutionMode(MODES[ctx.args.mode]) if ctx.args.mode else None
                events = service.send(
                    session_id,
                    text,
                    human=_human(approve),
                    model_override=ctx.args.model,
                    cancel=token,
                    mode=mode,
                )
                # aclosing: whatever ends the loop, the turn has finished writing (its partial
                # reply saved) before the store closes.
                async with contextlib.aclosing(events):
                    async for event in events:
                        if not reader_gone:
                            try:
                                printer.show(event)
                            except BrokenPipeError:
                                # The reader of stdout went away (`| head`): stop the turn as
                                # Ctrl+C does, and read its events to the end without printing.
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
            finally:
                await service.shutdown()  # MCP servers stop with the command
    except KeyError as exc:
        raise UsageError(str(exc).strip("'\"")) from None
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
    if reader_gone:
        return EXIT_FOR_STATUS["cancelled"]
    return EXIT_FOR_STATUS.get(status, 1)


def _trust_on_terminal(ctx: Context, rules: WorkspaceRules | None) -> WorkspaceRules | None:
    """Ask on the terminal whether to trust the workspace file's allow rules (remembered by
    its hash); without a terminal they are ignored, and a note on stderr says so."""
    if rules is None or not rules.needs_trust:
        return rules
    if not sys.stdin.isatty():
        ctx.err.write(f"agentkit: note: {safe_text(rules.ignored_note())}\n")
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


class _JsonPrinter:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def show(self, event: Event) -> None:
        from app.engine.events import to_wire

        encoded = json.dumps(to_wire(event), ensure_ascii=False)
        self.ctx.out.write(escape_controls_in_json(encoded) + "\n")
        self.ctx.out.flush()

    def close(self) -> None:
        pass


class _PlainPrinter:
    """The answer on stdout (live on a terminal), a short trace of steps on stderr."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.live = ctx.out.isatty()
        self.streamed = ""
        #: The phase ids of the plan last printed (a replan prints the new plan).
        self.plan_ids: list[str] = []
        #: In team mode tool steps are printed from ``expert_step``, which names the expert.
        self.team = False
        self.experts: dict[str, str] = {}

    def show(self, event: Event) -> None:
        err = self.ctx.err
        if self._show_mode_event(event):
            return
        if event.type == "token" and self.live:
            self.streamed += event.content
            self.ctx.out.write(safe_text(event.content))
            self.ctx.out.flush()
        elif event.type == "thinking" and self.live and self.streamed:
            self.ctx.out.write("\n")
            self.streamed = ""
        elif event.type == "step" and not self.team:
            step = event.data
            name = one_line(step.data.name, 40)
            if step.event_type == "tool_call":
                args = json.dumps(step.data.arguments, ensure_ascii=False)
                err.write(f"→ {name} {one_line(args, 120)}\n")
            else:
                mark = "✗" if step.data.is_error else "✓"
                took = f" ({step.data.duration_ms / 1000:.1f}s)" if step.data.duration_ms else ""
                err.write(f"  {mark} {name}{took}: {one_line(step.data.output, 100)}\n")
        elif event.type == "confirmation_result" and event.data.decider != "user":
            verdict = "allowed" if event.data.approved else "denied"
            by = (
                f" by rule {one_line(event.data.rule, 80)}"
                if event.data.rule
                else f" ({event.data.decider})"
            )
            err.write(f"  {verdict}{by}\n")
        elif event.type == "skill_match":
            err.write(f"skill @{one_line(event.data.skill, 40)}\n")
        elif event.type == "notice":
            err.write(f"note: {one_line(event.data.message.splitlines()[0], 200)}\n")
        elif event.type == "error":
            err.write(f"agentkit: error: {one_line(event.data.message, 200)}\n")
        elif event.type == "final_answer":
            if self.live and self.streamed.strip() == event.content.strip():
                self.ctx.out.write("\n")
            else:
                if self.live and self.streamed:
                    self.ctx.out.write("\n")
                self.ctx.out.write(safe_text(event.content).rstrip("\n") + "\n")
            self.streamed = ""
        elif event.type == "result" and event.data.status == "cancelled":
            err.write("cancelled: the partial reply was saved\n")

    def _show_mode_event(self, event: Event) -> bool:
        """Plan and team events as a short trace on stderr; False for other events."""
        err = self.ctx.err
        if event.type == "plan_update":
            phases = event.data.plan_phases
            ids = [phase.id for phase in phases]
            if not self.team and ids != self.plan_ids:
                head = "plan:" if not self.plan_ids else "new plan:"
                self.plan_ids = ids
                err.write(f"{head}\n")
                for number, phase in enumerate(phases, start=1):
                    mark = "" if phase.status == "pending" else f" [{phase.status}]"
                    err.write(f"  {number}. {one_line(phase.title, 80)}{mark}\n")
        elif event.type == "phase_started":
            started = event.data
            err.write(f"▶ phase {started.index + 1}: {one_line(started.title, 80)}\n")
        elif event.type == "phase_completed":
            err.write(f"✓ {event.data.phase_id} done: {one_line(event.data.result, 120)}\n")
        elif event.type == "phase_failed":
            err.write(f"✗ {event.data.phase_id} failed: {one_line(event.data.error, 160)}\n")
        elif event.type == "replanning":
            replan = event.data
            err.write(f"↻ replanning (attempt {replan.attempt}): {one_line(replan.reason, 160)}\n")
        elif event.type == "team_formed":
            self.team = True
            formed = event.data
            self.experts = {expert.id: expert.name for expert in formed.experts}
            names = [
                one_line(e.name, 30) + (" (lead)" if e.id == formed.lead_expert else "")
                for e in formed.experts
            ]
            err.write(f"team: {', '.join(names)}\n")
            for item in formed.plan_phases:
                who = self.experts.get(str(item.get("expert_id")), "?")
                after = item.get("depends_on") or []
                later = f" (after {', '.join(map(str, after))})" if after else ""
                title = one_line(str(item.get("title", "")), 80)
                err.write(f"  {item.get('id')} {title} → {one_line(who, 30)}{later}\n")
        elif event.type == "expert_step":
            step = event.data
            who = one_line(step.expert_name, 30)
            if step.kind == "tool_call":
                err.write(f"[{who}] → {one_line(step.content, 120)}\n")
            elif step.kind == "tool_result":
                err.write(f"[{who}]   {one_line(step.content, 120)}\n")
        elif event.type == "expert_result":
            outcome = event.data
            mark = "✗" if outcome.status == "failed" else "✓"
            where = f" {outcome.phase_id}" if outcome.phase_id else ""
            who = one_line(outcome.expert_name, 30)
            err.write(f"[{who}] {mark}{where}: {one_line(outcome.content, 120)}\n")
        elif event.type in ("plan_step", "team_synthesis", "team_dissolved"):
            pass  # progress text is for the panels; the synthesis is the final answer
        else:
            return False
        return True

    def close(self) -> None:
        self.ctx.out.flush()


async def cmd_models(ctx: Context) -> int:
    """``agentkit models``: providers, their models, and which is the default and why."""
    from app.llm.describe import describe_models, format_report

    report = await describe_models(ctx.settings)
    if ctx.args.json:
        ctx.print_json(report.model_dump(mode="json"))
    else:
        ctx.print(format_report(report))
    return 0


def _log_to_file(path: Path) -> None:
    """Send warnings and errors to a file: text on stderr would paint over the app."""
    import logging

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    target: logging.Handler
    try:
        target = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        target = logging.NullHandler()
    target.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(target)
    root.setLevel(logging.WARNING)


async def cmd_default(ctx: Context) -> int:
    """``agentkit`` alone: the full-screen app on a terminal, an overview in a pipe."""
    if ctx.out.isatty() and sys.stdin.isatty():
        return await cmd_tui(ctx)
    return await cmd_home(ctx)


async def cmd_tui(ctx: Context) -> int:
    """``agentkit tui``: the full-screen app over the same store, gateway and engine.

    The app draws its first frame from the store alone; the engine (gateway, tools, skills)
    is imported and started right after, so start-up does not wait for it."""
    from app.ui.app import AgentKitApp

    workspace = (getattr(ctx.args, "workspace", None) or Path.cwd()).resolve()
    if not workspace.is_dir():
        raise UsageError(f"--workspace {workspace} is not a folder")
    found = read_workspace_rules(workspace_config_file(workspace), ctx.settings)
    store = await ctx.open_store(create=True)
    assert store is not None
    _log_to_file(ctx.db_path.parent / "agentkit.log")  # never onto the full-screen app
    async with store, contextlib.AsyncExitStack() as stack:
        app: AgentKitApp

        async def start_engine() -> tuple[ChatService, str]:
            import logging

            from app.engine.skills import load_skills, skill_folders
            from app.llm.gateway import Gateway
            from app.ui.dialogs.trust import settle_trust

            rules = await settle_trust(app, found, ctx.paths.config_file)
            settings = with_workspace_rules(ctx.settings, rules)
            skills = load_skills(skill_folders(ctx.paths.skills_dir, workspace))
            gateway = await stack.enter_async_context(Gateway(settings))
            default = (await gateway.resolve(None)).name
            service = ctx.chat_service(
                settings, store, gateway, workspace=workspace, skills=skills, workspace_rules=rules
            )
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
        await app.run_async()
        if app.engine_error is not None:
            from app.llm.errors import LLMError

            if isinstance(app.engine_error, LLMError):  # e.g. default_model names no provider
                raise UsageError(str(app.engine_error)) from app.engine_error
            raise app.engine_error
    return 0
