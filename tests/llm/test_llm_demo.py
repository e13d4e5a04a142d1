"""The offline demo model: intents, tool use answered from real results, determinism."""

from __future__ import annotations

import json

import pytest

from app.config import Settings
from app.llm.demo import DEMO_NOTICE, DemoModel, tokens
from app.llm.gateway import Gateway
from app.llm.types import ChatMessage, ChatRequest, TextDelta, ToolCall, ToolSpec
from tests.fakes.collect import collect

QUESTION = "Which would you like me to focus on first: the code, the tests, or the docs?"
TOOLS = [
    ToolSpec(name=name) for name in ("list_dir", "read_file", "shell", "ask_human", "write_file")
]


def _ask(text: str, *, tools: bool = True, system: str | None = None) -> ChatRequest:
    return ChatRequest(
        model="demo",
        system=system,
        messages=[ChatMessage(role="user", content=text)],
        tools=TOOLS if tools else [],
    )


async def test_greeting_says_it_is_a_demo_and_what_to_configure() -> None:
    reply = await collect(DemoModel().stream(_ask("Hello there")), catch=False)
    assert "offline demo model" in reply.text and DEMO_NOTICE in reply.text
    assert reply.calls == [] and reply.finish is not None and reply.finish.reason == "stop"
    assert sum(isinstance(c, TextDelta) for c in reply.chunks) > 20  # token by token


async def test_markdown_answer_has_headings_list_table_and_code() -> None:
    text = (await collect(DemoModel().stream(_ask("show me some markdown")), catch=False)).text
    assert text.startswith("# ") and "\n## " in text and "\n- " in text
    assert "|------|" in text and "```python" in text


@pytest.mark.parametrize(
    ("prompt", "tool", "arguments"),
    [
        ("list the files here", "list_dir", {"path": "."}),
        ("read docs/guide.md please", "read_file", {"path": "docs/guide.md"}),
        ("please run `git status`", "shell", {"command": "git status", "timeout": 30}),
        (
            "ask me a question first",
            "ask_human",
            {"question": QUESTION, "choices": ["The code", "The tests", "The docs"]},
        ),
    ],
)
async def test_tool_intents_call_the_tool_after_a_short_preamble(
    prompt: str, tool: str, arguments: dict[str, object]
) -> None:
    reply = await collect(DemoModel().stream(_ask(prompt)), catch=False)
    (call,) = reply.calls
    assert (call.name, call.arguments) == (tool, arguments)
    assert call.id.startswith("call_") and len(call.id) == 14
    assert reply.text and reply.finish is not None and reply.finish.reason == "tool_calls"


async def test_tool_not_offered_is_explained_instead_of_called() -> None:
    reply = await collect(DemoModel().stream(_ask("list the files", tools=False)), catch=False)
    assert reply.calls == [] and "not enabled" in reply.text


async def test_answer_is_built_from_the_tool_result_in_the_history() -> None:
    call = ToolCall(id="call_1", name="list_dir", arguments={"path": "."})
    history = [
        ChatMessage(role="user", content="list the files"),
        ChatMessage(role="assistant", content="Let me look.", tool_calls=[call]),
        ChatMessage(
            role="tool",
            content="README.md\napp/\ntests/",
            tool_call_id="call_1",
            tool_name="list_dir",
        ),
    ]
    reply = await collect(
        DemoModel().stream(ChatRequest(model="demo", messages=history, tools=TOOLS)), catch=False
    )
    assert "3 entries" in reply.text and "`README.md`" in reply.text and "`tests/`" in reply.text
    assert reply.calls == []


async def test_denied_shell_call_is_not_presented_as_success() -> None:
    call = ToolCall(id="call_1", name="shell", arguments={"command": "rm -rf build"})
    history = [
        ChatMessage(role="user", content="run `rm -rf build`"),
        ChatMessage(role="assistant", tool_calls=[call]),
        ChatMessage(
            role="tool",
            content="Denied by the user: not run.",
            tool_call_id="call_1",
            is_error=True,
        ),
    ]
    reply = await collect(
        DemoModel().stream(ChatRequest(model="demo", messages=history, tools=TOOLS)), catch=False
    )
    assert "did not succeed" in reply.text and "Denied by the user" in reply.text


