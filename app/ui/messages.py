"""App-level messages: what happened to a turn, posted by the TurnRunner to the app."""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from app.engine.events import Event


class TurnEvent(Message):
    """One engine event of a running turn in ``session_id``.

    ``shown``, when set, is called once the event is on screen (handled and painted): the
    runner holds back the next batch of tokens until then, so a screen that falls behind a
    fast stream draws fewer, larger updates instead of a growing queue of stale ones.
    """

    def __init__(
        self, session_id: str, event: Event, shown: Callable[[], None] | None = None
    ) -> None:
        super().__init__()
        self.session_id = session_id
        self.event = event
        self.shown = shown


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
