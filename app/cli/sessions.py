"""``agentkit sessions …``: list, show, search, export, rename, close, compact and delete
sessions."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.atomic import write_text_atomically
from app.cli.context import Context, UsageError, json_flag
from app.cli.text import local_time, terminal_width
from app.store import Message, SessionNotFoundError, SessionStore
from app.store.models import SearchHit, Session
from app.textsafe import one_line, strip_controls


def register(
    commands: argparse._SubParsersAction[Any],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``sessions`` and its actions to the ``agentkit`` parser."""
    sessions = commands.add_parser("sessions", help="list, show, search, export, delete sessions")
    add_common(sessions)
    sessions.set_defaults(handler=cmd_sessions_list, status="all", limit=50, offset=0, json=False)
    actions = sessions.add_subparsers(title="sessions commands", metavar="ACTION")

    listing = actions.add_parser("list", help="sessions, most recent first")
    listing.add_argument("--status", choices=["active", "closed", "all"], default="all")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.add_argument("--offset", type=int, default=0, help="skip this many first")
    json_flag(listing)
    add_common(listing)
    listing.set_defaults(handler=cmd_sessions_list)

    show = actions.add_parser("show", help="a session and its messages")
    show.add_argument("session", metavar="ID", help="session id or a unique prefix of it")
    show.add_argument("--last", type=int, metavar="N", help="only the newest N messages")
    json_flag(show)
    add_common(show)
    show.set_defaults(handler=cmd_sessions_show)

    search = actions.add_parser("search", help="full-text search over titles and messages")
    search.add_argument("text", nargs="+", help="words to find (all must match)")
    search.add_argument("--limit", type=int, default=20, help="how many hits (default 20)")
    search.add_argument("--session", metavar="ID", help="search only this session")
    json_flag(search)
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

    compact = actions.add_parser(
        "compact", help="summarise a session's older turns for the model (messages are kept)"
    )
    compact.add_argument("session", metavar="ID", help="session id or a unique prefix of it")
    compact.add_argument("--focus", metavar="TEXT", default="", help="what the summary stresses")
    compact.add_argument("--model", metavar="MODEL", help="summarise with this model")
    add_common(compact)
    compact.set_defaults(handler=cmd_sessions_compact)

    delete = actions.add_parser("delete", help="delete a session with its messages for good")
    delete.add_argument("session", metavar="ID")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    add_common(delete)
    delete.set_defaults(handler=cmd_sessions_delete)


def _session_json(session: Session) -> dict[str, Any]:
    return session.model_dump(mode="json")


def print_session_table(ctx: Context, sessions: Sequence[Session], indent: str = "") -> None:
    """Sessions as a table on a terminal, tab-separated rows in a pipe."""
    if not ctx.is_tty:
        for s in sessions:
            fields = [s.id, s.status, s.updated_at.isoformat(), str(s.message_count), s.agent_name]
            ctx.print("\t".join([*fields, one_line(s.title, 200)]))
        return
    width = terminal_width()
    header = f"{indent}{'ID':<8}  {'STATUS':<6}  {'UPDATED':<16}  {'MSGS':>4}  {'AGENT':<10}  TITLE"
    ctx.print(header)
    for s in sessions:
        left = (
            f"{indent}{s.id[:8]:<8}  {s.status:<6}  {local_time(s.updated_at):<16}  "
            f"{s.message_count:>4}  {one_line(s.agent_name, 10):<10}  "
        )
        title = s.title or "(untitled)"
        ctx.print(left + one_line(title, max(10, width - len(left) - 1)))


async def cmd_sessions_list(ctx: Context) -> int:
    """``agentkit sessions list``."""
    store = await ctx.open_store(create=False, read_only=True)
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
        print_session_table(ctx, sessions)
    elif ctx.is_tty:
        ctx.print("No sessions yet.")
    return 0


async def _require_store(ctx: Context, reference: str, *, read_only: bool = False) -> SessionStore:
    store = await ctx.open_store(create=False, read_only=read_only)
    if store is None:
        raise SessionNotFoundError(reference)
    return store


async def cmd_sessions_show(ctx: Context) -> int:
    """``agentkit sessions show ID``."""
    async with await _require_store(ctx, ctx.args.session, read_only=True) as store:
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
    for line in strip_controls(message.content).splitlines():
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
        cleaned = re.sub(r"\s", " ", strip_controls(piece))
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
    store = await ctx.open_store(create=False, read_only=True)
    hits: list[SearchHit] = []
    if store is not None:
        async with store:
            scope = await store.resolve_session_id(ctx.args.session) if ctx.args.session else None
            hits = await store.search(text, limit=ctx.args.limit, session_id=scope)
    if ctx.args.json:
        ctx.print_json([hit.model_dump(mode="json") for hit in hits])
        return 0
    color = ctx.is_tty and "NO_COLOR" not in os.environ
    width = terminal_width()
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
    async with await _require_store(ctx, ctx.args.session, read_only=True) as store:
        session_id = await store.resolve_session_id(ctx.args.session)
        text = await store.export_session(session_id, ctx.args.format)
    output: Path | None = ctx.args.output
    if output is None or str(output) == "-":
        ctx.out.write(text)
        return 0
    write_text_atomically(output, text)
    ctx.err.write(f"Exported session {session_id[:8]} to {output}\n")
    return 0


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


async def cmd_sessions_compact(ctx: Context) -> int:
    """``agentkit sessions compact ID [--focus TEXT] [--model MODEL]``: 0 when a summary was
    stored or there was nothing to compact, 1 when compaction failed."""
    from app.engine.compaction import compact_session
    from app.engine.events import Event
    from app.wiring import load_skill_set

    codes: list[str] = []

    async def emit(event: Event) -> None:
        data = getattr(event, "data", None)
        code, message = getattr(data, "code", ""), getattr(data, "message", "")
        codes.append(code)
        stream = ctx.out if code in ("compacted", "compaction_skipped") else ctx.err
        stream.write(f"{one_line(str(message), 300)}\n")

    workspace = ctx.workspace()
    async with await _require_store(ctx, ctx.args.session) as store:
        session_id = await store.resolve_session_id(ctx.args.session)
        skills = load_skill_set(ctx.paths.skills_dir, workspace)
        engine = await ctx.open_engine(ctx.settings, store, workspace=workspace, skills=skills)
        async with engine:
            await compact_session(
                engine.service, session_id, emit, focus=ctx.args.focus, model=ctx.args.model
            )
    return 1 if "compaction_failed" in codes else 0
