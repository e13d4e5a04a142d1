"""Turns running now, per session, shared by every process that opens the file.

``[engine] max_concurrent_turns`` is a limit per session, not per process: the TUI, an
``agentkit run --session ID`` in another terminal and ``agentkit serve`` count against the
same number. A turn claims a row before it starts and releases it when it ends; a row whose
process has died (``kill -9``) no longer counts (see ``liveness``).
"""

from __future__ import annotations

from app.store.base import StorePart, from_db_time, to_db_time, utc_now
from app.store.liveness import current_writer, writer_is_alive


class TurnsPart(StorePart):
    """Claiming and releasing a place among a session's running turns."""

    async def claim_turn(self, session_id: str, turn_id: str, limit: int) -> int:
        """Take a place for ``turn_id`` unless ``limit`` live turns already run in the
        session; returns how many others run (``limit`` or more means it was refused).

        Places of processes that are gone are given back first; the claim itself is one
        statement (count and insert at once), so two claims never both take the last place.
        """
        now = utc_now()  # real time, not the store's clock: places belong to real processes
        rows = await self._db.fetchall(
            "SELECT turn_id, writer, updated_at FROM turns WHERE session_id = ?", (session_id,)
        )
        for row in rows:
            if not writer_is_alive(row["writer"], from_db_time(row["updated_at"]), now):
                await self._db.execute("DELETE FROM turns WHERE turn_id = ?", (row["turn_id"],))
        stamp = to_db_time(now)
        claimed = await self._db.fetchall(
            "INSERT INTO turns (turn_id, session_id, writer, started_at, updated_at) "
            "SELECT ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM turns WHERE session_id = ?) < ? "
            "RETURNING (SELECT count(*) FROM turns WHERE session_id = ?)",
            (turn_id, session_id, current_writer(), stamp, stamp, session_id, limit, session_id),
        )
        if claimed:
            return int(claimed[0][0]) - 1  # the count includes the new place
        return await self.live_turns(session_id)

    async def release_turn(self, turn_id: str) -> None:
        """Give the turn's place back (nothing happens when it holds none)."""
        await self._db.execute("DELETE FROM turns WHERE turn_id = ?", (turn_id,))

    async def live_turns(self, session_id: str) -> int:
        """How many turns of the session run now, in any process."""
        rows = await self._db.fetchall(
            "SELECT writer, updated_at FROM turns WHERE session_id = ?", (session_id,)
        )
        now = utc_now()
        return sum(
            writer_is_alive(row["writer"], from_db_time(row["updated_at"]), now) for row in rows
        )
