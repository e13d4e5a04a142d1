"""Text that is not clean text, through ``agentkit run`` and the loopback fake provider of
each wire protocol: UTF-16 surrogates split across stream events or left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import (
    anthropic_events,
    ollama_line,
    ollama_lines,
    openai_tool_call_events,
    sse,
)
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

GRIN = "\U0001f600"
HIGH, LOW = "\ud83d", "\ude00"  # the two halves of GRIN in UTF-16
# json.dumps writes these as \ud83d and \ude00 escapes, as the servers that split them do.
SPLIT_PARTS = ["Hi ", HIGH, LOW, f" lone {HIGH}", "x ", LOW, f"end {HIGH}"]
SPLIT_TEXT = f"Hi {GRIN} lone \ufffdx \ufffdend \ufffd"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / f"notes{GRIN}.txt").write_text("the emoji file\n")
    return root


def test_the_surrogate_halves_are_what_the_servers_send() -> None:
    assert "\\ud83d" in json.dumps(HIGH) and len(HIGH) == 1 and HIGH != GRIN


@pytest.mark.parametrize("kind", KINDS)
async def test_surrogates_split_across_events_are_joined_and_lone_ones_replaced(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url)
        if kind == "anthropic":
            blocks = [
                {"thinking": [f"think {HIGH}", f"{LOW} {LOW}"], "signature": "sig"},
                {"text": SPLIT_PARTS},
            ]
            fake.script(Reply(body=anthropic_events(blocks)))
        else:
            fake.script(text_reply(kind, SPLIT_PARTS))
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "hello", home=agentkit_home, cwd=workspace
        )
    assert run.code == 0, run.err
    assert_no_traceback(run)
    assert run.result() == "completed"
    tokens = "".join(e["content"] for e in run.events if e["type"] == "token")
    assert tokens == SPLIT_TEXT
    final = next(e for e in run.events if e["type"] == "final_answer")
    assert final["content"] == SPLIT_TEXT
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert [m["content"] for m in messages] == ["hello", SPLIT_TEXT]
    if kind == "anthropic":
        thinking = "".join(e["content"] for e in run.events if e["type"] == "thinking")
        assert thinking == f"think {GRIN} \ufffd"
        assert messages[1]["thinking"] == thinking


def _tool_call_with_surrogates(kind: str) -> Reply:
    """Two read_file calls: a path whose emoji is split across fragments, and a lone half."""
    split = ['{"path": "notes', HIGH, f'{LOW}.txt"}}']
    lone = [f'{{"path": "gone{HIGH}.txt"}}']
    if kind == "openai":
        calls = [("call_a", "read_file", split), ("call_b", "read_file", lone)]
        return Reply(body=openai_tool_call_events(calls))
    if kind == "anthropic":
        blocks = [
            {"tool_use": ("toolu_a", "read_file", split)},
            {"tool_use": ("toolu_b", "read_file", lone)},
        ]
        return Reply(body=anthropic_events(blocks, stop_reason="tool_use"))
    # Ollama sends arguments whole, as objects: the pair arrives as two halves in one string.
    calls = [
        {"function": {"name": "read_file", "arguments": {"path": f"notes{HIGH}{LOW}.txt"}}},
        {"function": {"name": "read_file", "arguments": {f"pa{HIGH}th": f"gone{HIGH}.txt"}}},
    ]
    return Reply(body=ollama_lines([], tool_calls=calls), content_type=NDJSON)


@pytest.mark.parametrize("kind", KINDS)
async def test_surrogates_in_tool_call_arguments_are_cleaned_before_the_call_runs(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url)
        fake.script(_tool_call_with_surrogates(kind), text_reply(kind, ["Read it."]))
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "read it", home=agentkit_home, cwd=workspace
        )
    assert run.code == 0, run.err
    assert_no_traceback(run)
    assert run.result() == "completed"
    steps = [e["data"] for e in run.events if e["type"] == "step"]
    calls = [s["data"] for s in steps if s["event_type"] == "tool_call"]
    results = [s["data"] for s in steps if s["event_type"] == "tool_result"]
    assert calls[0]["arguments"] == {"path": f"notes{GRIN}.txt"}
    assert "the emoji file" in results[0]["output"] and not results[0]["is_error"]
    assert "\ufffd" in json.dumps(calls[1]["arguments"], ensure_ascii=False)
    assert results[1]["is_error"]
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    stored_calls = messages[1]["tool_calls"]
    assert stored_calls[0]["arguments"] == {"path": f"notes{GRIN}.txt"}
    assert messages[-1]["content"] == "Read it."


async def test_a_lone_surrogate_in_a_stream_error_is_a_clean_typed_error(
    agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "ollama", fake.url)
        body = [ollama_line({"content": f"Part {HIGH}"}), ollama_line({"content": f"{LOW}ial"})]
        body.append(json.dumps({"error": f"model failed {HIGH}"}).encode() + b"\n")
        fake.script(Reply(body=body, content_type=NDJSON))
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "hello", home=agentkit_home, cwd=workspace
        )
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    assert any("model failed \ufffd" in message for message in run.error_messages())
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == f"Part {GRIN}ial" and messages[1]["status"] == "error"


async def test_an_openai_stream_cut_after_half_a_character_keeps_a_replacement(
    agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "openai", fake.url)
        body = [sse({"choices": [{"index": 0, "delta": {"content": f"cut {HIGH}"}}]})]
        body.append(sse({"error": {"message": "upstream went away", "type": "server_error"}}))
        fake.script(Reply(body=body))
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "hello", home=agentkit_home, cwd=workspace
        )
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == "cut \ufffd" and messages[1]["status"] == "error"


# ------------------------------------------------------------------ schema-wrong events

_WRONG_OPENAI = [
    {"choices": "oops"},
    {"choices": [None]},
    {"choices": [{"index": 0, "delta": "oops"}]},
    {"choices": [{"index": 0, "delta": {"content": 5, "tool_calls": "bad"}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": [0], "function": 7}]}}]},
    {"choices": [{"index": 0, "delta": {"reasoning": ["x"]}, "finish_reason": None}]},
    {"usage": ["tokens"], "choices": []},
    [1, 2, 3],
    "just a string",
]
_WRONG_ANTHROPIC = [
    ("content_block_delta", {"index": "x", "delta": {"type": "text_delta", "text": "!"}}),
    ("content_block_delta", {"index": 0, "delta": "oops"}),
    ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": 5}}),
    ("content_block_delta", {"index": 0, "delta": {"type": "thinking_delta", "thinking": [1]}}),
    ("content_block_start", {"index": 3, "content_block": "oops"}),
    ("message_delta", {"delta": [1], "usage": {"output_tokens": "many"}}),
    ("message_start", {"message": "oops"}),
]
_WRONG_OLLAMA: list[object] = [
    {"message": "oops", "done": False},
    {"message": {"content": 5}, "done": False},
    {"message": {"thinking": {"a": 1}}, "done": False},
    {"message": {"tool_calls": "x"}, "done": False},
    {"message": {"tool_calls": [{"function": "x"}]}, "done": False},
    [1],
    7,
]


def _wrong_events(kind: str) -> list[bytes]:
    if kind == "openai":
        return [sse(event) for event in _WRONG_OPENAI]
    if kind == "anthropic":
        return [sse({"type": name, **data}, event=name) for name, data in _WRONG_ANTHROPIC]
    return [json.dumps(line).encode() + b"\n" for line in _WRONG_OLLAMA]


def _with_wrong_events(kind: str, *, finish: bool) -> Reply:
    """``Par``, every wrong-shaped event, ``tial``, then the end (or not)."""
    whole = text_reply(kind, ["Par", "tial"], finish=finish).body
    if kind == "openai":
        at = 2  # the role chunk, "Par"
    elif kind == "anthropic":
        at = 4  # message_start, ping, content_block_start, "Par"
    else:
        at = 1
        if finish:  # a done line whose counts and reason have the wrong types
            whole[-1] = ollama_line(
                {"content": ""}, done=True, done_reason=5, prompt_eval_count="many"
            )
    body = [*whole[:at], *_wrong_events(kind), *whole[at:]]
    return Reply(body=body, content_type=NDJSON if kind == "ollama" else "text/event-stream")


@pytest.mark.parametrize("kind", KINDS)
async def test_events_of_the_wrong_shape_are_skipped_like_invalid_json(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url)
        fake.script(_with_wrong_events(kind, finish=True))
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "hello", home=agentkit_home, cwd=workspace
        )
    assert run.code == 0, run.err
    assert_no_traceback(run)
    assert run.result() == "completed"
    assert "skipping an unreadable" in run.err
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == "Partial" and messages[1]["status"] == "complete"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_stream_of_wrong_shapes_that_never_finishes_is_a_typed_error(
    kind: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url)
        fake.script(_with_wrong_events(kind, finish=False))
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "hello", home=agentkit_home, cwd=workspace
        )
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    (message,) = run.error_messages()
    assert "ended before the model finished" in message and "unreadable" in message
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[1]["content"] == "Partial" and messages[1]["status"] == "error"


_EXPECTED_TYPE = {
    "openai": "text/event-stream",
    "anthropic": "text/event-stream",
    "ollama": "application/x-ndjson",
}
_PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in to Hotel WiFi</title></head></html>\n"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("content_type", "said"),
    [
        ("text/html; charset=utf-8", "got text/html"),
        ("application/xhtml+xml", "got application/xhtml+xml"),
        (None, "got an HTML page"),  # labelled as the protocol's stream, but a page
    ],
)
async def test_a_page_instead_of_a_stream_names_what_came(
    kind: str, content_type: str | None, said: str, agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, kind, fake.url)
        label = content_type or (NDJSON if kind == "ollama" else "text/event-stream")
        fake.script(Reply(body=[_PAGE], content_type=label))
        run = await agentkit(
            "run", "--json", "--model", "fake/m", "hello", home=agentkit_home, cwd=workspace
        )
    assert run.code == 1
    assert_no_traceback(run)
    assert run.result() == "error"
    (message,) = run.error_messages()
    assert f"expected {_EXPECTED_TYPE[kind]}, {said}" in message, message
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert [m["role"] for m in messages] == ["user"]
