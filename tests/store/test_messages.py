"""Messages: append, streaming updates, paging, last-N, the history for the next turn."""

from __future__ import annotations

import pytest

from app.store import MessageNotFoundError, SessionClosedError, SessionStore, ToolCallRecord
from app.store.messages import MISSING_RESULT_TEXT
from tests.conftest import FrozenClock


async def test_append_assigns_strictly_increasing_seq_and_defaults(store: SessionStore) -> None:
    session = await store.create_session("coder")
    first = await store.append_message(session.id, "user", "hello")
    second = await store.append_message(session.id, "assistant", "hi", model="demo")
    third = await store.append_message(session.id, "user", "again")
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.agent_name == "coder"  # defaults to the session's agent
    assert second.model == "demo" and second.status == "complete"
    refreshed = await store.get_session(session.id)
    assert refreshed.last_seq == 3 and refreshed.message_count == 3
    assert refreshed.preview == "again"


async def test_every_field_round_trips(store: SessionStore) -> None:
    session = await store.create_session("a")
    calls = [
        ToolCallRecord(id="call_1", name="shell", arguments={"command": "ls -la"}),
        {"id": "call_2", "name": "read_file", "arguments": {}, "raw_arguments": "{oops"},
    ]
    message = await store.append_message(
        session.id,
        "assistant",
        "Let me look.",
        thinking="The user wants a listing.",
        tool_calls=calls,
        agent_name="other",
        model="openai/gpt-4.1-mini",
        usage={"input_tokens": 12, "output_tokens": 3},
        reasoning=[{"kind": "thinking", "text": "…", "signature": "sig"}],
        turn_id="turn-1",
    )
    fetched = await store.get_message(message.id)
    assert fetched == message
    assert fetched.tool_calls[0].arguments == {"command": "ls -la"}
    assert fetched.tool_calls[1].raw_arguments == "{oops"
    assert fetched.usage == {"input_tokens": 12, "output_tokens": 3}
    assert fetched.reasoning == [{"kind": "thinking", "text": "…", "signature": "sig"}]
    assert fetched.agent_name == "other" and fetched.turn_id == "turn-1"
    result = await store.append_message(
        session.id, "tool", "total 0", tool_call_id="call_1", tool_name="shell", is_error=True
    )
    assert (await store.get_message(result.id)).is_error is True


async def test_invalid_messages_are_refused_before_writing(store: SessionStore) -> None:
    session = await store.create_session("a")
    with pytest.raises(ValueError, match="role"):
        await store.append_message(session.id, "robot", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tool_call_id"):
        await store.append_message(session.id, "tool", "output")
    with pytest.raises(ValueError, match="only assistant"):
        await store.append_message(
            session.id, "user", "x", tool_calls=[{"id": "1", "name": "shell"}]
        )
    with pytest.raises(ValueError, match="status"):
        await store.append_message(session.id, "user", "x", status="done")  # type: ignore[arg-type]
    assert await store.get_messages(session.id) == []


async def test_streaming_reply_is_updated_in_place(store: SessionStore, clock: FrozenClock) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "tell me")
    reply = await store.append_message(session.id, "assistant", "", status="streaming")
    clock.advance(seconds=1)
    await store.update_message(reply.id, content="Once upon")
    clock.advance(seconds=1)
    done = await store.update_message(
        reply.id,
        content="Once upon a time.",
        status="complete",
        usage={"output_tokens": 5},
        model="demo",
    )
    assert done.status == "complete" and done.seq == reply.seq
    assert done.updated_at > reply.updated_at and done.created_at == reply.created_at
    assert [m.content for m in await store.get_messages(session.id)] == [
        "tell me",
        "Once upon a time.",
    ]
    assert (await store.get_session(session.id)).preview == "Once upon a time."
    assert [h.message_id for h in await store.search("upon")] == [reply.id]
    with pytest.raises(MessageNotFoundError):
        await store.update_message(999_999, content="x")


async def test_paging_last_n_and_before_seq(store: SessionStore) -> None:
    session = await store.create_session("a")
    for number in range(1, 31):
        await store.append_message(session.id, "user" if number % 2 else "assistant", f"m{number}")
    page = await store.get_messages(session.id, limit=5, offset=10)
    assert [m.content for m in page] == [f"m{n}" for n in range(11, 16)]
    newest = await store.get_messages(session.id, last=4)
    assert [m.content for m in newest] == ["m27", "m28", "m29", "m30"]
    earlier = await store.get_messages(session.id, last=3, before_seq=newest[0].seq)
    assert [m.content for m in earlier] == ["m24", "m25", "m26"]
    later = await store.get_messages(session.id, limit=3, after_seq=earlier[0].seq)
    assert [m.content for m in later] == ["m25", "m26", "m27"]
    assert await store.get_messages(session.id, after_seq=newest[-1].seq) == []
    assert len(await store.get_messages(session.id)) == 30
    assert await store.count_messages(session.id) == 30
    assert await store.get_messages(session.id, offset=100) == []


async def test_threads_are_kept_apart(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "plan this")
    await store.append_message(session.id, "assistant", "phase work", thread="phase:p1")
    await store.append_message(session.id, "assistant", "summary")
    assert [m.content for m in await store.get_messages(session.id, thread="phase:p1")] == [
        "phase work"
    ]
    history = await store.get_chat_messages(session.id)
    assert [h.content for h in history] == ["plan this", "summary"]
    assert (await store.get_session(session.id)).message_count == 2


