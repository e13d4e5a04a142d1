"""``kill -9`` at random moments of a turn: while a reply streams, and while a command the
agent started runs. After every kill the database is intact, the person's message is
there, a reply cut off mid-stream reads as ``interrupted`` (with the text that was saved),
and no process the agent started is left running.

Kills also land right at the start of a tool call (from the model's request on), and one
test dies exactly between spawning bash and starting its orphan guard: the command must
then never start (the start gate of ``app.tools.orphans``).

Through ``agentkit run --json`` and the loopback fake provider; the kill times come from a
seeded random generator, so a failure can be replayed (the seed and run are in the message).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from app.store import SessionStore
from tests.fakes.provider import FakeProvider, Repeat, Reply
from tests.fakes.scripts import openai_chunk, openai_tool_call_events
from tests.reliability.helpers import SCRIPT, environment, use_fake

pytestmark = pytest.mark.slow

SEED = 20261202
STREAM_KILLS = 30
TOOL_KILLS = 20
EARLY_KILLS = 12
#: The command the model asks for: two background children and a foreground one, all of
#: which write their pids first.
FAMILY = "sleep 300 & echo $! >> pids; sleep 300 & echo $! >> pids; echo $$ >> pids; wait"


def _running_in(folder: Path) -> list[int]:
    """Live processes whose working directory is ``folder`` (seen from here; in the sandbox
    the commands see other pids, so their own pid files cannot be used)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) != folder:
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2] not in "ZX":
            found.append(int(entry.name))
    return found


