"""Who is writing a streaming message, and whether that process still runs.

A reply is saved while it streams (status ``streaming``). If the process writing it dies,
the row must become ``interrupted`` the next time anyone reads it — but the TUI and an
``agentkit run`` in another terminal may share the file, so a live writer's rows must never
be touched. Each streaming row therefore carries a writer token: host, boot id, pid and the
process start time (so a recycled pid is not mistaken for the writer).
"""

from __future__ import annotations

import functools
import os
import socket
from datetime import datetime, timedelta

#: A writer on another host (a shared network drive) is judged by age alone: streaming rows
#: are saved at least once a second, so one untouched this long has no writer left.
FOREIGN_WRITER_STALE_AFTER = timedelta(minutes=10)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return None


@functools.cache
def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id") or "-"


def _stat_fields(pid: int) -> list[str]:
    """Fields 3 onwards of ``/proc/PID/stat`` (Linux), or an empty list where unknown."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return []
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return stat.rsplit(")", 1)[-1].split()


def _start_ticks(pid: int) -> str:
    """The process start time in clock ticks since boot (Linux), or ``-`` where unknown."""
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else "-"


def current_writer() -> str:
    """The token of this process, stored on the streaming rows it writes."""
    return writer_token(os.getpid())


def writer_token(pid: int) -> str:
    """The token a process with ``pid`` would write, as seen from this machine."""
    return f"{socket.gethostname()}|{_boot_id()}|{pid}|{_start_ticks(pid)}"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError):  # OverflowError: a pid no system can have
        return False
    return True


def writer_is_alive(token: str | None, updated_at: datetime, now: datetime) -> bool:
    """Whether the process that wrote ``token`` may still be writing."""
    if not token:
        return False
    parts = token.split("|")
    if len(parts) != 4:
        return False
    host, boot, pid_text, ticks = parts
    if host != socket.gethostname():
        return now - updated_at < FOREIGN_WRITER_STALE_AFTER
    if boot != _boot_id():
        return False
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid <= 0:  # kill(0 or -1) would reach a process group, or everyone: never "alive"
        return False
    if pid == os.getpid():
        return True
    if not _pid_exists(pid):
        return False
    fields = _stat_fields(pid)
    if fields and fields[0] in ("Z", "X"):  # exited, not yet reaped by its parent
        return False
    return ticks == "-" or _start_ticks(pid) in ("-", ticks)
