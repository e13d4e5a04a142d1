"""A streamable-HTTP MCP server on loopback (the same fake, served by uvicorn): its tools in a
turn, the header read from a variable, and what happens without it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from app.config import redacted

pytestmark = pytest.mark.slow

TOKEN = "http-token-Zq8-never-stored"


async def test_tools_of_an_http_server_run_in_a_turn(
    make_mcp: Callable[..., Any], http_server: Callable[..., Any]
) -> None:
    url = await http_server(TOKEN)
    h = await make_mcp(
        {"docs": {"url": url, "headers_env": {"Authorization": "DOCS_AUTH"}}},
        env={"DOCS_AUTH": f"Bearer {TOKEN}"},
        approval={"allow": ["mcp__docs"]},
    )
    await h.ready()
    h.script(h.calls(("mcp__docs__add", {"a": 20, "b": 22})), h.text("42."))
    turn = await h.turn("Add them")
    [result] = turn.tool_results()
    assert (result.name, result.output, result.is_error) == ("mcp__docs__add", "42", False)
    [state] = h.manager.states()
    assert (state.transport, state.status) == ("http", "running")
    # The header's value is a secret: not in the settings shown, the events, the database.
    shown = json.dumps(redacted(h.settings, {"DOCS_AUTH": f"Bearer {TOKEN}"}))
    assert "DOCS_AUTH (set)" in shown and TOKEN not in shown
    assert TOKEN not in json.dumps([e.model_dump(mode="json") for e in turn.events])
    await h.service.shutdown()
    await h.store.close()
    stored = b"".join(p.read_bytes() for p in h.db_path.parent.glob(h.db_path.name + "*"))
    assert b"mcp__docs__add" in stored and TOKEN.encode() not in stored
    assert TOKEN not in h.log_file.read_text()


async def test_an_http_server_that_refuses_us_is_a_failure_notice(
    make_mcp: Callable[..., Any], http_server: Callable[..., Any]
) -> None:
    url = await http_server(TOKEN)
    h = await make_mcp(
        {"docs": {"url": url, "headers_env": {"Authorization": "DOCS_AUTH"}}},
        env={"DOCS_AUTH": "Bearer wrong"},
    )
    await h.ready()
    [state] = h.manager.states()
    assert state.status == "failed" and state.error and state.error.endswith("(HTTP 401)")
    h.script(h.text("Hello."))
    turn = await h.turn("hello, what can you do?")
    [failed] = [n for n in turn.of("notice") if n.data.code == "mcp_failed"]
    assert f"'docs' at {url} failed to start" in failed.data.message
    assert "wrong" not in failed.data.message
