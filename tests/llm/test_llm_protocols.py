"""Each wire protocol through the loopback server: request shape and stream quirks."""

from __future__ import annotations

import json
import re

from app.llm.types import ChatMessage, ChatRequest, ToolSpec
from tests.fakes import scripts
from tests.fakes.collect import collect
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.support import API_KEY, GatewayFactory

LIST_DIR = ToolSpec(
    name="list_dir",
    description="List a directory.",
    parameters={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)
REQUEST = ChatRequest(
    model="fake/m",
    system="Be brief.",
    messages=[ChatMessage(role="user", content="hi")],
    tools=[LIST_DIR],
    temperature=0.2,
    max_tokens=300,
)
CALL_ID = re.compile(r"^call_[A-Za-z0-9]{9}$")


# ----------------------------------------------------------------------------- OpenAI


async def test_openai_request_shape(fake: FakeProvider, make_gateway: GatewayFactory) -> None:
    fake.script(scripts.openai_reply(["ok"]))
    await collect(make_gateway().stream(REQUEST), catch=False)
    sent = fake.requests[0]
    assert (sent.method, sent.path) == ("POST", "/chat/completions")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    body = sent.json()
    assert body["model"] == "m" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "list_dir",
                "description": "List a directory.",
                "parameters": LIST_DIR.parameters,
            },
        }
    ]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 300


