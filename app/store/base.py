"""Shared plumbing of the store's parts: the database handle, the clock, row conversion."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.clock import Clock as Clock  # the store's parts take their clock types from here
from app.clock import utc_now as utc_now
from app.store.db import Database
from app.store.models import Event, Message, Session, ToolCallRecord
from app.textsafe import strip_controls


def to_db_time(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC, so text order is time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    """Parse a time written by :func:`to_db_time`."""
    return datetime.fromisoformat(text)


def dump_json(value: Any) -> str:
    """Compact JSON for a JSON column (non-ASCII kept readable)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(text: str | None) -> Any:
    """Parse a JSON column; ``NULL`` stays ``None``."""
    return None if text is None else json.loads(text)


SESSION_COLUMNS = (
    "id, agent_name, title, status, metadata, created_at, updated_at, preview, "
    "message_count, last_seq"
)
MESSAGE_COLUMNS = (
    "id, session_id, seq, role, content, thinking, tool_calls, tool_call_id, tool_name, "
    "is_error, agent_name, model, status, usage, reasoning, turn_id, thread, created_at, "
    "updated_at, summary_through"
)
EVENT_COLUMNS = "id, session_id, seq, type, data, turn_id, created_at"


def session_from_row(row: sqlite3.Row) -> Session:
    """Build a :class:`Session` from a row selected with ``SESSION_COLUMNS``.

    The title and the preview are shown everywhere (sidebar, header, CLI lists, exports)
    and an automatic title is the first message's text as it was sent (an SQL trigger
    writes it): escape sequences, control and direction characters are stripped here."""
    return Session(
        id=row["id"],
        agent_name=row["agent_name"],
        title=strip_controls(row["title"]),
        status=row["status"],
        metadata=json.loads(row["metadata"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        preview=strip_controls(row["preview"]),
        message_count=row["message_count"],
        last_seq=row["last_seq"],
    )


def message_from_row(row: sqlite3.Row) -> Message:
    """Build a :class:`Message` from a row selected with ``MESSAGE_COLUMNS``."""
    calls = load_json(row["tool_calls"]) or []
    return Message(
        id=row["id"],
        session_id=row["session_id"],
        seq=row["seq"],
        role=row["role"],
        content=row["content"],
        thinking=row["thinking"],
        tool_calls=[ToolCallRecord.model_validate(call) for call in calls],
        tool_call_id=row["tool_call_id"],
        tool_name=row["tool_name"],
        is_error=bool(row["is_error"]),
        agent_name=row["agent_name"],
        model=row["model"],
        status=row["status"],
        usage=load_json(row["usage"]),
        reasoning=load_json(row["reasoning"]),
        turn_id=row["turn_id"],
        thread=row["thread"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        summary_through=row["summary_through"],
    )


def event_from_row(row: sqlite3.Row) -> Event:
    """Build an :class:`Event` from a row selected with ``EVENT_COLUMNS``."""
    return Event(
        id=row["id"],
        session_id=row["session_id"],
        seq=row["seq"],
        type=row["type"],
        data=json.loads(row["data"]),
        turn_id=row["turn_id"],
        created_at=from_db_time(row["created_at"]),
    )


class StorePart:
    """What every part of :class:`~app.store.SessionStore` shares."""

    _db: Database
    _now: Clock

    @property
    def path(self) -> Path:
        """The database file."""
        return self._db.path

    def _stamp(self) -> str:
        return to_db_time(self._now())

    async def get_session(self, session_id: str) -> Session:
        """The session with this id (defined by the sessions part)."""
        raise NotImplementedError
