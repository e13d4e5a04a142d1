"""Output and exports: a reader that goes away (``| head``), through real pipelines."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from tests.fakes.provider import FakeProvider, Repeat, Reply
from tests.fakes.scripts import openai_chunk, openai_text_events, openai_tool_call_events
from tests.reliability.helpers import (
    SCRIPT,
    WITHIN,
    agentkit,
    environment,
    saved_messages,
    use_fake,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


async def _into_reader(
    argv: list[str], home: Path, cwd: Path, *, keep_lines: int
) -> tuple[int, bytes, str]:
    """``agentkit ARGV`` writing into a pipe whose reader takes ``keep_lines`` lines (0:
    none) and then closes its end, as ``| head -N`` does. Returns the exit code, what the
    reader got, and stderr."""
    read_end, write_end = os.pipe()
    process = await asyncio.create_subprocess_exec(
        SCRIPT,
        *argv,
        cwd=cwd,
        env=environment(home),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=write_end,
        stderr=asyncio.subprocess.PIPE,
    )
    os.close(write_end)
    got = b""
    with os.fdopen(read_end, "rb", buffering=0) as reader:
        loop = asyncio.get_running_loop()
        while got.count(b"\n") < keep_lines:
            piece = await asyncio.wait_for(loop.run_in_executor(None, reader.read, 1), WITHIN)
            assert piece, "agentkit closed stdout first"
            got += piece
    # The read end is closed: every later write of agentkit's fails with EPIPE.
    _out, err = await asyncio.wait_for(process.communicate(), WITHIN)
    assert process.returncode is not None
    return process.returncode, got, err.decode()


async def test_run_json_into_head_ends_the_turn_quietly_and_saves_the_partial_reply(
    agentkit_home: Path, workspace: Path
) -> None:
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "openai", fake.url)
        opening = openai_chunk({"role": "assistant", "content": "Hello "})
        more = Repeat(openai_chunk({"content": "and more "}), every=0.01)
        fake.script(Reply(body=[opening, more]))
        code, out, err = await _into_reader(
            ["run", "--json", "--model", "fake/m", "talk forever"],
            agentkit_home,
            workspace,
            keep_lines=1,
        )
        await fake.wait_disconnect(within=WITHIN)
    assert code == 130, err
    # One line only (the reader took one); text that came together is one token event.
    assert out.count(b"\n") == 1, out
    first = json.loads(out)
    assert first["type"] == "token" and first["content"].startswith("Hello "), first
    assert err.startswith("session ") and len(err.splitlines()) == 1, err  # nothing else
    session_id = err.split()[1]
    messages = await saved_messages(agentkit_home, workspace, session_id)
    assert messages[0]["content"] == "talk forever"
    assert messages[1]["content"].startswith("Hello and more ")
    assert messages[1]["status"] == "cancelled"


@pytest.mark.parametrize(
    "command",
    [
        ["sessions", "show"],
        ["sessions", "show", "--json"],
        ["sessions", "export"],
        ["sessions", "export", "--format", "json"],
    ],
)
async def test_sessions_output_into_head_ends_quietly(
    command: list[str], agentkit_home: Path, workspace: Path
) -> None:
    made = await agentkit("run", "--model", "demo", "hello", home=agentkit_home, cwd=workspace)
    assert made.code == 0, made.err
    argv = [*command[:2], made.session_id, *command[2:]]
    code, _out, err = await _into_reader(argv, agentkit_home, workspace, keep_lines=0)
    assert code == 130 and err == "", err


HOSTILE = "\x1b]52;c;ZXZpbA==\x07Plan \x1b[31mred\x1b[0m\x9b2J \x1bPq#0\x1b\\\x08\x85done"
#: Everything a terminal would act on: C0 but tab and newline, DEL, C1.
CONTROLS = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


def _assert_clean(text: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in text if c in CONTROLS})
    assert not found, (found, text[:300])


async def test_hostile_titles_and_texts_reach_no_terminal(
    agentkit_home: Path, workspace: Path
) -> None:
    reply = "Answer \x1b]52;c;cGF5bG9hZA==\x07with\ttab\r\nand \x1b[2Jcontrols\x00\x9d8;;x\x9c."
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "openai", fake.url)
        fake.script(Reply(body=openai_text_events([reply])))
        run = await agentkit("run", "--model", "fake/m", HOSTILE, home=agentkit_home, cwd=workspace)
    assert run.code == 0, run.err
    session_id = run.session_id
    outputs = {}
    for argv in (
        ["sessions", "show", session_id],
        ["sessions", "list"],
        ["sessions", "search", "done"],
        ["sessions", "export", session_id],
        ["sessions", "rename", session_id, HOSTILE + " again"],
        [],  # the overview, in a pipe
    ):
        shown = await agentkit(*argv, home=agentkit_home, cwd=workspace)
        assert shown.code == 0, (argv, shown.err)
        _assert_clean(shown.out)
        _assert_clean(shown.err)
        outputs[" ".join(argv[:2])] = shown.out
    header = outputs["sessions show"].splitlines()[0]
    assert header.startswith("Plan red2J") and "done" in header
    markdown = outputs["sessions export"]
    assert markdown.startswith("# Plan red2J")
    # tab and newline stay; the store keeps a NUL as U+FFFD (SQLite stops at a NUL)
    assert "Answer with\ttab\nand controls\ufffd8;;x." in markdown


async def test_the_markdown_approval_log_names_each_decision_as_the_event_log_has_it(
    agentkit_home: Path, workspace: Path
) -> None:
    """A real turn through the engine (agentkit run, the fake provider): three shell calls
    decided three ways, then the export is read against the JSON event log."""
    (workspace / "b.txt").write_text("keep me\n")
    calls = [
        ("call_touch", "shell", [json.dumps({"command": "touch a.txt"})]),
        ("call_rm", "shell", [json.dumps({"command": "rm b.txt"})]),
        ("call_ls", "shell", [json.dumps({"command": "ls"})]),
    ]
    async with FakeProvider() as fake:
        use_fake(agentkit_home, "openai", fake.url)
        with (agentkit_home / "config.toml").open("a") as config:
            config.write('[approval]\ndeny = ["shell(rm *)"]\n')
        fake.script(
            Reply(body=openai_tool_call_events(calls)),
            Reply(body=openai_text_events(["Done what I was allowed to."])),
        )
        run = await agentkit("run", "--model", "fake/m", "tidy", home=agentkit_home, cwd=workspace)
    assert run.code == 0, run.err
    exported = await agentkit(
        "sessions", "export", run.session_id, "--format", "json", home=agentkit_home, cwd=workspace
    )
    events = json.loads(exported.out)["events"]
    markdown = (
        await agentkit("sessions", "export", run.session_id, home=agentkit_home, cwd=workspace)
    ).out
    commands = {
        e["data"]["data"]["data"]["id"]: e["data"]["data"]["data"]["arguments"]["command"]
        for e in events
        if e["type"] == "step" and e["data"]["data"]["event_type"] == "tool_call"
    }
    asked = {
        e["data"]["data"]["confirmation_id"]: e["data"]["data"]
        for e in events
        if e["type"] == "confirmation_request"
    }
    decisions = [e["data"]["data"] for e in events if e["type"] == "confirmation_result"]
    assert len(decisions) == 3
    assert {d["decider"] for d in decisions} >= {"user", "rule"}  # the log has both kinds
    position = 0
    for decision in decisions:
        request = asked.get(decision["confirmation_id"])
        command = request["command"] if request else commands[decision["confirmation_id"][7:]]
        verdict = "Approved" if decision["approved"] else "Denied"
        line = next(
            line
            for line in markdown.splitlines()[position:]
            if line.startswith(f"> **{verdict}** `{decision['tool']}` `{command}`")
        )
        position = markdown.splitlines().index(line) + 1
        if decision["decider"] == "rule":
            assert f"· by a rule · rule `{decision['rule']}`" in line
        elif decision["decider"] == "user":
            assert line.endswith("· by you")
        else:
            assert "· by the approval policy" in line
    for request in asked.values():
        assert f"> **Approval asked** (`shell`) for `{request['command']}`: " in markdown
    assert "Approval asked for ``" not in markdown and not (workspace / "a.txt").exists()
    assert (workspace / "b.txt").exists()
