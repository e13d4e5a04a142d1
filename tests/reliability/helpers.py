"""What the reliability tests share: ``agentkit`` as a subprocess over a real database file,
and a config that points a provider of each wire protocol at the loopback fake."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.provider import Reply
from tests.fakes.scripts import anthropic_events, ollama_lines, openai_text_events

SCRIPT = str(Path(sys.executable).parent / "agentkit")
#: Every wait is for an event, bounded so a bug fails instead of hanging.
WITHIN = 60.0
KINDS = ("openai", "anthropic", "ollama")
NDJSON = "application/x-ndjson"


@dataclass
class Run:
    """What one ``agentkit`` process did."""

    code: int
    out: str
    err: str

    @property
    def events(self) -> list[dict[str, Any]]:
        """The ``--json`` events it printed."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    @property
    def session_id(self) -> str:
        """The session it reported on stderr (``session <id>``)."""
        first = self.err.splitlines()[0]
        assert first.startswith("session "), self.err
        return first.split()[1]

    def error_messages(self) -> list[str]:
        """The messages of its ``error`` events."""
        return [e["data"]["message"] for e in self.events if e["type"] == "error"]

    def result(self) -> str:
        """The status of the ``result`` event, which must be the last line."""
        last = self.events[-1]
        assert last["type"] == "result", self.out
        return str(last["data"]["status"])


def environment(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an ``agentkit`` process: its own home, no real providers."""
    env = {**os.environ, "AGENTKIT_HOME": str(home), **(extra or {})}
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        env.pop(name, None)
    env["OLLAMA_HOST"] = "127.0.0.1:9"  # nothing listens: no local Ollama is probed
    return env


async def agentkit(
    *argv: str | bytes,
    home: Path,
    cwd: Path,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    within: float = WITHIN,
) -> Run:
    """Run ``agentkit ARGV…`` to the end (arguments may be bytes: not valid UTF-8)."""
    process = await asyncio.create_subprocess_exec(
        SCRIPT,
        *argv,
        cwd=cwd,
        env=environment(home, env),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"agentkit {argv} still ran after {within} s") from None
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def use_fake(home: Path, kind: str, url: str, **options: Any) -> None:
    """Write a config whose provider ``fake`` speaks ``kind`` at ``url`` (no retries)."""
    lines = [f'[providers.fake]\nkind = "{kind}"\nbase_url = "{url}"\nmax_retries = 0']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.get("provider", {}).items()]
    engine = options.get("engine", {})
    if engine:
        lines.append("[engine]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in engine.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def text_reply(kind: str, parts: list[str], *, finish: bool = True) -> Reply:
    """A streamed text answer in ``kind``'s wire protocol (unfinished when ``finish`` is False)."""
    if kind == "openai":
        return Reply(body=openai_text_events(parts, finish="stop" if finish else None, done=finish))
    if kind == "anthropic":
        events = anthropic_events([{"text": parts}])
        return Reply(body=events if finish else events[:-2])  # no message_delta, no stop
    return Reply(body=ollama_lines(parts, done=finish), content_type=NDJSON)


async def saved_messages(home: Path, cwd: Path, session_id: str) -> list[dict[str, Any]]:
    """The session's messages as ``sessions show --json`` prints them."""
    shown = await agentkit("sessions", "show", session_id, "--json", home=home, cwd=cwd)
    assert shown.code == 0, shown.err
    messages: list[dict[str, Any]] = json.loads(shown.out)["messages"]
    return messages


def assert_no_traceback(run: Run) -> None:
    """Nothing on stderr looks like a Python traceback."""
    assert "Traceback" not in run.err and 'File "' not in run.err, run.err