async def test_read_file_and_shell_and_ask_human_answers() -> None:
    calls = [
        ToolCall(id="a", name="read_file", arguments={"path": "README.md"}),
        ToolCall(id="b", name="shell", arguments={"command": "echo hi"}),
        ToolCall(id="c", name="ask_human", arguments={"question": "Which?"}),
    ]
    history = [
        ChatMessage(role="user", content="do things"),
        ChatMessage(role="assistant", tool_calls=calls),
        ChatMessage(
            role="tool", content="# Title\nline two", tool_call_id="a", tool_name="read_file"
        ),
        ChatMessage(role="tool", content="hi", tool_call_id="b", tool_name="shell"),
        ChatMessage(role="tool", content="the tests", tool_call_id="c", tool_name="ask_human"),
    ]
    text = (await collect(DemoModel().stream(ChatRequest(messages=history)), catch=False)).text
    assert "`README.md` has 2 lines" in text and "# Title" in text
    assert "`echo hi` finished" in text and "“the tests”" in text


async def test_thinking_preamble_comes_before_the_answer() -> None:
    reply = await collect(
        DemoModel().stream(_ask("think step by step: tabs or spaces?")), catch=False
    )
    assert reply.thinking.startswith("The user wants me to reason")
    kinds = [c.type for c in reply.chunks]
    assert kinds.index("text") > max(i for i, k in enumerate(kinds) if k == "thinking")


async def _text(request: ChatRequest) -> str:
    return (await collect(DemoModel().stream(request), catch=False)).text


async def test_the_planner_gets_a_json_plan_and_chat_gets_a_hint() -> None:
    plan = json.loads(
        await _text(_ask("add a CLI flag", system="Be brief.\n\nYou are the planner."))
    )
    assert [p["id"] for p in plan["phases"]] == ["p1", "p2", "p3"]
    assert all({"id", "title", "goal", "produces"} <= set(p) for p in plan["phases"])
    assert "add a CLI flag" in plan["phases"][2]["goal"]
    hint = await _text(_ask("make a plan to add a CLI flag"))
    assert "/plan" in hint and "offline demo" in hint
    assert "/team" in await _text(_ask("form a team of experts"))


async def test_the_lead_assigns_phases_to_the_experts_it_is_given() -> None:
    system = "You lead a team of experts. …\nExpert ids: scout, builder\n\nReply with JSON"
    plan = json.loads(await _text(_ask("ship it", system=system)))
    assert [(p["id"], p["expert"], p["depends_on"]) for p in plan["phases"]] == [
        ("p1", "scout", []),
        ("p2", "builder", []),
        ("p3", "scout", ["p1", "p2"]),
    ]


@pytest.mark.parametrize(
    ("title", "tool"),
    [("Survey the workspace", "list_dir"), ("Read the README", "read_file"), ("Review", None)],
)
async def test_a_phase_calls_the_tool_its_title_names(title: str, tool: str | None) -> None:
    prompt = f"Overall task:\nship it\n\nYour phase: p1 — {title}\nGoal: whatever"
    reply = await collect(
        DemoModel().stream(_ask(prompt, system="You are carrying out one phase of a plan.")),
        catch=False,
    )
    assert [call.name for call in reply.calls] == ([tool] if tool else [])
    assert reply.text.strip()


async def test_the_synthesis_lists_each_phase_and_how_it_went() -> None:
    prompt = "Task:\nx\n\n## p1 — Survey (by Scout, done)\nfine\n\n## p2 — Build (failed)\nboom"
    text = await _text(_ask(prompt, system="Write the final answer for the person from …"))
    assert "**Survey** (p1): by Scout — done" in text and "**Build** (p2): failed" in text


async def test_unknown_requests_get_the_demo_explanation() -> None:
    text = (
        await collect(DemoModel().stream(_ask("what is the capital of Peru?")), catch=False)
    ).text
    assert "capital of Peru" in text and DEMO_NOTICE in text


async def test_replies_are_deterministic() -> None:
    first = await collect(DemoModel().stream(_ask("list the files")), catch=False)
    second = await collect(DemoModel().stream(_ask("list the files")), catch=False)
    assert first.chunks == second.chunks


def test_tokens_join_back_to_the_text() -> None:
    text = "  Hello,  world!\n\n```py\nx = 1\n```\n"
    assert "".join(tokens(text)) == text


async def test_demo_through_the_gateway_uses_the_configured_pace() -> None:
    settings = Settings.model_validate({"ui": {"stream_delay_ms": 0}})
    async with Gateway(settings, env={"OLLAMA_HOST": "127.0.0.1:1"}) as gateway:
        assert gateway.demo.delay == 0
        reply = await gateway.chat(_ask("hello"))
        assert reply.model == "demo" and "offline demo" in reply.message.content
        assert await gateway.list_models("demo") == ["demo"]
    assert Gateway(Settings(), env={}).demo.delay == pytest.approx(0.012)
