"""One aiosqlite connection per store: opening, PRAGMAs, migrations, error translation.

The connection runs in autocommit mode: a single statement is its own transaction (an
append is one ``INSERT … RETURNING`` whose triggers update the session), and multi-statement
work uses :meth:`Database.transaction`, which takes the write lock up front
(``BEGIN IMMEDIATE``) so two processes on one file queue instead of failing.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from app.store.errors import DatabaseFileError, MigrationError
from app.store.migrations import MIGRATIONS, OWN_TABLE_PREFIXES, Migration

BUSY_TIMEOUT_MS = 5_000
#: How often a database opened for writing gets ``PRAGMA quick_check`` first: it reads the
#: whole file (about 0.2 s for 10,000 sessions, 120 MB), too slow for every start.
QUICK_CHECK_EVERY = 24 * 3600.0
#: The schema version that has the ``store_state`` table (where the last check is kept).
STATE_TABLE_VERSION = 2
_CHECKED_KEY = "quick_check_at"

log = logging.getLogger(__name__)

Params = Sequence[Any]


def translate(path: Path, exc: sqlite3.Error) -> DatabaseFileError:
    """Turn a raw SQLite error about the file into one that names the file and what to do."""
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered:
        return DatabaseFileError(
            path, "not an SQLite database (file is not a database); it was left untouched"
        )
    if "malformed" in lowered or "corrupt" in lowered:
        return DatabaseFileError(
            path,
            "the database is corrupt (database disk image is malformed); "
            "restore a backup (agentkit.db.bak-*) or move the file away to start afresh",
        )
    if "locked" in lowered or "busy" in lowered:
        return DatabaseFileError(
            path,
            f"the database stayed locked by another process for {BUSY_TIMEOUT_MS // 1000} s; "
            "try again",
        )
    if "readonly" in lowered or "read-only" in lowered:
        return DatabaseFileError(
            path, "the database is read-only here (check the file's permissions)"
        )
    if "unable to open" in lowered:
        return DatabaseFileError(
            path, "cannot open the database file (does its folder exist, may you write to it?)"
        )
    if "disk" in lowered and "full" in lowered:
        return DatabaseFileError(path, "the disk is full")
    return DatabaseFileError(path, f"database error: {text}")


def _file_uri(path: Path, *, create: bool) -> str:
    """Check the path (a few stat calls) and give SQLite's URI for it; never makes folders."""
    if path.is_dir():
        raise DatabaseFileError(path, "this is a directory, not a database file")
    if not path.exists() and not create:
        raise DatabaseFileError(path, "no database here yet")
    if not path.parent.is_dir():
        raise DatabaseFileError(path, f"the folder {path.parent} does not exist")
    return f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"


