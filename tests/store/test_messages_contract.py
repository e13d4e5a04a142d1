"""The messages store at its edges: what each call defaults to and refuses (with which error),
every field an update can change, the history's carried fields, and the recovery of rows
left streaming by a writer that is gone (another boot, another host gone quiet), including
on a database opened read-only."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from app.store import (
    MessageNotFoundError,
    SessionClosedError,
    SessionNotFoundError,
    SessionStore,
    ToolCallRecord,
)
from app.store.messages import MISSING_RESULT_TEXT
from tests.conftest import FrozenClock

#: A writer token of this machine from before a reboot: its process is surely gone.
GONE = f"{socket.gethostname()}|a-boot-long-ago|4242|1"
#: A writer on another machine (a shared drive): judged by how long its row stayed quiet.
ELSEWHERE = "another-host|its-boot|4242|1"


def _set_writer(db_path: Path, message_id: int, token: str) -> None:
    """What another process would have written as the row's writer."""
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE messages SET writer = ? WHERE id = ?", (token, message_id))


async def test_defaults_of_a_bare_message(store: SessionStore) -> None:
    session = await store.create_session("a")
    bare = await store.append_message(session.id, "user")
    assert (bare.content, bare.is_error, bare.thinking, bare.thread) == ("", False, "", "main")


async def test_a_closed_session_refuses_new_messages_unless_a_turn_was_running(
    store: SessionStore,
) -> None:
    session = await store.create_session("a")
    await store.close_session(session.id)
    with pytest.raises(SessionClosedError) as closed:
        await store.append_message(session.id, "user", "late")
    assert closed.value.session_id == session.id
    assert str(closed.value) == f"Session '{session.id}' is closed"
    kept = await store.append_message(
        session.id, "tool", "out", tool_call_id="c", allow_closed=True
    )
    assert kept.content == "out"
    with pytest.raises(SessionNotFoundError):
        await store.append_message("no-such-session", "user", "x")
    with pytest.raises(SessionClosedError) as summary:
        await store.add_summary(session.id, "gist", 1)
    assert summary.value.session_id == session.id


async def test_refusals_say_what_is_wrong(store: SessionStore) -> None:
    session = await store.create_session("a")
    with pytest.raises(ValueError) as role:
        await store.append_message(session.id, "robot", "x")  # type: ignore[arg-type]
    assert str(role.value) == "role must be one of system, user, assistant, tool, not 'robot'"
    with pytest.raises(ValueError) as status:
        await store.append_message(session.id, "user", "x", status="lost")  # type: ignore[arg-type]
    assert str(status.value).startswith("status must be one of complete, streaming, ")
    assert str(status.value).endswith(", not 'lost'")
    with pytest.raises(ValueError) as tool:
        await store.append_message(session.id, "tool", "x")
    assert str(tool.value) == "a tool message needs the tool_call_id of the call it answers"
    with pytest.raises(ValueError) as calls:
        await store.append_message(
            session.id, "user", "x", tool_calls=[{"id": "c", "name": "shell", "arguments": {}}]
        )
    assert str(calls.value) == "only assistant messages carry tool calls"
    message = await store.append_message(session.id, "assistant", "x")
    with pytest.raises(ValueError) as update:
        await store.update_message(message.id, status="lost")  # type: ignore[arg-type]
    assert str(update.value).startswith("status must be one of complete, streaming, ")
    for missing in (
        store.update_message(999, content="x"),
        store.get_message(999),
    ):
        with pytest.raises(MessageNotFoundError) as gone:
            await missing
        assert gone.value.message_id == 999


async def test_an_update_changes_every_field_it_is_given_and_no_other(
    store: SessionStore,
) -> None:
    session = await store.create_session("a")
    message = await store.append_message(session.id, "assistant", "", status="streaming")
    calls = [ToolCallRecord(id="call_1", name="shell", arguments={"command": "ls"})]
    updated = await store.update_message(
        message.id,
        content="Let me look.",
        thinking="A listing.",
        tool_calls=calls,
        usage={"input_tokens": 5},
        reasoning=[{"kind": "thinking", "text": "t"}],
        model="fake/m",
        status="complete",
    )
    fetched = await store.get_message(message.id)
    assert fetched == updated
    assert (fetched.content, fetched.thinking, fetched.model) == (
        "Let me look.",
        "A listing.",
        "fake/m",
    )
    assert [(c.id, c.name, c.arguments) for c in fetched.tool_calls] == [
        ("call_1", "shell", {"command": "ls"})
    ]
    assert fetched.usage == {"input_tokens": 5}
    assert fetched.reasoning == [{"kind": "thinking", "text": "t"}]
    assert fetched.status == "complete"
    again = await store.update_message(message.id, content="Only this.")
    assert (again.thinking, again.tool_calls, again.usage) == (
        "A listing.",
        fetched.tool_calls,
        {"input_tokens": 5},
    )
    assert again.reasoning == [{"kind": "thinking", "text": "t"}] and again.status == "complete"


