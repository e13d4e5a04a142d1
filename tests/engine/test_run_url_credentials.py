"""A turn against a provider whose URL holds credentials, where nothing listens: the error
that `agentkit run --json` prints, and the one stored in the database file, say what failed
without the password."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.engine.test_run_cli import agentkit
from tests.fakes.support import closed_port

pytestmark = pytest.mark.slow
PASSWORD = "s3cret"


async def test_a_connection_error_is_stored_and_printed_without_the_password(
    agentkit_home: Path, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    url = f"http://user:{PASSWORD}@127.0.0.1:{closed_port()}/v1"
    env = {
        "AGENTKIT_PROVIDERS__X__KIND": "openai",
        "AGENTKIT_PROVIDERS__X__BASE_URL": url,
        "AGENTKIT_PROVIDERS__X__MAX_RETRIES": "0",
    }
    code, out, err = await agentkit(
        "run", "--json", "--model", "x/m", "hello", home=agentkit_home, cwd=workspace, env=env
    )
    assert PASSWORD not in out and PASSWORD not in err
    lines = [json.loads(line) for line in out.splitlines()]
    error = next(line for line in lines if line["type"] == "error")
    assert "cannot connect" in error["data"]["message"], error
    assert "user:***@127.0.0.1" in error["data"]["message"], error
    assert lines[-1] == {"type": "result", "data": {"status": "error"}}
    assert code == 1, err
    # The stored event log (and every byte of the database files) has no password either.
    db = agentkit_home / "agentkit.db"
    with sqlite3.connect(db) as connection:
        stored = [row[0] for row in connection.execute("SELECT data FROM events")]
    assert any("user:***@127.0.0.1" in row for row in stored), stored
    for path in db.parent.glob("agentkit.db*"):
        assert PASSWORD.encode() not in path.read_bytes(), path
