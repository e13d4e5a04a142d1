"""The engine's questions to the person, kept per session until they are answered.

Every turn the app starts gets a :class:`SessionHuman`. Its ``confirm()`` and ``ask()`` put a
:class:`Pending` entry in the app-wide :class:`PendingQueue` and wait for the answer. The app
decides when to show an entry: at once when its session is open, otherwise when the person
opens that session (meanwhile the bell rings and the sidebar marks the session). A dialog can
be minimised and brought back; one answer can cover every call waiting in the session and the
later calls of the same step ("approve all"). The engine owns timeouts and cancellation: when
it gives up waiting, the entry goes away and its dialog closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.human import ConfirmationRequest, Decision, Question


@dataclass(eq=False)
class Pending:
    """One question waiting for the person."""

    session_id: str
    request: ConfirmationRequest | Question
    future: asyncio.Future[Any]

    @property
    def is_confirmation(self) -> bool:
        """An approval (rather than a question from the agent)."""
        return isinstance(self.request, ConfirmationRequest)


@dataclass
class Standing:
    """An answer given ahead for the later calls of one step (tool name, shell command)."""

    step: int
    decision: Decision
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def take(self, request: ConfirmationRequest) -> Decision | None:
        """The answer for ``request`` when it is one of the calls answered ahead."""
        for index, (tool, command) in enumerate(self.calls):
            if tool == request.tool and (command is None or command == request.command):
                del self.calls[index]
                return self.decision
        return None


class PendingQueue:
    """Questions of every session, in the order they were asked."""

    def __init__(self, changed: Callable[[str], object]) -> None:
        #: Called with the session id whenever an entry is added or goes away.
        self.changed = changed
        self.items: list[Pending] = []
        self.standing: dict[str, Standing] = {}

    def for_session(self, session_id: str) -> list[Pending]:
        """The session's waiting entries, oldest first."""
        return [item for item in self.items if item.session_id == session_id]

    def sessions(self) -> set[str]:
        """Sessions with something waiting for the person."""
        return {item.session_id for item in self.items}

    async def wait(self, session_id: str, request: ConfirmationRequest | Question) -> Any:
        """Queue a question and wait for its answer (cancelling the wait removes it)."""
        if isinstance(request, ConfirmationRequest):
            standing = self.standing.get(session_id)
            ahead = standing.take(request) if standing is not None else None
            if ahead is not None:
                return ahead
        item = Pending(session_id, request, asyncio.get_running_loop().create_future())
        self.items.append(item)
        try:
            # Let the turn's runner pass on the events emitted just before (the step, the
            # request) so the app sees them ahead of the question itself.
            for _ in range(3):
                await asyncio.sleep(0)
            self.changed(session_id)
            return await item.future
        finally:
            if item in self.items:
                self.items.remove(item)
                self.changed(session_id)

    def answer(self, item: Pending, value: Any) -> None:
        """Give ``item`` its answer (no-op when the engine stopped waiting)."""
        if not item.future.done():
            item.future.set_result(value)
        if item in self.items:
            self.items.remove(item)

    def answer_ahead(self, session_id: str, standing: Standing) -> None:
        """Answer the step's later calls now (until the step or the turn ends)."""
        self.standing[session_id] = standing

    def step_started(self, session_id: str, step: int) -> None:
        """A new step began: answers given ahead for an earlier one no longer apply."""
        standing = self.standing.get(session_id)
        if standing is not None and standing.step != step:
            del self.standing[session_id]

    def turn_ended(self, session_id: str) -> None:
        """Forget answers given ahead for the session's turn."""
        self.standing.pop(session_id, None)


class SessionHuman:
    """The engine's ``Human`` for one turn of one session."""

    def __init__(self, queue: PendingQueue, session_id: str) -> None:
        self.queue = queue
        self.session_id = session_id

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        """Wait for the person's decision; anything but a Decision is a denial."""
        answer = await self.queue.wait(self.session_id, request)
        return answer if isinstance(answer, Decision) else Decision(action="deny")

    async def ask(self, question: Question) -> str:
        """Wait for the person's reply ("" when they gave none)."""
        answer = await self.queue.wait(self.session_id, question)
        return answer if isinstance(answer, str) else ""
