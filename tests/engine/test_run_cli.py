"""``agentkit run`` as people and scripts use it: real processes, a real database file, the
loopback fake provider for each wire protocol, and the offline demo model."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from app.engine.events import from_wire
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import (
    anthropic_events,
    ollama_lines,
    openai_reply,
    openai_tool_call_events,
)
from tests.fakes.support import wait_for_row

pytestmark = pytest.mark.slow
SCRIPT = str(Path(sys.executable).parent / "agentkit")


async def agentkit(
    *argv: str, home: Path, cwd: Path, stdin: bytes = b"", env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    environment = {**os.environ, "AGENTKIT_HOME": str(home), **(env or {})}
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OLLAMA_HOST"):
        environment.pop(name, None)
    environment["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens: no local Ollama is probed
    process = await asyncio.create_subprocess_exec(
        SCRIPT,
        *argv,
        cwd=cwd,
        env=environment,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "README.md").write_text("# Project\nThe readme text.\n")
    (root / "notes.txt").write_text("notes\n")
    return root


async def test_json_events_match_the_wire_shapes(agentkit_home: Path, workspace: Path) -> None:
    code, out, err = await agentkit(
        "run",
        "--json",
        "--model",
        "demo",
        "list the files in the workspace",
        home=agentkit_home,
        cwd=workspace,
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    events = [from_wire(line) for line in lines]  # every line is one of our shapes
    types = [event.type for event in events]
    assert types[-1] == "result" and lines[-1] == {
        "type": "result",
        "data": {"status": "completed"},
    }
    assert "step" in types and "final_answer" in types
    call = next(e for e in lines if e["type"] == "step")
    assert call["data"]["event_type"] == "tool_call" and call["data"]["data"]["name"] == "list_dir"
    result = [e for e in lines if e["type"] == "step"][1]["data"]["data"]
    assert "README.md" in result["output"] and "notes.txt" in result["output"]
    assert err.startswith("session ")


async def test_plain_output_and_prompt_on_stdin(agentkit_home: Path, workspace: Path) -> None:
    code, out, err = await agentkit(
        "run", "--model", "demo", home=agentkit_home, cwd=workspace, stdin=b"hello\n"
    )
    assert code == 0, err
    assert "demo" in out.lower() and out.endswith("\n")
    session_id = err.split()[1]
    code, out, _ = await agentkit(
        "sessions", "show", session_id, "--json", home=agentkit_home, cwd=workspace
    )
    messages = json.loads(out)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == "hello\n"


async def test_a_command_is_denied_without_a_terminal(agentkit_home: Path, workspace: Path) -> None:
    code, out, err = await agentkit(
        "run",
        "--json",
        "--model",
        "demo",
        "run `touch made-by-agent`",
        home=agentkit_home,
        cwd=workspace,
    )
    assert code == 0, err
    assert not (workspace / "made-by-agent").exists()
    lines = [json.loads(line) for line in out.splitlines()]
    decided = next(e for e in lines if e["type"] == "confirmation_result")
    assert decided["data"]["approved"] is False


async def test_usage_errors_exit_2(agentkit_home: Path, workspace: Path) -> None:
    code, _, err = await agentkit("run", "--model", "demo", home=agentkit_home, cwd=workspace)
    assert code == 2 and "prompt" in err
    code, _, err = await agentkit(
        "run", "--agent", "ghost", "hi", home=agentkit_home, cwd=workspace
    )
    assert code == 2 and "unknown agent 'ghost'" in err


def _tool_then_answer(kind: str) -> tuple[list[Reply], Reply]:
    args = json.dumps({"path": "README.md"})
    if kind == "openai":
        first = Reply(body=list(openai_tool_call_events([("call_r1", "read_file", [args])])))
        return [first, openai_reply(["It says: The readme text."])], openai_reply(["More."])
    if kind == "anthropic":
        first = Reply(
            body=anthropic_events(
                [{"text": ["Reading."]}, {"tool_use": ("toolu_r1", "read_file", [args])}],
                stop_reason="tool_use",
            )
        )
        second = Reply(body=anthropic_events([{"text": ["It says: The readme text."]}]))
        return [first, second], Reply(body=anthropic_events([{"text": ["More."]}]))
    ndjson = "application/x-ndjson"
    call = {"function": {"name": "read_file", "arguments": {"path": "README.md"}}}
    first = Reply(body=ollama_lines([], tool_calls=[call]), content_type=ndjson)
    second = Reply(body=ollama_lines(["It says: The readme text."]), content_type=ndjson)
    return [first, second], Reply(body=ollama_lines(["More."]), content_type=ndjson)


def _messages(body: dict[str, Any]) -> list[Any]:
    return list(body["messages"])


@pytest.mark.parametrize("kind", ["openai", "anthropic", "ollama"])
async def test_a_session_with_tool_calls_resumes_in_a_new_process(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        (agentkit_home / "config.toml").write_text(
            f'[providers.fake]\nkind = "{kind}"\nbase_url = "{fake.url}"\n'
            'api_key_env = "FAKE_KEY"\nmax_retries = 0\n'
        )
        env = {"FAKE_KEY": "sk-fake"}
        first_turn, second_turn = _tool_then_answer(kind)
        fake.script(*first_turn, second_turn)
        code, _, err = await agentkit(
            "run",
            "--model",
            "fake/m",
            "What does the readme say?",
            home=agentkit_home,
            cwd=workspace,
            env=env,
        )
        assert code == 0, err
        session_id = err.split()[1]
        code, out, err = await agentkit(
            "run",
            "--session",
            session_id,
            "--model",
            "fake/m",
            "Anything else?",
            home=agentkit_home,
            cwd=workspace,
            env=env,
        )
        assert code == 0, err
        assert "More." in out
        bodies = [r.json() for r in fake.requests if r.method == "POST"]
    assert len(bodies) == 3
    before, after = _messages(bodies[1]), _messages(bodies[2])
    # The new process sends exactly what the old one had, plus the answer and the new message.
    assert after[: len(before)] == before
    tail = after[len(before) :]
    assert json.dumps(tail[0]).count("It says: The readme text.") == 1
    assert "Anything else?" in json.dumps(tail[-1])
    text = json.dumps(after)
    if kind == "anthropic":
        assert '"tool_use"' in text and '"tool_result"' in text and "toolu_r1" in text
    elif kind == "openai":
        assert '"tool_call_id": "call_r1"' in text
    else:
        assert '"role": "tool"' in text and "The readme text." in text


async def test_ctrl_c_cancels_the_turn_and_exits_130(agentkit_home: Path, workspace: Path) -> None:
    import signal

    from tests.fakes.provider import Gate
    from tests.fakes.scripts import openai_chunk

    async with FakeProvider() as fake:
        (agentkit_home / "config.toml").write_text(
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
        )
        gate = Gate()
        fake.script(
            Reply(
                body=[
                    openai_chunk({"role": "assistant", "content": "Partial answer"}),
                    gate,
                    openai_chunk({}, "stop"),
                ]
            )
        )
        environment = {**os.environ, "AGENTKIT_HOME": str(agentkit_home)}
        process = await asyncio.create_subprocess_exec(
            SCRIPT,
            "run",
            "--model",
            "fake/m",
            "Write a long essay",
            cwd=workspace,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await fake.wait_requests(1, within=30)
        # Stop it once the partial reply is saved (as it streams), not merely requested.
        await wait_for_row(
            agentkit_home / "agentkit.db",
            "SELECT id FROM messages WHERE role = 'assistant' AND content = 'Partial answer'",
        )
        process.send_signal(signal.SIGINT)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 130, err.decode()
        assert b"cancelled" in err
        await fake.wait_disconnect()
        gate.open()
    session_id = err.decode().split()[1]
    _code, out, _ = await agentkit(
        "sessions", "show", session_id, "--json", home=agentkit_home, cwd=workspace
    )
    messages = json.loads(out)["messages"]
    assert messages[0]["content"] == "Write a long essay"
    assert [(m["role"], m["status"]) for m in messages] == [
        ("user", "complete"),
        ("assistant", "cancelled"),
    ]
    assert messages[1]["content"] == "Partial answer"


async def test_plan_and_team_modes_trace_their_progress(
    agentkit_home: Path, workspace: Path
) -> None:
    code, out, err = await agentkit(
        "run", "--model", "demo", "--mode", "plan", "tidy up", home=agentkit_home, cwd=workspace
    )
    assert code == 0, err
    assert "plan:\n  1. Survey the workspace\n  2. Read the README\n" in err
    assert "▶ phase 1: Survey the workspace\n→ list_dir" in err and "✓ p3 done: " in err
    assert out.startswith("## Summary") and "(p3): done" in out
    code, out, err = await agentkit(
        "run", "--model", "demo", "--mode", "team", "tidy up", home=agentkit_home, cwd=workspace
    )
    assert code == 0, err
    assert "team: Researcher, Engineer (lead), Reviewer\n" in err
    assert "  p3 Review the findings → Reviewer (after p1, p2)\n" in err
    assert "[Researcher] → list_dir" in err and "[Reviewer] ✓ p3: " in err
    assert "\n→ " not in err  # tool steps are named by their expert
    assert "by Reviewer — done" in out
    code, out, err = await agentkit(
        "run", "--json", "--model", "demo", "/team tidy up", home=agentkit_home, cwd=workspace
    )
    kinds = [from_wire(json.loads(line)).type for line in out.splitlines()]
    assert kinds.count("team_formed") == 1 and kinds[-1] == "result"


async def test_a_streaming_reply_is_saved_every_second_and_survives_sigkill(
    agentkit_home: Path, workspace: Path
) -> None:
    """Saved at the first piece, then within about a second of each new piece even when the
    stream goes quiet, so a killed process (no clean-up at all) loses at most a second;
    the row then reads as interrupted, with its text. A reply that ends is saved whole."""
    import signal
    import time

    from tests.fakes.provider import Gate
    from tests.fakes.scripts import openai_chunk

    db = agentkit_home / "agentkit.db"
    environment = {**os.environ, "AGENTKIT_HOME": str(agentkit_home)}
    async with FakeProvider() as fake:
        (agentkit_home / "config.toml").write_text(
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
        )
        more, rest = Gate(), Gate()
        fake.script(
            Reply(
                body=[
                    openai_chunk({"role": "assistant", "content": "First part. "}),
                    more,
                    openai_chunk({"content": "Second part. "}),
                    rest,
                    openai_chunk({"content": "never sent"}),
                    openai_chunk({}, "stop"),
                ]
            ),
            Reply(
                body=[
                    openai_chunk({"role": "assistant", "content": "Whole "}),
                    openai_chunk({"content": "answer."}),
                    openai_chunk({}, "stop"),
                    b"data: [DONE]\n\n",
                ]
            ),
        )
        process = await asyncio.create_subprocess_exec(
            SCRIPT,
            "run",
            "--model",
            "fake/m",
            "Write a long essay",
            cwd=workspace,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            first = await wait_for_row(
                db,
                "SELECT id, status FROM messages WHERE role = 'assistant' "
                "AND content = 'First part. '",
            )
            assert first["status"] == "streaming"  # saved at the first piece
            more.open()
            opened = time.monotonic()
            # Nothing more arrives after "Second part. ": it is saved anyway, within ~1 s.
            await wait_for_row(
                db,
                "SELECT id FROM messages WHERE id = ? AND content = 'First part. Second part. '",
                (first["id"],),
            )
            assert time.monotonic() - opened < 3.0  # once a second, with room for a slow machine
            process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        rest.open()
        code, _out, err = await agentkit(
            "run", "--model", "fake/m", "--json", "Answer", home=agentkit_home, cwd=workspace
        )
        assert code == 0, err
    sessions = sqlite3_rows(db, "SELECT id FROM sessions ORDER BY created_at")
    _code, shown, _ = await agentkit(
        "sessions", "show", sessions[0]["id"], "--json", home=agentkit_home, cwd=workspace
    )
    killed = json.loads(shown)["messages"]
    assert [(m["role"], m["status"], m["content"]) for m in killed] == [
        ("user", "complete", "Write a long essay"),
        ("assistant", "interrupted", "First part. Second part. "),
    ]
    _code, shown, _ = await agentkit(
        "sessions", "show", sessions[1]["id"], "--json", home=agentkit_home, cwd=workspace
    )
    finished = json.loads(shown)["messages"]
    assert [(m["role"], m["status"], m["content"]) for m in finished] == [
        ("user", "complete", "Answer"),
        ("assistant", "complete", "Whole answer."),
    ]


def sqlite3_rows(db: Path, sql: str) -> list[Any]:
    """Rows of ``sql`` read straight from the file (read-only)."""
    import contextlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(sql).fetchall()
