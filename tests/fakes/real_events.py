"""Stored events from real turns: scripted turns run through the real engine.

Tests of what reads the event log (the approvals review, the export) take their events from
here, so they see exactly the shape the engine writes: a :class:`ChatService` over a real
SQLite file, talking real HTTP to the loopback fake provider, running real tools in a
workspace, with a scripted person answering its questions. The store's clock steps one
second per reading, from ``START``, so the times are the same on every run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from app.config import Settings
from app.engine.cancel import CancellationToken
from app.engine.events import LOGGED_TYPES, from_wire
from app.engine.human import ConfirmationRequest, Decision, Question
from app.engine.service import ChatService
from app.llm.gateway import Gateway
from app.store import SessionStore
from app.store.models import Event, Message, Session
from app.wiring import build_service
from tests.fakes.provider import FakeProvider, Reply, Stall
from tests.fakes.scripts import openai_chunk, openai_reply, openai_tool_call_events

START = datetime(2026, 3, 14, 9, 26, 50, tzinfo=UTC)

#: How the scripted person answers a question, besides a :class:`Decision`:
#: ``"no answer"`` lets the engine's timeout decide; ``"stop"`` stops the turn while it
#: waits; ``"still waiting"`` ends the recording there, with the question unanswered
#: (the log as the app shows it while the question is open, or after a crash).
Answer = Decision | Literal["no answer", "stop", "still waiting"]

APPROVE = Decision(action="approve")
DENY = Decision(action="deny")


def approve_always(rule: str, scope: Literal["session", "workspace", "user"]) -> Decision:
    """Approve, and remember ``rule`` (for the session, this workspace or everywhere)."""
    return Decision(action="approve_always", rule=rule, scope=scope)


@dataclass
class ScriptedTurn:
    """One turn: the person's message, the tool calls the model makes, the person's answers.

    With ``calls`` the model first calls the tools, then answers ``reply``; ``approval``
    sets the approval mode of this turn. ``thinking`` streams reasoning before the calls.
    With ``stop_after`` the reply streams that text, then the person stops the turn (the
    reply is saved as cancelled)."""

    message: str
    calls: Sequence[tuple[str, dict[str, Any]]] = ()
    answers: Sequence[Answer] = ()
    reply: str = "Done."
    approval: Literal["ask", "auto", "read-only"] | None = None
    stop_after: str | None = None
    thinking: str = ""
    #: Text the model writes before its tool calls.
    text: str = ""


@dataclass
class Recording:
    """What the scripted turns left in the store."""

    session: Session
    messages: list[Message]
    events: list[Event]
    #: The SQLite file they are in (closed; open it again to read more).
    db: Path


class _StepClock:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class _Person:
    answers: list[Answer] = field(default_factory=list)
    token: CancellationToken | None = None

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        answer = self.answers.pop(0)
        if isinstance(answer, Decision):
            return answer
        if answer == "stop" and self.token is not None:
            self.token.cancel()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def ask(self, question: Question) -> str:
        raise AssertionError(f"no question was scripted: {question.question}")


def _calls_reply(turn: ScriptedTurn) -> Reply:
    specs = [
        (f"call_{index}{name[:3]}", name, [json.dumps(args)])
        for index, (name, args) in enumerate(turn.calls)
    ]
    thinking = [openai_chunk({"reasoning_content": turn.thinking})] if turn.thinking else []
    return Reply(body=[*thinking, *openai_tool_call_events(specs, text=turn.text)])


async def record_turns(
    tmp_path: Path,
    turns: Sequence[ScriptedTurn],
    *,
    title: str = "Recorded session",
    approval: dict[str, Any] | None = None,
) -> Recording:
    """Run ``turns`` in one new session through the real engine; return what was stored.

    ``approval`` is the ``[approval]`` config (rules, timeout). Files the tools write land
    in ``tmp_path / "workspace"``.
    """
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    fake = await FakeProvider().start()
    settings = Settings.model_validate(
        {
            "default_model": "fake/test-model",
            "providers": {"fake": {"kind": "openai", "base_url": fake.url, "max_retries": 0}},
            "tools": {"sandbox": "off"},
            "approval": approval or {},
        }
    )
    store = await SessionStore.open(tmp_path / "recorded.db", clock=_StepClock())
    gateway = Gateway(settings, env={}, demo_delay=0)
    service = build_service(
        settings,
        store,
        gateway,
        workspace=workspace,
        user_config_file=tmp_path / "config.toml",
    )
    try:
        session = await store.create_session("default", title=title)
        for turn in turns:
            left_waiting = await _run(service, fake, session.id, turn)
            if left_waiting is not None:
                return left_waiting
        return await _read(store, session.id)
    finally:
        await gateway.aclose()
        await store.close()
        await fake.stop()


async def _read(store: SessionStore, session_id: str) -> Recording:
    return Recording(
        session=await store.get_session(session_id),
        messages=await store.get_messages(session_id),
        events=await store.get_events(session_id),
        db=store.path,
    )


async def _run(
    service: ChatService, fake: FakeProvider, session_id: str, turn: ScriptedTurn
) -> Recording | None:
    """Run one turn. When the person leaves a question open, the store as it is then."""
    token = CancellationToken()
    person = _Person(answers=list(turn.answers), token=token)
    if turn.calls:
        fake.script(_calls_reply(turn))
    if turn.stop_after is not None:
        fake.script(Reply(body=[*openai_reply([turn.stop_after]).body[:2], Stall()]))
    elif not any(answer in ("stop", "still waiting") for answer in turn.answers):
        fake.script(openai_reply([turn.reply]))
    events = service.send(
        session_id, turn.message, human=person, cancel=token, approval=turn.approval
    )
    try:
        async for event in events:
            if turn.stop_after is not None and event.type == "token":
                token.cancel()
            if event.type == "confirmation_request" and person.answers[:1] == ["still waiting"]:
                # Logged before it reached us, and nobody will answer it.
                return await _read(service.store, session_id)
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    return None


def validate_as_stored(event: Event) -> None:
    """Raise unless ``event`` is a logged type whose stored data parses as its event model."""
    assert event.type in LOGGED_TYPES, event.type
    assert "type" not in event.data, "the log keeps the type in its own column"
    from_wire({**event.data, "type": event.type})


def record_turns_now(tmp_path: Path, turns: Sequence[ScriptedTurn], **options: Any) -> Recording:
    """:func:`record_turns` from synchronous code (a fixture, a snapshot test): it runs on
    its own event loop in a thread, so the test's own loop is left alone."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, record_turns(tmp_path, turns, **options)).result()


