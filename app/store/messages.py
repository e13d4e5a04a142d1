"""Messages: append, update while streaming, read pages, and the history for the next turn."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from app.store.base import (
    MESSAGE_COLUMNS,
    StorePart,
    dump_json,
    from_db_time,
    message_from_row,
)
from app.store.errors import DatabaseFileError, MessageNotFoundError, SessionClosedError
from app.store.liveness import current_writer, writer_is_alive
from app.store.models import (
    MESSAGE_STATUSES,
    ROLES,
    HistoryMessage,
    Message,
    MessageStatus,
    Role,
    ToolCallRecord,
)

#: What the model is told for a tool call whose result never got stored (crash, kill).
MISSING_RESULT_TEXT = (
    "No result was recorded for this call: the turn was interrupted before the tool finished."
)

ToolCallsArg = Sequence[ToolCallRecord | dict[str, Any]] | None


def _calls_json(tool_calls: ToolCallsArg) -> str | None:
    if not tool_calls:
        return None
    records = [ToolCallRecord.model_validate(call) for call in tool_calls]
    return dump_json([record.model_dump(exclude_none=True) for record in records])


class MessagesPart(StorePart):
    """Operations on the ``messages`` table."""

    async def append_message(
        self,
        session_id: str,
        role: Role,
        content: str = "",
        *,
        thinking: str = "",
        tool_calls: ToolCallsArg = None,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
        is_error: bool = False,
        agent_name: str | None = None,
        model: str | None = None,
        status: MessageStatus = "complete",
        usage: dict[str, Any] | None = None,
        reasoning: list[dict[str, Any]] | None = None,
        turn_id: str | None = None,
        thread: str = "main",
        allow_closed: bool = False,
    ) -> Message:
        """Add a message at the end of an active session, in its own transaction.

        Raises :class:`SessionClosedError` for a closed session (unless ``allow_closed``: a
        turn that was already running when the session closed still records what its
        tools did) and :class:`SessionNotFoundError` for an unknown one. ``agent_name``
        defaults to the session's agent. A ``streaming`` message records this process as
        its writer.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if status not in MESSAGE_STATUSES:
            raise ValueError(f"status must be one of {', '.join(MESSAGE_STATUSES)}, not {status!r}")
        if role == "tool" and not tool_call_id:
            raise ValueError("a tool message needs the tool_call_id of the call it answers")
        if tool_calls and role != "assistant":
            raise ValueError("only assistant messages carry tool calls")
        stamp = self._stamp()
        rows = await self._db.fetchall(
            "INSERT INTO messages (session_id, seq, role, content, thinking, tool_calls, "
            "tool_call_id, tool_name, is_error, agent_name, model, status, usage, reasoning, "
            "turn_id, thread, writer, created_at, updated_at) "
            "SELECT id, last_seq + 1, ?, ?, ?, ?, ?, ?, ?, coalesce(?, agent_name), ?, ?, ?, ?, "
            "?, ?, ?, ?, ? FROM sessions WHERE id = ? AND (status = 'active' OR ?) "
            f"RETURNING {MESSAGE_COLUMNS}",
            (
                role,
                _no_nul(content),
                _no_nul(thinking),
                _calls_json(tool_calls),
                tool_call_id,
                tool_name,
                int(is_error),
                agent_name,
                model,
                status,
                None if usage is None else dump_json(usage),
                None if reasoning is None else dump_json(reasoning),
                turn_id,
                thread,
                current_writer() if status == "streaming" else None,
                stamp,
                stamp,
                session_id,
                int(allow_closed),
            ),
        )
        if not rows:
            session = await self.get_session(session_id)  # raises not found
            raise SessionClosedError(session.id)
        return message_from_row(rows[0])

    async def add_summary(
        self,
        session_id: str,
        text: str,
        through_seq: int,
        *,
        model: str | None = None,
        turn_id: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> Message:
        """Store a compaction summary standing in, for the model, for every main-thread turn
        that started at or before ``through_seq`` (those messages stay, for people)."""
        stamp = self._stamp()
        rows = await self._db.fetchall(
            "INSERT INTO messages (session_id, seq, role, content, agent_name, model, usage, "
            "turn_id, summary_through, created_at, updated_at) "
            "SELECT id, last_seq + 1, 'system', ?, agent_name, ?, ?, ?, ?, ?, ? FROM sessions "
            "WHERE id = ? AND status = 'active' AND ? BETWEEN 1 AND last_seq "
            f"RETURNING {MESSAGE_COLUMNS}",
            (
                _no_nul(text),
                model,
                None if usage is None else dump_json(usage),
                turn_id,
                through_seq,
                stamp,
                stamp,
                session_id,
                through_seq,
            ),
        )
        if not rows:
            session = await self.get_session(session_id)  # raises not found
            if session.is_closed:
                raise SessionClosedError(session.id)
            raise ValueError(f"a summary must cover seq 1..{session.last_seq}, not {through_seq}")
        return message_from_row(rows[0])

    async def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        thinking: str | None = None,
        tool_calls: ToolCallsArg = None,
        status: MessageStatus | None = None,
        usage: dict[str, Any] | None = None,
        reasoning: list[dict[str, Any]] | None = None,
        model: str | None = None,
    ) -> Message:
        """Save a message as it grows (a streaming reply) or when it ends; returns it."""
        assignments: list[str] = ["updated_at = ?"]
        params: list[Any] = [self._stamp()]
        for column, value in (
            ("content", content),
            ("thinking", thinking),
            ("model", model),
        ):
            if value is not None:
                assignments.append(f"{column} = ?")
                params.append(_no_nul(value))
        if tool_calls is not None:
            assignments.append("tool_calls = ?")
            params.append(_calls_json(tool_calls))
        if usage is not None:
            assignments.append("usage = ?")
            params.append(dump_json(usage))
        if reasoning is not None:
            assignments.append("reasoning = ?")
            params.append(dump_json(reasoning))
        if status is not None:
            if status not in MESSAGE_STATUSES:
                raise ValueError(f"status must be one of {', '.join(MESSAGE_STATUSES)}")
            assignments.append("status = ?, writer = ?")
            params.extend([status, current_writer() if status == "streaming" else None])
        row = await self._db.fetchone(
            f"UPDATE messages SET {', '.join(assignments)} WHERE id = ? "
            f"RETURNING {MESSAGE_COLUMNS}",
            (*params, message_id),
        )
        if row is None:
            raise MessageNotFoundError(message_id)
        return message_from_row(row)

    async def get_message(self, message_id: int) -> Message:
        """One message by id (a dead writer's streaming row is first marked interrupted)."""
        row = await self._db.fetchone("SELECT session_id FROM messages WHERE id = ?", (message_id,))
        if row is None:
            raise MessageNotFoundError(message_id)
        await self._recover_interrupted(str(row[0]))
        row = await self._db.fetchone(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        )
        if row is None:
            raise MessageNotFoundError(message_id)
        return message_from_row(row)

    async def get_messages(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        last: int | None = None,
        before_seq: int | None = None,
        after_seq: int | None = None,
        thread: str | None = None,
    ) -> list[Message]:
        """A session's messages in order.

        ``limit``/``offset`` page from the start; ``last=N`` gives the newest N (still in
        order), and with ``before_seq`` the N just before that point — how a long
        transcript loads earlier messages as the person scrolls up. ``after_seq`` keeps only
        those after that point (with ``limit``: the next page down, from a search hit).
        """
        await self._recover_interrupted(session_id)
        where = ["session_id = ?"]
        params: list[Any] = [session_id]
        if thread is not None:
            where.append("thread = ?")
            params.append(thread)
        if before_seq is not None:
            where.append("seq < ?")
            params.append(before_seq)
        if after_seq is not None:
            where.append("seq > ?")
            params.append(after_seq)
        clause = " AND ".join(where)
        if last is not None:
            rows = await self._db.fetchall(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {clause} ORDER BY seq DESC LIMIT ?",
                (*params, max(0, last)),
            )
            rows.reverse()
        else:
            rows = await self._db.fetchall(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {clause} "
                "ORDER BY seq LIMIT ? OFFSET ?",
                (*params, -1 if limit is None else max(0, limit), max(0, offset)),
            )
        if not rows:
            await self.get_session(session_id)  # unknown session → SessionNotFoundError
        return [message_from_row(row) for row in rows]

    async def count_messages(self, session_id: str) -> int:
        """How many messages the session holds (every role and thread)."""
        row = await self._db.fetchone(
            "SELECT count(*) FROM messages WHERE session_id = ?", (session_id,)
        )
        count = int(row[0]) if row else 0
        if count == 0:
            await self.get_session(session_id)
        return count

    async def get_chat_messages(
        self, session_id: str, *, exclude_turns: Collection[str] = ()
    ) -> list[HistoryMessage]:
        """The history the model sees next turn: the main thread, tool calls paired with results.

        Messages of one turn stay together, turns in the order they started, so two turns
        that ran at the same time never interleave; ``exclude_turns`` leaves out turns that
        are still running (their exchanges are half done). Every assistant tool call is
        followed by exactly one result: results that were never stored (a crash or kill
        mid-tool) get a marked synthetic error result, and results whose call is gone are
        dropped, so a resumed session never sends a request that a provider rejects. Empty
        assistant rows and rows still streaming in another live process are left out.
        Deterministic: the same rows always give the same history.
        """
        await self._recover_interrupted(session_id)
        rows = await self._db.fetchall(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE session_id = ? AND thread = 'main' "
            "ORDER BY seq",
            (session_id,),
        )
        if not rows:
            await self.get_session(session_id)
        excluded = set(exclude_turns)
        turn_start: dict[str, int] = {}
        for row in rows:
            if row["turn_id"] is not None:
                turn_start.setdefault(row["turn_id"], row["seq"])

        def started(row: Any) -> int:
            return int(turn_start.get(row["turn_id"], row["seq"]))

        history: list[HistoryMessage] = []
        summary = _latest_summary(rows)
        if summary is not None:
            # The summary stands for every turn that started at or before its mark; turns
            # that started later (and the summary's own place) follow verbatim.
            through = summary["summary_through"]
            rows = [r for r in rows if started(r) > through and r["summary_through"] is None]
            history.append(HistoryMessage(role="system", content=summary["content"], summary=True))
        else:
            rows = [r for r in rows if r["summary_through"] is None]
        rows = sorted(
            (row for row in rows if row["turn_id"] not in excluded),
            key=lambda row: (started(row), row["seq"]),
        )
        pending: dict[str, ToolCallRecord] = {}

        def settle_pending() -> None:
            for call in pending.values():
                history.append(
                    HistoryMessage(
                        role="tool",
                        content=MISSING_RESULT_TEXT,
                        tool_call_id=call.id,
                        tool_name=call.name,
                        is_error=True,
                        synthetic=True,
                    )
                )
            pending.clear()

        for message in map(message_from_row, rows):
            if message.role == "tool":
                if message.tool_call_id in pending:
                    del pending[message.tool_call_id]
                    history.append(_history(message))
                continue
            settle_pending()
            if message.role == "assistant" and (
                message.status == "streaming"
                or not (message.content.strip() or message.tool_calls or message.thinking)
            ):
                continue
            history.append(_history(message))
            pending = {call.id: call for call in message.tool_calls}
        settle_pending()
        return history

    async def _recover_interrupted(self, session_id: str) -> None:
        """Mark streaming rows whose writer process is gone as ``interrupted``."""
        rows = await self._db.fetchall(
            "SELECT id, writer, updated_at FROM messages "
            "WHERE session_id = ? AND status = 'streaming'",
            (session_id,),
        )
        now = self._now()
        for row in rows:
            if writer_is_alive(row["writer"], from_db_time(row["updated_at"]), now):
                continue
            try:
                await self._db.execute(
                    "UPDATE messages SET status = 'interrupted', writer = NULL "
                    "WHERE id = ? AND status = 'streaming' AND writer IS ?",
                    (row["id"], row["writer"]),
                )
            except DatabaseFileError:
                if not self._db.read_only:
                    raise
                return  # opened read-only: shown as it was left ("streaming")


def _latest_summary(rows: list[Any]) -> Any | None:
    """The newest complete summary row, if the session has been compacted."""
    summaries = [r for r in rows if r["summary_through"] is not None and r["status"] == "complete"]
    return summaries[-1] if summaries else None


def _history(message: Message) -> HistoryMessage:
    return HistoryMessage(
        role=message.role,
        content=message.content,
        thinking=message.thinking,
        tool_calls=message.tool_calls,
        tool_call_id=message.tool_call_id,
        tool_name=message.tool_name,
        is_error=message.is_error,
        reasoning=message.reasoning,
        model=message.model,
    )


def _no_nul(text: str) -> str:
    """``text`` with each NUL as U+FFFD: SQLite's text functions stop at a NUL, so the
    rest of the message was left out of search, previews and titles."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text
