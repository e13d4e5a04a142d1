"""``SessionStore``: the one object the rest of the app uses to reach the database."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from app.store.base import Clock, utc_now
from app.store.db import QUICK_CHECK_EVERY, Database
from app.store.events import EventsPart
from app.store.export import ExportFormat, to_json, to_markdown
from app.store.messages import MessagesPart
from app.store.search import SearchPart
from app.store.sessions import SessionsPart
from app.store.turns import TurnsPart


class SessionStore(SessionsPart, MessagesPart, EventsPart, SearchPart, TurnsPart):
    """Sessions, messages, the event log and search, in one SQLite file.

    Open it with ``await SessionStore.open(path)`` (or ``async with``). One store holds one
    connection; several processes may open the same file at once.
    """

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._db = database
        self._now = clock

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        create: bool = True,
        clock: Clock = utc_now,
        check_every: float = QUICK_CHECK_EVERY,
    ) -> SessionStore:
        """Open the database at ``path``, creating it (if ``create``) and migrating it; its
        structure is checked first when the last check is older than ``check_every`` s."""
        database = await Database.open(Path(path), create=create, check_every=check_every)
        return cls(database, clock=clock)

    @classmethod
    async def open_read_only(cls, path: Path | str, *, clock: Clock = utc_now) -> SessionStore:
        """Open an existing database for reading only (it may sit on a read-only mount);
        every write through this store fails."""
        return cls(await Database.open_read_only(Path(path)), clock=clock)

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()

    async def __aenter__(self) -> SessionStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def export_session(self, session_id: str, fmt: ExportFormat) -> str:
        """The session with all its messages and events, as Markdown or JSON text."""
        session = await self.get_session(session_id)
        messages = await self.get_messages(session_id)
        events = await self.get_events(session_id)
        if fmt == "json":
            return to_json(session, messages, events, self._now())
        if fmt == "md":
            return to_markdown(session, messages, events)
        raise ValueError(f"export format must be 'md' or 'json', not {fmt!r}")
