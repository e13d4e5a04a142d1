"""A history with tool calls and results, converted for each protocol, checked against
what that protocol's documentation requires, and sent through the loopback server."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from app.llm import anthropic, ollama, openai_chat
from app.llm.history import MISSING_RESULT, repaired
from app.llm.types import ChatMessage, ChatRequest, ReasoningBlock, ToolCall
from tests.fakes import scripts
from tests.fakes.collect import collect
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.support import GatewayFactory

THINKING = ReasoningBlock(
    kind="thinking", text="I should list first.", signature="sig==", provider="anthropic"
)
HISTORY = [
    ChatMessage(role="system", content="Stored system note."),
    ChatMessage(role="user", content="List the files, then read the README."),
    ChatMessage(
        role="assistant",
        content="Let me look.",
        reasoning=[THINKING],
        tool_calls=[
            ToolCall(id="call_1", name="list_dir", arguments={"path": "."}),
            ToolCall(id="functions.read_file:1", name="read_file", arguments={"path": "README.md"}),
        ],
    ),
    ChatMessage(
        role="tool", content="README.md\nsrc/", tool_call_id="call_1", tool_name="list_dir"
    ),
    ChatMessage(
        role="tool", content="# Title", tool_call_id="functions.read_file:1", tool_name="read_file"
    ),
    ChatMessage(role="assistant", content="Two entries; the README is a title."),
    ChatMessage(role="user", content="Now run the tests."),
    ChatMessage(
        role="assistant",
        content="",
        tool_calls=[ToolCall(id="call_9", name="shell", arguments={"command": "pytest"})],
    ),
    ChatMessage(
        role="tool",
        content="Denied by the user: not run.",
        tool_call_id="call_9",
        tool_name="shell",
        is_error=True,
    ),
    ChatMessage(role="user", content="Thanks."),
]
REQUEST = ChatRequest(model="fake/m", system="You are helpful.", messages=HISTORY)


def _pairs_ok(messages: list[dict[str, Any]]) -> None:
    """OpenAI/Ollama rule: every assistant tool call is answered right after it, once, in order."""
    for position, message in enumerate(messages):
        calls = message.get("tool_calls") or []
        if not calls:
            continue
        following = messages[position + 1 : position + 1 + len(calls)]
        assert [m["role"] for m in following] == ["tool"] * len(calls)
        ids = [call.get("id") for call in calls]
        assert [m.get("tool_call_id") for m in following] == ids


def test_openai_conversion_follows_the_protocol() -> None:
    messages = openai_chat.convert_messages(REQUEST)
    assert messages[0] == {"role": "system", "content": "You are helpful.\n\nStored system note."}
    assert sum(m["role"] == "system" for m in messages) == 1
    assistant = messages[2]
    assert assistant["role"] == "assistant" and assistant["content"] == "Let me look."
    assert assistant["tool_calls"][1] == {
        "id": "functions.read_file:1",
        "type": "function",
        "function": {"name": "read_file", "arguments": '{"path": "README.md"}'},
    }
    assert all(isinstance(c["function"]["arguments"], str) for c in assistant["tool_calls"])
    assert "reasoning_content" not in assistant
    _pairs_ok(messages)
    assert messages[-3]["content"] == "" or messages[-3]["content"] is None
    assert messages[-2] == {
        "role": "tool",
        "tool_call_id": "call_9",
        "content": "Denied by the user: not run.",
    }


def test_mistral_like_servers_get_nine_alphanumeric_ids_consistently() -> None:
    messages = openai_chat.convert_messages(REQUEST, nine_char_ids=True)
    ids = [c["id"] for m in messages for c in m.get("tool_calls", [])]
    assert all(re.fullmatch(r"[A-Za-z0-9]{9}", i) for i in ids) and len(set(ids)) == 3
    _pairs_ok(messages)
    assert openai_chat.convert_messages(REQUEST, nine_char_ids=True) == messages  # deterministic


def test_deepseek_style_reasoning_is_replayed_only_when_asked() -> None:
    reasoning = ReasoningBlock(kind="reasoning_content", text="hmm", provider="openai")
    request = ChatRequest(
        messages=[
            ChatMessage(role="user", content="q"),
            ChatMessage(role="assistant", content="a", reasoning=[reasoning]),
        ]
    )
    assert "reasoning_content" not in openai_chat.convert_messages(request)[1]
    assert (
        openai_chat.convert_messages(request, replay_reasoning=True)[1]["reasoning_content"]
        == "hmm"
    )


def test_anthropic_conversion_follows_the_protocol() -> None:
    payload = anthropic.build_payload(REQUEST, "claude")
    assert payload["system"] == "You are helpful.\n\nStored system note."
    messages = payload["messages"]
    roles = [m["role"] for m in messages]
    assert roles[0] == "user" and all(a != b for a, b in itertools.pairwise(roles))
    assistant = messages[1]["content"]
    assert [b["type"] for b in assistant] == ["thinking", "text", "tool_use", "tool_use"]
    assert assistant[0] == {
        "type": "thinking",
        "thinking": "I should list first.",
        "signature": "sig==",
    }
    uses = [b for b in assistant if b["type"] == "tool_use"]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", b["id"]) for b in uses)
    results = messages[2]["content"]
    assert [b["type"] for b in results] == ["tool_result", "tool_result"]
    assert [b["tool_use_id"] for b in results] == [b["id"] for b in uses]
    assert results[0]["content"] == "README.md\nsrc/"
    # the denied call: its result carries is_error, and the next user text is merged after it
    last = messages[-1]["content"]
    assert [b["type"] for b in last] == ["tool_result", "text"]
    assert last[0]["is_error"] is True and last[1]["text"] == "Thanks."
    assert messages[-2]["content"] == [
        {"type": "tool_use", "id": "call_9", "name": "shell", "input": {"command": "pytest"}}
    ]


def test_anthropic_drops_unsigned_or_foreign_thinking() -> None:
    unsigned = ReasoningBlock(kind="thinking", text="cut off", provider="anthropic")
    foreign = ReasoningBlock(kind="reasoning_content", text="deepseek", provider="openai")
    request = ChatRequest(
        messages=[
            ChatMessage(role="user", content="q"),
            ChatMessage(role="assistant", content="a", reasoning=[unsigned, foreign]),
        ]
    )
    assert anthropic.convert_messages(request)[1]["content"] == [{"type": "text", "text": "a"}]


def test_ollama_conversion_follows_the_protocol() -> None:
    messages = ollama.convert_messages(REQUEST)
    assert messages[0] == {"role": "system", "content": "You are helpful.\n\nStored system note."}
    calls = messages[2]["tool_calls"]
    assert calls[0]["function"] == {"index": 0, "name": "list_dir", "arguments": {"path": "."}}
    assert isinstance(calls[1]["function"]["arguments"], dict)
    tools = [m for m in messages if m["role"] == "tool"]
    assert [m["tool_name"] for m in tools] == ["list_dir", "read_file", "shell"]
    _pairs_ok(
        [{**m, "tool_calls": [{"id": c["id"]} for c in m.get("tool_calls", [])]} for m in messages]
    )


def test_repair_answers_dangling_calls_and_drops_orphans_and_duplicates() -> None:
    broken = [
        ChatMessage(role="user", content="go"),
        ChatMessage(
            role="assistant",
            tool_calls=[ToolCall(id="a", name="list_dir"), ToolCall(id="b", name="shell")],
        ),
        ChatMessage(role="tool", content="ok", tool_call_id="a"),
        ChatMessage(role="tool", content="again", tool_call_id="a"),
        ChatMessage(role="tool", content="stray", tool_call_id="zzz"),
        ChatMessage(role="user", content="hello?"),
        ChatMessage(role="tool", content="orphan", tool_call_id="q"),
    ]
    fixed = repaired(broken)
    assert [(m.role, m.tool_call_id, m.content) for m in fixed] == [
        ("user", None, "go"),
        ("assistant", None, ""),
        ("tool", "a", "ok"),
        ("tool", "b", MISSING_RESULT),
        ("user", None, "hello?"),
    ]
    assert fixed[3].is_error and fixed[2].tool_name == "list_dir"


@pytest.mark.parametrize("kind", ["openai", "anthropic", "ollama"])
async def test_the_converted_history_is_what_goes_on_the_wire(
    kind: str, fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    replies = {
        "openai": scripts.openai_reply(["ok"]),
        "anthropic": Reply(body=scripts.anthropic_events([{"text": ["ok"]}])),
        "ollama": scripts.ollama_reply(["ok"]),
    }
    fake.script(replies[kind])
    result = await collect(make_gateway(kind).stream(REQUEST), catch=False)
    assert result.text == "ok"
    sent = fake.requests[0].json()["messages"]
    expected = {
        "openai": openai_chat.convert_messages,
        "anthropic": anthropic.convert_messages,
        "ollama": ollama.convert_messages,
    }[kind](REQUEST)
    assert sent == json.loads(json.dumps(expected))
    fake.script(replies[kind])
    await collect(make_gateway(kind).stream(REQUEST), catch=False)
    assert fake.requests[1].body == fake.requests[0].body  # same history, same bytes
