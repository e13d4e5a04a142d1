"""Turns running now, per session, shared by every process that opens the file.

``[engine] max_concurrent_turns`` is a limit per session, not per process: the TUI, an
``agentkit run --session ID`` in another terminal and ``agentkit serve`` count against the
same number. A turn claims a row before it starts and releases it when it ends; a row whose
process has died (``kill -9``) no longer counts (see ``liveness``).
"""

from __future__ import annotations

from app.store.base import StorePart, from_db_time
from app.store.liveness import current_writer, writer_is_alive


class TurnsPart(StorePart):
    """Claiming and releasing a place among a session's running turns."""

    async def claim_turn(self, session_id: str, turn_id: str, limit: int) -> int:
        """Take a place for ``turn_id`` unless ``limit`` live turns already run in the
        session; returns how many others run (``limit`` or more means it was refused)."""
        now = self._now()
        async with self._db.transaction():
            rows = await self._db.fetchall(
                "SELECT turn_id, writer, updated_at FROM turns WHERE session_id = ?",
                (session_id,),
            )
            live = 0
            for row in rows:
                if writer_is_alive(row["writer"], from_db_time(row["updated_at"]), now):
                    live += 1
                else:  # its process is gone: the place is free again
                    await self._db.execute("DELETE FROM turns WHERE turn_id = ?", (row["turn_id"],))
            if live >= limit:
                return live
            stamp = self._stamp()
            await self._db.execute(
                "INSERT INTO turns (turn_id, session_id, writer, started_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (turn_id, session_id, current_writer(), stamp, stamp),
            )
        return live

    async def release_turn(self, turn_id: str) -> None:
        """Give the turn's place back (nothing happens when it holds none)."""
        await self._db.execute("DELETE FROM turns WHERE turn_id = ?", (turn_id,))

    async def live_turns(self, session_id: str) -> int:
        """How many turns of the session run now, in any process."""
        rows = await self._db.fetchall(
            "SELECT writer, updated_at FROM turns WHERE session_id = ?", (session_id,)
        )
        now = self._now()
        return sum(
            writer_is_alive(row["writer"], from_db_time(row["updated_at"]), now) for row in rows
        )
