"""Sessions: create, get, resolve prefixes, list (paged, filtered), rename, close, delete."""

from __future__ import annotations

import pytest

from app.store import (
    AmbiguousSessionIdError,
    SessionClosedError,
    SessionNotFoundError,
    SessionStore,
)
from tests.conftest import FrozenClock


async def test_create_and_get_round_trip(store: SessionStore, clock: FrozenClock) -> None:
    created = await store.create_session("coder", metadata={"workspace": "/src", "n": 1})
    fetched = await store.get_session(created.id)
    assert fetched == created
    assert fetched.agent_name == "coder"
    assert fetched.status == "active"
    assert fetched.metadata == {"workspace": "/src", "n": 1}
    assert fetched.created_at == clock.now == fetched.updated_at
    assert fetched.title == "" and fetched.preview == "" and fetched.message_count == 0


async def test_unknown_session_raises_not_found(store: SessionStore) -> None:
    with pytest.raises(SessionNotFoundError, match="Session 'nope' not found"):
        await store.get_session("nope")
    for operation in (
        store.close_session("nope"),
        store.rename_session("nope", "x"),
        store.delete_session("nope"),
        store.get_messages("nope"),
        store.get_chat_messages("nope"),
        store.get_events("nope"),
        store.append_message("nope", "user", "hi"),
        store.append_event("nope", "notice", {}),
        store.export_session("nope", "md"),
    ):
        with pytest.raises(SessionNotFoundError):
            await operation


async def test_list_is_most_recent_first_paged_and_filtered(
    store: SessionStore, clock: FrozenClock
) -> None:
    ids = []
    for number in range(7):
        clock.advance(minutes=1)
        ids.append((await store.create_session("a", title=f"s{number}")).id)
    clock.advance(minutes=1)
    await store.append_message(ids[2], "user", "bump")  # activity moves it to the top
    await store.close_session(ids[5])

    first_page = await store.list_sessions(limit=3)
    assert [s.id for s in first_page] == [ids[2], ids[6], ids[5]]
    second_page = await store.list_sessions(limit=3, offset=3)
    assert [s.id for s in second_page] == [ids[4], ids[3], ids[1]]
    active = await store.list_sessions(status="active", limit=100)
    assert ids[5] not in {s.id for s in active} and len(active) == 6
    closed = await store.list_sessions(status="closed")
    assert [s.id for s in closed] == [ids[5]]
    assert await store.count_sessions() == 7
    assert await store.count_sessions(status="closed") == 1


async def test_sessions_created_in_the_same_instant_keep_a_stable_order(
    store: SessionStore,
) -> None:
    ids = [(await store.create_session("a")).id for _ in range(5)]
    listed = [s.id for s in await store.list_sessions()]
    assert listed == list(reversed(ids))


async def test_rename_cleans_the_title_and_keeps_the_order(
    store: SessionStore, clock: FrozenClock
) -> None:
    session = await store.create_session("a")
    clock.advance(hours=1)
    renamed = await store.rename_session(session.id, "  Fix the\nbuild\t\x1b[31m\u202e  ")
    assert renamed.title == "Fix the build"  # the whole escape sequence goes, and the override
    assert renamed.updated_at == session.updated_at
    with pytest.raises(ValueError, match="cannot be empty"):
        await store.rename_session(session.id, " \n ")


async def test_first_user_message_titles_the_session_until_renamed(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "system", "You are helpful.")
    await store.append_message(session.id, "user", "How do I\nrebase onto main?")
    await store.append_message(session.id, "user", "second question")
    assert (await store.get_session(session.id)).title == "How do I rebase onto main?"
    await store.rename_session(session.id, "Rebasing")
    await store.append_message(session.id, "user", "third")
    assert (await store.get_session(session.id)).title == "Rebasing"


async def test_close_is_idempotent_and_refuses_new_messages(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "before")
    closed = await store.close_session(session.id)
    assert closed.is_closed
    assert (await store.close_session(session.id)).is_closed
    with pytest.raises(SessionClosedError, match=f"Session '{session.id}' is closed"):
        await store.append_message(session.id, "user", "after")
    # Still readable, and the refused message left no trace.
    messages = await store.get_messages(session.id)
    assert [m.content for m in messages] == ["before"]
    assert (await store.get_session(session.id)).message_count == 1


async def test_delete_cascades_to_messages_events_and_search(store: SessionStore) -> None:
    keep = await store.create_session("a")
    gone = await store.create_session("a", title="zanzibar plans")
    await store.append_message(keep.id, "user", "zanzibar is kept")
    message = await store.append_message(gone.id, "user", "zanzibar is deleted")
    await store.append_event(gone.id, "notice", {"message": "x"})
    await store.delete_session(gone.id)

    with pytest.raises(SessionNotFoundError):
        await store.get_session(gone.id)
    hits = await store.search("zanzibar")
    assert [(h.kind, h.session_id) for h in hits] == [("title", keep.id), ("message", keep.id)]
    db = store._db  # the raw tables must be empty too, not merely hidden
    for table in ("messages", "events"):
        row = await db.fetchone(f"SELECT count(*) FROM {table} WHERE session_id = ?", (gone.id,))
        assert row is not None and row[0] == 0
    indexed = {row[0] for row in await db.fetchall("SELECT rowid / 4096 FROM messages_fts")}
    assert message.id not in indexed and indexed  # the kept session's message stays indexed


async def test_resolve_session_id_by_unique_prefix(store: SessionStore) -> None:
    a = await store.create_session("a", session_id="abcd1111")
    await store.create_session("a", session_id="abcd2222")
    assert await store.resolve_session_id("abcd1111") == a.id
    assert await store.resolve_session_id("abcd1") == a.id
    with pytest.raises(AmbiguousSessionIdError, match="ambiguous"):
        await store.resolve_session_id("abcd")
    with pytest.raises(SessionNotFoundError):
        await store.resolve_session_id("abc")  # too short to be a prefix
    with pytest.raises(SessionNotFoundError):
        await store.resolve_session_id("ffff")


async def test_metadata_is_replaced(store: SessionStore) -> None:
    session = await store.create_session("a", metadata={"a": 1})
    updated = await store.set_session_metadata(session.id, {"b": [1, 2]})
    assert updated.metadata == {"b": [1, 2]}
    assert (await store.get_session(session.id)).metadata == {"b": [1, 2]}