class Database:
    """A thin wrapper over one aiosqlite connection that names the file in every error."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self.path = path

    @classmethod
    async def open(
        cls, path: Path, *, create: bool = True, check_every: float = QUICK_CHECK_EVERY
    ) -> Database:
        """Open (or, if ``create``, make) the file, set PRAGMAs and bring the schema up to date.

        Before the first write, the file's structure is checked (``PRAGMA quick_check``) when
        the last clean check is more than ``check_every`` seconds old: a damaged file is
        refused, untouched.
        """
        database = await cls._connect(path, _file_uri(path, create=create))
        try:
            version = await database._first_read()
            checked = await database._check_structure(version, check_every)
            await database._configure()
            await migrate(database, MIGRATIONS)
            if checked:
                await database.execute(
                    "INSERT OR REPLACE INTO store_state (key, value) VALUES (?, ?)",
                    (_CHECKED_KEY, repr(time.time())),
                )
        except BaseException:
            await database._connection.close()
            raise
        return database

    @classmethod
    async def open_read_only(cls, path: Path) -> Database:
        """Open an existing file for reading only (``sessions list/show/search/export``), so
        they work on a read-only mount; a file with an older schema is upgraded first, which
        needs write access once."""
        uri = _file_uri(path, create=False).replace("?mode=rw", "?mode=ro")
        database = await cls._connect(path, uri)
        try:
            try:
                version = await database._first_read()
            except DatabaseFileError:
                # A WAL file whose -shm cannot be made here (a read-only folder or mount):
                # nobody can be writing to it, so read it as an unchanging file.
                await database.close()
                database = await cls._connect(path, uri + "&immutable=1")
                version = await database._first_read()
            if version < MIGRATIONS[-1].version:
                await database.close()
                try:
                    upgraded = await cls.open(path, create=False)
                except DatabaseFileError as exc:
                    raise DatabaseFileError(
                        path,
                        f"this database (schema v{version}) must be upgraded to "
                        f"v{MIGRATIONS[-1].version} once, which needs write access "
                        f"({exc.problem})",
                    ) from None
                await upgraded.close()
                return await cls.open_read_only(path)
            await migrate(database, MIGRATIONS)  # refuses a newer schema; writes nothing here
            await database.execute("PRAGMA query_only = ON")
        except BaseException:
            with contextlib.suppress(Exception):  # it may be closed already
                await database.close()
            raise
        return database

    @classmethod
    async def _connect(cls, path: Path, uri: str) -> Database:
        try:
            connection = await aiosqlite.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise translate(path, exc) from None
        connection.row_factory = sqlite3.Row
        return cls(connection, path)

    async def _first_read(self) -> int:
        """The schema version; a file that is not SQLite (or not ours) fails here, unwritten."""
        await self.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        row = await self.fetchone("PRAGMA user_version")
        version = int(row[0]) if row is not None else 0
        if version == 0:
            await self._refuse_foreign_database()
        return version

    async def _check_structure(self, version: int, check_every: float) -> bool:
        """Run ``PRAGMA quick_check`` when due; True when it ran (and found nothing)."""
        if version >= STATE_TABLE_VERSION:
            row = await self.fetchone(
                "SELECT value FROM store_state WHERE key = ?", (_CHECKED_KEY,)
            )
            with contextlib.suppress(ValueError, TypeError):
                if row is not None and time.time() - float(row[0]) < check_every:
                    return False
        problems = await self.fetchall("PRAGMA quick_check(5)")
        found = [str(r[0]) for r in problems if str(r[0]) != "ok"]
        if found:
            log.warning("quick_check of %s: %s", self.path, "; ".join(found))
            raise DatabaseFileError(
                self.path,
                "the database is damaged (PRAGMA quick_check: "
                f"{' '.join(found[0].split())[:160]}); it was left untouched; "
                "restore a backup (agentkit.db.bak-*) or move the file away to start afresh",
            )
        return True

    async def _configure(self) -> None:
        # WAL lets readers and one writer work at once (the TUI and `agentkit run`). Where a
        # file system cannot do WAL, SQLite keeps the old journal mode and still works.
        await self.fetchone("PRAGMA journal_mode = WAL")
        await self.execute("PRAGMA foreign_keys = ON")
        # NORMAL in WAL mode: a killed process loses nothing committed; only a power cut
        # can lose the last transactions (never corrupts the file).
        await self.execute("PRAGMA synchronous = NORMAL")

    async def _refuse_foreign_database(self) -> None:
        """A version-0 file that already holds other tables belongs to another program."""
        tables = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        foreign = [str(r[0]) for r in tables if not str(r[0]).startswith(OWN_TABLE_PREFIXES)]
        if foreign:
            raise DatabaseFileError(
                self.path,
                "an SQLite database that is not AgentKit's (it has tables "
                f"{', '.join(sorted(foreign)[:5])}); it was left untouched",
            )

    async def close(self) -> None:
        """Close the connection (checkpointing the WAL when this is the last one)."""
        try:
            await self._connection.close()
        except sqlite3.Error as exc:
            raise translate(self.path, exc) from None

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        try:
            cursor = await self._connection.execute(sql, params)
            changed = cursor.rowcount
            await cursor.close()
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise translate(self.path, exc) from None
        return changed

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for many parameter rows (use inside :meth:`transaction`)."""
        try:
            await self._connection.executemany(sql, rows)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise translate(self.path, exc) from None

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement and return all its rows (one trip to the database thread)."""
        try:
            rows = await self._connection.execute_fetchall(sql, params)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise translate(self.path, exc) from None
        return list(rows)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Run one statement and return its first row, if any."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Take the write lock now, commit on success, roll back on any error."""
        await self.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await self._connection.execute("ROLLBACK")
            raise
        await self.execute("COMMIT")

    async def backup_to(self, target: Path) -> None:
        """Write a consistent copy of the database to ``target`` (SQLite online backup)."""
        destination = sqlite3.connect(target)
        try:
            await self._connection.backup(destination)
        except sqlite3.Error as exc:
            raise translate(self.path, exc) from None
        finally:
            destination.close()


async def migrate(database: Database, migrations: Sequence[Migration]) -> None:
    """Bring the schema to the last of ``migrations``, backing the file up first."""
    path = database.path
    target = migrations[-1].version
    row = await database.fetchone("PRAGMA user_version")
    current = int(row[0]) if row else 0
    if current > target:
        raise DatabaseFileError(
            path,
            f"this database was written by a newer AgentKit (schema v{current}; this version "
            f"knows up to v{target}); upgrade agentkit-tui to use it",
        )
    if current == target:
        return
    backup: Path | None = None
    if current > 0:
        backup = _free_backup_path(path, current)
        await database.backup_to(backup)
    try:
        async with database.transaction():
            # Another process may have migrated while we waited for the write lock.
            row = await database.fetchone("PRAGMA user_version")
            current = int(row[0]) if row else 0
            for migration in migrations:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    await database.execute(statement)
            await database.execute(f"PRAGMA user_version = {int(target)}")
    except (sqlite3.Error, DatabaseFileError) as exc:
        kept = (
            f"; the file is unchanged and a copy is at {backup}"
            if backup
            else "; the file is unchanged"
        )
        raise MigrationError(path, f"schema migration to v{target} failed ({exc}){kept}") from None


def _free_backup_path(path: Path, version: int) -> Path:
    candidate = path.with_name(f"{path.name}.bak-v{version}")
    number = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak-v{version}.{number}")
        number += 1
    return candidate
