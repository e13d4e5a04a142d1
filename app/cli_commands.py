"""The subcommands of ``agentkit``: what each prints, and how."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app import __version__
from app.config import Settings, WorkspaceRules, read_workspace_rules, redacted, to_toml
from app.paths import ENV_DB, Paths, workspace_config_file
from app.store import Message, SessionNotFoundError, SessionStore
from app.store.models import SearchHit, Session
from app.textsafe import escape_controls_in_json, strip_controls

if TYPE_CHECKING:
    from app.engine.service import ChatService
    from app.engine.skills import SkillSet
    from app.llm.gateway import Gateway


class UsageError(Exception):
    """The command line asks for something that cannot be done (exit code 2)."""


@dataclass
class Context:
    """What every command gets: parsed arguments, paths, settings, and the output streams."""

    args: argparse.Namespace
    paths: Paths
    settings: Settings
    out: TextIO
    err: TextIO

    @property
    def db_path(self) -> Path:
        """``--db``, then ``AGENTKIT_DB``, then ``[storage] path``, then the data dir."""
        if self.args.db or os.environ.get(ENV_DB, "").strip() or not self.settings.storage.path:
            return self.paths.db_file
        return Path(self.settings.storage.path).expanduser()

    @property
    def is_default_db(self) -> bool:
        """Whether the database is the default one (whose folder we may create)."""
        return self.db_path == self.paths.data_dir / self.paths.db_file.name

    async def open_store(self, *, create: bool) -> SessionStore | None:
        """Open the session store; ``None`` when it does not exist and ``create`` is false."""
        path = self.db_path
        if not path.exists() and not create:
            return None
        if create and self.is_default_db:
            self.paths.ensure_data_dir()
        return await SessionStore.open(path, create=create)

    def chat_service(
        self,
        settings: Settings,
        store: SessionStore,
        gateway: Gateway,
        *,
        workspace: Path,
        skills: SkillSet,
        workspace_rules: WorkspaceRules | None = None,
    ) -> ChatService:
        """The engine as every command runs it: rules saved to the user's config file, the
        config folder protected from the file tools, and the MCP servers (if any) starting
        in the background."""
        from app.engine.service import ChatService  # only the commands that run turns
        from app.mcp.manager import McpManager

        mcp = McpManager(
            settings, workspace, log_file=self.log_file, workspace_rules=workspace_rules
        )
        return ChatService(
            settings,
            store,
            gateway,
            workspace=workspace,
            user_config_file=self.paths.config_file,
            skills=skills,
            protected_dirs=(self.paths.config_dir,),
            workspace_rules=workspace_rules,
            mcp=mcp if mcp.configured else None,
        )

    @property
    def log_file(self) -> Path:
        """The app's log file, beside the database (MCP servers' stderr goes there too)."""
        return self.db_path.parent / "agentkit.log"

    def print(self, text: str = "") -> None:
        """Write a line to standard output."""
        self.out.write(text + "\n")

    def print_json(self, value: Any) -> None:
        """Write ``value`` as indented JSON (control and direction characters escaped)."""
        encoded = json.dumps(value, ensure_ascii=False, indent=2)
        self.out.write(escape_controls_in_json(encoded) + "\n")

    @property
    def is_tty(self) -> bool:
        """Whether standard output is a terminal (columns and colour) or a pipe (TSV)."""
        return self.out.isatty()


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone (``| head``), so nothing later,
    not even Python's last flush at exit, fails on the broken pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor behind stdout (tests)
        pass


def argv_text(value: str) -> str:
    """A command-line argument as text: bytes that were not UTF-8 (Python keeps them as
    lone surrogates) become U+FFFD, so the value can be saved, printed and looked up."""
    if value.isascii():
        return value
    try:
        raw = os.fsencode(value)
    except UnicodeError:  # not from the command line: pair or replace its surrogates
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return raw.decode("utf-8", "replace")


def safe_text(text: str) -> str:
    """Text from models and tools without escape sequences, control characters or direction
    controls (newlines and tabs stay), so a terminal shows what the text really says."""
    return strip_controls(text)


def one_line(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    flat = re.sub(r"\s+", " ", safe_text(text)).strip()
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"


def local_time(moment: datetime) -> str:
    """A time as people read it on this machine: ``2026-11-25 15:26``."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def register(
    commands: argparse._SubParsersAction[Any],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add every subcommand to the ``agentkit`` parser."""
    sessions = commands.add_parser("sessions", help="list, show, search, export, delete sessions")
    add_common(sessions)
    sessions.set_defaults(handler=cmd_sessions_list, status="all", limit=50, offset=0, json=False)
    actions = sessions.add_subparsers(title="sessions commands", metavar="ACTION")

    listing = actions.add_parser("list", help="sessions, most recent first")
    listing.add_argument("--status", choices=["active", "closed", "all"], default="all")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.add_argument("--offset", type=int, default=0, help="skip this many first")
    _json_flag(listing)
    add_common(listing)
    listing.set_defaults(handler=cmd_sessions_list)

    show = actions.add_parser("show", help="a session and its messages")
    show.add_argument("session", metavar="ID", help="session id or a unique prefix of it")
    show.add_argument("--last", type=int, metavar="N", help="only the newest N messages")
    _json_flag(show)
    add_common(show)
    show.set_defaults(handler=cmd_sessions_show)

    search = actions.add_parser("search", help="full-text search over titles and messages")
    search.add_argument("text", nargs="+", help="words to find (all must match)")
    search.add_argument("--limit", type=int, default=20, help="how many hits (default 20)")
    search.add_argument("--session", metavar="ID", help="search only this session")
    _json_flag(search)
    add_common(search)
    search.set_defaults(handler=cmd_sessions_search)

    export = actions.add_parser("export", help="write a session as Markdown or JSON")
    export.add_argument("session", metavar="ID", help="session id or a unique prefix of it")
    export.add_argument("--format", choices=["md", "json"], default="md")
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="file to write (default stdout)"
    )
    add_common(export)
    export.set_defaults(handler=cmd_sessions_export)

    rename = actions.add_parser("rename", help="give a session a new title")
    rename.add_argument("session", metavar="ID")
    rename.add_argument("title", nargs="+")
    add_common(rename)
    rename.set_defaults(handler=cmd_sessions_rename)

    close = actions.add_parser("close", help="close a session: readable, takes no new messages")
    close.add_argument("session", metavar="ID")
    add_common(close)
    close.set_defaults(handler=cmd_sessions_close)

    delete = actions.add_parser("delete", help="delete a session with its messages for good")
    delete.add_argument("session", metavar="ID")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    add_common(delete)
    delete.set_defaults(handler=cmd_sessions_delete)

    config = commands.add_parser("config", help="where files are, and the effective config")
    add_common(config)
    config.set_defaults(handler=cmd_config_path, json=False)
    config_actions = config.add_subparsers(title="config commands", metavar="ACTION")
    path = config_actions.add_parser("path", help="where config, data and database live")
    _json_flag(path)
    add_common(path)
    path.set_defaults(handler=cmd_config_path)
    show_config = config_actions.add_parser("show", help="the effective config, secrets hidden")
    show_config.add_argument(
        "--workspace", type=Path, help="whose .agentkit/config.toml rules to show (default .)"
    )
    _json_flag(show_config)
    add_common(show_config)
    show_config.set_defaults(handler=cmd_config_show)


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for machines")


# --------------------------------------------------------------------------- home


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
                _print_session_table(ctx, recent, indent="  ")
    ctx.print()
    ctx.print("Try: agentkit sessions list · agentkit config show · agentkit --help")
    return 0


# --------------------------------------------------------------------------- sessions


def _session_json(session: Session) -> dict[str, Any]:
    return session.model_dump(mode="json")


def _print_session_table(ctx: Context, sessions: Sequence[Session], indent: str = "") -> None:
    if not ctx.is_tty:
        for s in sessions:
            fields = [s.id, s.status, s.updated_at.isoformat(), str(s.message_count), s.agent_name]
            ctx.print("\t".join([*fields, one_line(s.title, 200)]))
        return
    width = _terminal_width(ctx)
    header = f"{indent}{'ID':<8}  {'STATUS':<6}  {'UPDATED':<16}  {'MSGS':>4}  {'AGENT':<10}  TITLE"
    ctx.print(header)
    for s in sessions:
        left = (
            f"{indent}{s.id[:8]:<8}  {s.status:<6}  {local_time(s.updated_at):<16}  "
            f"{s.message_count:>4}  {one_line(s.agent_name, 10):<10}  "
        )
        title = s.title or "(untitled)"
        ctx.print(left + one_line(title, max(10, width - len(left) - 1)))


def _terminal_width(ctx: Context) -> int:
    columns = shutil.get_terminal_size(fallback=(100, 24)).columns
    return columns if columns > 0 else 100


async def cmd_sessions_list(ctx: Context) -> int:
    """``agentkit sessions list``."""
    store = await ctx.open_store(create=False)
    status = None if ctx.args.status == "all" else ctx.args.status
    sessions: list[Session] = []
    if store is not None:
        async with store:
            sessions = await store.list_sessions(
                limit=ctx.args.limit, offset=ctx.args.offset, status=status
            )
    if ctx.args.json:
        ctx.print_json([_session_json(s) for s in sessions])
    elif sessions:
        _print_session_table(ctx, sessions)
    elif ctx.is_tty:
        ctx.print("No sessions yet.")
    return 0


async def _require_store(ctx: Context, reference: str) -> SessionStore:
    store = await ctx.open_store(create=False)
    if store is None:
        raise SessionNotFoundError(reference)
    return store


async def cmd_sessions_show(ctx: Context) -> int:
    """``agentkit sessions show ID``."""
    async with await _require_store(ctx, ctx.args.session) as store:
        session_id = await store.resolve_session_id(ctx.args.session)
        session = await store.get_session(session_id)
        messages = await store.get_messages(session_id, last=ctx.args.last)
    if ctx.args.json:
        ctx.print_json(
            {
                "session": _session_json(session),
                "messages": [m.model_dump(mode="json") for m in messages],
            }
        )
        return 0
    ctx.print(one_line(session.title or "(untitled)", 200))
    ctx.print(
        f"{session.id} · agent {one_line(session.agent_name, 60)} · {session.status} · "
        f"created {local_time(session.created_at)} · {session.message_count} messages"
    )
    for message in messages:
        ctx.print()
        _print_message(ctx, message)
    return 0


def _print_message(ctx: Context, message: Message) -> None:
    when = message.created_at.astimezone().strftime("%H:%M:%S")
    label: str = message.role
    if message.role == "assistant" and message.model:
        label += f" ({one_line(message.model, 60)})"
    if message.role == "tool":
        label += (
            f" {one_line(message.tool_name or '', 40)} {one_line(message.tool_call_id or '', 40)}"
        )
        label = label.rstrip()
        if message.is_error:
            label += " [error]"
    if message.status != "complete":
        label += f" [{message.status}]"
    ctx.print(f"[{when}] {label}")
    if message.thinking.strip():
        ctx.print("  (thinking) " + one_line(message.thinking, 200))
    for line in safe_text(message.content).splitlines():
        ctx.print(f"  {line}")
    for call in message.tool_calls:
        arguments = call.raw_arguments or _compact(call.arguments)
        ctx.print(f"  → {one_line(call.name, 40)} {one_line(arguments, 300)}")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _clean_snippet(hit: SearchHit) -> tuple[str, list[tuple[int, int]]]:
    """The snippet on one line without control codes, its match spans moved to match."""
    pieces: list[tuple[str, bool]] = []
    cursor = 0
    for span_start, span_end in hit.highlights:
        pieces += [
            (hit.snippet[cursor:span_start], False),
            (hit.snippet[span_start:span_end], True),
        ]
        cursor = span_end
    pieces.append((hit.snippet[cursor:], False))
    text = ""
    spans: list[tuple[int, int]] = []
    for piece, matched in pieces:
        cleaned = re.sub(r"\s", " ", safe_text(piece))
        if matched and cleaned:
            spans.append((len(text), len(text) + len(cleaned)))
        text += cleaned
    return text, spans


def _fit_snippet(hit: SearchHit, width: int, color: bool) -> str:
    """The snippet on one line of at most ``width`` cells, around its first match."""
    text, spans = _clean_snippet(hit)
    start = 0
    if len(text) > width:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - width // 3, len(text) - width))
    end = min(len(text), start + width)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    out: list[str] = [prefix]
    cursor = start
    for span_start, span_end in spans:
        a, b = max(span_start, start), min(span_end, end)
        if a >= b:
            continue
        bold, plain = ("\x1b[1;4m", "\x1b[0m") if color else ("", "")
        out += [text[cursor:a], bold, text[a:b], plain]
        cursor = b
    out += [text[cursor:end], suffix]
    return "".join(out)


async def cmd_sessions_search(ctx: Context) -> int:
    """``agentkit sessions search TEXT``."""
    text = " ".join(ctx.args.text)
    store = await ctx.open_store(create=False)
    hits: list[SearchHit] = []
    if store is not None:
        async with store:
            scope = await store.resolve_session_id(ctx.args.session) if ctx.args.session else None
            hits = await store.search(text, limit=ctx.args.limit, session_id=scope)
    if ctx.args.json:
        ctx.print_json([hit.model_dump(mode="json") for hit in hits])
        return 0
    color = ctx.is_tty and "NO_COLOR" not in os.environ
    width = _terminal_width(ctx)
    for hit in hits:
        where = "title" if hit.kind == "title" else f"#{hit.seq} {hit.role}"
        if not ctx.is_tty:
            ctx.print("\t".join([hit.session_id, where, one_line(hit.snippet, 400)]))
            continue
        left = f"{hit.session_id[:8]}  {where:<13}  "
        title = "" if hit.kind == "title" else f"  ({one_line(hit.session_title, 30)})"
        room = max(20, width - len(left) - len(title) - 1)
        ctx.print(left + _fit_snippet(hit, room, color) + title)
    if not hits and ctx.is_tty:
        ctx.print("No matches.")
    return 0


async def cmd_sessions_export(ctx: Context) -> int:
    """``agentkit sessions export ID --format md|json [-o FILE]``."""
    async with await _require_store(ctx, ctx.args.session) as store:
        session_id = await store.resolve_session_id(ctx.args.session)
        text = await store.export_session(session_id, ctx.args.format)
    output: Path | None = ctx.args.output
    if output is None or str(output) == "-":
        ctx.out.write(text)
        return 0
    _write_atomically(output, text)
    ctx.err.write(f"Exported session {session_id[:8]} to {output}\n")
    return 0


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half of it."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def cmd_sessions_rename(ctx: Context) -> int:
    """``agentkit sessions rename ID TITLE``."""
    async with await _require_store(ctx, ctx.args.session) as store:
        session_id = await store.resolve_session_id(ctx.args.session)
        session = await store.rename_session(session_id, " ".join(ctx.args.title))
    ctx.print(f"Renamed {session.id[:8]} to: {one_line(session.title, 200)}")
    return 0


async def cmd_sessions_close(ctx: Context) -> int:
    """``agentkit sessions close ID``."""
    async with await _require_store(ctx, ctx.args.session) as store:
        session_id = await store.resolve_session_id(ctx.args.session)
        await store.close_session(session_id)
    ctx.print(f"Closed {session_id[:8]}: it stays readable and takes no new messages.")
    return 0


async def cmd_sessions_delete(ctx: Context) -> int:
    """``agentkit sessions delete ID`` (asks first on a terminal; ``--yes`` in scripts)."""
    async with await _require_store(ctx, ctx.args.session) as store:
        session_id = await store.resolve_session_id(ctx.args.session)
        session = await store.get_session(session_id)
        if not ctx.args.yes:
            if not sys.stdin.isatty():
                raise UsageError("refusing to delete without --yes when not run interactively")
            title = one_line(session.title or "(untitled)", 60)
            ctx.err.write(
                f"Delete session {session_id[:8]} “{title}” and its "
                f"{session.message_count} messages for good? [y/N] "
            )
            ctx.err.flush()
            answer = sys.stdin.readline().strip().lower()
            if answer not in ("y", "yes"):
                ctx.err.write("Not deleted.\n")
                return 1
        await store.delete_session(session_id)
    ctx.print(f"Deleted {session_id[:8]}.")
    return 0


# --------------------------------------------------------------------------- config


async def cmd_config_path(ctx: Context) -> int:
    """``agentkit config path``: where every file is."""
    entries = {
        "config_file": str(ctx.paths.config_file),
        "config_exists": ctx.paths.config_file.exists(),
        "database": str(ctx.db_path),
        "database_exists": ctx.db_path.exists(),
        "data_dir": str(ctx.paths.data_dir),
        "skills_dir": str(ctx.paths.skills_dir),
    }
    if ctx.args.json:
        ctx.print_json(entries)
        return 0
    config_note = "" if entries["config_exists"] else "  (not created yet)"
    db_note = "" if entries["database_exists"] else "  (not created yet)"
    ctx.print(f"config file  {entries['config_file']}{config_note}")
    ctx.print(f"database     {entries['database']}{db_note}")
    ctx.print(f"data dir     {entries['data_dir']}")
    ctx.print(f"skills dir   {entries['skills_dir']}")
    return 0


async def cmd_config_show(ctx: Context) -> int:
    """``agentkit config show``: the effective settings, secrets hidden, and the workspace's
    own rules with whether its allow rules are trusted."""
    data = redacted(ctx.settings)
    workspace = (ctx.args.workspace or Path.cwd()).resolve()
    rules = read_workspace_rules(workspace_config_file(workspace), ctx.settings)
    if ctx.args.json:
        ctx.print_json({**data, "workspace_rules": _rules_state(rules)})
        return 0
    ctx.print(f"# Effective AgentKit config (file: {ctx.paths.config_file}; env overrides applied)")
    ctx.out.write(to_toml(data))
    ctx.print()
    if rules is None:
        ctx.print(f"# Workspace rules: none ({workspace_config_file(workspace)} does not exist)")
        return 0
    ctx.print(f"# Workspace rules: {rules.file} ({rules.digest})")
    ctx.print(f"#   {_trust_state(rules)}")
    for kind in ("allow", "ask", "deny"):
        for rule in getattr(rules, kind):
            ignored = " (ignored: not trusted)" if kind == "allow" and not rules.trusted else ""
            ctx.print(f"#   {kind} {one_line(rule, 200)}{ignored}")
    return 0


def _trust_state(rules: WorkspaceRules) -> str:
    """Whether the workspace file's allow rules apply, in words."""
    if rules.trusted:
        return "trusted: its allow rules apply"
    if not rules.allow:
        return "no allow rules (deny and ask rules apply without trust)"
    if rules.changed:
        return "changed since you trusted it: its allow rules are ignored until trusted again"
    return "not trusted: its allow rules are ignored until you trust the file"


def _rules_state(rules: WorkspaceRules | None) -> dict[str, Any] | None:
    """The workspace rules and their trust state as plain data (``None``: no file)."""
    if rules is None:
        return None
    return {
        "file": str(rules.file),
        "digest": rules.digest,
        "trusted": rules.trusted,
        "state": _trust_state(rules),
        "allow": list(rules.allow),
        "ask": list(rules.ask),
        "deny": list(rules.deny),
    }
