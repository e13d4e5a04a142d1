"""``agentkit sessions export`` writes the same readable Markdown as the app, for a session
the real engine ran through ``agentkit run`` (the demo model, real tools, the real store)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.store import SessionStore
from tests.reliability.helpers import agentkit

pytestmark = pytest.mark.slow

RAW_EVENT = re.compile(r'^> `\w+` \{|\{"data"', re.MULTILINE)


async def test_the_cli_export_reads_as_lines_and_matches_the_store(
    agentkit_home: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    made = await agentkit(
        "run", "--model", "demo", "--approve", "auto", "run `touch notes.txt`",
        home=agentkit_home, cwd=workspace,
    )  # fmt: skip
    assert made.code == 0, made.err
    session_id = made.session_id
    shown = await agentkit("sessions", "export", session_id[:8], home=agentkit_home, cwd=workspace)
    assert shown.code == 0, shown.err
    text = shown.out
    assert not RAW_EVENT.search(text), text
    assert "**Tool call** `shell`" in text and "- command: `touch notes.txt`" in text
    assert "> **Approved** `shell` `touch notes.txt` · by the approval policy" in text
    assert re.search(r"^> _Turn completed · demo: \d+ tokens in, \d+ out_$", text, re.MULTILINE)
    async with await SessionStore.open(agentkit_home / "agentkit.db", create=False) as store:
        assert text == await store.export_session(session_id, "md")  # the app's own text
    assert not list(workspace.glob("agentkit-*"))  # nothing written into the project
