"""The event log: approvals, skill matches, plan and team events, so a session can be replayed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.store.base import EVENT_COLUMNS, StorePart, dump_json, event_from_row
from app.store.models import Event


class EventsPart(StorePart):
    """Operations on the ``events`` table."""

    async def append_event(
        self,
        session_id: str,
        type: str,
        data: dict[str, Any] | None = None,
        *,
        turn_id: str | None = None,
    ) -> Event:
        """Record an event. Closed sessions take events too: a turn may end after a close."""
        if not type:
            raise ValueError("an event needs a type")
        rows = await self._db.fetchall(
            "INSERT INTO events (session_id, seq, type, data, turn_id, created_at) "
            "SELECT id, last_seq + 1, ?, ?, ?, ? FROM sessions WHERE id = ? "
            f"RETURNING {EVENT_COLUMNS}",
            (type, dump_json(data or {}), turn_id, self._stamp(), session_id),
        )
        if not rows:
            await self.get_session(session_id)  # raises SessionNotFoundError
        return event_from_row(rows[0])

    async def get_events(
        self,
        session_id: str,
        *,
        types: Sequence[str] | None = None,
        after_seq: int | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """A session's events in order, optionally only some types or those after a point."""
        where = ["session_id = ?"]
        params: list[Any] = [session_id]
        if types:
            where.append(f"type IN ({', '.join('?' for _ in types)})")
            params.extend(types)
        if after_seq is not None:
            where.append("seq > ?")
            params.append(after_seq)
        rows = await self._db.fetchall(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
            (*params, -1 if limit is None else max(0, limit)),
        )
        if not rows:
            await self.get_session(session_id)
        return [event_from_row(row) for row in rows]
