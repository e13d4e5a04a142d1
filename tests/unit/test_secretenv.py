"""Keys out of the environment (app/secretenv.py), in a child process of its own: what it
hides is gone from ``os.environ`` and from ``/proc/self/environ``, still readable by the app,
and nothing else is touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import app
from app import secretenv

CHILD = """
import json, os
from pathlib import Path
from app import secretenv

secretenv.hide(["AK_NEVER_SET", "", "AK_SECRET", "AK_SECOND"])  # unset and empty names first
hidden_at_once = "AK_SECRET" not in os.environ
secretenv.hide(["AK_SECRET"])  # twice: still hidden, the value still known
proc = Path("/proc/self/environ").read_bytes() if Path("/proc/self/environ").exists() else b""
print(json.dumps({
    "in_os_environ": "AK_SECRET" in os.environ,
    "hidden_at_once": hidden_at_once,
    "seen_by_app": secretenv.environ().get("AK_SECRET"),
    "others_seen": secretenv.environ().get("AK_KEEP"),
    "hidden": sorted(secretenv.hidden_names()),
    "proc": proc.decode("latin-1"),
}))
"""


def _run_child() -> dict[str, object]:
    # Mutation testing (tests/mutation/run.py) runs a test against a function only if the
    # test called it in this process; these calls change nothing (no name, an absent one).
    secretenv.hide([])
    secretenv.environ()
    secretenv.hidden_names()
    secretenv._scrub_initial_environment("AK_ABSENT_FROM_THIS_PROCESS")
    package_root = str(Path(app.__file__).resolve().parents[1])
    env = {  # the key first: the start of the block is a case of its own
        "AK_SECRET": "sk-hidden-value",
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": package_root,
        "MY_AK_SECRET": "lookalike-stays",
        "AK_SECOND": "sk-second-value",  # and one in the middle
        "AK_KEEP": "visible",
    }
    if "MUTANT_UNDER_TEST" in os.environ:  # mutation testing: the child runs the mutant too
        env["MUTANT_UNDER_TEST"] = os.environ["MUTANT_UNDER_TEST"]
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_hidden_key_leaves_the_environment_but_the_app_still_reads_it() -> None:
    seen = _run_child()
    assert seen["in_os_environ"] is False and seen["hidden_at_once"] is True
    assert seen["seen_by_app"] == "sk-hidden-value"
    assert seen["others_seen"] == "visible"
    assert seen["hidden"] == [
        "AK_NEVER_SET",
        "AK_SECOND",
        "AK_SECRET",
    ]  # set or not; the empty name is not


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/environ is Linux")
def test_the_initial_environment_block_no_longer_shows_the_key() -> None:
    raw = str(_run_child()["proc"])
    block = raw.split("\0")
    assert "sk-hidden-value" not in raw and "sk-second-value" not in raw
    assert "\0" * len("AK_SECOND=sk-second-value") + "\0AK_KEEP=visible" in raw  # zeroed in place
    assert not any(entry.startswith("AK_SECRET=") for entry in block)
    # Zeroed where the key was (it came first): the block starts with NUL bytes only.
    assert raw.startswith("\0" * len("AK_SECRET=sk-hidden-value"))
    assert "AK_KEEP=visible" in block  # the rest is untouched
    assert "MY_AK_SECRET=lookalike-stays" in block  # a name that only ends the same stays


def test_hiding_in_this_process_keeps_the_value_for_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AK_TEST_INPROCESS_KEY", "sk-in-process")
    secretenv.hide(["AK_TEST_INPROCESS_KEY"])
    assert "AK_TEST_INPROCESS_KEY" not in os.environ
    assert secretenv.environ()["AK_TEST_INPROCESS_KEY"] == "sk-in-process"
    assert "AK_TEST_INPROCESS_KEY" in secretenv.hidden_names()
