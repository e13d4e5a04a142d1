"""``agentkit run`` on a terminal lists the agent's offered answers numbered and takes a
number or text; the ask_human tool refuses bad choices with a clear message."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import sys
import time
from pathlib import Path

import pytest

from app.engine.human import chosen_answer
from app.tools.base import ToolContext
from app.tools.human import AskHumanArgs, AskHumanTool

SCRIPT = str(Path(sys.executable).parent / "agentkit")
WITHIN = 60.0


def _read_until(leader: int, marker: bytes) -> bytes:
    """Read the terminal until ``marker`` shows (fails after ``WITHIN`` seconds)."""
    seen = b""
    deadline = time.monotonic() + WITHIN
    while marker not in seen:
        assert time.monotonic() < deadline, seen.decode(errors="replace")
        seen += os.read(leader, 4096)
    return seen


async def _run_on_a_terminal(tmp_path: Path, answer: bytes) -> tuple[str, list[dict[str, object]]]:
    """``agentkit run --json "ask me a question"`` with the demo model, stdin and stderr a
    pseudo-terminal: what the terminal showed up to the prompt, and the events printed."""
    environment = {**os.environ, "AGENTKIT_HOME": str(tmp_path / "home")}
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        environment.pop(name, None)
    environment["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens: the demo model answers
    leader, follower = pty.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            SCRIPT, "run", "--json", "--approve", "ask", "ask me a question",
            cwd=tmp_path, env=environment, stdin=follower, stderr=follower,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        os.close(follower)
        follower = -1
        shown = await asyncio.to_thread(_read_until, leader, b"> ")
        os.write(leader, answer)
        out, _ = await asyncio.wait_for(process.communicate(), WITHIN)
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert process.returncode == 0
    events = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return shown.decode(errors="replace"), events


@pytest.mark.slow
async def test_a_number_on_the_terminal_answers_with_that_choice(tmp_path: Path) -> None:
    shown, events = await _run_on_a_terminal(tmp_path, b"2\n")
    assert "1. The code" in shown and "2. The tests" in shown and "3. The docs" in shown
    (asked,) = [event for event in events if event["type"] == "ask_human"]
    assert asked["choices"] == ["The code", "The tests", "The docs"]
    results = [
        event["data"]["data"]  # type: ignore[index]
        for event in events
        if event["type"] == "step" and event["data"]["event_type"] == "tool_result"  # type: ignore[index]
    ]
    assert [result["output"] for result in results] == ["The tests"]


def test_a_reply_stands_for_a_choice_only_when_it_is_its_number() -> None:
    choices = ("Keep", "Drop")
    assert chosen_answer("2", choices) == "Drop"
    assert chosen_answer(" 1 ", choices) == "Keep"
    assert chosen_answer("3", choices) == "3"  # no third choice: the reply as typed
    assert chosen_answer("0", choices) == "0"
    assert chosen_answer("Drop both", choices) == "Drop both"
    assert chosen_answer("2", ()) == "2"


@pytest.mark.parametrize(
    ("choices", "problem"),
    [
        ([], "give 1 to 9 choices"),
        ([str(n) for n in range(10)], "give 1 to 9 choices"),
        (["yes", "  "], "a choice is empty"),
        (["x" * 81], "longer than 80"),
        (["yes", "yes"], "two choices are the same"),
    ],
)
def test_bad_choices_are_refused_with_a_clear_message(choices: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        AskHumanArgs(question="Which?", choices=choices)


async def test_the_tool_passes_its_choices_and_returns_the_answer(tmp_path: Path) -> None:
    asked: list[tuple[str, tuple[str, ...]]] = []

    async def ask(question: str, choices: object) -> str:
        asked.append((question, tuple(choices)))  # type: ignore[arg-type]
        return "Drop"

    args = AskHumanArgs(question="Which?", choices=["Keep", " Drop\n"])
    result = await AskHumanTool().run(args, ToolContext(workspace=tmp_path, ask=ask))
    assert asked == [("Which?", ("Keep", "Drop"))]  # one line each
    assert result.output == "Drop" and not result.is_error
