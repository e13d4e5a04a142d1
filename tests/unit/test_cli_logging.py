"""`--debug` and AGENTKIT_LOG_LEVEL set the log level; `config path` names the log file.

Each case runs the real command in its own process: logging is set up once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
