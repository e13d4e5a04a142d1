"""The steps of one turn that need no ``ChatService`` state: the turn's record, how a
failure is told, the person's message as the model sees it, and the modes that are run.

``ChatService._turn`` strings them together (see app/engine/service.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from app.config import ApprovalMode, Settings
from app.engine import instructions
from app.engine.cancel import CancellationToken, cancellable
from app.engine.events import (
    Event,
    FinalAnswerEvent,
    TurnStatus,
    notice,
    result,
    short_error,
    to_wire,
)
from app.engine.human import Human
from app.engine.modes.errors import ModeError
from app.engine.modes.plan import run_plan
from app.engine.modes.roster import resolve_team
from app.engine.modes.team import run_team
from app.engine.react import run_react, stream_step
from app.engine.router import RoutingResult, SimpleRouter
from app.engine.skills import ExecutionMode, resolve_agent
from app.engine.tooling import NOT_RUN_STOPPED, close_open_calls
from app.engine.turn import EMPTY_REPLY_TEXT, Emit, TurnContext, to_chat_message
from app.llm.errors import ContextTooLongError, LLMError
from app.llm.prices import model_cost
from app.llm.types import ChatMessage, ChatRequest
from app.mcp.manager import McpManager
from app.store import (
    MessageNotFoundError,
    Session,
    SessionClosedError,
    SessionNotFoundError,
    SessionStore,
    StoreError,
)
from app.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

#: The refusal of a turn over the session's limit, word for word as the reference said it
#: (clients match on it; the numbers go in the error's ``detail``).
TOO_MANY_TURNS = "Too many concurrent requests. Please wait for the current task to complete."
SESSION_GONE = (
    "The session was deleted (in another window or process) while this turn ran; nothing "
    "more of it is saved."
)
CONTEXT_TOO_LONG = (
    "The conversation is too long for this model's context window, even compacted. Try "
    "/compact with a focus, a new session (f5), or a larger model. Your message is saved."
)


@dataclass
class TurnState:
    """One turn as ``ChatService`` runs it: what was asked, and how far it got."""

    session_id: str
    text: str
    human: Human
    token: CancellationToken
    model_override: str | None = None
    mode: ExecutionMode | None = None
    approval: ApprovalMode | None = None
    turn_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    status: TurnStatus = "error"
    #: Whether events still go to the session's log (not when the session is gone).
    logged: bool = True
    #: Set once the turn has a context: its calls are closed and its usage told at the end.
    ctx: TurnContext | None = None


async def admit(
    store: SessionStore, turn: TurnState, running: set[str], limit: int, emit: Emit
) -> Session | None:
    """The turn's session, or None (and an error told) when the turn may not run: the
    session is unknown or closed, or it already runs ``limit`` turns. Places are claimed in
    the database, so every process on the file (the TUI, ``agentkit run``, ``serve``) counts
    against one limit; where the file cannot record it, ``running`` (this process's turns,
    counted after the last wait) is the count."""
    try:
        session = await store.get_session(turn.session_id)
    except SessionNotFoundError as exc:
        turn.logged = False
        await emit(short_error(str(exc)))
        return None
    if session.is_closed:
        turn.logged = False
        await emit(short_error(f"{SessionClosedError(turn.session_id)}: start a new session"))
        return None
    try:
        if await store.claim_turn(turn.session_id, turn.turn_id, limit) < limit:
            return session
    except StoreError:
        if len(running) < limit:
            return session
    detail = (
        f"{limit} turns are already running in this session; your message was saved. "
        "Wait for one to finish, or stop one, then send it again."
    )
    try:
        await store.append_message(turn.session_id, "user", turn.text, turn_id=turn.turn_id)
    except StoreError as exc:
        detail = f"{limit} turns are already running in this session ({exc})"
    await emit(short_error(TOO_MANY_TURNS, detail))
    return None


async def tell_failure(turn: TurnState, exc: Exception, emit: Emit) -> None:
    """End ``turn`` as an error, with one short line saying what went wrong."""
    turn.status = "error"
    if isinstance(exc, ModeError):
        message = str(exc)
    elif isinstance(exc, LLMError):
        message = CONTEXT_TOO_LONG if isinstance(exc, ContextTooLongError) else str(exc)
    elif isinstance(exc, SessionNotFoundError | MessageNotFoundError):
        turn.logged = False  # nowhere left to log it
        message = SESSION_GONE
    elif isinstance(exc, StoreError):
        message = f"could not save the session: {exc}"
    elif isinstance(exc, KeyError):
        message = str(exc).strip("'\"")
    else:  # a bug must end the turn with a line, not a traceback
        log.exception("turn %s in session %s failed", turn.turn_id, turn.session_id, exc_info=exc)
        message = f"internal error: {type(exc).__name__}: {exc}"
    await emit(short_error(message))


async def finish_turn(turn: TurnState, emit: Emit) -> None:
    """Close what the turn left open, tell its usage, and end it with its ``result``."""
    if turn.ctx is not None:
        # Every announced call gets a result, whatever ended the turn.
        with contextlib.suppress(Exception):
            await asyncio.shield(close_open_calls(turn.ctx, NOT_RUN_STOPPED))
        providers = turn.ctx.gateway.providers
        for usage in turn.ctx.usage.events(functools.partial(model_cost, providers)):
            await emit(usage)
    await emit(result(turn.status))


def log_payload(event: Event) -> dict[str, object]:
    """The event as the session's log stores it: its wire object without ``type``."""
    wire = to_wire(event)
    wire.pop("type", None)
    return wire


def known_tools(names: list[str] | None, registry: ToolRegistry) -> tuple[list[str] | None, str]:
    """The routed tools that exist, and a note naming the ones that do not (or "")."""
    if names is None:
        return None, ""
    unknown = [name for name in names if name not in registry]
    note = f"Ignoring unknown tools: {', '.join(unknown)}" if unknown else ""
    return [name for name in names if name in registry], note


