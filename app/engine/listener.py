"""What hears the live-turn hub (:mod:`app.engine.live`): the TUI and the server each are one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.engine.events import Event
    from app.engine.live import LiveTurn


class LiveListener:
    """Hears what live turns do, synchronously and in the engine's order.

    Override the methods you need; they must not block (queue work, post a message). The
    engine waits while they run, so nothing of a turn happens between an event and its
    delivery: a ``confirmation_request`` reaches every listener before its question is
    listed as waiting.
    """

    def turn_started(self, turn: LiveTurn) -> None:
        """A turn began (no event of it has been emitted yet)."""

    def turn_event(self, turn: LiveTurn, event: Event) -> None:
        """The turn emitted ``event`` (every event, streamed tokens included)."""

    def waiting_changed(self, session_id: str) -> None:
        """A question of the session was put to the person, answered, or given up on."""

    def turn_finished(self, turn: LiveTurn) -> None:
        """The turn ended (after its ``result`` event); ``turn.status`` says how."""
