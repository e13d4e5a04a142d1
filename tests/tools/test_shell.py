"""The shell tool with real bash processes: output, exit codes, and killing the whole group."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.tools.base import ToolContext, execute
from app.tools.shell import ShellTool, group_members
from tests.tools.conftest import Runner


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def read_pids(path: Path) -> list[int]:
    """The pids written to ``path`` so far."""
    return [int(word) for word in path.read_text().split()] if path.exists() else []


async def eventually(predicate: Callable[[], bool], deadline: float = 5.0) -> bool:
    """Poll ``predicate`` in a tiny loop until it holds or ``deadline`` seconds pass."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not predicate() and loop.time() < end:
        await asyncio.sleep(0.01)
    return predicate()


async def wait_for_lines(path: Path, count: int) -> list[int]:
    """Wait until the command under test wrote ``count`` pids to ``path``."""
    assert await eventually(lambda: len(read_pids(path)) >= count), "pids never written"
    return read_pids(path)[:count]


async def wait_gone(pids: list[int]) -> None:
    """Wait (bounded) until none of ``pids`` runs; fail naming the survivors."""
    await eventually(lambda: not any(alive(pid) for pid in pids), deadline=3.0)
    assert not [pid for pid in pids if alive(pid)], "processes survived"


# A parent bash with two background children and one foreground child; all write their pids.
FAMILY = "sleep 300 & echo $! >> pids; sleep 300 & echo $! >> pids; echo $$ >> pids; wait"


async def test_output_and_exit_code(run: Runner) -> None:
    result = await run("shell", {"command": "echo out; echo err >&2; exit 3"})
    assert result.is_error
    assert result.output == "out\nerr\n[exit code 3]"
    assert result.metadata["exit_code"] == 3
    ok = await run("shell", {"command": "pwd"})
    assert not ok.is_error and ok.output.endswith("[exit code 0]")


async def test_runs_in_the_workspace_without_stdin(run: Runner, workspace: Path) -> None:
    (workspace / "marker.txt").write_text("here")
    result = await run("shell", {"command": "cat marker.txt; cat; echo done"})
    assert result.output == "heredone\n[exit code 0]"


async def test_no_output_and_signal_death_are_reported(run: Runner) -> None:
    assert (await run("shell", {"command": "true"})).output == "(no output)\n[exit code 0]"
    killed = await run("shell", {"command": "kill -9 $$"})
    assert killed.is_error and "killed by signal SIGKILL" in killed.output


async def test_long_output_is_cut_in_the_middle_with_a_note(run: Runner) -> None:
    result = await run("shell", {"command": "seq 1 100000"})
    assert len(result.output) <= 4_000
    assert result.output.startswith("1\n2\n3\n")
    assert "99999\n100000\n[exit code 0]" in result.output
    assert "characters cut" in result.output
    assert result.metadata["truncated_chars"] > 500_000


async def test_timeout_kills_the_whole_process_group(workspace: Path, tmp_path: Path) -> None:
    ctx = ToolContext(workspace=workspace, timeout=10.0, max_output_chars=4_000)
    pidfile = workspace / "pids"
    result = await execute(ShellTool(), {"command": FAMILY, "timeout": 0.5}, ctx)
    pids = await wait_for_lines(pidfile, 3)
    assert result.is_error and result.metadata["timed_out"]
    assert "timed out after 0.5 s" in result.output
    await wait_gone(pids)
    assert group_members(pids[2]) == []


async def test_cancellation_kills_the_whole_process_group(ctx: ToolContext) -> None:
    pidfile = ctx.workspace / "pids"
    task = asyncio.create_task(execute(ShellTool(), {"command": FAMILY}, ctx))
    pids = await wait_for_lines(pidfile, 3)
    assert all(alive(pid) for pid in pids)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_gone(pids)


async def test_children_ignoring_sigterm_get_sigkill(ctx: ToolContext) -> None:
    command = "trap '' TERM; sleep 300 & echo $! >> pids; echo $$ >> pids; wait"
    tool = ShellTool(kill_grace=0.3)
    task = asyncio.create_task(execute(tool, {"command": command}, ctx))
    pids = await wait_for_lines(ctx.workspace / "pids", 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_gone(pids)


async def test_background_leftovers_are_stopped_when_the_command_ends(run: Runner) -> None:
    result = await run("shell", {"command": "sleep 300 & echo $!"})
    pid = int(result.output.splitlines()[0])
    assert "background processes it left running were stopped" in result.output
    assert not result.is_error
    await wait_gone([pid])


async def test_shell_env_disables_pagers(run: Runner) -> None:
    result = await run("shell", {"command": 'echo "$PAGER $GIT_PAGER"'})
    assert result.output.startswith("cat cat")


def test_approval_text_is_the_command(ctx: ToolContext) -> None:
    tool = ShellTool()
    assert tool.approval_text(tool.parse_args({"command": "git status"}), ctx) == "git status"
    assert os.name == "posix"


# A process that runs one shell call and is then killed with SIGKILL (no cleanup can run).
_VICTIM = """
import asyncio, sys
from pathlib import Path
from app.tools.base import ToolContext, execute
from app.tools.shell import ShellTool
ctx = ToolContext(workspace=Path(sys.argv[1]), timeout=120.0, max_output_chars=4_000)
asyncio.run(execute(ShellTool(), {"command": sys.argv[2]}, ctx))
"""


async def test_a_killed_agent_takes_the_whole_command_with_it(workspace: Path) -> None:
    """kill -9 of the process running the tool: bash and every child it started die too."""
    victim = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _VICTIM, str(workspace), FAMILY, cwd=Path(__file__).parents[2]
    )
    try:
        pids = await wait_for_lines(workspace / "pids", 3)
        assert all(alive(pid) for pid in pids)
        # (A kill before the guard starts is covered by the start gate: see
        # tests/reliability/test_kill9.py.)
        assert await eventually(lambda: guard_watches(pids[2])), "no guard for the command"
    finally:
        victim.kill()
        await victim.wait()
    await wait_gone(pids)


def guard_watches(pgid: int) -> bool:
    """Whether an orphan guard for process group ``pgid`` runs."""
    wanted = f"agentkit-guard\0{pgid}\0".encode()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and wanted in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


async def test_a_finished_command_leaves_no_guard_behind(run: Runner) -> None:
    before = {p.name for p in Path("/proc").iterdir() if p.name.isdigit()}
    result = await run("shell", {"command": "echo hi"})
    assert result.output.startswith("hi")
    guards = [
        pid
        for pid in Path("/proc").iterdir()
        if pid.name.isdigit()
        and pid.name not in before
        and "agentkit-guard" in (pid / "cmdline").read_bytes().decode(errors="replace")
    ]
    assert not guards
