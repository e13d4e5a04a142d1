"""Bad database files get a clear error naming the file, and are never modified."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from app.store import DatabaseFileError, SessionStore
from app.store.migrations import SCHEMA_VERSION


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
