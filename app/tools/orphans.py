"""No command the agent starts outlives it: a start gate and an orphan guard.

A shell command runs in a process group of its own. The *orphan guard*, a small ``sh`` in
another session, kills that whole group when this process dies (``kill -9``, a crash):
it reads a pipe whose only writer is this process and sees end-of-file.
(PR_SET_PDEATHSIG would reach only the first process, not what it started.)

The guard needs the group's id, so it can only start after the group exists. To leave no
moment in which the command runs unguarded, the spawned process is first a *start gate*:
a ``bash`` that reads one word from its stdin, another pipe whose only writer is this
process, and only on ``go`` execs the command (its stdin then ``/dev/null``). ``go`` is
written once the guard runs. If this process dies before that, the gate reads
end-of-file and exits, and the command never starts.

The gate is bash, not sh: dash drops environment variables whose names are not
identifiers (the ``BASH_FUNC_git%%`` shim of hardened commands); bash passes them on, and
its ``exec`` undoes its own ``SHLVL`` step. ``BASH_ENV`` is handed over under another
name so the gate does not source it; the command's bash does, as before. Waiting in a
``preexec_fn`` instead was tried and cannot work: ``Popen`` blocks until the child execs.
Both write ends are close-on-exec (Python's default), so no child inherits them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

#: The gate: exec the command on ``go``; end-of-file ends it unstarted.
GATE_SCRIPT = (
    'IFS= read -r word && [ "$word" = go ] || exit 125; '
    'if [ -n "${AGENTKIT_GATE_BASH_ENV+set}" ]; then '
    'export BASH_ENV="$AGENTKIT_GATE_BASH_ENV"; unset AGENTKIT_GATE_BASH_ENV; fi; '
    'exec "$@" </dev/null'
)
#: The guard: ``done`` lets it go; end-of-file (we died) kills the group.
GUARD_SCRIPT = 'read -r line; [ "$line" = done ] || kill -KILL "-$1"'


class StartGate:
    """Holds a command back until :meth:`open`; closed unopened, it never starts."""

    def __init__(self) -> None:
        self.read_end, self._write_end = os.pipe()
        self._closed = False

    def wrap(self, argv: list[str], env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """``argv`` and ``env`` for a process that runs ``argv`` only once let through
        (give it :attr:`read_end` as its stdin)."""
        gate_env = dict(env)
        if "BASH_ENV" in gate_env:
            gate_env["AGENTKIT_GATE_BASH_ENV"] = gate_env.pop("BASH_ENV")
        return ["bash", "-c", GATE_SCRIPT, "agentkit-gate", *argv], gate_env

    def spawned(self) -> None:
        """The child has its copy of the read end; drop ours."""
        if self.read_end >= 0:
            os.close(self.read_end)
            self.read_end = -1

    def open(self) -> None:
        """Let the command start."""
        if not self._closed:
            with contextlib.suppress(OSError):  # the child is already gone
                os.write(self._write_end, b"go\n")
        self.close()

    def close(self) -> None:
        """Close our ends; a child not yet let through exits without running anything."""
        self.spawned()
        if not self._closed:
            self._closed = True
            os.close(self._write_end)


class OrphanGuard:
    """Kills the process group ``pgid`` if this process dies before :meth:`release`."""

    def __init__(self, proc: asyncio.subprocess.Process | None, pipe: int) -> None:
        self.proc = proc
        self.pipe = pipe

    @classmethod
    async def start(cls, pgid: int) -> OrphanGuard:
        """Start watching group ``pgid`` (best effort: no guard when ``sh`` cannot start).

        When this returns, the guard has been exec'd and holds its end of the pipe, so our
        death from here on reaches it, even before its ``read`` runs."""
        readable, writable = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                "sh", "-c", GUARD_SCRIPT, "agentkit-guard", str(pgid),
                stdin=readable,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                env={"PATH": os.defpath},
            )  # fmt: skip
        except OSError:
            proc = None
        except BaseException:
            os.close(writable)
            raise
        finally:
            os.close(readable)
        return cls(proc, writable)

    async def release(self) -> None:
        """The command is over (its group was stopped if needed): let the guard go."""
        with contextlib.suppress(OSError):
            os.write(self.pipe, b"done\n")
        os.close(self.pipe)
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                await self.proc.wait()
