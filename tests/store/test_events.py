"""The event log: one sequence shared with messages, filters, closed sessions."""

from __future__ import annotations

from app.store import SessionStore


async def test_events_interleave_with_messages_in_one_sequence(store: SessionStore) -> None:
    session = await store.create_session("a")
    user = await store.append_message(session.id, "user", "delete the build dir")
    asked = await store.append_event(
        session.id,
        "confirmation_request",
        {"confirmation_id": "k1", "command": "rm -r build", "reason": "cleanup"},
        turn_id="t1",
    )
    answered = await store.append_event(
        session.id, "confirmation_result", {"confirmation_id": "k1", "approved": False}
    )
    reply = await store.append_message(session.id, "assistant", "Not deleted.")
    assert [user.seq, asked.seq, answered.seq, reply.seq] == [1, 2, 3, 4]
    events = await store.get_events(session.id)
    assert [(e.type, e.data.get("confirmation_id")) for e in events] == [
        ("confirmation_request", "k1"),
        ("confirmation_result", "k1"),
    ]
    assert events[0].turn_id == "t1" and events[0].data["command"] == "rm -r build"


async def test_event_filters(store: SessionStore) -> None:
    session = await store.create_session("a")
    for kind in ("plan_update", "phase_started", "plan_update", "notice"):
        await store.append_event(session.id, kind, {"k": kind})
    plans = await store.get_events(session.id, types=["plan_update"])
    assert [e.seq for e in plans] == [1, 3]
    later = await store.get_events(session.id, after_seq=2)
    assert [e.type for e in later] == ["plan_update", "notice"]
    assert len(await store.get_events(session.id, limit=2)) == 2
    assert await store.get_events(session.id, types=["team_formed"]) == []


async def test_closed_sessions_still_take_events(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.close_session(session.id)
    event = await store.append_event(session.id, "result", {"status": "cancelled"})
    assert event.data == {"status": "cancelled"}