async def test_a_summary_keeps_its_usage(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "hello")
    summary = await store.add_summary(session.id, "gist", 1, usage={"output_tokens": 9})
    assert summary.usage == {"output_tokens": 9}
    plain = await store.add_summary(session.id, "gist again", 1)
    assert plain.usage is None


async def test_the_history_carries_what_the_model_needs_back(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "look")
    reasoning = [{"kind": "thinking", "text": "t", "signature": "sig"}]
    await store.append_message(
        session.id,
        "assistant",
        "Looking.",
        thinking="hmm",
        tool_calls=[
            {"id": "c1", "name": "read_file", "arguments": {"path": "a"}},
            {"id": "c2", "name": "shell", "arguments": {"command": "ls"}},
        ],
        model="fake/m",
        reasoning=reasoning,
    )
    await store.append_message(
        session.id, "tool", "no such file", tool_call_id="c1", tool_name="read_file", is_error=True
    )
    _, answer, result, missing = await store.get_chat_messages(session.id)
    assert (answer.thinking, answer.model, answer.reasoning) == ("hmm", "fake/m", reasoning)
    assert (result.tool_name, result.is_error) == ("read_file", True)
    assert (missing.tool_call_id, missing.tool_name, missing.content) == (
        "c2",
        "shell",
        MISSING_RESULT_TEXT,
    )


async def test_reading_an_unknown_session_fails_and_an_empty_one_is_empty(
    store: SessionStore,
) -> None:
    empty = await store.create_session("a")
    assert await store.get_chat_messages(empty.id) == []
    assert await store.count_messages(empty.id) == 0
    assert await store.get_messages(empty.id) == []
    for read in (
        store.get_chat_messages("nope"),
        store.count_messages("nope"),
        store.get_messages("nope"),
    ):
        with pytest.raises(SessionNotFoundError):
            await read
    await store.append_message(empty.id, "user", "one")
    assert await store.count_messages(empty.id) == 1


async def test_zero_asked_is_zero_given(store: SessionStore) -> None:
    session = await store.create_session("a")
    for text in ("a", "b"):
        await store.append_message(session.id, "user", text)
    assert await store.get_messages(session.id, last=0) == []
    assert await store.get_messages(session.id, limit=0) == []
    assert [m.content for m in await store.get_messages(session.id, limit=-5)] == []
    assert [m.content for m in await store.get_messages(session.id, offset=-3)] == ["a", "b"]


async def test_a_live_streaming_row_stays_streaming_however_it_is_read(
    store: SessionStore,
) -> None:
    session = await store.create_session("a")
    created = await store.append_message(session.id, "assistant", "Hal", status="streaming")
    done = await store.append_message(session.id, "assistant", "x")
    reopened = await store.update_message(done.id, status="streaming")
    for row in (created, reopened):
        assert (await store.get_message(row.id)).status == "streaming"
    assert [m.status for m in await store.get_messages(session.id)] == ["streaming", "streaming"]
    await store.update_message(created.id, status="complete")
    await store.update_message(created.id, status="streaming")
    assert (await store.get_message(created.id)).status == "streaming"


async def test_rows_of_a_writer_gone_become_interrupted_by_any_read(
    store: SessionStore, db_path: Path
) -> None:
    """Whichever way the session is read first; a live row read alongside is left alone."""
    for read in ("get_message", "get_messages", "get_chat_messages"):
        session = await store.create_session("a")
        await store.append_message(session.id, "user", "go")
        live = await store.append_message(session.id, "assistant", "mine", status="streaming")
        dead = await store.append_message(session.id, "assistant", "Half a", status="streaming")
        _set_writer(db_path, dead.id, GONE)
        if read == "get_message":
            assert (await store.get_message(dead.id)).status == "interrupted"
        elif read == "get_messages":
            rows = await store.get_messages(session.id)
            assert [m.status for m in rows] == ["complete", "streaming", "interrupted"]
        else:
            history = await store.get_chat_messages(session.id)
            assert [m.content for m in history] == ["go", "Half a"], read
        assert (await store.get_message(live.id)).status == "streaming", read


async def test_a_row_written_on_another_host_is_given_up_after_ten_quiet_minutes(
    store: SessionStore, db_path: Path, clock: FrozenClock
) -> None:
    session = await store.create_session("a")
    row = await store.append_message(session.id, "assistant", "far", status="streaming")
    _set_writer(db_path, row.id, ELSEWHERE)
    clock.advance(minutes=9)
    assert (await store.get_message(row.id)).status == "streaming"
    clock.advance(minutes=1)
    assert (await store.get_message(row.id)).status == "interrupted"


async def test_read_only_a_dead_writers_row_is_shown_as_it_was_left(
    store: SessionStore, db_path: Path
) -> None:
    session = await store.create_session("a")
    row = await store.append_message(session.id, "assistant", "Half a", status="streaming")
    _set_writer(db_path, row.id, GONE)
    reader = await SessionStore.open_read_only(db_path)
    try:
        assert [m.status for m in await reader.get_messages(session.id)] == ["streaming"]
    finally:
        await reader.close()
    assert (await store.get_message(row.id)).status == "interrupted"
