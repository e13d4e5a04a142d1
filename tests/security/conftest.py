"""End to end through ``agentkit run --json``: a loopback fake provider proposes one tool call,
the real CLI decides and runs it (stdin is not a terminal, so anything that asks is denied),
and the test reads the events, the marker files and the database."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import openai_reply, openai_tool_call_events

SCRIPT = str(Path(sys.executable).parent / "agentkit")


@dataclass
class Outcome:
    """What one proposed call came to."""

    code: int
    events: list[dict[str, Any]]
    stderr: str

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """The events of one type, in order."""
        return [event for event in self.events if event["type"] == kind]

    @property
    def asked(self) -> int:
        """How many confirmation requests the turn made."""
        return len(self.of_type("confirmation_request"))

    @property
    def outputs(self) -> list[str]:
        """The tool results' texts."""
        return [
            e["data"]["data"]["output"]
            for e in self.of_type("step")
            if e["data"]["event_type"] == "tool_result"
        ]

    @property
    def decisions(self) -> list[dict[str, Any]]:
        """The confirmation results' data."""
        return [e["data"] for e in self.of_type("confirmation_result")]


async def propose(
    home: Path,
    workspace: Path,
    tool: str,
    arguments: dict[str, Any],
    *,
    approve: str = "ask",
    config: str = "",
    env: dict[str, str] | None = None,
    key_env: str = "FAKE_KEY",
) -> Outcome:
    """Run one turn in which the model calls ``tool`` with ``arguments``, then answers."""
    import asyncio

    async with FakeProvider() as fake:
        (home / "config.toml").write_text(
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\n'
            f'api_key_env = "{key_env}"\nmax_retries = 0\n{config}'
        )
        call = Reply(body=openai_tool_call_events([("call_1", tool, [json.dumps(arguments)])]))
        fake.script(call, openai_reply(["done"]))
        environment = {**os.environ, "AGENTKIT_HOME": str(home), **(env or {})}
        environment.setdefault(key_env, "sk-fake")
        environment.pop("OPENAI_API_KEY", None)
        environment.pop("ANTHROPIC_API_KEY", None)
        environment["OLLAMA_HOST"] = "127.0.0.1:9"
        process = await asyncio.create_subprocess_exec(
            SCRIPT, "run", "--json", "--approve", approve, "--model", "fake/m", "go",
            cwd=workspace, env=environment, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(b""), 60)
    assert process.returncode is not None
    events = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert events and events[-1]["type"] == "result", err.decode()
    assert "Traceback" not in err.decode(), err.decode()
    return Outcome(process.returncode, events, err.decode())


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small project: a readme, a source file, a docs folder."""
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "README.md").write_text("# Project\n")
    (root / "src" / "main.py").write_text("print('hello')\n")
    return root
