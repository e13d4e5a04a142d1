"""Sessions: create, find, list, rename, close, delete."""

from __future__ import annotations

import uuid
from typing import Any

from app.store.base import SESSION_COLUMNS, StorePart, dump_json, session_from_row
from app.store.errors import AmbiguousSessionIdError, SessionNotFoundError
from app.store.models import Session, SessionStatus
from app.textsafe import strip_controls

MAX_TITLE_CHARS = 200
#: Shortest id prefix accepted where a full session id is expected (CLI, palette).
MIN_PREFIX_CHARS = 4


def clean_title(title: str) -> str:
    """One line, no control characters (nor escape sequences or direction controls), trimmed
    and at most ``MAX_TITLE_CHARS`` long."""
    return " ".join(strip_controls(title).split())[:MAX_TITLE_CHARS]


class SessionsPart(StorePart):
    """Operations on the ``sessions`` table."""

    async def create_session(
        self,
        agent_name: str,
        *,
        title: str = "",
        metadata: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        """Start a new, active session bound to ``agent_name``."""
        stamp = self._stamp()
        row = await self._db.fetchone(
            "INSERT INTO sessions (id, agent_name, title, metadata, created_at, updated_at) "
            f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {SESSION_COLUMNS}",
            (
                session_id or uuid.uuid4().hex,
                agent_name,
                clean_title(title),
                dump_json(metadata or {}),
                stamp,
                stamp,
            ),
        )
        assert row is not None
        return session_from_row(row)

    async def get_session(self, session_id: str) -> Session:
        """The session with exactly this id; :class:`SessionNotFoundError` otherwise."""
        row = await self._db.fetchone(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
        )
        if row is None:
            raise SessionNotFoundError(session_id)
        return session_from_row(row)

    async def resolve_session_id(self, reference: str) -> str:
        """A full session id from an exact id or a unique prefix of at least 4 characters."""
        reference = reference.strip()
        if not reference.isascii() or not reference.isprintable():
            # Ids are ASCII: anything else matches none (and may be text SQLite cannot
            # take, like a lone surrogate from a command line that was not UTF-8).
            raise SessionNotFoundError(reference)
        exact = await self._db.fetchone("SELECT id FROM sessions WHERE id = ?", (reference,))
        if exact is not None:
            return str(exact[0])
        if len(reference) < MIN_PREFIX_CHARS:
            raise SessionNotFoundError(reference)
        upper = reference[:-1] + chr(ord(reference[-1]) + 1)
        rows = await self._db.fetchall(
            "SELECT id FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT 4",
            (reference, upper),
        )
        if not rows:
            raise SessionNotFoundError(reference)
        if len(rows) > 1:
            raise AmbiguousSessionIdError(reference, [str(r[0]) for r in rows])
        return str(rows[0][0])

    async def list_sessions(
        self, *, limit: int = 50, offset: int = 0, status: SessionStatus | None = None
    ) -> list[Session]:
        """Sessions, most recently updated first, one page at a time."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = await self._db.fetchall(
            f"SELECT {SESSION_COLUMNS} FROM sessions {where} "
            "ORDER BY updated_at DESC, pk DESC LIMIT ? OFFSET ?",
            (*params, max(0, limit), max(0, offset)),
        )
        return [session_from_row(row) for row in rows]

    async def count_sessions(self, *, status: SessionStatus | None = None) -> int:
        """How many sessions there are (with ``status``, if given)."""
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        row = await self._db.fetchone(f"SELECT count(*) FROM sessions {where}", params)
        return int(row[0]) if row else 0

    async def rename_session(self, session_id: str, title: str) -> Session:
        """Give the session a title of the person's choosing (closed ones too)."""
        cleaned = clean_title(title)
        if not cleaned:
            raise ValueError("a session title cannot be empty")
        return await self._update_session(session_id, "title = ?", (cleaned,))

    async def close_session(self, session_id: str) -> Session:
        """Close the session: it stays readable and refuses new messages. Idempotent."""
        return await self._update_session(session_id, "status = 'closed'", ())

    async def set_session_metadata(self, session_id: str, metadata: dict[str, Any]) -> Session:
        """Replace the session's metadata."""
        return await self._update_session(session_id, "metadata = ?", (dump_json(metadata),))

    async def delete_session(self, session_id: str) -> None:
        """Delete the session with its messages and events (cascade)."""
        changed = await self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        if changed == 0:
            raise SessionNotFoundError(session_id)

    async def _update_session(
        self, session_id: str, assignment: str, params: tuple[Any, ...]
    ) -> Session:
        # updated_at means "last activity" and orders the sidebar: renaming or closing a
        # session does not move it.
        row = await self._db.fetchone(
            f"UPDATE sessions SET {assignment} WHERE id = ? RETURNING {SESSION_COLUMNS}",
            (*params, session_id),
        )
        if row is None:
            raise SessionNotFoundError(session_id)
        return session_from_row(row)
