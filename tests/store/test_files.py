"""Bad database files get a clear error naming the file, and are never modified."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest

from app.store import DatabaseFileError, SessionStore, StoreError
from app.store.migrations import SCHEMA_VERSION
from app.tools import sandbox


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_text_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    before = _digest(path)
    with pytest.raises(DatabaseFileError) as caught:
        await SessionStore.open(path)
    assert str(path) in str(caught.value)
    assert "not an SQLite database" in str(caught.value)
    assert _digest(path) == before


async def test_a_corrupt_database_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "agentkit.db"
    async with await SessionStore.open(path) as store:
        session = await store.create_session("a")
        for number in range(400):
            await store.append_message(session.id, "user", f"message {number} " + "x" * 200)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    for offset in range(2 * page, len(data) - page, page):  # keep the header page intact
        data[offset : offset + 512] = b"\xde\xad\xbe\xef" * 128
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises(DatabaseFileError) as caught:
        store = await SessionStore.open(path)
        try:
            await store.get_messages(session.id)
            await store.list_sessions()
        finally:
            await store.close()
    assert str(path) in str(caught.value)
    assert "corrupt" in str(caught.value) or "not an SQLite" in str(caught.value)
    assert _digest(path) == before


async def test_a_directory_or_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseFileError, match="directory"):
        await SessionStore.open(tmp_path)
    with pytest.raises(DatabaseFileError, match="does not exist"):
        await SessionStore.open(tmp_path / "missing" / "agentkit.db")
    with pytest.raises(DatabaseFileError, match="no database here yet"):
        await SessionStore.open(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


async def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "agentkit.db"
    async with await SessionStore.open(path):
        pass
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseFileError, match="newer AgentKit"):
        await SessionStore.open(path)


async def test_another_programs_database_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    before = _digest(path)
    with pytest.raises(DatabaseFileError, match="not AgentKit's"):
        await SessionStore.open(path)
    assert _digest(path) == before


async def test_pragmas_are_set_on_every_connection(db_path: Path) -> None:
    async with await SessionStore.open(db_path) as store:
        db = store._db
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"  # type: ignore[index]
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1  # type: ignore[index]
        assert (await db.fetchone("PRAGMA busy_timeout"))[0] == 5000  # type: ignore[index]
        assert (await db.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION  # type: ignore[index]


async def _damage_a_message_page(path: Path) -> None:
    """Break the header of one leaf page of the messages table (the sessions table still
    reads fine, so listing sessions alone would not notice)."""
    with sqlite3.connect(path) as raw:
        try:
            pages = raw.execute(
                "SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf'"
            ).fetchall()
        except sqlite3.OperationalError:
            pytest.skip("this SQLite has no dbstat table to find a messages page with")
        page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    offset = (pages[len(pages) // 2][0] - 1) * page_size
    data[offset] = 0  # not a valid b-tree page type
    path.write_bytes(bytes(data))


async def test_damage_inside_a_page_is_found_before_anything_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "agentkit.db"
    async with await SessionStore.open(path) as store:
        session = await store.create_session("a", title="kept")
        for number in range(300):
            await store.append_message(session.id, "user", f"message {number} " + "x" * 200)
    await _damage_a_message_page(path)
    before = _digest(path)
    # Within a day of the last clean check, opening does not read the whole file again...
    async with await SessionStore.open(path) as store:
        assert [s.title for s in await store.list_sessions()] == ["kept"]
    # ...and when a check is due, the damage is found and nothing is written.
    with pytest.raises(DatabaseFileError) as caught:
        await SessionStore.open(path, check_every=0)
    message = str(caught.value)
    assert ("damaged" in message or "corrupt" in message) and str(path) in message
    assert _digest(path) == before


async def test_a_clean_check_is_remembered(db_path: Path) -> None:
    async with await SessionStore.open(db_path) as store:
        first = await store._db.fetchone("SELECT value FROM store_state")
        assert first is not None
    async with await SessionStore.open(db_path, check_every=0) as store:
        again = await store._db.fetchone("SELECT value FROM store_state")
    assert again is not None and float(again[0]) > float(first[0])


async def test_a_read_only_store_reads_and_refuses_writes(db_path: Path) -> None:
    async with await SessionStore.open(db_path) as store:
        session = await store.create_session("a", title="readable")
        await store.append_message(session.id, "user", "find the wombat")
    before = _digest(db_path)
    async with await SessionStore.open_read_only(db_path) as store:
        assert [s.title for s in await store.list_sessions()] == ["readable"]
        assert [h.kind for h in await store.search("wombat")] == ["message"]
        assert "wombat" in await store.export_session(session.id, "md")
        with pytest.raises(StoreError):
            await store.create_session("a", title="not written")
    assert _digest(db_path) == before


_READ_ON_A_READ_ONLY_MOUNT = """
import asyncio, sys
from app.store import SessionStore

async def main():
    async with await SessionStore.open_read_only(sys.argv[1]) as store:
        titles = [s.title for s in await store.list_sessions()]
        hits = [h.kind for h in await store.search("wombat")]
        print(titles, hits)

asyncio.run(main())
"""


async def _run_mounted(mount: list[str], script: str, db_path: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *mount,
        sys.executable,
        "-c",
        script,
        str(db_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_sessions_can_be_read_from_a_read_only_mount(db_path: Path) -> None:
    """The whole file system read-only (bubblewrap's --ro-bind): even root cannot write."""
    binary = sandbox.state("auto").binary
    if binary is None:
        pytest.skip("bubblewrap cannot run here, and it is how the test mounts read-only")
    async with await SessionStore.open(db_path) as store:
        session = await store.create_session("a", title="on a CD")
        await store.append_message(session.id, "user", "find the wombat")
    mount = [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    code, out, err = await _run_mounted(mount, _READ_ON_A_READ_ONLY_MOUNT, db_path)
    assert code == 0, err
    assert out.strip() == "['on a CD'] ['message']"
    # Opening it for writing there is refused with the store's own error.
    writer = _READ_ON_A_READ_ONLY_MOUNT.replace("open_read_only(sys.argv[1])", "open(sys.argv[1])")
    code, out, err = await _run_mounted(mount, writer, db_path)
    assert code != 0 and "DatabaseFileError" in err
