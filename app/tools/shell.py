"""The shell tool: ``bash -c`` in the workspace, in its own process group that is killed whole.

The command runs with ``start_new_session=True``, so it and everything it starts share one
process group. On timeout, on cancellation, and when the command exits but leaves
background processes behind, the whole group gets SIGTERM, then SIGKILL after a grace
period. stdout and stderr are merged and captured head-and-tail, so a command that prints
gigabytes costs at most ``max_output_chars`` of memory. If this process dies, the group dies
too, and a command only starts once that is assured (:mod:`app.tools.orphans`).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import shlex
import signal
import time
from pathlib import Path

from pydantic import Field, field_validator

from app import secretenv
from app.tools import sandbox
from app.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolResult
from app.tools.knownsafe import HARDENED_GIT_CONFIG
from app.tools.orphans import OrphanGuard, StartGate

KILL_GRACE_SECONDS = 2.0
_FOOTER_ROOM = 300
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]")
_PROC = Path("/proc")


class ShellArgs(ToolArgs):
    """Arguments of shell."""

    command: str = Field(
        min_length=1, max_length=100_000, description="A bash command line, run with `bash -c`."
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="Seconds before the command is stopped; absent = the configured default.",
    )

    @field_validator("command")
    @classmethod
    def _no_nul(cls, command: str) -> str:
        if "\x00" in command:
            raise ValueError("the command contains a NUL byte, which no program can be given")
        return command


class _Capture:
    """Keeps the first and last characters of a stream and counts what falls in between."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit * 2 // 3
        self.tail_limit = limit - self.head_limit
        self.head: list[str] = []
        self.head_len = 0
        self.tail = ""
        self.total = 0

    def add(self, text: str) -> None:
        self.total += len(text)
        if self.head_len < self.head_limit:
            take = text[: self.head_limit - self.head_len]
            self.head.append(take)
            self.head_len += len(take)
            text = text[len(take) :]
        if text:
            self.tail += text
            if len(self.tail) > 2 * self.tail_limit + 4096:
                self.tail = self.tail[-self.tail_limit :] if self.tail_limit else ""

    def render(self) -> tuple[str, int]:
        head = "".join(self.head)
        tail = self.tail[-self.tail_limit :] if self.tail_limit else ""
        cut = self.total - len(head) - len(tail)
        if cut <= 0:
            return head + self.tail, 0
        return f"{head}\n[… {cut:,} characters cut …]\n{tail}", cut


