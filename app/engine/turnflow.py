"""The steps of one turn that need no ``ChatService`` state: the turn's record, how a
failure is told, the person's message as the model sees it, and the modes that are run.

``ChatService._turn`` strings them together (see app/engine/service.py).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from app.config import ApprovalMode, Settings
from app.engine.cancel import CancellationToken
from app.engine.events import Event, FinalAnswerEvent, TurnStatus, notice, short_error, to_wire
from app.engine.human import Human
from app.engine.modes.errors import ModeError
from app.engine.modes.plan import run_plan
from app.engine.modes.roster import resolve_team
from app.engine.modes.team import run_team
from app.engine.react import run_react, stream_step
from app.engine.router import RoutingResult
from app.engine.skills import ExecutionMode
from app.engine.turn import EMPTY_REPLY_TEXT, Emit, TurnContext
from app.llm.errors import ContextTooLongError, LLMError
from app.llm.types import ChatMessage, ChatRequest
from app.store import MessageNotFoundError, SessionNotFoundError, SessionStore, StoreError
from app.tools.registry import ToolRegistry

log = logging.getLogger(__name__)

SESSION_GONE = (
    "The session was deleted (in another window or process) while this turn ran; nothing "
    "more of it is saved."
)
CONTEXT_TOO_LONG = (
    "The conversation is too long for this model's context window, even with older output "
    "shortened and the earliest turns left out. Continue in a new session (f5 / agentkit run "
    "--new), or pick a model with a larger window. Your message is saved."
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
