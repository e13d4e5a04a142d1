"""Schema migrations: backup first, one transaction, rollback on failure.

Schema v1 is the first release, so no older AgentKit file exists yet; these tests run the
migration machinery with an extra, test-only step on top of the real schema. When v2 ships,
add a test that opens a file made by v1 (keep a small v1 file under tests/store/data).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.store import MigrationError, SessionStore
from app.store.db import Database, migrate
from app.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration

NEXT = SCHEMA_VERSION + 1


async def _make_current_db(path: Path) -> str:
    async with await SessionStore.open(path) as store:
        session = await store.create_session("a", title="kept across migrations")
        await store.append_message(session.id, "user", "hello")
        return session.id


async def test_fresh_file_gets_the_whole_schema_without_a_backup(db_path: Path) -> None:
    async with await SessionStore.open(db_path):
        pass
    assert not list(db_path.parent.glob("*.bak-*"))
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert {"sessions", "messages", "events", "messages_fts", "sessions_fts"} <= tables


async def test_upgrade_backs_up_then_migrates(db_path: Path) -> None:
    session_id = await _make_current_db(db_path)
    step = Migration(NEXT, "add a column", ("ALTER TABLE sessions ADD COLUMN pinned INTEGER",))
    database = await Database.open(db_path)
    try:
        await migrate(database, (*MIGRATIONS, step))
        row = await database.fetchone("PRAGMA user_version")
        assert row is not None and row[0] == NEXT
        row = await database.fetchone(
            "SELECT pinned, title FROM sessions WHERE id = ?", (session_id,)
        )
        assert row is not None and row[1] == "kept across migrations"
    finally:
        await database.close()
    backup = db_path.with_name(f"{db_path.name}.bak-v{SCHEMA_VERSION}")
    with sqlite3.connect(backup) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("SELECT title FROM sessions").fetchone()[0] == "kept across migrations"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_a_failing_step_rolls_back_everything(db_path: Path) -> None:
    await _make_current_db(db_path)
    step = Migration(
        NEXT,
        "half good, half broken",
        ("ALTER TABLE sessions ADD COLUMN pinned INTEGER", "THIS IS NOT SQL"),
    )
    database = await Database.open(db_path)
    try:
        with pytest.raises(MigrationError) as caught:
            await migrate(database, (*MIGRATIONS, step))
    finally:
        await database.close()
    message = str(caught.value)
    assert str(db_path) in message and ".bak-v" in message and "unchanged" in message
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = {row[1] for row in raw.execute("PRAGMA table_info(sessions)")}
    assert "pinned" not in columns
    # The store still opens and works on the old schema.
    async with await SessionStore.open(db_path) as store:
        assert len(await store.list_sessions()) == 1


async def test_backups_never_overwrite_each_other(db_path: Path) -> None:
    await _make_current_db(db_path)
    first = db_path.with_name(f"{db_path.name}.bak-v{SCHEMA_VERSION}")
    first.write_bytes(b"an older backup")
    step = Migration(NEXT, "noop", ("CREATE TABLE extra (x)",))
    database = await Database.open(db_path)
    try:
        await migrate(database, (*MIGRATIONS, step))
    finally:
        await database.close()
    assert first.read_bytes() == b"an older backup"
    assert db_path.with_name(f"{first.name}.1").exists()


async def test_a_v1_file_is_migrated_and_its_long_messages_become_searchable(
    tmp_path: Path,
) -> None:
    """tests/store/data/v1.db was written by schema v1 (one FTS row per message)."""
    path = tmp_path / "agentkit.db"
    path.write_bytes((Path(__file__).parent / "data" / "v1.db").read_bytes())
    async with await SessionStore.open(path) as store:
        sessions = await store.list_sessions()
        assert {s.title for s in sessions} == {"Made by schema v1", "Second session"}
        # "zebrafinch" ends a 39 KB reply: past the first 16 KB part.
        for word, title in (
            ("zebrafinch", "Made by schema v1"),
            ("pangolin", "Second session"),
        ):
            hits = [h for h in await store.search(word) if h.kind == "message"]
            assert [h.session_title for h in hits] == [title], word
        # The question and the reply both name the quokka: two hits.
        assert len([h for h in await store.search("quokka") if h.kind == "message"]) == 2
    assert path.with_name("agentkit.db.bak-v1").exists()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