async def _until(predicate: object, within: float = 30.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    check = predicate  # a callable returning bool
    while not check() and loop.time() < end:  # type: ignore[operator]
        await asyncio.sleep(0.01)
    return bool(check())  # type: ignore[operator]


async def _start(home: Path, workspace: Path, *argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        SCRIPT,
        "run",
        "--json",
        "--model",
        "fake/m",
        *argv,
        cwd=workspace,
        env=environment(home),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _kill(process: asyncio.subprocess.Process) -> bytes:
    process.send_signal(signal.SIGKILL)
    assert process.stderr is not None
    err = await process.stderr.read()
    await process.wait()
    return err


async def _check_store(home: Path, prompt: str, why: str) -> list[tuple[str, str, str]]:
    """The database after a kill: intact, the prompt saved, nothing left ``streaming``."""
    db_file = home / "agentkit.db"
    with sqlite3.connect(db_file) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok", why
    async with await SessionStore.open(db_file) as store:
        sessions = await store.list_sessions()
        assert len(sessions) == 1, why
        messages = await store.get_messages(sessions[0].id)
    rows = [(m.role, m.status, m.content) for m in messages]
    assert rows and rows[0] == ("user", "complete", prompt), (why, rows)
    assert all(status != "streaming" for _, status, _ in rows), (why, rows)
    return rows


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


async def _stream_and_kill(
    fake: FakeProvider, home: Path, workspace: Path, run: int, rng: random.Random
) -> None:
    use_fake(home, "openai", fake.url)
    opening = [openai_chunk({"role": "assistant", "content": "Counting:"})]
    fake.script(Reply(body=[*opening, Repeat(openai_chunk({"content": " n"}), 0.005)]))
    prompt = f"count for ever ({run})"
    seen = len(fake.requests)
    process = await _start(home, workspace, prompt)
    assert await _until(lambda: len(fake.requests) > seen), "the request never came"
    delay = rng.uniform(0.0, 1.5)
    await asyncio.sleep(delay)  # the moment of the kill is what is being varied
    err = await _kill(process)
    await fake.wait_disconnect(within=30)
    why = f"seed {SEED}, stream run {run}, killed {delay:.3f} s in; stderr: {err[-300:]!r}"
    rows = await _check_store(home, prompt, why)
    for role, status, content in rows[1:]:
        assert role == "assistant" and status == "interrupted", (why, rows)
        assert content.startswith("Counting:"), (why, rows)


async def test_killed_while_a_reply_streams(tmp_path: Path, workspace: Path) -> None:
    rng = random.Random(SEED)
    async with FakeProvider() as fake:
        for run in range(STREAM_KILLS):
            home = tmp_path / f"stream{run}"
            home.mkdir()
            await _stream_and_kill(fake, home, workspace, run, rng)


async def _command_and_kill(
    fake: FakeProvider, home: Path, folder: Path, sandbox: str, run: int, rng: random.Random
) -> None:
    use_fake(home, "openai", fake.url)
    with (home / "config.toml").open("a") as config:
        config.write(f'[tools]\nsandbox = "{sandbox}"\n')
    arguments = json.dumps({"command": FAMILY})
    fake.script(Reply(body=openai_tool_call_events([("c1", "shell", [arguments])])))
    prompt = f"start the family ({run})"
    process = await _start(home, folder, "--approve", "auto", prompt)
    pids_file = folder / "pids"

    def started() -> bool:
        return pids_file.exists() and len(pids_file.read_text().split()) >= 3

    # Kill at a random moment after the command started (now and then at the very moment
    # its children exist).
    assert await _until(started), f"run {run}: the command never ran"
    delay = rng.choice([0.0, rng.uniform(0.0, 0.5)])
    await asyncio.sleep(delay)
    assert _running_in(folder), "the command's processes are not where expected"
    err = await _kill(process)
    why = f"seed {SEED + 1}, {sandbox} run {run}, killed {delay:.3f} s in; {err[-300:]!r}"
    await _until(lambda: not _running_in(folder), 5.0)
    left = _running_in(folder)
    for pid in left:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not left, (why, left)
    rows = await _check_store(home, prompt, why)
    assert rows[1][0] == "assistant", (why, rows)  # the call was saved before it ran


@pytest.mark.parametrize("sandbox", ["off", "auto"])
async def test_killed_while_a_command_runs(tmp_path: Path, workspace: Path, sandbox: str) -> None:
    """Without the sandbox a guard process kills the command's group; inside it, bubblewrap
    goes with its parent. Either way nothing the agent started outlives it."""
    rng = random.Random(SEED + 1)
    async with FakeProvider() as fake:
        for run in range(TOOL_KILLS // 2):
            home = tmp_path / f"tool{run}"
            home.mkdir()
            folder = (workspace / f"run{run}").resolve()
            folder.mkdir()
            await _command_and_kill(fake, home, folder, sandbox, run, rng)


async def _early_kill(
    fake: FakeProvider, home: Path, folder: Path, run: int, rng: random.Random
) -> None:
    """Kill within the first moments of a tool call, counted from the model's request: while
    the reply is read, the call saved, bash spawned and its guard started."""
    use_fake(home, "openai", fake.url)
    with (home / "config.toml").open("a") as config:
        config.write('[tools]\nsandbox = "off"\n')
    arguments = json.dumps({"command": FAMILY})
    fake.script(Reply(body=openai_tool_call_events([("c1", "shell", [arguments])])))
    prompt = f"start the family early ({run})"
    seen = len(fake.requests)
    process = await _start(home, folder, "--approve", "auto", prompt)
    assert await _until(lambda: len(fake.requests) > seen), "the request never came"
    delay = rng.choice([0.0, rng.uniform(0.0, 0.3)])
    await asyncio.sleep(delay)  # the moment of the kill is what is being varied
    err = await _kill(process)
    why = f"seed {SEED + 2}, early run {run}, killed {delay:.3f} s in; {err[-300:]!r}"
    await _until(lambda: not _running_in(folder), 5.0)
    left = _running_in(folder)
    for pid in left:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not left, (why, left)
    await _check_store(home, prompt, why)


async def test_killed_at_any_moment_of_a_tool_call_even_right_at_its_start(
    tmp_path: Path, workspace: Path
) -> None:
    rng = random.Random(SEED + 2)
    async with FakeProvider() as fake:
        for run in range(EARLY_KILLS):
            home = tmp_path / f"early{run}"
            home.mkdir()
            folder = (workspace / f"early{run}").resolve()
            folder.mkdir()
            await _early_kill(fake, home, folder, run, rng)


# Runs one shell call, but dies (SIGKILL, no cleanup) right after bash is spawned and before
# its orphan guard starts: the one moment no guard can cover.
_DIES_BEFORE_THE_GUARD = """
import asyncio, os, signal, sys
from pathlib import Path
from app.tools.base import ToolContext, execute
from app.tools.orphans import OrphanGuard
from app.tools.shell import ShellTool

async def die(pgid: int) -> OrphanGuard:
    await asyncio.sleep(0.3)  # time enough for an ungated command to start its children
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("not reached")

OrphanGuard.start = die
ctx = ToolContext(workspace=Path(sys.argv[1]), timeout=120.0, max_output_chars=4_000)
asyncio.run(execute(ShellTool(), {"command": sys.argv[2]}, ctx))
"""


async def test_a_command_never_starts_if_the_agent_dies_before_its_guard(
    workspace: Path,
) -> None:
    folder = workspace.resolve()
    victim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _DIES_BEFORE_THE_GUARD,
        str(folder),
        FAMILY,
        cwd=Path(__file__).parents[2],
    )
    await asyncio.wait_for(victim.wait(), 30)
    assert victim.returncode == -signal.SIGKILL
    await _until(lambda: not _running_in(folder), 5.0)
    left = _running_in(folder)
    for pid in left:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not left
    assert not (folder / "pids").exists(), "the command ran although no guard watched it"
