"""`--debug` and AGENTKIT_LOG_LEVEL set the log level; `config path` names the log file.

Each case runs the real command in its own process: logging is set up once per process."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def agentkit(home: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENTKIT_")}
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        env={**clean, "AGENTKIT_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_debug_flag_logs_debug_records_on_stderr(agentkit_home: Path) -> None:
    quiet = agentkit(agentkit_home, "run", "hello")
    assert quiet.returncode == 0 and " DEBUG " not in quiet.stderr
    for argv in (["--debug", "run", "hello"], ["run", "hello", "--debug"]):
        loud = agentkit(agentkit_home, *argv)
        assert loud.returncode == 0, loud.stderr
        assert " DEBUG " in loud.stderr, argv
        assert "offline demo model" in loud.stdout  # the answer still goes to stdout alone


def test_log_level_variable_is_read(agentkit_home: Path) -> None:
    done = agentkit(agentkit_home, "run", "hello", AGENTKIT_LOG_LEVEL="DEBUG")
    assert done.returncode == 0 and " DEBUG " in done.stderr
    shown = agentkit(agentkit_home, "config", "path", "--json", AGENTKIT_LOG_LEVEL="error")
    assert json.loads(shown.stdout)["log_level"] == "error"


def test_an_invalid_level_is_one_line_and_exit_2(agentkit_home: Path) -> None:
    done = agentkit(agentkit_home, "sessions", "list", AGENTKIT_LOG_LEVEL="loud")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "AGENTKIT_LOG_LEVEL='loud' is not a log level" in done.stderr


def test_config_path_names_the_log_file(agentkit_home: Path) -> None:
    text = agentkit(agentkit_home, "config", "path")
    assert text.returncode == 0
    assert f"log file     {agentkit_home / 'agentkit.log'}  (level warning)" in text.stdout
    data = json.loads(agentkit(agentkit_home, "--debug", "config", "path", "--json").stdout)
    assert data["log_file"] == str(agentkit_home / "agentkit.log")
    assert data["log_level"] == "debug"


def test_the_full_screen_app_logs_to_its_file_at_the_chosen_level(agentkit_home: Path) -> None:
    """`agentkit --debug` on a terminal: debug records go to agentkit.log, none to the screen."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENTKIT_")}
    env = {**clean, "AGENTKIT_HOME": str(agentkit_home), "TERM": "xterm-256color"}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--debug"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        close_fds=True,
    )
    os.close(terminal)
    screen = b""
    log = agentkit_home / "agentkit.log"
    try:
        deadline = time.monotonic() + 60
        # Ready: the app has drawn and the engine has started (its model probe logs).
        while time.monotonic() < deadline and not (b"demo" in screen and " DEBUG " in _text(log)):
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                screen += os.read(controller, 65536)
        os.write(controller, b"\x11")  # ctrl+q
        while True:  # drain until the app has gone (the pty closes)
            ready, _, _ = select.select([controller], [], [], 10)
            if not ready or not os.read(controller, 65536):
                break
    except OSError:
        pass
    finally:
        os.close(controller)
        code = process.wait(timeout=30)
    assert code == 0
    assert " DEBUG " in _text(log)
    assert b"DEBUG" not in screen


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
