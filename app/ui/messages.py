"""App-level messages: what happened to a turn, posted by the TurnRunner to the app."""

from __future__ import annotations

from textual.message import Message

from app.engine.events import Event


class TurnEvent(Message):
    """One engine event of a running turn in ``session_id``."""

    def __init__(self, session_id: str, event: Event) -> None:
        super().__init__()
        self.session_id = session_id
        self.event = event


class TurnStarted(Message):
    """A turn started in ``session_id`` with the person's ``text``."""

    def __init__(self, session_id: str, text: str) -> None:
        super().__init__()
        self.session_id = session_id
        self.text = text


class TurnFinished(Message):
    """The turn in ``session_id`` ended with ``status``."""

    def __init__(self, session_id: str, status: str) -> None:
        super().__init__()
        self.session_id = session_id
        self.status = status


class ApprovalsChanged(Message):
    """A question for the person was added to (or left) ``session_id``'s queue."""

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id
