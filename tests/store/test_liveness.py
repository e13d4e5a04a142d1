"""Whether the writer of a streaming row still runs, judged against real processes.

A wrong "alive" leaves a dead writer's reply streaming for ever; a wrong "dead" marks a
live reply (the TUI's, while an `agentkit run` reads the same file) as interrupted. Each
verdict here is checked against a real child process: running, exited but not reaped,
reaped, its pid reused, and a command name made to confuse the /proc parser.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.store.liveness import (
    FOREIGN_WRITER_STALE_AFTER,
    current_writer,
    writer_is_alive,
    writer_token,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
HOST = socket.gethostname()
BOOT = Path("/proc/sys/kernel/random/boot_id").read_text().strip()

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def _stat(pid: int) -> tuple[str, str]:
    """(state, start time in ticks) of ``pid``, read by the layout proc(5) documents."""
    text = Path(f"/proc/{pid}/stat").read_text()
    match = re.fullmatch(r"\d+ \(.*\) (\S) (.*)", text.strip(), re.DOTALL)
    assert match, text
    return match.group(1), match.group(2).split()[18]


def _wait_for_state(pid: int, state: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while _stat(pid)[0] != state:
        assert time.monotonic() < deadline, _stat(pid)
        time.sleep(0.01)  # a poll interval, not a wait for the answer


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A process that runs until the test ends it."""
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def test_this_process_is_alive_by_its_own_token() -> None:
    token = current_writer()
    host, boot, pid, ticks = token.split("|")
    assert (host, boot, pid, ticks) == (HOST, BOOT, str(os.getpid()), _stat(os.getpid())[1])
    assert writer_is_alive(token, NOW, NOW)


def test_a_running_writer_is_alive_and_a_reaped_one_is_not(
    child: subprocess.Popen[bytes],
) -> None:
    token = writer_token(child.pid)
    assert token == f"{HOST}|{BOOT}|{child.pid}|{_stat(child.pid)[1]}"
    assert writer_is_alive(token, NOW, NOW)
    child.kill()
    child.wait()
    assert not writer_is_alive(token, NOW, NOW)
    assert writer_token(child.pid).endswith(f"|{child.pid}|-"), "no start time without /proc"


def test_a_writer_that_exited_but_was_not_reaped_is_dead(child: subprocess.Popen[bytes]) -> None:
    token = writer_token(child.pid)
    child.kill()
    _wait_for_state(child.pid, "Z")  # its parent (this test) has not waited for it yet
    assert not writer_is_alive(token, NOW, NOW)


def test_a_reused_pid_is_not_the_writer(child: subprocess.Popen[bytes]) -> None:
    """Same pid, another start time: another process that got the dead writer's pid."""
    ticks = int(_stat(child.pid)[1])
    assert not writer_is_alive(f"{HOST}|{BOOT}|{child.pid}|{ticks + 1}", NOW, NOW)
    # A writer whose start time was unknown is judged by its pid alone.
    assert writer_is_alive(f"{HOST}|{BOOT}|{child.pid}|-", NOW, NOW)


def test_a_command_name_with_parentheses_does_not_shift_the_fields(tmp_path: Path) -> None:
    """The kernel puts the name between parentheses unescaped: ') Z 1 2' is a valid name."""
    sleep = shutil.which("sleep")
    assert sleep is not None
    tricky = tmp_path / "é) Z 1 2 3"  # and a name that is not ASCII
    tricky.symlink_to(sleep)
    process = subprocess.Popen([str(tricky), "60"])
    try:
        _wait_for_state(process.pid, "S")
        token = writer_token(process.pid)
        assert token.split("|")[3] == _stat(process.pid)[1]
        assert writer_is_alive(token, NOW, NOW)
    finally:
        process.kill()
        process.wait()


def test_a_writer_on_another_host_is_judged_by_the_age_of_its_row() -> None:
    token = "another-host|some-boot|4242|123"
    fresh = NOW - FOREIGN_WRITER_STALE_AFTER + FOREIGN_WRITER_STALE_AFTER / 100
    assert writer_is_alive(token, fresh, NOW)
    assert not writer_is_alive(token, NOW - FOREIGN_WRITER_STALE_AFTER, NOW)


def test_a_writer_from_before_a_reboot_is_dead_even_with_a_live_pid() -> None:
    pid = os.getpid()
    assert not writer_is_alive(f"{HOST}|another-boot|{pid}|{_stat(pid)[1]}", NOW, NOW)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        f"{HOST}|{BOOT}|1",
        f"{HOST}|{BOOT}|1|2|3",
        f"{HOST}|{BOOT}|not-a-pid|-",
        f"{HOST}|{BOOT}|0|-",
        f"{HOST}|{BOOT}|-1|-",
        f"{HOST}|{BOOT}|{2**64}|-",
    ],
)
def test_a_token_that_names_no_process_is_dead(token: str | None) -> None:
    """Pids 0 and -1 would reach this process's group, or every process, by signal; a pid
    too large for the system is no process either (and must not crash the read)."""
    assert not writer_is_alive(token, NOW, NOW)


PROBED = """
import signal, sys, time
for number in (signal.SIGHUP, signal.SIGUSR1):
    signal.signal(number, lambda n, _: print(signal.Signals(n).name, flush=True))
print("ready", flush=True)
time.sleep(60)
"""


def test_asking_whether_a_writer_is_alive_sends_it_no_signal() -> None:
    process = subprocess.Popen([sys.executable, "-c", PROBED], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        assert process.stdout.readline() == "ready\n"
        assert writer_is_alive(writer_token(process.pid), NOW, NOW)
        # A signal the probe sent would be pending or handled before this one (lower number).
        os.kill(process.pid, signal.SIGUSR1)
        assert process.stdout.readline() == "SIGUSR1\n"
    finally:
        process.kill()
        process.wait()


def test_pid_1_is_a_writer_like_any_other() -> None:
    """In a container the app itself may be PID 1."""
    assert writer_is_alive(writer_token(1), NOW, NOW)
    assert not writer_is_alive(f"{HOST}|{BOOT}|1|{int(_stat(1)[1]) + 1}", NOW, NOW)
