"""App-level messages: what happened to a turn, posted to the app by its ``TurnFeed``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the first frame is drawn before the engine's modules are imported
    from app.engine.events import Event


@dataclass
class TurnEvent(Message):
    """One engine event of a running turn in ``session_id``."""

    session_id: str
    event: Event
    #: The event's place in the turn's replay buffer (merged tokens: the last one's).
    index: int = -1


@dataclass
class TurnStarted(Message):
    """A turn started in ``session_id`` with the person's ``text``."""

    session_id: str
    text: str


@dataclass
class TurnFinished(Message):
    """The turn in ``session_id`` ended with ``status``."""

    session_id: str
    status: str


@dataclass
class ApprovalsChanged(Message):
    """A question for the person was added to (or left) ``session_id``'s queue."""

    session_id: str
