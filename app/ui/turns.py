"""TurnRunner: one async worker per running turn, started on the App so it outlives widgets.

Each turn calls ``ChatService.send`` and posts every event to the app as a ``TurnEvent``.
The runner keeps the events of each running turn, so a session opened mid-turn can replay
them after what the database already holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from app.engine.cancel import CancellationToken
from app.engine.events import Event, TokenEvent
from app.engine.human import Human
from app.engine.skills import ExecutionMode
from app.ui.messages import TurnEvent, TurnFinished, TurnStarted

if TYPE_CHECKING:
    from textual.app import App

    from app.engine.service import ChatService


@dataclass
class LiveTurn:
    """A turn in progress: how to stop it, and what it emitted so far."""

    session_id: str
    text: str
    started_at: datetime
    token: CancellationToken
    events: list[Event] = field(default_factory=list)
    worker: Worker[None] | None = None


class TurnRunner:
    """Starts, tracks and cancels turns; at most one live turn per session from the UI."""

    def __init__(
        self,
        app: App[Any],
        service: Callable[[], ChatService],
        human_for: Callable[[str], Human],
    ) -> None:
        """``service`` gives the chat service when a turn starts (the app starts it after
        its first frame, so the runner can exist, and report no live turns, before that)."""
        self.app = app
        self.service = service
        #: Makes the person's side of one turn, given the session id.
        self.human_for = human_for
        self.live: dict[str, LiveTurn] = {}

    def is_running(self, session_id: str) -> bool:
        """Whether a turn is running in the session."""
        return session_id in self.live

    def start(
        self,
        session_id: str,
        text: str,
        *,
        started_at: datetime,
        model: str | None = None,
        mode: ExecutionMode | None = None,
    ) -> LiveTurn:
        """Start a turn as an app-level worker."""
        turn = LiveTurn(session_id, text, started_at, CancellationToken())
        self.live[session_id] = turn
        turn.worker = self.app.run_worker(
            self._run(turn, model, mode),
            name=f"turn:{session_id}",
            group="turns",
            exit_on_error=False,
        )
        return turn

    def cancel(self, session_id: str) -> bool:
        """Stop the session's running turn (its partial reply is kept); False if none."""
        turn = self.live.get(session_id)
        if turn is None:
            return False
        turn.token.cancel("user")
        return True

    async def _run(self, turn: LiveTurn, model: str | None, mode: ExecutionMode | None) -> None:
        status = "error"
        self.app.post_message(TurnStarted(turn.session_id, turn.text))
        tokens = _TokenBatcher(lambda event: self._post(turn, event))
        try:
            async for event in self.service().send(
                turn.session_id,
                turn.text,
                human=self.human_for(turn.session_id),
                model_override=model,
                cancel=turn.token,
                mode=mode,
            ):
                if isinstance(event, TokenEvent):
                    tokens.add(event.content)
                    continue
                tokens.flush()
                if event.type == "result":
                    status = event.data.status
                self._post(turn, event)
        finally:
            tokens.flush()
            self.live.pop(turn.session_id, None)
            self.app.post_message(TurnFinished(turn.session_id, status))

    def _post(self, turn: LiveTurn, event: Event) -> None:
        turn.events.append(event)
        self.app.post_message(TurnEvent(turn.session_id, event))


class _TokenBatcher:
    """Merges streamed tokens into one event per frame: the screen redraws at most ~60 times
    a second, so more events would only queue up ahead of key presses. How often the reply
    is drawn is the streaming widget's business (``AssistantMessage.write``)."""

    FRAME_SECONDS = 1 / 60

    def __init__(self, post: Callable[[Event], None]) -> None:
        self.post = post
        self.parts: list[str] = []
        self.timer: asyncio.TimerHandle | None = None

    def add(self, text: str) -> None:
        """Hold a token until the frame ends."""
        self.parts.append(text)
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.FRAME_SECONDS, self.flush)

    def flush(self) -> None:
        """Post what is held, as one token event (at once: before another event, at the end)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.parts:
            text, self.parts = "".join(self.parts), []
            self.post(TokenEvent(content=text))
