"""``[engine] max_concurrent_turns`` holds across processes: two ``agentkit run --session``
on one session with a limit of one, and the second is refused with its message saved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.provider import FakeProvider, Gate, Reply
from tests.fakes.scripts import openai_chunk
from tests.reliability.helpers import SCRIPT, agentkit, environment, saved_messages, use_fake

pytestmark = pytest.mark.slow


async def test_the_turn_limit_is_shared_by_processes(agentkit_home: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "openai", fake.url, engine={"max_concurrent_turns": 1})
        first = await agentkit(
            "run", "--json", "--model", "fake/m", "hello", home=agentkit_home, cwd=workspace
        )
        session = first.session_id
        gate = Gate()
        opening = openai_chunk({"role": "assistant", "content": "Working"})
        fake.script(Reply(body=[opening, gate]))
        holder = await asyncio.create_subprocess_exec(
            SCRIPT, "run", "--json", "--model", "fake/m", "--session", session, "long task",
            cwd=workspace, env=environment(agentkit_home),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_requests(2, within=30)  # the holder's turn is running
            refused = await agentkit(
                "run", "--json", "--model", "fake/m", "--session", session, "one more",
                home=agentkit_home, cwd=workspace,
            )  # fmt: skip
        finally:
            gate.open()
            holder.kill()
            await holder.wait()
        assert refused.result() == "error"
        assert any("Too many concurrent requests" in m for m in refused.error_messages())
        contents = [m["content"] for m in await saved_messages(agentkit_home, workspace, session)]
        assert "one more" in contents and "long task" in contents
