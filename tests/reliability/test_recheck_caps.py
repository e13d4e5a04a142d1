"""#13 item 6 re-checked beyond the shapes its own tests cover: the reply cap hit by a
tool call's arguments sent whole in one piece (Anthropic's ``input`` in the block start,
an Ollama call whose arguments are one JSON string), by many small calls, and a server
that streams a little, steadily, inside the idle timeout but forever (the total deadline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.provider import FakeProvider, Repeat, Reply
from tests.fakes.scripts import anthropic_event, ollama_line, openai_chunk
from tests.reliability.helpers import (
    KINDS,
    NDJSON,
    agentkit,
    assert_no_traceback,
    saved_messages,
    text_reply,
    use_fake,
)
from tests.reliability.test_size_time import _more_text

pytestmark = pytest.mark.slow

BIG = {"path": "big.txt", "content": "x" * 3_000}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def _opening(kind: str) -> list[bytes]:
    return [s for s in text_reply(kind, ["Writing it."], finish=False).body if isinstance(s, bytes)]


def _shapes() -> dict[str, Reply]:
    block = {"type": "tool_use", "id": "t1", "name": "write_file", "input": BIG}
    anthropic = [
        *_opening("anthropic"),
        anthropic_event("content_block_stop", {"index": 0}),
        anthropic_event("content_block_start", {"index": 1, "content_block": block}),
        anthropic_event("content_block_stop", {"index": 1}),
        anthropic_event("message_delta", {"delta": {"stop_reason": "tool_use"}}),
        anthropic_event("message_stop", {}),
    ]
    string_call = {"function": {"name": "write_file", "arguments": json.dumps(BIG)}}
    ollama = [
        *_opening("ollama"),
        ollama_line({"content": "", "tool_calls": [string_call]}),
        ollama_line({"content": ""}, done=True, done_reason="stop"),
    ]
    many = [
        openai_chunk(
            {"tool_calls": [{"index": n, "id": f"c{n}", "function": {"name": "list_dir"}}]}
        )
        for n in range(60)
    ]
    openai = [*_opening("openai"), *many, openai_chunk({}, "tool_calls"), b"data: [DONE]\n\n"]
    return {
        "anthropic-whole-input-in-the-block-start": Reply(body=list(anthropic)),
        "ollama-arguments-as-one-json-string": Reply(body=list(ollama), content_type=NDJSON),
        "openai-many-empty-calls": Reply(body=list(openai)),
    }


SHAPES = _shapes()


@pytest.mark.parametrize("name", sorted(SHAPES))
async def test_tool_calls_sent_whole_or_many_are_cut_at_max_reply_chars(
    name: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, name.split("-")[0], fake.url, engine={"max_reply_chars": 1_000})
        fake.script(SHAPES[name])
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "write it", home=agentkit_home, cwd=workspace
        )
    assert_no_traceback(run)
    assert run.code == 1 and run.result() == "error"
    (message,) = run.error_messages()
    assert "the tool calls passed 1,000 characters ([engine] max_reply_chars)" in message
    assert not (workspace / "big.txt").exists()
    assert not [e for e in run.events if e["type"] == "step"]  # no call ran
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == "Writing it." and messages[1]["status"] == "error"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_trickle_inside_the_idle_timeout_still_ends_at_the_deadline(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    """Each piece comes well within the idle timeout, so only the total deadline can end
    it; the partial reply is kept."""
    async with FakeProvider() as fake:
        use_fake(
            agentkit_home,
            kind,
            fake.url,
            provider={"idle_timeout": 5.0},
            engine={"model_call_timeout_seconds": 2.0},
        )
        body = [*_opening(kind), Repeat(_more_text(kind, "."), every=0.25)]
        fake.script(
            Reply(body=body, content_type=NDJSON if kind == "ollama" else "text/event-stream")
        )
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "write", home=agentkit_home, cwd=workspace
        )
    assert len(fake.requests) == 1, run.out
    assert_no_traceback(run)
    assert run.result() == "error"
    assert "took longer than 2 s ([engine] model_call_timeout_seconds)" in run.error_messages()[0]
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"].startswith("Writing it..")
