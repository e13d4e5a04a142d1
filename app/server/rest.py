"""The REST half of the API, under ``/chat``: sessions and their messages.

Paths, fields and status codes follow the reference chat service. A message posted here
runs a whole turn through the hub (so WebSocket clients of the session watch it too) and
returns the assistant's reply; with nobody to ask, tools that need approval follow the
server's ``[serve] approval`` rule, and the reply lists what was denied.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.config import ApprovalMode, ServeApproval
from app.engine.events import Event
from app.engine.human import PolicyHuman
from app.engine.skills import resolve_agent
from app.server.hub import Hub, dumps
from app.server.schemas import (
    ClosedOut,
    CreateSessionIn,
    DeniedCall,
    MessageOut,
    ReplyOut,
    SendMessageIn,
    SessionOut,
)
from app.store import Message, SessionClosedError, SessionStore

#: The approval mode a REST turn runs under, for each ``[serve] approval`` value.
REST_MODES: dict[ServeApproval, ApprovalMode] = {
    "deny": "ask",
    "auto": "auto",
    "read-only": "read-only",
}
NOBODY_TO_ASK = (
    "nobody can approve tool calls over REST (with [serve] approval 'deny', or 'auto' for the "
    "calls auto mode still asks about); use the WebSocket to approve calls"
)
#: ``limit`` when a client gives none: the reference returned everything.
ALL = 1 << 62
#: The largest ``offset``: SQLite's largest integer (a larger one was a 500).
MAX_OFFSET = (1 << 63) - 1


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def build_router(hub: Hub, approval: ServeApproval) -> APIRouter:
    """The ``/chat`` REST routes over ``hub``."""
    router = APIRouter(prefix="/chat", tags=["chat"])
    service = hub.service
    store: SessionStore = service.store

    @router.get("/sessions", response_model=list[SessionOut])
    async def list_sessions(
        limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        status: Literal["active", "closed"] | None = None,
    ) -> list[SessionOut]:
        """Sessions, most recently active first (all of them unless ``limit`` is given)."""
        sessions = await store.list_sessions(
            limit=ALL if limit is None else limit, offset=offset, status=status
        )
        return [SessionOut.of(session) for session in sessions]

    @router.post("/sessions", response_model=SessionOut)
    async def create_session(body: CreateSessionIn) -> SessionOut | JSONResponse:
        """Start a session with a named agent."""
        try:
            agent = resolve_agent(service.settings, body.agent_name)
        except KeyError as exc:
            return _detail(404, str(exc).strip("'\"").replace("unknown agent", "Unknown agent"))
        session = await store.create_session(agent.name, metadata=body.metadata or {})
        return SessionOut.of(session)

    @router.get("/sessions/{session_id}", response_model=SessionOut)
    async def get_session(session_id: str) -> SessionOut:
        """One session (404 when unknown)."""
        return SessionOut.of(await store.get_session(session_id))

    @router.get("/sessions/{session_id}/messages", response_model=list[MessageOut])
    async def get_messages(
        session_id: str,
        limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> list[MessageOut]:
        """The session's messages in order (the main conversation, not expert threads)."""
        messages = await store.get_messages(session_id, limit=limit, offset=offset, thread="main")
        return [MessageOut.of(message) for message in messages]

    @router.post(
        "/sessions/{session_id}/messages",
        response_model=ReplyOut,
        responses={
            400: {"description": "The session is closed"},
            404: {"description": "No such session"},
            429: {"description": "Too many turns running in the session"},
            502: {"description": "The model provider failed (one line, no stack trace)"},
            503: {"description": "The server is shutting down"},
        },
    )
    async def send_message(session_id: str, body: SendMessageIn) -> ReplyOut | JSONResponse:
        """Run a whole turn and return the assistant's reply."""
        session = await store.get_session(session_id)
        if session.is_closed:
            return _detail(400, str(SessionClosedError(session_id)))
        if hub.closing:
            return _detail(503, "The server is shutting down")
        before = await store.count_messages(session_id)  # the turn's messages come after
        events: list[Event] = []
        async for event in hub.live.stream(
            session_id,
            body.content,
            # In auto mode the policy allows all it can decide alone; what still asks
            # (protected paths, commands it cannot see through) has nobody to ask here.
            human=PolicyHuman(approve=False, reason=NOBODY_TO_ASK),
            approval=REST_MODES[approval],
        ):
            events.append(event)
        return await _reply(store, session_id, before, body.content, events)

    @router.delete("/sessions/{session_id}", response_model=ClosedOut)
    async def close_session(session_id: str) -> ClosedOut:
        """Close the session: it stays readable and refuses new messages."""
        await store.close_session(session_id)
        return ClosedOut(session_id=session_id)

    return router


async def _reply(
    store: SessionStore, session_id: str, before: int, text: str, events: list[Event]
) -> ReplyOut | JSONResponse:
    status = next((e.data.status for e in reversed(events) if e.type == "result"), "error")
    errors = [e.data.message for e in events if e.type == "error"]
    if status == "error":
        message = errors[-1] if errors else "The turn failed"
        code = 429 if message.startswith("Too many concurrent requests") else 502
        return _detail(code, message)
    if status == "cancelled":
        return _detail(503, "The server is shutting down; the partial reply was saved")
    reply = _turn_reply(await store.get_messages(session_id, offset=before), text)
    if reply is None:
        return _detail(502, errors[-1] if errors else "The turn produced no reply")
    out = MessageOut.of(reply).model_dump()
    return ReplyOut(**out, denied=_denied(events))


def _turn_reply(new: list[Message], text: str) -> Message | None:
    """The last assistant message of the turn that saved ``text``, among the messages
    stored since it started (other turns may have run at the same time)."""
    turn_id = next(
        (m.turn_id for m in new if m.role == "user" and m.content == text and m.turn_id), None
    )
    replies = [m for m in new if m.role == "assistant" and m.thread == "main"]
    if turn_id is not None:
        replies = [m for m in replies if m.turn_id == turn_id]
    return replies[-1] if replies else None


def _denied(events: list[Event]) -> list[DeniedCall]:
    """The calls of a turn that were not allowed to run, with what they were and why."""
    calls: dict[str, tuple[str, str]] = {}
    outputs: dict[str, str] = {}
    asked: dict[str, tuple[str, str]] = {}
    denied: list[DeniedCall] = []
    for event in events:
        if event.type == "step" and event.data.event_type == "tool_call":
            call = event.data.data
            shown = call.arguments.get("command") or call.arguments.get("path") or call.arguments
            calls[call.id] = (call.name, shown if isinstance(shown, str) else dumps(shown))
        elif event.type == "step" and event.data.event_type == "tool_result":
            outputs[event.data.data.id] = event.data.data.output
        elif event.type == "confirmation_request":
            asked[event.data.confirmation_id] = (event.data.tool or "", event.data.command)
    for event in events:
        if event.type != "confirmation_result" or event.data.approved:
            continue
        key = event.data.confirmation_id
        if key in asked:  # the policy asked; nobody was there to say yes
            tool, command = asked[key]
            denied.append(DeniedCall(tool=tool, command=command, reason=NOBODY_TO_ASK))
            continue
        call_id = key.removeprefix("policy-")
        tool, command = calls.get(call_id, (event.data.tool or "", ""))
        reason = outputs.get(call_id, "denied by the approval policy")
        denied.append(DeniedCall(tool=tool, command=command, reason=reason))
    return denied
