"""Schema migrations, numbered by ``PRAGMA user_version``.

Each step is a list of SQL statements. Before an existing database is migrated it is copied
next to itself (``agentkit.db.bak-vN``) with SQLite's online backup, and every step then runs
in one transaction: a failure rolls back to the old schema and names the backup.

Design notes for schema v1:
- ``sessions.last_seq`` is one counter shared by messages and events, so a session's
  messages and events interleave exactly as they happened (replay of approvals, plans).
- Triggers keep the session row (last_seq, message_count, preview, title, updated_at) and the
  FTS indexes in step with every insert, update and (cascaded) delete, so one INSERT is one
  atomic statement and no writer can forget a side table.
- ``messages.writer`` names the process writing a ``streaming`` row (see ``liveness``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step: after it runs, ``user_version`` is ``version``."""

    version: int
    description: str
    statements: tuple[str, ...]


# One line of text for previews and automatic titles: newlines and tabs become spaces.
_ONE_LINE = "trim(replace(replace(replace({col}, char(13), ' '), char(10), ' '), char(9), ' '))"
# Tool calls are indexed as the text of their leaves (name, argument values; not ids).
_CALL_TEXT = (
    "coalesce((SELECT group_concat(value, ' ') FROM json_tree(NEW.tool_calls) "
    "WHERE type = 'text' AND key != 'id'), '')"
)
_VISIBLE = "NEW.role IN ('user', 'assistant') AND NEW.thread = 'main'"