async def _pump(stream: asyncio.StreamReader, capture: _Capture) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := await stream.read(65536):
        capture.add(decoder.decode(chunk))
    capture.add(decoder.decode(b"", final=True))


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``; uses /proc where there is one."""
    if not _PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def stop_process_group(
    proc: asyncio.subprocess.Process, pgid: int, grace: float = KILL_GRACE_SECONDS
) -> None:
    """SIGTERM the whole group, wait up to ``grace`` seconds, then SIGKILL what is left."""
    loop = asyncio.get_running_loop()
    _signal_group(pgid, signal.SIGTERM)
    try:
        await _wait_group_empty(pgid, loop.time() + grace)
    finally:
        # Runs even if we are cancelled again mid-cleanup: nothing of the group may survive.
        if group_members(pgid):
            _signal_group(pgid, signal.SIGKILL)
    await _wait_group_empty(pgid, loop.time() + 1.0)


async def _wait_group_empty(pgid: int, deadline: float) -> None:
    loop = asyncio.get_running_loop()
    # Polling /proc: there is no event for "the last process of a group is gone".
    while group_members(pgid) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def wait_for_exit(proc: asyncio.subprocess.Process) -> None:
    """Return once the process itself has exited, whoever still holds its output pipe.

    ``Process.wait()`` on Python 3.11 also waits for the pipes to close, which never happens
    while a background child keeps them open; a pidfd becomes readable at exit instead.
    """
    if proc.returncode is not None:
        return
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        while proc.returncode is None:  # noqa: ASYNC110 (no pidfd: poll)
            await asyncio.sleep(0.02)
        return
    loop = asyncio.get_running_loop()
    exited = asyncio.Event()
    loop.add_reader(fd, exited.set)
    try:
        await exited.wait()
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def _returncode(proc: asyncio.subprocess.Process) -> int | None:
    try:
        async with asyncio.timeout(2.0):
            return await proc.wait()
    except TimeoutError:
        return proc.returncode


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


#: Variables whose names look like credentials are not passed to commands the model runs,
#: so a model cannot read an API key with `env` or `echo $OPENAI_API_KEY` and have it stored.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)


def _git_shim() -> str:
    """A ``git`` function for known-safe lines (bash imports it from the environment).

    Only the read subcommands the known-safe check allows are changed: they get the
    hardening settings, and diff, log and show never run an external diff or a textconv
    filter. Anything else (a rule-allowed ``git fetch`` on the same line) runs as usual.
    """
    settings = " ".join(f"-c {shlex.quote(f'{key}={value}')}" for key, value in HARDENED_GIT_CONFIG)
    return (
        "() { local sub=; local -a pre=(); "
        'while [ $# -gt 0 ]; do case "$1" in -*) pre+=("$1"); shift;; '
        "*) sub=$1; shift; break;; esac; done; "
        'case "$sub" in '
        f'diff|log|show) command git {settings} "${{pre[@]}}" "$sub" --no-ext-diff '
        '--no-textconv "$@";; '
        f'status|branch) command git {settings} "${{pre[@]}}" "$sub" "$@";; '
        '"") command git "${pre[@]}";; '
        '*) command git "${pre[@]}" "$sub" "$@";; esac; }'
    )


_GIT_SHIM = _git_shim()


def environment(*, hardened: bool = False) -> dict[str, str]:
    """The environment for commands: the app's own, without keys or secret-looking variables.

    ``hardened`` (a known-safe call nobody approved) also turns off what a repository can
    make git run: fsmonitor, pager, hooks, external diff, textconv, implicit bare repos.
    """
    hidden = secretenv.hidden_names()
    env = {
        name: value
        for name, value in os.environ.items()
        if not _SECRET_NAME.search(name) and name not in hidden
    }
    env.pop("CDPATH", None)  # `cd name` must mean the workspace's name, as the checks assume
    env.update({"PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "NO_COLOR": "1"})
    if hardened:
        env["BASH_FUNC_git%%"] = _GIT_SHIM
        env.pop("RIPGREP_CONFIG_PATH", None)  # a config file can add rg --pre
        env["GIT_NO_LAZY_FETCH"] = "1"
        env.pop("BASH_ENV", None)
        env.pop("ENV", None)
    return env


class ShellTool(Tool[ShellArgs]):
    """Run a bash command in the workspace and report its output and exit code."""

    name = "shell"
    description = (
        "Run a command with bash in the workspace directory. stdout and stderr are merged; "
        "the exit code is reported. There is no terminal and no stdin, so interactive "
        "programs will not work. Long output is cut in the middle."
    )
    Args = ShellArgs
    access = "exec"

    def __init__(self, kill_grace: float = KILL_GRACE_SECONDS) -> None:
        self.kill_grace = kill_grace

    def approval_text(self, args: ShellArgs, ctx: ToolContext) -> str:
        """The command line itself."""
        return args.command

    def timeout_for(self, args: ShellArgs, ctx: ToolContext) -> float | None:
        """A backstop only: the tool enforces its own timeout and returns partial output."""
        return (args.timeout or ctx.timeout) + self.kill_grace + 10.0

    async def run(self, args: ShellArgs, ctx: ToolContext) -> ToolResult:
        """Run the command; on timeout or cancellation kill its whole process group."""
        limit = args.timeout or ctx.timeout
        started = time.monotonic()
        gate = StartGate()  # the command waits there until a guard watches its group
        try:
            proc = await self._spawn(args.command, ctx, gate)
            pgid = proc.pid  # a session leader's group id is its pid
            try:
                guard = await OrphanGuard.start(pgid)
            except BaseException:
                gate.close()  # so the command never starts: the child just exits
                await _returncode(proc)
                raise
            gate.open()
        finally:
            gate.close()
        try:
            return await self._supervise(proc, pgid, limit, started, ctx)
        finally:
            await guard.release()

    async def _supervise(
        self,
        proc: asyncio.subprocess.Process,
        pgid: int,
        limit: float,
        started: float,
        ctx: ToolContext,
    ) -> ToolResult:
        """Wait for the command (up to ``limit`` seconds) while capturing its output."""
        capture = _Capture(max(ctx.max_output_chars - _FOOTER_ROOM, 200))
        assert proc.stdout is not None
        reader = asyncio.create_task(_pump(proc.stdout, capture))
        timed_out = leftovers = False
        try:
            try:
                async with asyncio.timeout(limit):
                    await wait_for_exit(proc)
            except TimeoutError:
                timed_out = True
            if not timed_out and group_members(pgid):
                # A sandbox's inner processes leave a moment after the outer one.
                await _wait_group_empty(pgid, asyncio.get_running_loop().time() + 0.25)
            if timed_out or group_members(pgid):
                leftovers = not timed_out
                await stop_process_group(proc, pgid, self.kill_grace)
            try:
                async with asyncio.timeout(2.0):
                    await asyncio.shield(reader)
            except TimeoutError:
                pass  # something outside the group still holds the pipe open
            code = await _returncode(proc)
        except BaseException:
            await stop_process_group(proc, pgid, self.kill_grace)
            await _returncode(proc)  # reap, so no transport is left behind
            raise
        finally:
            if not reader.done():
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
        return self._result(code, capture, limit, timed_out, leftovers, started)

    async def _spawn(
        self, command: str, ctx: ToolContext, gate: StartGate
    ) -> asyncio.subprocess.Process:
        """Start bash (behind ``gate``) in a new session; a cancel that lands while the pipes
        connect still kills it.

        asyncio's own cleanup for that case kills only bash, not what it already started.
        In the sandbox (``ctx.sandbox``) bash runs inside bubblewrap.
        """
        try:
            argv = sandbox.wrap(
                ["bash", "-c", command], ctx.workspace, ctx.sandbox, network=ctx.network
            )
        except sandbox.SandboxUnavailable as exc:
            raise ToolError(f"Not run: {exc}.") from None
        argv, env = gate.wrap(argv, environment(hardened=ctx.hardened))
        spawning = asyncio.ensure_future(
            asyncio.create_subprocess_exec(
                *argv,
                cwd=ctx.workspace,
                stdin=gate.read_end,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        )
        try:
            return await asyncio.shield(spawning)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                proc = await spawning
                gate.close()  # not let through: the child exits without running the command
                await stop_process_group(proc, proc.pid, self.kill_grace)
                await _returncode(proc)
            raise
        finally:
            if spawning.done():
                gate.spawned()

    @staticmethod
    def _result(
        code: int | None,
        capture: _Capture,
        limit: float,
        timed_out: bool,
        leftovers: bool,
        started: float,
    ) -> ToolResult:
        text, cut = capture.render()
        text = _ANSI.sub("", text).rstrip("\n") or "(no output)"
        notes = []
        if timed_out:
            notes.append(
                f"timed out after {limit:g} s; the command and every process it started "
                "were stopped"
            )
        elif code is not None and code < 0:
            notes.append(f"killed by signal {_signal_name(-code)}")
        else:
            notes.append(f"exit code {code}")
        if leftovers:
            notes.append("background processes it left running were stopped")
        metadata = {
            "exit_code": code,
            "timed_out": timed_out,
            "duration_ms": round((time.monotonic() - started) * 1000),
        }
        if cut:
            metadata["truncated_chars"] = cut
        return ToolResult(
            output=f"{text}\n[{'; '.join(notes)}]",
            is_error=timed_out or code != 0,
            metadata=metadata,
        )
