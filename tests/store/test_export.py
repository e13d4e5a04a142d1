"""Export to Markdown and JSON."""

from __future__ import annotations

import json

from app.store import SessionStore
from app.store.export import fence


async def _session_with_everything(store: SessionStore) -> str:
    session = await store.create_session("coder", title="Fix the build", metadata={"k": "v"})
    await store.append_message(session.id, "user", "Why is CI red?")
    await store.append_message(
        session.id,
        "assistant",
        "Checking the log.",
        thinking="Look at the last run.",
        model="demo",
        tool_calls=[{"id": "c1", "name": "shell", "arguments": {"command": "make ci"}}],
    )
    # As the engine logs them: the wire shape without "type", the fields under "data".
    request = {"confirmation_id": "k1", "command": "make ci", "reason": "runs the build"}
    await store.append_event(session.id, "confirmation_request", {"data": {**request}})
    decision = {"confirmation_id": "k1", "approved": True, "decider": "user", "tool": "shell"}
    await store.append_event(session.id, "confirmation_result", {"data": decision})
    await store.append_message(
        session.id,
        "tool",
        "```\nerror: missing `;`\n```",
        tool_call_id="c1",
        tool_name="shell",
        is_error=True,
    )
    await store.append_message(
        session.id, "assistant", "A semicolon is missing.", status="cancelled"
    )
    return session.id


async def test_markdown_export_reads_as_it_happened(store: SessionStore) -> None:
    session_id = await _session_with_everything(store)
    text = await store.export_session(session_id, "md")
    assert text.startswith("# Fix the build\n")
    order = [
        "Why is CI red?",
        "<summary>Thinking</summary>",
        "**Tool call** `shell` (c1)",
        "**Approval asked**: `tool` `make ci` — runs the build",
        "**Approval approved**: `shell` `make ci` — by the person",
        "### Tool result: `shell` (c1) — error",
        "A semicolon is missing.",
    ]
    positions = [text.index(piece) for piece in order]
    assert positions == sorted(positions)
    assert "_(cancelled)_" in text
    # The tool output holds a ``` fence: the export's fence must be longer.
    assert "````text\n```\nerror: missing `;`\n```\n````" in text


async def test_json_export_is_complete_and_parseable(store: SessionStore) -> None:
    session_id = await _session_with_everything(store)
    document = json.loads(await store.export_session(session_id, "json"))
    assert document["format"] == "agentkit.session" and document["version"] == 1
    assert document["session"]["id"] == session_id
    assert document["session"]["metadata"] == {"k": "v"}
    assert [m["role"] for m in document["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert document["messages"][1]["tool_calls"][0]["arguments"] == {"command": "make ci"}
    assert [e["type"] for e in document["events"]] == [
        "confirmation_request",
        "confirmation_result",
    ]


def test_fence_grows_past_backticks_inside() -> None:
    assert fence("plain").startswith("```\n")
    assert fence("a ```` b").startswith("`````\n")
