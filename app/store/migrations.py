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

MIGRATIONS: tuple[Migration, ...] = (V1,)
SCHEMA_VERSION = MIGRATIONS[-1].version

#: Tables of our schema; a version-0 file holding other tables is not ours to change.
OWN_TABLE_PREFIXES = ("sessions", "messages", "events")
