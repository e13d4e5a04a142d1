"""Real processes on one file: a SIGKILL mid-write, a dead writer's reply, two writers at once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.store import SessionStore

WRITER = Path(__file__).with_name("writer_process.py")
REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _spawn(db: Path, session_id: str, mode: str, count: int | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, str(WRITER), str(db), session_id, mode]
    if count is not None:
        args.append(str(count))
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )


def _read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        assert process.stderr is not None
        raise AssertionError(f"writer exited early: {process.stderr.read()}")
    return line.strip()


async def test_sigkill_mid_write_loses_nothing_committed(db_path: Path) -> None:
    async with await SessionStore.open(db_path) as store:
        session = await store.create_session("a")
    writer = _spawn(db_path, session.id, "append")
    committed: list[str] = []
    try:
        while len(committed) < 300:
            committed.append(_read_line(writer))
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL

    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    async with await SessionStore.open(db_path) as store:
        messages = await store.get_messages(session.id)
        stored = [f"{m.seq} {m.content}" for m in messages]
        # Every message reported as committed is there, in order; at most the writes
        # between the last report and the kill come on top.
        assert stored[: len(committed)] == committed
        assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
        refreshed = await store.get_session(session.id)
        assert refreshed.message_count == len(messages) and refreshed.last_seq == len(messages)
        await store.append_message(session.id, "user", "still writable")


async def test_a_dead_writers_streaming_reply_becomes_interrupted(db_path: Path) -> None:
    async with await SessionStore.open(db_path) as store:
        session = await store.create_session("a")
        await store.append_message(session.id, "user", "what is six times seven?")
    writer = _spawn(db_path, session.id, "streaming")
    try:
        message_id = int(_read_line(writer).split()[1])
        # The writer is alive: a reader in another process must not touch its row.
        async with await SessionStore.open(db_path) as store:
            live = await store.get_message(message_id)
            assert live.status == "streaming" and live.content == "The answer is forty"
            assert (await store.get_messages(session.id))[-1].status == "streaming"
            history = await store.get_chat_messages(session.id)
            assert [h.role for h in history] == ["user"]  # half a reply is not replayed
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    async with await SessionStore.open(db_path) as store:
        messages = await store.get_messages(session.id)
        assert messages[-1].id == message_id
        assert messages[-1].status == "interrupted"
        assert messages[-1].content == "The answer is forty"
        history = await store.get_chat_messages(session.id)
        assert [h.content for h in history] == ["what is six times seven?", "The answer is forty"]


async def test_two_processes_append_to_one_session_at_once(db_path: Path) -> None:
    async with await SessionStore.open(db_path) as store:
        session = await store.create_session("a")
    writers = [_spawn(db_path, session.id, "append", 150) for _ in range(2)]
    for writer in writers:
        _out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    async with await SessionStore.open(db_path) as store:
        messages = await store.get_messages(session.id)
    assert [m.seq for m in messages] == list(range(1, 301))
    contents = [m.content for m in messages]
    assert sorted(contents) == sorted([f"append {n}" for n in range(1, 151)] * 2)