async def test_chat_history_pairs_tool_calls_with_results(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "system", "Be brief.")
    await store.append_message(session.id, "user", "list and read")
    await store.append_message(
        session.id,
        "assistant",
        "Looking.",
        tool_calls=[
            {"id": "c1", "name": "list_dir", "arguments": {"path": "."}},
            {"id": "c2", "name": "read_file", "arguments": {"path": "a.txt"}},
        ],
    )
    await store.append_message(session.id, "tool", "a.txt", tool_call_id="c1", tool_name="list_dir")
    await store.append_message(
        session.id, "tool", "hello", tool_call_id="c2", tool_name="read_file"
    )
    await store.append_message(session.id, "assistant", "a.txt says hello")
    history = await store.get_chat_messages(session.id)
    assert [(h.role, h.tool_call_id) for h in history] == [
        ("system", None),
        ("user", None),
        ("assistant", None),
        ("tool", "c1"),
        ("tool", "c2"),
        ("assistant", None),
    ]
    assert [c.id for c in history[2].tool_calls] == ["c1", "c2"]
    assert not any(h.synthetic for h in history)


async def test_chat_history_repairs_missing_and_orphan_results(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "run two things")
    await store.append_message(
        session.id,
        "assistant",
        "",
        tool_calls=[
            {"id": "c1", "name": "shell", "arguments": {"command": "make"}},
            {"id": "c2", "name": "shell", "arguments": {"command": "make test"}},
        ],
    )
    await store.append_message(session.id, "tool", "built", tool_call_id="c1", tool_name="shell")
    # c2's result was never stored (the process was killed); a stray result follows.
    await store.append_message(session.id, "tool", "stray", tool_call_id="zz", tool_name="shell")
    await store.append_message(session.id, "assistant", "", status="cancelled")  # empty: skipped
    await store.append_message(session.id, "user", "what happened?")
    history = await store.get_chat_messages(session.id)
    assert [(h.role, h.tool_call_id, h.synthetic) for h in history] == [
        ("user", None, False),
        ("assistant", None, False),
        ("tool", "c1", False),
        ("tool", "c2", True),
        ("user", None, False),
    ]
    assert history[3].content == MISSING_RESULT_TEXT and history[3].is_error
    assert history == await store.get_chat_messages(session.id)  # deterministic


async def test_chat_history_keeps_partial_cancelled_text(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "write an essay")
    await store.append_message(session.id, "assistant", "The first half", status="cancelled")
    history = await store.get_chat_messages(session.id)
    assert [h.content for h in history] == ["write an essay", "The first half"]


async def test_a_dangling_call_at_the_end_gets_a_synthetic_result(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "go")
    await store.append_message(
        session.id, "assistant", "", tool_calls=[{"id": "c9", "name": "shell", "arguments": {}}]
    )
    history = await store.get_chat_messages(session.id)
    assert history[-1].role == "tool" and history[-1].tool_call_id == "c9"
    assert history[-1].synthetic


async def test_a_summary_stands_in_for_the_turns_before_it(store: SessionStore) -> None:
    session = await store.create_session("a")
    for number in range(3):
        await store.append_message(session.id, "user", f"question {number}", turn_id=f"t{number}")
        await store.append_message(
            session.id, "assistant", f"answer {number}", turn_id=f"t{number}"
        )
    mark = (await store.get_messages(session.id))[3].seq  # the end of turn t1
    summary = await store.add_summary(session.id, "We discussed questions 0 and 1.", mark)
    await store.append_message(session.id, "user", "question 3", turn_id="t3")
    history = await store.get_chat_messages(session.id)
    assert [(m.role, m.content, m.summary) for m in history] == [
        ("system", "We discussed questions 0 and 1.", True),
        ("user", "question 2", False),
        ("assistant", "answer 2", False),
        ("user", "question 3", False),
    ]
    # Nothing is deleted: people still see every message, and search finds them.
    everything = await store.get_messages(session.id)
    assert len(everything) == 8 and everything[6].id == summary.id
    assert everything[6].summary_through == mark
    assert [h.message_id for h in await store.search("question 0")][:1]
    # A later summary replaces the earlier one for the model.
    await store.add_summary(session.id, "All four questions.", everything[-1].seq)
    history = await store.get_chat_messages(session.id)
    assert [(m.role, m.content) for m in history] == [("system", "All four questions.")]


async def test_a_turn_that_began_before_the_mark_is_summarised_whole(
    store: SessionStore,
) -> None:
    """Two turns ran at once: the one that started before the mark goes with the summary,
    even for its messages stored after the mark (no half turns, no orphaned results)."""
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "long task", turn_id="slow")
    await store.append_message(session.id, "user", "quick one", turn_id="fast")
    mark = (await store.get_messages(session.id))[0].seq
    await store.append_message(session.id, "assistant", "long done", turn_id="slow")
    await store.append_message(session.id, "assistant", "quick done", turn_id="fast")
    await store.add_summary(session.id, "The long task was done.", mark)
    history = await store.get_chat_messages(session.id)
    assert [m.content for m in history] == ["The long task was done.", "quick one", "quick done"]


async def test_a_summary_must_cover_something_that_exists(store: SessionStore) -> None:
    session = await store.create_session("a")
    await store.append_message(session.id, "user", "hello")
    with pytest.raises(ValueError, match="cover"):
        await store.add_summary(session.id, "nothing", 99)
    with pytest.raises(ValueError, match="cover"):
        await store.add_summary(session.id, "nothing", 0)
    await store.close_session(session.id)
    with pytest.raises(SessionClosedError):
        await store.add_summary(session.id, "closed", 1)
