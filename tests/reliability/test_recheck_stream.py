"""#13 item 4 re-checked with variants it does not list: schema-wrong events of every
protocol with the wrong type nested deep inside, a 200 reply that is no stream at all
under a loose label, a reply that finishes with only unreadable pieces, one bad Ollama
tool call among good text, and a tool call without a name. Through ``agentkit run`` and
the loopback fake provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import anthropic_event, ollama_line, openai_chunk, openai_reply, sse
from tests.reliability.helpers import (
    NDJSON,
    Run,
    agentkit,
    assert_no_traceback,
    saved_messages,
    use_fake,
)

pytestmark = pytest.mark.slow

PROMPT = "please do the task"  # not a greeting: the tool loop runs, tools are offered


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


async def _run(home: Path, cwd: Path, kind: str, *replies: Reply) -> tuple[Run, FakeProvider]:
    async with FakeProvider() as fake:
        use_fake(home, kind, fake.url)
        fake.script(*replies)
        run = await agentkit("run", "--json", "--model", "fake/m", PROMPT, home=home, cwd=cwd)
    assert_no_traceback(run)
    return run, fake


def _anthropic(*events: tuple[str, dict[str, object]]) -> Reply:
    start = anthropic_event("message_start", {"message": {"id": "m", "usage": {}}})
    text = anthropic_event(
        "content_block_start", {"index": 0, "content_block": {"type": "text", "text": "Hi"}}
    )
    return Reply(body=[start, text, *(anthropic_event(name, data) for name, data in events)])


def _ollama(*lines: bytes) -> Reply:
    return Reply(body=[ollama_line({"content": "Hi"}), *lines], content_type=NDJSON)


def _openai(*events: bytes) -> Reply:
    return Reply(body=[openai_chunk({"role": "assistant", "content": "Hi"}), *events])


WRONG = {
    "openai-tool-call-function-a-string": (
        "openai",
        _openai(sse({"choices": [{"index": 0, "delta": {"tool_calls": [{"function": "x"}]}}]})),
    ),
    "openai-delta-a-list": ("openai", _openai(sse({"choices": [{"delta": ["x"]}]}))),
    "anthropic-delta-a-string": ("anthropic", _anthropic(("content_block_delta", {"delta": "x"}))),
    "anthropic-message-delta-usage-a-list": (
        "anthropic",
        _anthropic(("message_delta", {"delta": "x", "usage": [1]})),
    ),
    "anthropic-block-start-a-number": (
        "anthropic",
        _anthropic(("content_block_start", {"index": "a", "content_block": 5})),
    ),
    "ollama-message-a-string": ("ollama", _ollama(b'{"message": "oops", "done": false}\n')),
    "ollama-content-a-number": (
        "ollama",
        _ollama(b'{"message": {"role": "assistant", "content": 5}, "done": false}\n'),
    ),
    "ollama-top-level-a-list": ("ollama", _ollama(b"[1, 2]\n")),
}


@pytest.mark.parametrize("case", sorted(WRONG))
async def test_schema_wrong_events_deep_inside_are_skipped_and_counted(
    case: str, agentkit_home: Path, workspace: Path
) -> None:
    kind, reply = WRONG[case]
    run, _fake = await _run(agentkit_home, workspace, kind, reply)
    assert run.code == 1 and run.result() == "error"
    (message,) = run.error_messages()
    assert "ended before the model finished (1 unreadable" in message
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[-1]["content"] == "Hi" and messages[-1]["status"] == "error"


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_loosely_labelled_body_that_is_no_stream_is_quoted(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    """A proxy's ``200 text/plain`` message is allowed through the label check (servers
    label streams loosely), but with no event in it the error says what it read."""
    reply = Reply(body=[b"upstream connect error or disconnect\n"], content_type="text/plain")
    run, _fake = await _run(agentkit_home, workspace, kind, reply)
    assert run.code == 1 and run.result() == "error"
    (message,) = run.error_messages()
    assert "no events in it; it read: 'upstream connect error or disconnect'" in message


async def test_an_empty_200_body_says_it_was_empty(agentkit_home: Path, workspace: Path) -> None:
    run, _fake = await _run(agentkit_home, workspace, "openai", Reply(body=[]))
    assert run.result() == "error"
    assert "(its body was empty)" in run.error_messages()[0]


FINISHED_UNREADABLE = {
    "openai": Reply(
        body=[
            sse({"choices": [{"index": 0, "delta": {"tool_calls": "x"}}]}),
            openai_chunk({}, "tool_calls"),
            b"data: [DONE]\n\n",
        ]
    ),
    "anthropic": Reply(
        body=[
            anthropic_event("message_start", {"message": {"id": "m"}}),
            anthropic_event("content_block_start", {"index": 0, "content_block": "tool_use"}),
            anthropic_event("message_delta", {"delta": {"stop_reason": "tool_use"}}),
            anthropic_event("message_stop", {}),
        ]
    ),
    "ollama": Reply(
        body=[
            b'{"message": {"role": "assistant", "content": "", "tool_calls": [5]}}\n',
            ollama_line({"content": ""}, done=True, done_reason="stop"),
        ],
        content_type=NDJSON,
    ),
}


@pytest.mark.parametrize("kind", sorted(FINISHED_UNREADABLE))
async def test_a_finished_reply_of_only_unreadable_pieces_is_an_error_not_an_empty_reply(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    """Before, the lost tool call read as "The model returned an empty reply"."""
    run, _fake = await _run(agentkit_home, workspace, kind, FINISHED_UNREADABLE[kind])
    assert run.code == 1 and run.result() == "error"
    (message,) = run.error_messages()
    assert "the model's reply could not be read (1 unreadable" in message
    assert not [e for e in run.events if e["type"] == "final_answer"]


async def test_one_bad_ollama_tool_call_keeps_the_text_and_the_good_call_of_its_line(
    agentkit_home: Path, workspace: Path
) -> None:
    line = {
        "message": {
            "role": "assistant",
            "content": "Listing.",
            "tool_calls": [5, {"function": {"name": "list_dir", "arguments": {"path": "."}}}],
        },
        "done": True,
        "done_reason": "stop",
    }
    first = Reply(body=[json.dumps(line).encode() + b"\n"], content_type=NDJSON)
    last = Reply(body=[ollama_line({"content": "Done."}, done=True)], content_type=NDJSON)
    run, _fake = await _run(agentkit_home, workspace, "ollama", first, last)
    assert run.result() == "completed"
    calls = [e["data"]["data"]["name"] for e in run.events if e["type"] == "step"]
    assert calls == ["list_dir", "list_dir"]  # its call and its result
    said = "".join(e.get("content", "") for e in run.events if e["type"] in ("token", "thinking"))
    assert "Listing." in said


async def test_a_tool_call_without_a_name_is_told_the_name_is_missing(
    agentkit_home: Path, workspace: Path
) -> None:
    block = {"type": "tool_use", "id": "t1", "name": 5, "input": {"path": "."}}
    reply = Reply(
        body=[
            anthropic_event("message_start", {"message": {"id": "m"}}),
            anthropic_event("content_block_start", {"index": 0, "content_block": block}),
            anthropic_event("content_block_stop", {"index": 0}),
            anthropic_event("message_delta", {"delta": {"stop_reason": "tool_use"}}),
            anthropic_event("message_stop", {}),
        ]
    )
    done = Reply(
        body=[
            anthropic_event("message_start", {"message": {"id": "m2"}}),
            anthropic_event(
                "content_block_start", {"index": 0, "content_block": {"type": "text", "text": "Ok"}}
            ),
            anthropic_event("message_delta", {"delta": {"stop_reason": "end_turn"}}),
            anthropic_event("message_stop", {}),
        ]
    )
    run, fake = await _run(agentkit_home, workspace, "anthropic", reply, done)
    assert run.result() == "completed"
    second = fake.requests[1].json()["messages"][-1]["content"][0]
    assert second["type"] == "tool_result" and second["is_error"]
    told = str(second["content"])
    assert "has no tool name" in told and "list_dir" in told and "not valid JSON" not in told


async def test_a_good_reply_is_untouched(agentkit_home: Path, workspace: Path) -> None:
    run, _fake = await _run(agentkit_home, workspace, "openai", openai_reply(["All ", "fine"]))
    assert run.result() == "completed" and run.code == 0