#: Every way an approval is decided, one per turn, and one question left open at the end.
APPROVAL_CONFIG: dict[str, Any] = {"allow": ["shell(git status)"], "timeout_seconds": 0.3}
APPROVAL_TURNS = [
    ScriptedTurn("What changed?", calls=[("shell", {"command": "git status"})]),
    ScriptedTurn("Clean up", calls=[("shell", {"command": "rm -rf build"})], answers=[DENY]),
    ScriptedTurn(
        "Make the folder",
        calls=[("shell", {"command": "mkdir build"})],
        answers=[approve_always("shell(mkdir *)", "workspace")],
    ),
    ScriptedTurn(
        "Take notes",
        calls=[("write_file", {"path": "notes.md", "content": "- build\n"})],
        approval="read-only",
    ),
    ScriptedTurn("Deploy", calls=[("shell", {"command": "make deploy"})], answers=["no answer"]),
    ScriptedTurn("Later", calls=[("shell", {"command": "touch later.txt"})], answers=["stop"]),
    ScriptedTurn(
        "Shout",
        calls=[("shell", {"command": "echo '[bold]loud[/bold]' > loud.txt"})],
        answers=[APPROVE],
    ),
    ScriptedTurn(
        "Wait", calls=[("shell", {"command": "touch waiting.txt"})], answers=["still waiting"]
    ),
]
