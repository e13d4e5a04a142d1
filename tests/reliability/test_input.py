"""A prompt that is not clean UTF-8, or too big: through ``agentkit run`` (argument and
stdin) against the loopback fake provider, which records what the model was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.provider import FakeProvider
from tests.fakes.scripts import openai_reply
from tests.reliability.helpers import agentkit, assert_no_traceback, saved_messages, use_fake

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def _sent_user_texts(fake: FakeProvider) -> list[list[str]]:
    """For each model call, the user messages it carried."""
    calls: list[list[str]] = []
    for request in fake.requests:
        messages: list[dict[str, Any]] = request.json()["messages"]
        calls.append([m["content"] for m in messages if m["role"] == "user"])
    return calls


async def _session_count(home: Path, cwd: Path) -> int:
    listed = await agentkit("sessions", "list", "--json", home=home, cwd=cwd)
    assert listed.code == 0, listed.err
    return len(json.loads(listed.out))


@pytest.mark.parametrize(
    ("argv", "stdin", "expected"),
    [
        ([b"bad \xff\xfe arg"], b"", "bad \ufffd\ufffd arg"),
        ([b"two", b"parts \xc3"], b"", "two parts \ufffd"),  # a cut two-byte character
        ([], b"from stdin \xed\xa0\xbd and \xf0\x9f\x98", None),  # a UTF-8-coded surrogate
        ([], b"\x80", "\ufffd"),
    ],
)
async def test_a_prompt_that_is_not_utf8_is_decoded_with_replacements(
    argv: list[bytes],
    stdin: bytes,
    expected: str | None,
    agentkit_home: Path,
    workspace: Path,
) -> None:
    expected = expected or stdin.decode("utf-8", "replace")
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "openai", fake.url)
        fake.script(openai_reply(["Understood."]))
        run = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            *argv,
            home=agentkit_home,
            cwd=workspace,
            stdin=stdin,
            env={"PYTHONIOENCODING": "utf-8:strict"},  # no lenient default to lean on
        )
        sent = _sent_user_texts(fake)
    assert run.code == 0, run.err
    assert_no_traceback(run)
    assert run.result() == "completed"
    assert sent == [[expected]]
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert [m["content"] for m in messages] == [expected, "Understood."]
    assert await _session_count(agentkit_home, workspace) == 1


async def test_a_prompt_of_only_bad_bytes_is_still_not_empty_but_blank_is(
    agentkit_home: Path, workspace: Path
) -> None:
    run = await agentkit("run", "--model", "demo", home=agentkit_home, cwd=workspace, stdin=b" \n")
    assert run.code == 2 and "empty" in run.err
    assert_no_traceback(run)
    assert await _session_count(agentkit_home, workspace) == 0


async def test_a_prompt_over_max_prompt_chars_is_saved_whole_and_sent_cut(
    agentkit_home: Path, workspace: Path
) -> None:
    prompt = "".join(f"line {n:05d} of the log\n" for n in range(400))  # 8,800 characters
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "openai", fake.url, engine={"max_prompt_chars": 2_000})
        fake.script(openai_reply(["Read the start."]), openai_reply(["Still the start."]))
        run = await agentkit(
            "run", "--model", "fake/m", home=agentkit_home, cwd=workspace, stdin=prompt.encode()
        )
        again = await agentkit(
            "run",
            "--json",
            "--model",
            "fake/m",
            "--session",
            run.session_id,
            "and then?",
            home=agentkit_home,
            cwd=workspace,
        )
        sent = _sent_user_texts(fake)
    assert run.code == 0 and again.code == 0, run.err + again.err
    assert_no_traceback(run)
    assert "note: Your message has 8,800 characters: the model is sent the first 2,000" in run.err
    assert run.out == "Read the start.\n"
    first = sent[0][0]
    assert first.startswith(prompt[:2_000]) and len(first) < 2_200
    assert "more characters of this message were not sent" in first[2_000:]
    # The next turn sends the stored message cut the same way.
    earlier, latest = sent[1]
    assert earlier.startswith(prompt[:2_000]) and len(earlier) < 2_200 and latest == "and then?"
    assert "more characters of this message were not sent" in earlier[2_000:]
    assert [e["type"] for e in again.events].count("notice") == 0
    messages = await saved_messages(agentkit_home, workspace, run.session_id)
    assert messages[0]["content"] == prompt
