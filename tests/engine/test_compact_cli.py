"""``agentkit sessions compact``: a real process, a real database file, the loopback fake."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store import SessionStore
from tests.engine.test_run_cli import agentkit, workspace  # noqa: F401  (a fixture)
from tests.fakes.provider import FakeProvider
from tests.fakes.scripts import openai_reply

pytestmark = pytest.mark.slow


async def test_sessions_compact_stores_a_summary_the_next_run_continues_from(
    agentkit_home: Path,
    workspace: Path,  # noqa: F811
) -> None:
    async with FakeProvider() as fake:
        (agentkit_home / "config.toml").write_text(
            f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}"\nmax_retries = 0\n'
        )
        fake.script(openai_reply(["First answer."]), openai_reply(["Second answer."]))
        code, _, err = await agentkit(
            "run", "--model", "fake/m", "Rename the parser", home=agentkit_home, cwd=workspace
        )
        assert code == 0, err
        session_id = err.split()[1]
        code, _, err = await agentkit(
            "run", "--session", session_id, "--model", "fake/m", "And the tests?",
            home=agentkit_home, cwd=workspace,
        )  # fmt: skip
        assert code == 0, err
        fake.script(openai_reply(["SUMMARY: renaming the parser; tests next."]))
        code, out, err = await agentkit(
            "sessions", "compact", session_id[:8], "--focus", "the parser", "--model", "fake/m",
            home=agentkit_home, cwd=workspace,
        )  # fmt: skip
        assert code == 0, err
        assert "Earlier conversation compacted: 2 messages → summary" in out
        assert "the parser" in fake.requests[-1].body.decode()
        async with await SessionStore.open(agentkit_home / "agentkit.db", create=False) as store:
            history = await store.get_chat_messages(session_id)
        assert history[0].summary and "SUMMARY" in history[0].content
        assert [m.content for m in history[1:]] == ["And the tests?", "Second answer."]
        code, out, err = await agentkit(
            "sessions", "compact", session_id, home=agentkit_home, cwd=workspace
        )
        assert code == 0 and "Nothing to compact" in out, err
