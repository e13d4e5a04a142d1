"""One object per session: everything the UI knows about a session lives in its
:class:`SessionState`, and :class:`Sessions` gives the state for a session id.

A state holds the session's live turn (the engine hub's :class:`LiveTurn` while one runs), its
plan / team panel state, the model chosen for it, whether its question was minimised,
whether it wants attention, and which of its questions is on screen or was announced. The
sidebar reads its marks from here (:meth:`Sessions.marks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from app.ui.work import PANEL_TYPES, WorkState

if TYPE_CHECKING:
    from app.engine.events import Event
    from app.engine.live import LiveTurn, Waiting
    from app.ui.dialogs.ask_human import AskDialog
    from app.ui.dialogs.confirm import ConfirmDialog

#: The id under which the session not made yet (a new conversation) keeps its state.
DRAFT = ""


@dataclass(eq=False)
class SessionState:
    """What the UI keeps about one session."""

    session_id: str
    #: Finds the session's running turn (the engine's live-turn hub owns it).
    live_turns: Callable[[str], LiveTurn | None] = field(repr=False, default=lambda _id: None)
    #: The plan / team of the session's last planned turn (live ones kept up to date).
    work: WorkState | None = None
    #: Whether ``work`` was loaded (from the log, or by a live event).
    work_loaded: bool = False
    #: The model chosen with the picker for the next messages (None: the default).
    model: str | None = None
    #: The person minimised the session's question (f7 brings it back).
    minimised: bool = False
    #: A question waits here while another session is open (the sidebar shows "!").
    attention: bool = False
    #: A turn runs here (the sidebar shows "●").
    running: bool = False
    #: The question whose dialog is on screen, and that dialog.
    shown: tuple[Waiting, ConfirmDialog | AskDialog] | None = None
    #: How many events of the live turn the transcript replayed when the session opened.
    replayed_upto: int = 0
    #: Questions the person was told about (the bell rang once for each).
    announced: set[Waiting] = field(default_factory=set)

    @property
    def live(self) -> LiveTurn | None:
        """The session's running turn, if one runs."""
        return self.live_turns(self.session_id)

    def fold(self, event: Event, now: datetime) -> WorkState | None:
        """Fold a live event into the panel state; the state when it changed."""
        if event.type not in PANEL_TYPES:
            return None
        state = self.work
        fresh_plan = event.type == "plan_update" and (state is None or state.finished)
        if event.type == "team_formed" or fresh_plan:
            state = self.work = WorkState()
            self.work_loaded = True
        if state is None or (state.finished and event.type == "result"):
            return None
        return state if state.apply(event, now) else None

    def marks(self) -> str:
        """The sidebar's marks for the session: running, then wanting attention."""
        return ("● " if self.running else "") + ("! " if self.attention else "")


class Sessions:
    """The state of every session the UI has seen, by id; the new session's under ``DRAFT``."""

    def __init__(self, live_turns: Callable[[str], LiveTurn | None]) -> None:
        """``live_turns`` finds a session's running turn."""
        self._live_turns = live_turns
        self._states: dict[str, SessionState] = {}

    def get(self, session_id: str) -> SessionState:
        """The session's state (made empty on first use)."""
        state = self._states.get(session_id)
        if state is None:
            state = self._states[session_id] = SessionState(session_id, self._live_turns)
        return state

    @property
    def draft(self) -> SessionState:
        """The state of the new conversation whose session is not made yet."""
        return self.get(DRAFT)

    def adopt(self, session_id: str) -> SessionState:
        """The new conversation got its session: what was chosen for it moves there."""
        draft = self._states.pop(DRAFT, None)
        state = self.get(session_id)
        if draft is not None and draft.model is not None:
            state.model = draft.model
        return state

    def forget(self, session_id: str) -> None:
        """Drop what is kept about a session (deleted; or as after a restart)."""
        self._states.pop(session_id, None)

    def __iter__(self) -> Iterator[SessionState]:
        return iter(list(self._states.values()))

    def showing(self) -> SessionState | None:
        """The session whose question is on screen, if any."""
        return next((state for state in self if state.shown is not None), None)

    def marks(self, session_id: str) -> str:
        """The sidebar's marks for a session ("" when it has none)."""
        state = self._states.get(session_id)
        return state.marks() if state is not None else ""