async def test_openai_base_url_path_and_extra_headers(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(scripts.openai_reply(["ok"]))
    gateway = make_gateway(base_url=fake.url + "/v1", headers={"X-Title": "agentkit"})
    await collect(gateway.stream(REQUEST), catch=False)
    assert fake.requests[0].path == "/v1/chat/completions"
    assert fake.requests[0].headers["x-title"] == "agentkit"


async def test_openai_byte_by_byte_with_crlf_and_keepalives(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    events = scripts.openai_text_events(["Hé", "llo", " 🌍"], usage=(5, 3))
    raw = b": keep-alive\n\n".join(events).replace(b"\n", b"\r\n")
    fake.script(Reply(body=[raw[i : i + 1] for i in range(len(raw))]))
    result = await collect(make_gateway().stream(REQUEST), catch=False)
    assert result.text == "Héllo 🌍"
    assert result.usage is not None and (result.usage.input_tokens, result.usage.output_tokens) == (
        5,
        3,
    )
    assert result.finish is not None and result.finish.reason == "stop"
    assert isinstance(result.chunks[-1], type(result.finish))


async def test_openai_reasoning_fields_become_thinking(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(
        Reply(
            body=[
                scripts.openai_chunk(
                    {"role": "assistant", "content": None, "reasoning_content": "Let me "}
                ),
                scripts.openai_chunk({"content": None, "reasoning": "think."}),
                scripts.openai_chunk({"content": "Answer."}),
                scripts.openai_chunk({}, "stop"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    result = await collect(make_gateway().stream(REQUEST), catch=False)
    assert result.thinking == "Let me think." and result.text == "Answer."
    assert [b.kind for b in result.reasoning] == ["reasoning_content"]


async def test_openai_tool_calls_fragmented_parallel_and_idless(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    events = scripts.openai_tool_call_events(
        [
            ("call_a", "list_dir", ['{"pa', 'th"', ': "src"}']),
            (None, "list_dir", ['{"path": "."}']),
        ],
        text="Looking.",
        finish="stop",  # some servers say stop even with tool calls: trust the calls
    )
    fake.script(Reply(body=events))
    result = await collect(make_gateway().stream(REQUEST), catch=False)
    assert result.text == "Looking."
    first, second = result.calls
    assert (first.id, first.name, first.arguments) == ("call_a", "list_dir", {"path": "src"})
    assert CALL_ID.match(second.id) and second.arguments == {"path": "."}
    assert result.finish is not None and result.finish.reason == "tool_calls"
    assert result.finish.native_reason == "stop"


async def test_openai_quirks_no_index_null_arguments_and_shared_index(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    call = {"id": "abcdefghi", "function": {"name": "list_dir", "arguments": '{"path": "a"}'}}
    no_args = {"index": 1, "id": "call_2", "function": {"name": "now", "arguments": None}}
    shared_1 = {
        "index": 2,
        "id": "call_3",
        "function": {"name": "list_dir", "arguments": '{"path": "b"}'},
    }
    shared_2 = {
        "index": 2,
        "id": "call_4",
        "function": {"name": "list_dir", "arguments": '{"path": "c"}'},
    }
    fake.script(
        Reply(
            body=[
                scripts.openai_chunk({"tool_calls": [call]}),
                scripts.openai_chunk({"tool_calls": [no_args]}),
                scripts.openai_chunk({"tool_calls": [shared_1]}),
                scripts.openai_chunk({"tool_calls": [shared_2]}),
                scripts.openai_chunk({}, "tool_calls"),
                b"data: [DONE]\n\n",
            ]
        )
    )
    result = await collect(make_gateway().stream(REQUEST), catch=False)
    got = [(c.id, c.name, c.arguments, c.parse_error) for c in result.calls]
    assert got == [
        ("abcdefghi", "list_dir", {"path": "a"}, None),
        ("call_2", "now", {}, None),
        ("call_3", "list_dir", {"path": "b"}, None),
        ("call_4", "list_dir", {"path": "c"}, None),
    ]


async def test_openai_length_cut_in_a_tool_call_is_reported(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    events = scripts.openai_tool_call_events(
        [("call_a", "write_file", ['{"path": "x", "con'])], finish="length"
    )
    fake.script(Reply(body=events))
    result = await collect(make_gateway().stream(REQUEST), catch=False)
    (call,) = result.calls
    assert call.arguments == {} and call.raw_arguments == '{"path": "x", "con'
    assert call.parse_error is not None and "token limit" in call.parse_error
    assert result.finish is not None and result.finish.reason == "length"


async def test_openai_invalid_arguments_are_kept_raw(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(Reply(body=scripts.openai_tool_call_events([("c1", "list_dir", ["{'path': 1}"])])))
    result = await collect(make_gateway().stream(REQUEST), catch=False)
    (call,) = result.calls
    assert call.raw_arguments == "{'path': 1}" and call.parse_error is not None
    assert "invalid JSON" in call.parse_error


# ----------------------------------------------------------------------------- Anthropic


async def test_anthropic_request_shape(fake: FakeProvider, make_gateway: GatewayFactory) -> None:
    fake.script(Reply(body=scripts.anthropic_events([{"text": ["ok"]}])))
    await collect(make_gateway("anthropic").stream(REQUEST), catch=False)
    sent = fake.requests[0]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == API_KEY and "authorization" not in sent.headers
    assert sent.headers["anthropic-version"] == "2023-06-01"
    body = sent.json()
    assert body["system"] == "Be brief." and body["stream"] is True and body["max_tokens"] == 300
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert body["tools"] == [
        {
            "name": "list_dir",
            "description": "List a directory.",
            "input_schema": LIST_DIR.parameters,
        }
    ]


async def test_anthropic_thinking_request_and_signed_blocks(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    blocks = [
        {"thinking": ["Plan: ", "look."], "signature": "c2ln"},
        {"tool_use": ("toolu_1", "now", [""])},
    ]
    fake.script(Reply(body=scripts.anthropic_events(blocks, stop_reason="tool_use")))
    request = REQUEST.model_copy(update={"thinking_budget": 2048})
    result = await collect(make_gateway("anthropic").stream(request), catch=False)
    body = fake.requests[0].json()
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert "temperature" not in body and body["max_tokens"] > 2048
    assert result.thinking == "Plan: look."
    assert [(b.kind, b.text, b.signature) for b in result.reasoning] == [
        ("thinking", "Plan: look.", "c2ln")
    ]
    (call,) = result.calls
    assert (call.id, call.name, call.arguments, call.parse_error) == ("toolu_1", "now", {}, None)


async def test_anthropic_max_tokens_inside_a_tool_call(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    blocks = [{"tool_use": ("toolu_1", "write_file", ['{"path": "a.txt", "content": "lo'])}]
    fake.script(Reply(body=scripts.anthropic_events(blocks, stop_reason="max_tokens")))
    result = await collect(make_gateway("anthropic").stream(REQUEST), catch=False)
    (call,) = result.calls
    assert call.parse_error is not None and "token limit" in call.parse_error
    assert result.finish is not None and result.finish.reason == "length"


async def test_anthropic_missing_message_stop(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(Reply(body=scripts.anthropic_events([{"text": ["done"]}], stop=False)))
    result = await collect(make_gateway("anthropic").stream(REQUEST), catch=False)
    assert result.text == "done" and result.finish is not None
    events = scripts.anthropic_events([{"text": ["cut"]}])
    fake.script(Reply(body=events[:5]))
    result = await collect(make_gateway("anthropic", max_retries=0).stream(REQUEST))
    assert result.text == "cut" and result.error is not None
    assert result.error.kind == "stream"


async def test_anthropic_redacted_thinking_is_kept(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    start = {"index": 0, "content_block": {"type": "redacted_thinking", "data": "ENCRYPTED"}}
    events = scripts.anthropic_events([{"text": ["x"]}])
    body = [
        events[0],
        scripts.anthropic_event("content_block_start", start),
        scripts.anthropic_event("content_block_stop", {"index": 0}),
    ]
    body += [
        e.replace(b'"index": 0', b'"index": 1').replace(b'"index":0', b'"index":1')
        for e in events[2:]
    ]
    fake.script(Reply(body=body))
    result = await collect(make_gateway("anthropic").stream(REQUEST), catch=False)
    assert [(b.kind, b.data) for b in result.reasoning] == [("redacted_thinking", "ENCRYPTED")]
    assert result.text == "x"


# ----------------------------------------------------------------------------- Ollama


async def test_ollama_request_shape_and_stream(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    tool_calls = [
        {"function": {"name": "list_dir", "arguments": {"path": "."}}},
        {
            "id": "call_srv",
            "function": {"index": 1, "name": "list_dir", "arguments": '{"path": "src"}'},
        },
    ]
    fake.script(
        scripts.ollama_reply(
            ["Sure", "."], thinking=["Hmm."], tool_calls=tool_calls, counts=(40, 9)
        )
    )
    result = await collect(make_gateway("ollama", api_key_env=None).stream(REQUEST), catch=False)
    body = fake.requests[0].json()
    assert fake.requests[0].path == "/api/chat" and "authorization" not in fake.requests[0].headers
    assert body["stream"] is True and body["options"]["num_ctx"] >= 8192
    assert body["options"]["temperature"] == 0.2 and body["options"]["num_predict"] == 300
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["tools"][0]["function"]["name"] == "list_dir"
    assert (result.thinking, result.text) == ("Hmm.", "Sure.")
    first, second = result.calls
    assert CALL_ID.match(first.id) and first.arguments == {"path": "."}
    assert second.id == "call_srv" and second.arguments == {"path": "src"}
    assert result.usage is not None and (result.usage.input_tokens, result.usage.output_tokens) == (
        40,
        9,
    )
    assert result.finish is not None and result.finish.reason == "tool_calls"


async def test_ollama_without_done_line_is_a_stream_error(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    fake.script(scripts.ollama_reply(["par"], done=False))
    result = await collect(make_gateway("ollama", max_retries=0).stream(REQUEST))
    assert result.text == "par" and result.error is not None and result.error.kind == "stream"


async def test_ollama_skips_broken_lines(fake: FakeProvider, make_gateway: GatewayFactory) -> None:
    lines = scripts.ollama_lines(["a", "b"])
    fake.script(
        Reply(
            body=[lines[0], b"{broken\n", lines[1], lines[2]], content_type="application/x-ndjson"
        )
    )
    result = await collect(make_gateway("ollama").stream(REQUEST), catch=False)
    assert result.text == "ab"


def _at(path: str, reply: Reply) -> Reply:
    """``reply`` for requests to ``path`` only (the fake answers other model lists itself)."""
    reply.path = path
    return reply


async def test_list_models_per_protocol(fake: FakeProvider, make_gateway: GatewayFactory) -> None:
    listed = {"object": "list", "data": [{"id": "b-model"}, {"id": "a-model"}]}
    fake.script(_at("/models", Reply.json(200, listed)))
    assert await make_gateway().list_models("fake") == ["a-model", "b-model"]
    assert fake.requests[-1].path == "/models"
    claude = {"data": [{"id": "claude-x", "type": "model"}], "has_more": False}
    fake.script(_at("/v1/models", Reply.json(200, claude)))
    assert await make_gateway("anthropic").list_models("fake") == ["claude-x"]
    assert fake.requests[-1].path == "/v1/models"
    fake.script(Reply.json(200, {"models": [{"name": "qwen3:8b"}, {"name": "llama3:latest"}]}))
    assert await make_gateway("ollama").list_models("fake") == ["qwen3:8b", "llama3:latest"]
    assert fake.requests[-1].path == "/api/tags"
    assert json.loads(fake.requests[-1].body or b"null") is None


async def test_openai_refusal_is_shown_as_text(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    body = [
        scripts.openai_chunk(
            {"role": "assistant", "content": None, "refusal": "I can't help with that."}
        ),
        scripts.openai_chunk({}, "stop"),
        b"data: [DONE]\n\n",
    ]
    fake.script(Reply(body=body))
    result = await collect(make_gateway().stream(REQUEST), catch=False)
    assert result.text == "I can't help with that."


async def test_anthropic_tool_input_given_whole_in_the_start_event(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    events = scripts.anthropic_events(
        [{"tool_use": ("toolu_9", "list_dir", [])}], stop_reason="tool_use"
    )
    events = [e.replace(b'"input":{}', b'"input":{"path":"docs"}') for e in events]
    fake.script(Reply(body=events))
    result = await collect(make_gateway("anthropic").stream(REQUEST), catch=False)
    assert [(c.id, c.arguments) for c in result.calls] == [("toolu_9", {"path": "docs"})]


# What real OpenAI-compatible servers list besides chat models (OpenAI's own /models, a
# vLLM or LocalAI box, OpenRouter) and what Ollama lists (embedding models pulled for RAG).
NOT_FOR_CHAT = [
    "text-embedding-3-small",
    "tts-1-hd",
    "gpt-4o-mini-tts",
    "whisper-1",
    "gpt-4o-transcribe",
    "dall-e-3",
    "gpt-image-1",
    "omni-moderation-latest",
    "text-moderation-stable",
    "davinci-002",
    "babbage-002",
    "sora-2",
    "bge-reranker-v2-m3",
    "nomic-embed-text:latest",
    "mxbai-embed-large",
]
FOR_CHAT = ["gpt-4o", "o3", "gpt-4o-audio-preview", "meta-llama/llama-3.3-70b", "qwen3:8b"]


async def test_models_that_cannot_chat_are_left_out_of_the_list(
    fake: FakeProvider, make_gateway: GatewayFactory
) -> None:
    listed = [{"id": name} for name in NOT_FOR_CHAT + FOR_CHAT]
    fake.script(_at("/models", Reply.json(200, {"object": "list", "data": listed})))
    assert await make_gateway().list_models("fake") == sorted(FOR_CHAT)
    tags = [{"name": name} for name in NOT_FOR_CHAT + FOR_CHAT]
    fake.script(Reply.json(200, {"models": tags}))
    assert await make_gateway("ollama").list_models("fake") == FOR_CHAT
