"""Size and time: replies that never end, servers that only keep the line open, huge
replies, and a turn under ``serve`` that must give its slot back. Through ``agentkit run``
(and ``serve``) with the loopback fake provider of each wire protocol."""

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

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def _opening(kind: str, text: str) -> list[bytes]:
    """The start of a reply in ``kind``'s protocol, with ``text`` as its first words."""
    return list(text_reply(kind, [text], finish=False).body)


def _more_text(kind: str, text: str) -> bytes:
    """One more piece of answer text."""
    if kind == "openai":
        return openai_chunk({"content": text})
    if kind == "anthropic":
        delta = {"index": 0, "delta": {"type": "text_delta", "text": text}}
        return anthropic_event("content_block_delta", delta)
    return ollama_line({"content": text})


def _keep_alive(kind: str) -> bytes:
    """What each protocol's servers send to keep an idle line open."""
    if kind == "openai":
        return b": keep-alive\n\n"
    if kind == "anthropic":
        return b'event: ping\ndata: {"type": "ping"}\n\n'
    return b"\n"


def _reply(kind: str, body: list[bytes | Repeat]) -> Reply:
    return Reply(body=list(body), content_type=NDJSON if kind == "ollama" else "text/event-stream")


@pytest.mark.parametrize("kind", KINDS)
async def test_keep_alives_alone_do_not_hold_the_turn_past_the_idle_timeout(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url, provider={"idle_timeout": 1.0})
        body = [*_opening(kind, "Partial"), Repeat(_keep_alive(kind), every=0.05)]
        fake.script(_reply(kind, body))
        run = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            "write",
            home=agentkit_home,
            cwd=workspace,
            within=20,
        )
        await fake.wait_disconnect(within=30)
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    (message,) = run.error_messages()
    assert "waited 1 s for the next part of the reply; the server sent only keep-alives" in message
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == "Partial" and messages[1]["status"] == "error"


@pytest.mark.parametrize("kind", KINDS)
async def test_keep_alives_before_the_first_word_count_for_nothing_either(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url, provider={"first_byte_timeout": 1.0})
        fake.script(_reply(kind, [Repeat(_keep_alive(kind), every=0.05)]))
        run = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            "write",
            home=agentkit_home,
            cwd=workspace,
            within=20,
        )
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    (message,) = run.error_messages()
    assert "waited 1 s for the reply to start; the server sent only keep-alives" in message
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert [m["role"] for m in messages] == ["user"]


@pytest.mark.parametrize("kind", KINDS)
async def test_an_endless_reply_is_cut_at_max_reply_chars(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url, engine={"max_reply_chars": 5_000})
        body = [*_opening(kind, "Start "), Repeat(_more_text(kind, "word "))]
        fake.script(_reply(kind, body))
        run = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            "write",
            home=agentkit_home,
            cwd=workspace,
            within=20,
        )
        await fake.wait_disconnect(within=30)
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    (message,) = run.error_messages()
    assert "passed 5,000 characters ([engine] max_reply_chars)" in message
    tokens = "".join(str(e["content"]) for e in run.events if e["type"] == "token")
    expected = ("Start " + "word " * 1_000)[:5_000]
    assert tokens == expected
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == expected and messages[1]["status"] == "error"


@pytest.mark.parametrize("kind", KINDS)
async def test_one_huge_event_is_cut_at_max_reply_chars(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    # 4 MB of UTF-8 in one event (12 MB as OpenAI's \u00e9 escapes): under the 16 MiB an
    # unfinished event may take (app.llm.caps), so it is parsed, then cut to the limit.
    huge = "é" * 2_000_000
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url, engine={"max_reply_chars": 2_000})
        fake.script(text_reply(kind, ["Head ", huge, "tail"]))
        run = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            "write",
            home=agentkit_home,
            cwd=workspace,
            within=20,
        )
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    assert "max_reply_chars" in run.error_messages()[0]
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == ("Head " + huge)[:2_000]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_steady_endless_reply_ends_at_the_model_call_deadline(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url, engine={"model_call_timeout_seconds": 1.5})
        body = [*_opening(kind, "Slow "), Repeat(_more_text(kind, "w "), every=0.02)]
        fake.script(_reply(kind, body))
        run = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            "write",
            home=agentkit_home,
            cwd=workspace,
            within=20,
        )
        await fake.wait_disconnect(within=30)
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    (message,) = run.error_messages()
    assert "took longer than 1.5 s ([engine] model_call_timeout_seconds)" in message
    tokens = "".join(str(e["content"]) for e in run.events if e["type"] == "token")
    assert tokens.startswith("Slow w w ")
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == tokens and messages[1]["status"] == "error"


async def test_the_deadline_also_bounds_a_server_that_never_answers(
    agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "openai", fake.url, engine={"model_call_timeout_seconds": 1.0})
        fake.script(Reply(hold=True))
        run = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            "write",
            home=agentkit_home,
            cwd=workspace,
            within=20,
        )
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    assert "took longer than 1 s" in run.error_messages()[0]
    assert json.loads(run.out.splitlines()[-1]) == {"type": "result", "data": {"status": "error"}}


def _endless_tool_call(kind: str) -> Reply:
    """Some text, then a write_file call whose arguments never end."""
    piece = '"' + "x" * 498 + '"'
    if kind == "openai":
        start = {
            "index": 0,
            "id": "call_w",
            "type": "function",
            "function": {"name": "write_file", "arguments": '{"path": "big.txt", "content": '},
        }
        more = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
        body: list[bytes | Repeat] = [
            openai_chunk({"role": "assistant", "content": "Writing it."}),
            openai_chunk({"tool_calls": [start]}),
            Repeat(openai_chunk(more)),
        ]
        return Reply(body=body)
    opening = list(text_reply("anthropic", ["Writing it."], finish=False).body)
    block = {"type": "tool_use", "id": "toolu_w", "name": "write_file", "input": {}}
    delta = {"index": 1, "delta": {"type": "input_json_delta", "partial_json": piece}}
    return Reply(
        body=[
            *opening,
            anthropic_event("content_block_stop", {"index": 0}),
            anthropic_event("content_block_start", {"index": 1, "content_block": block}),
            Repeat(anthropic_event("content_block_delta", delta)),
        ]
    )


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_endless_tool_call_arguments_are_cut_at_max_reply_chars(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url, engine={"max_reply_chars": 5_000})
        fake.script(_endless_tool_call(kind))
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "write", home=agentkit_home, cwd=workspace
        )
        await fake.wait_disconnect(within=30)
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    (message,) = run.error_messages()
    assert "the tool calls passed 5,000 characters ([engine] max_reply_chars)" in message
    assert not (workspace / "big.txt").exists()
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == "Writing it." and messages[1]["status"] == "error"
