"""``[engine] max_reply_chars`` bounds everything a reply accumulates, in every protocol:
not only answer text but tool calls (streamed fragments, whole Ollama calls, names),
opaque reasoning data (Anthropic signatures) and a line or event that never ends. Each
ends the turn with the typed error and keeps the text that came before it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.provider import FakeProvider, Repeat, Reply
from tests.fakes.scripts import anthropic_event, ollama_line, openai_chunk
from tests.reliability.helpers import (
    NDJSON,
    agentkit,
    assert_no_traceback,
    saved_messages,
    text_reply,
    use_fake,
)

pytestmark = pytest.mark.slow

LIMIT = 5_000
PIECE = "x" * 498
#: What the endless-line shapes repeat: more of a JSON string that never closes.
FILLER = b"x" * 65_536


@dataclass(frozen=True)
class Shape:
    """A misbehaving reply: its protocol, its body and what the error must say."""

    kind: str
    body: tuple[bytes | Repeat, ...]
    says: str


def _opening(kind: str) -> list[bytes]:
    """The first words of a reply: ``Writing it.`` (what must be kept)."""
    body = text_reply(kind, ["Writing it."], finish=False).body
    return [step for step in body if isinstance(step, bytes)]


def _ollama_call(arguments: dict[str, str]) -> bytes:
    call = {"function": {"name": "write_file", "arguments": arguments}}
    return ollama_line({"content": "", "tool_calls": [call]})


def _shapes() -> dict[str, Shape]:
    openai_open = b'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,'
    openai_open += b'"id":"c1","function":{"name":"write_file","arguments":"{\\"content\\": \\"'
    anthropic_start = anthropic_event(
        "content_block_start", {"index": 1, "content_block": {"type": "thinking"}}
    )
    signature = {"index": 1, "delta": {"type": "signature_delta", "signature": PIECE}}
    two_names = {"tool_calls": [{"function": {"name": "wr"}}, {"function": {"name": "ite"}}]}
    unended = "without ending ([engine] max_reply_chars)"
    calls = f"the tool calls passed {LIMIT:,} characters ([engine] max_reply_chars)"
    return {
        "ollama-whole-calls": Shape(
            "ollama",
            (*_opening("ollama"), Repeat(_ollama_call({"path": "big.txt", "content": PIECE}))),
            calls,
        ),
        "ollama-endless-line": Shape(
            "ollama",
            (
                *_opening("ollama"),
                b'{"message":{"role":"assistant","content":"","tool_calls":[{"function":'
                b'{"name":"write_file","arguments":{"path":"big.txt","content":"',
                Repeat(FILLER),
            ),
            unended,
        ),
        "openai-endless-event": Shape(
            "openai", (*_opening("openai"), openai_open, Repeat(FILLER)), unended
        ),
        "openai-endless-name": Shape(
            "openai", (*_opening("openai"), Repeat(openai_chunk(two_names))), calls
        ),
        "anthropic-endless-event": Shape(
            "anthropic",
            (*_opening("anthropic"), b'event: content_block_delta\ndata: {"x": "', Repeat(FILLER)),
            unended,
        ),
        "anthropic-endless-signature": Shape(
            "anthropic",
            (
                *_opening("anthropic"),
                anthropic_start,
                Repeat(anthropic_event("content_block_delta", signature)),
            ),
            f"the content blocks and signatures passed {LIMIT:,} characters",
        ),
    }


SHAPES = _shapes()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


@pytest.mark.parametrize("name", sorted(SHAPES))
async def test_what_a_reply_accumulates_is_cut_at_max_reply_chars(
    name: str, agentkit_home: Path, workspace: Path
) -> None:
    shape = SHAPES[name]
    reply = Reply(
        body=list(shape.body),
        content_type=NDJSON if shape.kind == "ollama" else "text/event-stream",
    )
    async with FakeProvider() as fake:
        use_fake(agentkit_home, shape.kind, fake.url, engine={"max_reply_chars": LIMIT})
        fake.script(reply)
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "write", home=agentkit_home, cwd=workspace
        )
        await fake.wait_disconnect(within=30)
    assert run.code == 1, run.err
    assert_no_traceback(run)
    assert run.result() == "error"
    (message,) = run.error_messages()
    assert shape.says in message
    assert not (workspace / "big.txt").exists()
    tokens = "".join(str(e["content"]) for e in run.events if e["type"] == "token")
    assert tokens == "Writing it."
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == "Writing it." and messages[1]["status"] == "error"
    assert not any(m["role"] == "tool" for m in messages)
    assert json.loads(run.out.splitlines()[-1])["type"] == "result"
