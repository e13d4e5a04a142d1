"""Typed store errors; ``str(error)`` is one line a person can act on."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base class of everything the session store raises."""


class SessionNotFoundError(StoreError):
    """No session has this id (or id prefix)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session '{session_id}' not found")
        self.session_id = session_id


class AmbiguousSessionIdError(StoreError):
    """An id prefix matches more than one session."""

    def __init__(self, prefix: str, matches: list[str]) -> None:
        shown = ", ".join(matches[:3])
        super().__init__(
            f"Session id '{prefix}' is ambiguous: it matches {shown}…; type more of it"
        )
        self.prefix = prefix
        self.matches = matches


class SessionClosedError(StoreError):
    """The session is closed: it stays readable but takes no new messages."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session '{session_id}' is closed")
        self.session_id = session_id


class MessageNotFoundError(StoreError):
    """No message has this id."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"Message {message_id} not found")
        self.message_id = message_id


class DatabaseFileError(StoreError):
    """The database file cannot be used: not SQLite, corrupt, too new, locked, unreadable."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class MigrationError(DatabaseFileError):
    """A schema migration failed and was rolled back; the backup is named in the message."""
