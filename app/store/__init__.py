"""The session store: sessions, messages, events and search in one SQLite file."""

from app.store.base import Clock, utc_now
from app.store.errors import (
    AmbiguousSessionIdError,
    DatabaseFileError,
    MessageNotFoundError,
    MigrationError,
    SessionClosedError,
    SessionNotFoundError,
    StoreError,
)
from app.store.models import Event, HistoryMessage, Message, SearchHit, Session, ToolCallRecord
from app.store.store import SessionStore

__all__ = [
    "AmbiguousSessionIdError",
    "Clock",
    "DatabaseFileError",
    "Event",
    "HistoryMessage",
    "Message",
    "MessageNotFoundError",
    "MigrationError",
    "SearchHit",
    "Session",
    "SessionClosedError",
    "SessionNotFoundError",
    "SessionStore",
    "StoreError",
    "ToolCallRecord",
    "utc_now",
]