V1 = Migration(
    version=1,
    description="sessions, messages, events, full-text search",
    statements=(
        """
        CREATE TABLE sessions (
            pk            INTEGER PRIMARY KEY,  -- stable rowid for sessions_fts (VACUUM-safe)
            id            TEXT NOT NULL UNIQUE,
            agent_name    TEXT NOT NULL,
            title         TEXT NOT NULL DEFAULT '',
            status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
            metadata      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL,
            preview       TEXT NOT NULL DEFAULT '',
            message_count INTEGER NOT NULL DEFAULT 0,
            last_seq      INTEGER NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX sessions_by_recency ON sessions (updated_at DESC, pk DESC)",
        "CREATE INDEX sessions_by_status ON sessions (status, updated_at DESC, pk DESC)",
        """
        CREATE TABLE messages (
            id           INTEGER PRIMARY KEY,
            session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            seq          INTEGER NOT NULL,
            role         TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
            content      TEXT NOT NULL DEFAULT '',
            thinking     TEXT NOT NULL DEFAULT '',
            tool_calls   TEXT CHECK (tool_calls IS NULL OR json_valid(tool_calls)),
            tool_call_id TEXT,
            tool_name    TEXT,
            is_error     INTEGER NOT NULL DEFAULT 0,
            agent_name   TEXT,
            model        TEXT,
            status       TEXT NOT NULL DEFAULT 'complete'
                         CHECK (status IN
                             ('complete', 'streaming', 'cancelled', 'error', 'interrupted')),
            usage        TEXT CHECK (usage IS NULL OR json_valid(usage)),
            reasoning    TEXT CHECK (reasoning IS NULL OR json_valid(reasoning)),
            turn_id      TEXT,
            thread       TEXT NOT NULL DEFAULT 'main',
            writer       TEXT,
            created_at   TEXT NOT NULL,
            updated_at   TEXT NOT NULL,
            UNIQUE (session_id, seq)
        )
        """,
        "CREATE INDEX messages_streaming ON messages (session_id) WHERE status = 'streaming'",
        """
        CREATE TABLE events (
            id         INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            seq        INTEGER NOT NULL,
            type       TEXT NOT NULL,
            data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
            turn_id    TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (session_id, seq)
        )
        """,
        "CREATE INDEX events_by_type ON events (session_id, type, seq)",
        # Full-text search: message text, thinking and tool-call arguments (tool output is the
        # content of tool messages), and titles. Own-content FTS tables, kept by triggers.
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5 (
            content, thinking, tool_args,
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        """
        CREATE VIRTUAL TABLE sessions_fts USING fts5 (
            title,
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        f"""
        CREATE TRIGGER messages_after_insert AFTER INSERT ON messages BEGIN
            UPDATE sessions SET
                last_seq = max(last_seq, NEW.seq),
                updated_at = NEW.created_at,
                message_count = message_count + ({_VISIBLE}),
                preview = CASE WHEN {_VISIBLE} AND {_ONE_LINE.format(col="NEW.content")} != ''
                          THEN substr({_ONE_LINE.format(col="NEW.content")}, 1, 200)
                          ELSE preview END,
                title = CASE WHEN title = '' AND NEW.role = 'user' AND NEW.thread = 'main'
                        THEN substr({_ONE_LINE.format(col="NEW.content")}, 1, 80)
                        ELSE title END
            WHERE id = NEW.session_id;
            INSERT INTO messages_fts (rowid, content, thinking, tool_args)
            VALUES (NEW.id, NEW.content, NEW.thinking, {_CALL_TEXT});
        END
        """,
        f"""
        CREATE TRIGGER messages_after_update AFTER UPDATE OF content, thinking, tool_calls
        ON messages WHEN OLD.content IS NOT NEW.content OR OLD.thinking IS NOT NEW.thinking
            OR OLD.tool_calls IS NOT NEW.tool_calls BEGIN
            DELETE FROM messages_fts WHERE rowid = OLD.id;
            INSERT INTO messages_fts (rowid, content, thinking, tool_args)
            VALUES (NEW.id, NEW.content, NEW.thinking, {_CALL_TEXT});
            UPDATE sessions SET
                preview = substr({_ONE_LINE.format(col="NEW.content")}, 1, 200),
                updated_at = max(updated_at, NEW.updated_at)
            WHERE id = NEW.session_id AND last_seq = NEW.seq AND {_VISIBLE}
              AND {_ONE_LINE.format(col="NEW.content")} != '';
        END
        """,
        """
        CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
            DELETE FROM messages_fts WHERE rowid = OLD.id;
            UPDATE sessions SET message_count = message_count - (
                OLD.role IN ('user', 'assistant') AND OLD.thread = 'main')
            WHERE id = OLD.session_id;
        END
        """,
        """
        CREATE TRIGGER events_after_insert AFTER INSERT ON events BEGIN
            UPDATE sessions SET last_seq = max(last_seq, NEW.seq) WHERE id = NEW.session_id;
        END
        """,
        """
        CREATE TRIGGER sessions_after_insert AFTER INSERT ON sessions BEGIN
            INSERT INTO sessions_fts (rowid, title) VALUES (NEW.pk, NEW.title);
        END
        """,
        """
        CREATE TRIGGER sessions_after_title AFTER UPDATE OF title ON sessions
        WHEN OLD.title IS NOT NEW.title BEGIN
            DELETE FROM sessions_fts WHERE rowid = OLD.pk;
            INSERT INTO sessions_fts (rowid, title) VALUES (NEW.pk, NEW.title);
        END
        """,
        """
        CREATE TRIGGER sessions_after_delete AFTER DELETE ON sessions BEGIN
            DELETE FROM sessions_fts WHERE rowid = OLD.pk;
        END
        """,
    ),
)

# Schema v2: message text is indexed in parts of PART_CHARS characters (each part also holds
# the first PART_OVERLAP characters of the next, so a word cut at a boundary is still found
# whole), as FTS rows ``message id * PARTS_PER_MESSAGE + part number``. A search then ranks
# and cuts snippets from parts of a bounded size: with the whole 10 MB paste as one row, a
# common word had ~200,000 hits to weigh in that one row and a search took minutes. Text past
# PARTS_PER_MESSAGE parts (64 MiB) is not indexed.
PART_CHARS = 16_384
PART_OVERLAP = 64
PARTS_PER_MESSAGE = 4_096


def _parts_select(row: str, calls: str) -> str:
    """The FTS rows (rowid and the three columns' parts) of message ``row``, whose tool-call
    text is ``calls.text``; ``FROM`` names ``row``, ``calls`` and the parts table ``p``."""
    width = PART_CHARS + PART_OVERLAP
    return (
        f"SELECT {row}.id * {PARTS_PER_MESSAGE} + p.n, "
        f"substr({row}.content, p.n * {PART_CHARS} + 1, {width}), "
        f"substr({row}.thinking, p.n * {PART_CHARS} + 1, {width}), "
        f"substr({calls}.text, p.n * {PART_CHARS} + 1, {width}) "
        "{from_} "
        f"WHERE p.n <= (max(length({row}.content), length({row}.thinking), "
        f"length({calls}.text)) - 1) / {PART_CHARS}"
    )


_FTS_INSERT = "INSERT INTO messages_fts (rowid, content, thinking, tool_args) "
_CALLS_OF = (
    "SELECT coalesce(group_concat(value, ' '), '') AS text FROM json_tree({row}.tool_calls) "
    "WHERE type = 'text' AND key != 'id'"
)
# A new or changed row: its tool-call text is worked out once (an aggregate subquery is not
# flattened into the join), then cut into parts.
_INDEX_NEW = _FTS_INSERT + _parts_select("NEW", "c").format(
    from_=f"FROM ({_CALLS_OF.format(row='NEW')}) AS c, messages_fts_parts AS p"
)
# Rows stored by schema v1: copied once with their tool-call text, then cut into parts.
_BACKFILL = (
    "CREATE TEMP TABLE fts_backfill AS SELECT m.id, m.content, m.thinking, "
    f"({_CALLS_OF.format(row='m')}) AS text FROM messages AS m",
    _FTS_INSERT
    + _parts_select("b", "b").format(from_="FROM temp.fts_backfill AS b, messages_fts_parts AS p"),
    "DROP TABLE temp.fts_backfill",
)

_FIRST_PART = f"OLD.id * {PARTS_PER_MESSAGE}"
_DELETE_PARTS = (
    f"DELETE FROM messages_fts WHERE rowid BETWEEN {_FIRST_PART} "
    f"AND {_FIRST_PART} + {PARTS_PER_MESSAGE - 1}"
)

V2 = Migration(
    version=2,
    description="search in parts, structure checks, turns shared across processes",
    statements=(
        "DROP TRIGGER messages_after_insert",
        "DROP TRIGGER messages_after_update",
        "DROP TRIGGER messages_after_delete",
        "DROP TABLE messages_fts",
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5 (
            content, thinking, tool_args,
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        "CREATE TABLE messages_fts_parts (n INTEGER PRIMARY KEY)",
        # Facts about the file itself (when its structure was last checked).
        "CREATE TABLE store_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # Turns running now, in every process (see store/turns.py).
        """
        CREATE TABLE turns (
            turn_id    TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            writer     TEXT NOT NULL,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX turns_by_session ON turns (session_id)",
        # A compaction summary is a system message standing in, for the model, for every
        # main-thread turn that started at or before this seq (the originals are kept).
        "ALTER TABLE messages ADD COLUMN summary_through INTEGER",
        "WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k "
        f"WHERE n + 1 < {PARTS_PER_MESSAGE}) INSERT INTO messages_fts_parts SELECT n FROM k",
        f"""
        CREATE TRIGGER messages_after_insert AFTER INSERT ON messages BEGIN
            UPDATE sessions SET
                last_seq = max(last_seq, NEW.seq),
                updated_at = NEW.created_at,
                message_count = message_count + ({_VISIBLE}),
                preview = CASE WHEN {_VISIBLE} AND {_ONE_LINE.format(col="NEW.content")} != ''
                          THEN substr({_ONE_LINE.format(col="NEW.content")}, 1, 200)
                          ELSE preview END,
                title = CASE WHEN title = '' AND NEW.role = 'user' AND NEW.thread = 'main'
                        THEN substr({_ONE_LINE.format(col="NEW.content")}, 1, 80)
                        ELSE title END
            WHERE id = NEW.session_id;
            {_INDEX_NEW};
        END
        """,
        f"""
        CREATE TRIGGER messages_after_update AFTER UPDATE OF content, thinking, tool_calls
        ON messages WHEN OLD.content IS NOT NEW.content OR OLD.thinking IS NOT NEW.thinking
            OR OLD.tool_calls IS NOT NEW.tool_calls BEGIN
            {_DELETE_PARTS};
            {_INDEX_NEW};
            UPDATE sessions SET
                preview = substr({_ONE_LINE.format(col="NEW.content")}, 1, 200),
                updated_at = max(updated_at, NEW.updated_at)
            WHERE id = NEW.session_id AND last_seq = NEW.seq AND {_VISIBLE}
              AND {_ONE_LINE.format(col="NEW.content")} != '';
        END
        """,
        f"""
        CREATE TRIGGER messages_after_delete AFTER DELETE ON messages BEGIN
            {_DELETE_PARTS};
            UPDATE sessions SET message_count = message_count - (
                OLD.role IN ('user', 'assistant') AND OLD.thread = 'main')
            WHERE id = OLD.session_id;
        END
        """,
        *_BACKFILL,
    ),
)

MIGRATIONS: tuple[Migration, ...] = (V1, V2)
SCHEMA_VERSION = MIGRATIONS[-1].version

#: Tables of our schema; a version-0 file holding other tables is not ours to change.
OWN_TABLE_PREFIXES = ("sessions", "messages", "events", "turns", "store_state")
