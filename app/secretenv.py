"""API keys out of the process environment: read once, kept in memory, gone from ``environ``.

Commands the agent runs inherit our environment, and on Linux any process of the same user
can read ``/proc/<pid>/environ`` of ours. So once settings are loaded, :func:`hide` moves
every configured key variable (providers' ``api_key_env``, ``[serve] api_key_env`` and the
well-known ones) out of ``os.environ`` into a private table, and overwrites the original
``NAME=value`` bytes that the kernel shows in ``/proc/self/environ``. The app reads keys
through :func:`environ`; tools strip every :func:`hidden_names` variable as well.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterable
from pathlib import Path

#: Key variables the model gateway finds on its own, hidden whether configured or not.
WELL_KNOWN = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")

_vault: dict[str, str] = {}
_names: set[str] = set()


def hide(names: Iterable[str]) -> None:
    """Move each named variable out of the process environment (idempotent)."""
    for name in names:
        if not name:
            continue
        _names.add(name)
        value = os.environ.pop(name, None)
        if value is None:
            continue
        _vault[name] = value
        _scrub_initial_environment(name)


def environ() -> dict[str, str]:
    """The environment as the app itself sees it: ``os.environ`` plus the hidden keys."""
    return {**os.environ, **_vault}


def hidden_names() -> frozenset[str]:
    """Every variable name :func:`hide` was given (set or not)."""
    return frozenset(_names)


def _scrub_initial_environment(name: str) -> None:
    """Zero ``NAME=…`` in the block the kernel reports as ``/proc/self/environ``.

    ``unsetenv`` only drops the pointer; the bytes the process started with stay where the
    kernel shows them. Nothing else points at them once the variable is unset.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path("/proc/self/stat").read_text()
        fields = stat[stat.rfind(")") + 2 :].split()
        # env_start and env_end are fields 50 and 51 of stat(5); fields[0] is field 3.
        start, end = int(fields[47]), int(fields[48])
        if not 0 < start < end or end - start > 4 * 1024 * 1024:
            return
        block = ctypes.string_at(start, end - start)
        prefix = name.encode() + b"="
        offset = 0
        while True:
            at = block.find(prefix, offset)
            if at < 0:
                return
            if at == 0 or block[at - 1] == 0:
                stop = block.find(b"\0", at)
                stop = len(block) if stop < 0 else stop
                ctypes.memset(start + at, 0, stop - at)
            offset = at + len(prefix)