async def model_history(
    stored: list[ChatMessage], routing: RoutingResult, text: str, limit: int, emit: Emit
) -> list[ChatMessage]:
    """The history the model is sent: the routed message without its prefix, each person's
    message cut to ``limit`` characters (a notice when this one was)."""
    history = list(stored)
    if history and history[-1].role == "user":
        history[-1] = history[-1].model_copy(update={"content": routing.clean_content})
    history = [capped(message, limit) for message in history]
    if len(text) > limit:
        await emit(
            notice(
                "prompt_truncated",
                f"Your message has {len(text):,} characters: the model is sent the first "
                f"{limit:,} ([engine] max_prompt_chars). The whole message is saved.",
            )
        )
    return history


async def session_history(
    ctx: TurnContext, text: str, routing: RoutingResult, others: set[str]
) -> list[ChatMessage]:
    """What the model is sent of the session: its chat history (a compaction summary first,
    when there is one) without the turns still running elsewhere (they are half done)."""
    stored = await ctx.store.get_chat_messages(ctx.session_id, exclude_turns=others)
    chat = [to_chat_message(m) for m in stored]
    limit = ctx.settings.engine.max_prompt_chars
    return await model_history(chat, routing, text, limit, ctx.emit)


def capped(message: ChatMessage, limit: int) -> ChatMessage:
    """A person's message cut to ``limit`` characters for the model, saying so at the cut."""
    if message.role != "user" or len(message.content) <= limit:
        return message
    rest = len(message.content) - limit
    note = (
        f"\n\n[… {rest:,} more characters of this message were not sent: it is longer "
        f"than the limit of {limit:,} characters.]"
    )
    return message.model_copy(update={"content": message.content[:limit] + note})


async def run_mode(
    ctx: TurnContext,
    history: list[ChatMessage],
    mode: ExecutionMode,
    team: str | None,
    settings: Settings,
) -> TurnStatus:
    """Run the turn in its execution mode and say how it ended."""
    if mode == ExecutionMode.DIRECT_CHAT:
        return await direct(ctx, history)
    if mode == ExecutionMode.PLAN_EXEC:
        return await run_plan(ctx, history)
    if mode == ExecutionMode.TEAM_COLLAB:
        return await run_team(ctx, history, resolve_team(settings, team))
    return (await run_react(ctx, history)).status


async def direct(ctx: TurnContext, history: list[ChatMessage]) -> TurnStatus:
    """DIRECT_CHAT: one model call, no tools; its text is the answer."""
    request = ChatRequest(model=ctx.model, messages=history, system=ctx.system_prompt)
    reply = await stream_step(ctx, request)
    answer = reply.text if reply.text.strip() else EMPTY_REPLY_TEXT
    await reply.writer.finish("complete", content=answer, usage=reply.writer.usage)
    await ctx.emit(FinalAnswerEvent(content=answer))
    return "completed"


async def local_reply(
    store: SessionStore, turn: TurnState, agent_name: str, routing: RoutingResult, emit: Emit
) -> None:
    """Answer without a model (a greeting's canned reply): stored, told as a notice, final."""
    text = routing.local_reply or ""
    await store.append_message(
        turn.session_id,
        "assistant",
        text,
        model="local",
        agent_name=agent_name,
        turn_id=turn.turn_id,
    )
    await emit(notice(routing.local_code, text.splitlines()[0]))
    await emit(FinalAnswerEvent(content=text))


async def with_project_instructions(
    settings: Settings,
    workspace: Path,
    seen: dict[str, tuple[tuple[str, int, int], ...]],
    session_id: str,
    prompt: str,
    emit: Emit,
) -> str:
    """``prompt`` plus the AGENTS.md files; a notice when they are new or have changed
    (``seen``: per session, the files last told about)."""
    engine = settings.engine
    if not engine.project_instructions:
        return prompt
    found = await asyncio.to_thread(
        instructions.load, workspace, engine.project_instructions_max_bytes
    )
    if found.files and seen.get(session_id) != found.signature:
        names = ", ".join(
            path.relative_to(workspace).as_posix() if path.is_relative_to(workspace) else str(path)
            for path in found.files
        )
        cut = f" ({found.cut_bytes:,} bytes left out over the cap)" if found.cut_bytes else ""
        await emit(notice("project_instructions", f"Project instructions: {names}{cut}."))
    seen[session_id] = found.signature
    return f"{prompt}\n\n{found.text}" if found.text else prompt


def as_stored(
    settings: Settings, router: SimpleRouter, text: str, agent_name: str, mode: ExecutionMode | None
) -> str:
    """The person's message as the reference stores it: one routed to a skill without its
    ``@skill`` prefix (the turn's logged ``skill_match`` event keeps the skill's name, and
    the TUI shows it from there); anything else as typed."""
    try:
        agent = resolve_agent(settings, agent_name)
    except KeyError:
        return text  # the turn fails on it next; the message is kept as typed
    routing = router.route(text, agent, mode)
    if routing.matched and routing.clean_content:  # a bare `@skill` stays as typed
        return routing.clean_content
    return text


async def mcp_news(mcp: McpManager, session_id: str, token: CancellationToken, emit: Emit) -> None:
    """Wait briefly for MCP servers still starting; tell what happened to them."""
    starting = await cancellable(mcp.wait_started(), token)
    for code, message in mcp.news_for(session_id):
        await emit(notice(code, message))
    if starting:
        names = ", ".join(starting)
        await emit(
            notice(
                "mcp_starting",
                f"MCP server{'s' if len(starting) > 1 else ''} still starting ({names}): "
                "this turn runs without their tools.",
            )
        )
