"""Running turns are counted per session across processes, through the database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from app.store import SessionStore
from app.store.liveness import writer_token

_HOLD_A_TURN = """
import asyncio, sys
from app.store import SessionStore

async def main():
    async with await SessionStore.open(sys.argv[1]) as store:
        print(await store.claim_turn(sys.argv[2], "other-process", 8), flush=True)
        sys.stdin.readline()  # hold the place until told to go

asyncio.run(main())
"""


async def test_the_limit_counts_turns_of_one_session_only(store: SessionStore) -> None:
    one = await store.create_session("a")
    two = await store.create_session("a")
    assert await store.claim_turn(one.id, "t1", 2) == 0
    assert await store.claim_turn(one.id, "t2", 2) == 1
    assert await store.claim_turn(one.id, "t3", 2) == 2  # refused
    assert await store.live_turns(one.id) == 2
    assert await store.claim_turn(two.id, "u1", 2) == 0  # another session has its own places
    await store.release_turn("t1")
    assert await store.claim_turn(one.id, "t3", 2) == 1
    assert await store.live_turns(one.id) == 2


async def test_a_turn_in_another_process_counts_until_that_process_dies(db_path: Path) -> None:
    async with await SessionStore.open(db_path) as store:
        session = await store.create_session("a")
        holder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _HOLD_A_TURN,
            str(db_path),
            session.id,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=Path(__file__).parents[2],
        )
        assert holder.stdout is not None
        assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"0"
        assert await store.claim_turn(session.id, "mine", 1) == 1  # refused: the other runs
        holder.kill()  # no chance to release its place
        await holder.wait()
        assert await store.live_turns(session.id) == 0
        assert await store.claim_turn(session.id, "mine", 1) == 0


async def test_a_dead_writers_place_is_given_back(store: SessionStore) -> None:
    session = await store.create_session("a")
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    token = writer_token(gone.pid)
    await gone.wait()
    stamp = store._stamp()
    await store._db.execute(
        "INSERT INTO turns (turn_id, session_id, writer, started_at, updated_at) "
        "VALUES ('old', ?, ?, ?, ?)",
        (session.id, token, stamp, stamp),
    )
    assert await store.claim_turn(session.id, "new", 1) == 0
    rows = await store._db.fetchall("SELECT turn_id FROM turns")
    assert [row[0] for row in rows] == ["new"]
