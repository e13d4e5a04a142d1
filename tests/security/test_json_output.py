"""``agentkit run --json`` on a terminal-bound stdout: text from the model keeps every
character, but direction and C1 controls are written as JSON escapes, not raw."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from tests.fakes.provider import FakeProvider
from tests.fakes.scripts import openai_reply
from tests.security.conftest import SCRIPT

pytestmark = pytest.mark.slow


async def test_direction_and_c1_controls_are_escaped(agentkit_home: Path, tmp_path: Path) -> None:
    tricky = "ls \u202e txt.exe \x9b2J done"
    async with FakeProvider() as fake:
        (agentkit_home / "config.toml").write_text(
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
        )
        fake.script(openai_reply([tricky]))
        env = {**os.environ, "AGENTKIT_HOME": str(agentkit_home), "OLLAMA_HOST": "127.0.0.1:9"}
        process = await asyncio.create_subprocess_exec(
            SCRIPT, "run", "--json", "--model", "fake/m", "go", cwd=tmp_path, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), 60)
    text = out.decode()
    assert process.returncode == 0, err.decode()
    assert "\u202e" not in text and "\x9b" not in text
    answers = [json.loads(line) for line in text.splitlines()]
    final = next(e for e in answers if e["type"] == "final_answer")
    assert final["content"] == tricky  # nothing lost
