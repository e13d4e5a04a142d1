"""Path rules follow links, file tools stay inside, and the provider key never leaves."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.security.conftest import propose

pytestmark = pytest.mark.slow

KEY = "sk-live-0123456789abcdefSECRET"

#: Prints what a command can see: its environment, its parent's, and every process's it may read.
PROBE = """\
import glob, os
print("\\n".join(f"{name}={value}" for name, value in os.environ.items()))
for path in [f"/proc/{os.getppid()}/environ", *glob.glob("/proc/*/environ")]:
    try:
        with open(path, "rb") as handle:
            print(handle.read().replace(b"\\0", b"\\n").decode("latin-1"))
    except OSError:
        pass
"""


async def test_a_path_allow_rule_does_not_follow_a_link_elsewhere(
    agentkit_home: Path, workspace: Path
) -> None:
    (workspace / "docs" / "link").symlink_to(workspace / "src" / "main.py")
    config = '[approval]\nallow = ["write_file(docs/**)"]\n'
    done = await propose(
        agentkit_home, workspace, "write_file", {"path": "docs/link", "content": "owned"},
        config=config,
    )  # fmt: skip
    assert (workspace / "src" / "main.py").read_text() == "print('hello')\n"
    assert done.asked == 1
    # The rule itself still works for what it names.
    done = await propose(
        agentkit_home, workspace, "write_file", {"path": "docs/new.md", "content": "ok"},
        config=config,
    )  # fmt: skip
    assert (workspace / "docs" / "new.md").read_text() == "ok" and done.asked == 0


async def test_a_deny_path_rule_holds_for_a_link_into_the_denied_folder(
    agentkit_home: Path, workspace: Path
) -> None:
    (workspace / "docs" / "to-src").symlink_to(workspace / "src")
    config = '[approval]\nmode = "auto"\ndeny = ["write_file(src/**)"]\n'
    done = await propose(
        agentkit_home, workspace, "write_file", {"path": "docs/to-src/main.py", "content": "x"},
        config=config, approve="auto",
    )  # fmt: skip
    assert (workspace / "src" / "main.py").read_text() == "print('hello')\n"
    assert done.decisions[-1]["approved"] is False
    # And the other way round: the path as written is in the denied folder.
    (workspace / "docs" / "out").symlink_to(workspace / "src" / "main.py")
    config = '[approval]\nmode = "auto"\ndeny = ["write_file(docs/**)"]\n'
    done = await propose(
        agentkit_home, workspace, "write_file", {"path": "docs/out", "content": "x"},
        config=config, approve="auto",
    )  # fmt: skip
    assert (workspace / "src" / "main.py").read_text() == "print('hello')\n"
    assert done.decisions[-1]["approved"] is False


async def test_search_text_does_not_follow_a_link_out(
    agentkit_home: Path, workspace: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY MATERIAL\n")
    (workspace / "notes.txt").symlink_to(secret)
    done = await propose(agentkit_home, workspace, "search_text", {"pattern": "PRIVATE"})
    assert not any("MATERIAL" in output for output in done.outputs)


@pytest.mark.parametrize("sandbox", ["off", "auto"])
@pytest.mark.parametrize("variable", ["FAKE_KEY", "LLM_PAT"])
async def test_the_provider_key_is_not_in_our_environment_nor_the_tools(
    sandbox: str, variable: str, agentkit_home: Path, workspace: Path, tmp_path: Path
) -> None:
    # A script, so the command line is plain and auto mode runs it unasked (a line that
    # reads /proc/$PPID/… has a command word only known when it runs, and asks).
    (workspace / "probe.py").write_text(PROBE)
    command = "/usr/bin/python3 probe.py"
    config = f'[tools]\nsandbox = "{sandbox}"\n'
    done = await propose(
        agentkit_home, workspace, "shell", {"command": command}, approve="auto",
        config=config, env={variable: KEY}, key_env=variable,
    )  # fmt: skip
    assert done.code == 0
    assert "PATH=" in done.outputs[0]  # the command did run and print an environment
    assert KEY not in done.outputs[0], done.outputs[0]
    database = next(agentkit_home.rglob("*.db"))
    with sqlite3.connect(database) as db:
        dumped = "\n".join(db.iterdump())
    assert KEY not in dumped
