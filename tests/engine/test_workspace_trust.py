"""A cloned repository's own ``.agentkit/config.toml`` cannot turn approvals off (issue 12,
item 5): its allow rules count only once the person trusted that exact file. End to end through
``agentkit run --json --approve ask`` in a real process, with stdin not a terminal (anything that
asks is denied, so a marker file appearing means a command ran unasked) and a loopback fake
provider proposing the command over real HTTP; and on a pseudo-terminal for the trust prompt."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pty
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import openai_reply, openai_tool_call_events

pytestmark = pytest.mark.slow
SCRIPT = str(Path(sys.executable).parent / "agentkit")
WITHIN = 60.0
ALLOW_SHELL = '[approval]\nallow = ["shell"]\n'


def _environment(home: Path) -> dict[str, str]:
    environment = {**os.environ, "AGENTKIT_HOME": str(home), "FAKE_KEY": "sk-fake"}
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        environment.pop(name, None)
    environment["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens: no local Ollama is probed
    return environment


def _argv(*extra: str) -> list[str]:
    return [SCRIPT, "run", "--json", "--model", "fake/m", *extra, "make the marker file"]


async def run_piped(home: Path, cwd: Path, *extra: str) -> tuple[int, list[dict[str, Any]], str]:
    """``agentkit run --json`` with stdin a pipe (no terminal): exit code, events, stderr."""
    process = await asyncio.create_subprocess_exec(
        *_argv(*extra),
        cwd=cwd,
        env=_environment(home),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(b""), WITHIN)
    assert process.returncode is not None
    return (
        process.returncode,
        [json.loads(line) for line in out.decode().splitlines()],
        err.decode(),
    )


def _touch_then_answer() -> tuple[Reply, Reply]:
    call = json.dumps({"command": "touch PWNED"})
    return (
        Reply(body=list(openai_tool_call_events([("call_t1", "shell", [call])]))),
        openai_reply(["Done."]),
    )


@pytest.fixture
async def fake(agentkit_home: Path) -> Any:
    async with FakeProvider() as provider:
        (agentkit_home / "config.toml").write_text(
            f'[providers.fake]\nkind = "openai"\nbase_url = "{provider.url}"\n'
            'api_key_env = "FAKE_KEY"\nmax_retries = 0\n'
        )
        yield provider


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = (tmp_path / "cloned-repo").resolve()
    (root / ".agentkit").mkdir(parents=True)
    return root


def _rules_file(workspace: Path) -> Path:
    return workspace / ".agentkit" / "config.toml"


def _trust(home: Path, workspace: Path) -> None:
    """What the person's "trust" leaves in their config: the file's path and SHA-256."""
    digest = hashlib.sha256(_rules_file(workspace).read_bytes()).hexdigest()
    with (home / "config.toml").open("a") as config:
        config.write(
            f'\n[approval.trusted_workspaces]\n"{_rules_file(workspace)}" = "sha256:{digest}"\n'
        )


def _of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == kind]


def _rules_notice(events: list[dict[str, Any]]) -> str:
    notices = [e["data"]["message"] for e in _of(events, "notice")]
    found = [n for n in notices if n.startswith("Workspace rules from ")]
    assert len(found) == 1, notices
    assert [e["data"]["code"] for e in _of(events, "notice")].count("workspace_rules") == 1
    return found[0]


async def test_an_untrusted_allow_rule_does_not_run_commands_unasked(
    agentkit_home: Path, workspace: Path, fake: FakeProvider
) -> None:
    _rules_file(workspace).write_text(ALLOW_SHELL)
    fake.script(*_touch_then_answer())

    code, events, err = await run_piped(agentkit_home, workspace, "--approve", "ask")

    assert code == 0, err
    assert not (workspace / "PWNED").exists()
    assert len(_of(events, "confirmation_request")) == 1  # it asked: nobody there, denied
    assert [e["data"]["approved"] for e in _of(events, "confirmation_result")] == [False]
    notice = _rules_notice(events)
    assert "1 allow rule not trusted, so ignored (shell)" in notice
    assert str(_rules_file(workspace)) in notice
    assert f"agentkit: note: 1 allow rule in {_rules_file(workspace)} (shell) is ignored" in err
    assert "trusted_workspaces" not in (agentkit_home / "config.toml").read_text()


async def test_a_trusted_file_runs_unasked_until_one_byte_changes(
    agentkit_home: Path, workspace: Path, fake: FakeProvider
) -> None:
    _rules_file(workspace).write_text(ALLOW_SHELL)
    _trust(agentkit_home, workspace)
    fake.script(*_touch_then_answer())

    code, events, err = await run_piped(agentkit_home, workspace, "--approve", "ask")

    assert code == 0, err
    assert (workspace / "PWNED").exists()
    assert _of(events, "confirmation_request") == []
    assert "allow shell (trusted)" in _rules_notice(events)
    assert "agentkit: note:" not in err

    (workspace / "PWNED").unlink()
    _rules_file(workspace).write_text(ALLOW_SHELL[:-1] + " ")  # one byte changed: same rules
    fake.script(*_touch_then_answer())

    code, events, err = await run_piped(agentkit_home, workspace, "--approve", "ask")

    assert code == 0, err
    assert not (workspace / "PWNED").exists()
    assert len(_of(events, "confirmation_request")) == 1
    assert "not trusted, so ignored" in _rules_notice(events)
    assert "changed since you trusted it" in err


async def test_workspace_deny_rules_apply_without_trust(
    agentkit_home: Path, workspace: Path, fake: FakeProvider
) -> None:
    _rules_file(workspace).write_text('[approval]\ndeny = ["shell(touch *)"]\n')
    fake.script(*_touch_then_answer())

    # auto mode would run every call: only the workspace's deny rule stops this one.
    code, events, err = await run_piped(agentkit_home, workspace, "--approve", "auto")

    assert code == 0, err
    assert not (workspace / "PWNED").exists()
    results = _of(events, "confirmation_result")
    assert [(r["data"]["approved"], r["data"].get("rule")) for r in results] == [
        (False, "shell(touch *)")
    ]
    assert _rules_notice(events).endswith("deny shell(touch *)")


async def test_an_invalid_workspace_deny_rule_is_reported_and_fails_closed(
    agentkit_home: Path, workspace: Path, fake: FakeProvider
) -> None:
    # Trusted, so `allow shell` counts: the broken deny rule must still make shell ask.
    _rules_file(workspace).write_text(ALLOW_SHELL + 'deny = ["shell(touch \'PWNED)"]\n')
    _trust(agentkit_home, workspace)
    fake.script(*_touch_then_answer())

    code, events, err = await run_piped(agentkit_home, workspace, "--approve", "ask")

    assert code == 0, err  # a broken rule in the workspace does not stop the app
    assert not (workspace / "PWNED").exists()
    assert len(_of(events, "confirmation_request")) == 1  # shell asks (fail closed): denied
    notice = _rules_notice(events)
    assert "invalid deny rule" in notice and "shell will ask before every call" in notice
    warning = next(line for line in err.splitlines() if line.startswith("agentkit: warning:"))
    assert str(_rules_file(workspace)) in warning and "shell(touch 'PWNED)" in warning


async def _run_on_a_terminal(
    home: Path, workspace: Path, answer: bytes
) -> tuple[int, str, list[dict[str, Any]], str]:
    """``agentkit run`` with stdin a pseudo-terminal: the prompt it wrote, then the rest."""
    leader, follower = pty.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            *_argv("--approve", "ask"),
            cwd=workspace,
            env=_environment(home),
            stdin=follower,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        os.close(follower)
        follower = -1
        assert process.stderr is not None
        asked = await asyncio.wait_for(process.stderr.readuntil(b"[y/N] "), WITHIN)
        os.write(leader, answer)
        out, err = await asyncio.wait_for(process.communicate(), WITHIN)
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert process.returncode is not None
    events = [json.loads(line) for line in out.decode().splitlines()]
    return process.returncode, asked.decode(), events, err.decode()


async def test_the_terminal_prompt_shows_the_rules_and_remembers_a_yes(
    agentkit_home: Path, workspace: Path, fake: FakeProvider
) -> None:
    _rules_file(workspace).write_text(ALLOW_SHELL + 'deny = ["shell(rm *)"]\n')
    fake.script(*_touch_then_answer())

    code, asked, events, err = await _run_on_a_terminal(agentkit_home, workspace, b"y\n")

    assert code == 0, err
    assert str(_rules_file(workspace)) in asked
    assert "  allow shell\n" in asked and "  deny shell(rm *) (applies either way)" in asked
    assert (workspace / "PWNED").exists()
    assert _of(events, "confirmation_request") == []
    digest = hashlib.sha256(_rules_file(workspace).read_bytes()).hexdigest()
    config = (agentkit_home / "config.toml").read_text()
    assert f'"{_rules_file(workspace)}" = "sha256:{digest}"' in config
    assert config.startswith("[providers.fake]")  # the rest of the file is kept

    (workspace / "PWNED").unlink()
    fake.script(*_touch_then_answer())
    code, events, err = await run_piped(agentkit_home, workspace, "--approve", "ask")
    assert code == 0 and (workspace / "PWNED").exists()  # remembered: no prompt, no asking


async def test_the_terminal_prompt_defaults_to_not_trusting(
    agentkit_home: Path, workspace: Path, fake: FakeProvider
) -> None:
    _rules_file(workspace).write_text(ALLOW_SHELL)
    fake.script(*_touch_then_answer())

    code, asked, events, err = await _run_on_a_terminal(agentkit_home, workspace, b"\n")

    assert code == 0, err
    assert "  allow shell\n" in asked
    assert not (workspace / "PWNED").exists()
    assert len(_of(events, "confirmation_request")) == 1
    assert "trusted_workspaces" not in (agentkit_home / "config.toml").read_text()
