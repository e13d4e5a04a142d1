"""The TUI's view of the engine's live-turn hub (``app/engine/live.py``).

The hub runs the turns, keeps their events and the questions they wait on. :class:`TurnFeed`
is the TUI's listener: it starts and stops turns through the hub (each one a Textual worker,
so it lives as long as the App), and turns what the hub tells it into app messages, in the
engine's order. Streamed tokens are merged into at most one message every 1/30 s: the
streaming reply redraws at most ~12 times a second, so more messages would only cost CPU and
queue up ahead of key presses (how often the reply is drawn is the streaming widget's
business). Each message carries the event's place in the turn's replay buffer, so a session
opened mid-turn, which replays the buffer, can skip the messages it has already drawn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.engine.listener import LiveListener
from app.ui.messages import ApprovalsChanged, TurnEvent, TurnFinished, TurnStarted

if TYPE_CHECKING:  # the engine's modules load after the first frame (imported where used)
    from app.engine.events import Event
    from app.engine.live import LiveHub, LiveTurn, Waiting
    from app.engine.service import ChatService
    from app.engine.skills import ExecutionMode
    from app.ui.app import AgentKitApp

FRAME_SECONDS = 1 / 30


@dataclass
class _HeldTokens:
    """Tokens of one turn not posted yet, and the place of the last one in its buffer."""

    parts: list[str] = field(default_factory=list)
    last_index: int = -1
    timer: asyncio.TimerHandle | None = None


class TurnFeed(LiveListener):
    """Starts, stops and follows the turns of every session through the engine's hub."""

    def __init__(self, app: AgentKitApp) -> None:
        """Post to ``app``; the hub comes with the engine (:meth:`attach`)."""
        self.app = app
        self.hub: LiveHub | None = None
        self._held: dict[LiveTurn, _HeldTokens] = {}

    def attach(self, service: ChatService) -> LiveHub:
        """Make the hub for ``service`` and listen to every session's turns."""
        from app.engine.live import LiveHub

        self.hub = LiveHub(service, spawn=self._spawn)
        self.hub.listen(self)
        return self.hub

    def _spawn(self, coroutine: Coroutine[Any, Any, None], turn: LiveTurn) -> object:
        return self.app.run_worker(
            coroutine, name=f"turn:{turn.session_id}", group="turns", exit_on_error=False
        )

    # ------------------------------------------------------------------ what the UI asks

    @property
    def live(self) -> dict[str, LiveTurn]:
        """The running turn of each session that has one."""
        hub = self.hub
        if hub is None:
            return {}
        running = {sid: hub.live(sid) for sid in hub.sessions_in_use()}
        return {sid: turns[0] for sid, turns in running.items() if turns}

    def turn(self, session_id: str) -> LiveTurn | None:
        """The session's running turn, if one runs."""
        turns = self.hub.live(session_id) if self.hub is not None else []
        return turns[0] if turns else None

    def is_running(self, session_id: str) -> bool:
        """Whether a turn runs in the session."""
        return self.hub is not None and self.hub.running(session_id)

    def waiting(self, session_id: str) -> list[Waiting]:
        """The session's questions waiting for the person, oldest first."""
        return self.hub.waiting(session_id) if self.hub is not None else []

    def start(
        self,
        session_id: str,
        text: str,
        *,
        started_at: datetime,
        model: str | None = None,
        mode: ExecutionMode | None = None,
    ) -> LiveTurn:
        """Start a turn (the engine must be up)."""
        assert self.hub is not None, "turns start once the engine is up"
        return self.hub.start(session_id, text, model=model, mode=mode, started_at=started_at)

    def cancel(self, session_id: str) -> bool:
        """Stop the session's running turn (its partial reply is kept); False if none."""
        return self.hub is not None and self.hub.cancel(session_id)

    # ------------------------------------------------------------------ what the hub says

    def turn_started(self, turn: LiveTurn) -> None:
        """Tell the app a turn began."""
        self.app.post_message(TurnStarted(turn.session_id, turn.text))

    def turn_event(self, turn: LiveTurn, event: Event) -> None:
        """Post the event (tokens merged per frame; anything else flushes them first)."""
        from app.engine.events import TokenEvent

        index = turn.emitted - 1  # the hub counts the event before telling anyone
        if isinstance(event, TokenEvent):
            held = self._held.setdefault(turn, _HeldTokens())
            held.parts.append(event.content)
            held.last_index = index
            if held.timer is None:
                loop = asyncio.get_running_loop()
                held.timer = loop.call_later(FRAME_SECONDS, self._flush, turn)
            return
        self._flush(turn)
        self.app.post_message(TurnEvent(turn.session_id, event, index))

    def waiting_changed(self, session_id: str) -> None:
        """A question was asked, answered or given up on."""
        self.app.post_message(ApprovalsChanged(session_id))

    def turn_finished(self, turn: LiveTurn) -> None:
        """Post what is held, then the end of the turn."""
        self._flush(turn)
        self._held.pop(turn, None)
        self.app.post_message(TurnFinished(turn.session_id, turn.status or "error"))

    def _flush(self, turn: LiveTurn) -> None:
        from app.engine.events import TokenEvent

        held = self._held.get(turn)
        if held is None:
            return
        if held.timer is not None:
            held.timer.cancel()
            held.timer = None
        if held.parts:
            text, held.parts = "".join(held.parts), []
            self.app.post_message(
                TurnEvent(turn.session_id, TokenEvent(content=text), held.last_index)
            )


def merged(events: list[Event]) -> list[Event]:
    """``events`` with each run of tokens joined into one (for replaying a live turn)."""
    from app.engine.events import TokenEvent

    out: list[Event] = []
    for event in events:
        if isinstance(event, TokenEvent) and out and isinstance(out[-1], TokenEvent):
            out[-1] = TokenEvent(content=out[-1].content + event.content)
        else:
            out.append(event)
    return out
