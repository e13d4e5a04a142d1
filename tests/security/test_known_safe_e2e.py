"""Known-safe commands are proven per command: writing, running or reading outside asks.

Each hostile call below is proposed by the model in ``ask`` mode without a terminal, so a
call that asks is denied: a marker file that appears means it ran unasked.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.security.conftest import propose

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "command",
    [
        "sed -n 1p -e '1e touch PWNED' README.md",
        "sed -n '1w PWNED' README.md",
        "sed -ne 1p -e '$e touch PWNED' README.md",
        "sed -n --expression='1 e touch PWNED' README.md",
        "uniq README.md PWNED",
        "sort -o PWNED README.md",
        "sort --compress-program=touch -S 1 README.md",
        "tree -o PWNED",
        "find . -fprint PWNED",
        "find . -name README.md -exec touch PWNED ;",
        "rg --pre 'touch PWNED' x",
        "git diff --output=PWNED",
        "file -C -m PWNED",
        "cat README.md | tee PWNED",
    ],
)
async def test_writing_or_running_variants_ask(
    command: str, agentkit_home: Path, workspace: Path
) -> None:
    done = await propose(agentkit_home, workspace, "shell", {"command": command})
    assert not (workspace / "PWNED").exists()
    assert done.asked == 1
    assert done.decisions[-1]["approved"] is False


@pytest.mark.parametrize(
    "command",
    [
        "cat /etc/passwd",
        "cd / && ls etc",
        "cd .. && ls",
        "head -n 3 ../../../../etc/passwd",
        "git diff --no-index /etc/passwd /dev/null",
        "grep -a root /proc/self/environ /etc/passwd",
        "ls ~",
        "cat link-out",
        "cat docs/*",
        "cat {README.md,/etc/passwd}",
        "grep -R root .",
        "wc -l -- /etc/passwd",
        "date -r /etc/passwd -f /etc/passwd",
    ],
)
async def test_reads_outside_the_workspace_ask(
    command: str, agentkit_home: Path, workspace: Path
) -> None:
    (workspace / "link-out").symlink_to("/etc/passwd")
    (workspace / "docs" / "passwd").symlink_to("/etc/passwd")
    done = await propose(agentkit_home, workspace, "shell", {"command": command})
    assert done.asked == 1
    assert not any("root:" in output for output in done.outputs)


@pytest.mark.parametrize(
    "command",
    ["cat README.md", "ls -la src", "grep -rn hello src", "wc -l README.md src/main.py",
     "cd src && cat main.py", "git status --short", "git log --oneline -n 1",
     "sed -n 1,2p README.md", "find . -name '*.py'", "date +%Y"],
)  # fmt: skip
async def test_plain_reads_in_the_workspace_still_run_unasked(
    command: str, agentkit_home: Path, workspace: Path
) -> None:
    _git_repo(workspace)
    done = await propose(agentkit_home, workspace, "shell", {"command": command})
    assert done.asked == 0
    assert "[exit code 0]" in done.outputs[0]


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def _git_repo(root: Path) -> None:
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root.parent), "PATH": "/usr/bin:/bin"}
    for argv in (
        ["git", "init", "-q"],
        ["git", "add", "."],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
    ):
        subprocess.run(argv, cwd=root, check=True, env=env, capture_output=True)  # fmt: skip


async def test_a_repository_that_runs_code_on_git_status_asks(
    agentkit_home: Path, workspace: Path
) -> None:
    """An embedded bare repository and a nested repository with an fsmonitor or a filter."""
    marker = workspace / "PWNED"
    bare = workspace / "evil"
    _run(["git", "init", "-q", "--bare", str(bare)])
    with (bare / "config").open("a") as config:
        config.write(f"[core]\n\tfsmonitor = touch {marker}\n")
    nested = workspace / "nested"
    nested.mkdir()
    _run(["git", "init", "-q", str(nested)])
    with (nested / ".git" / "config").open("a") as config:
        config.write(
            f'[filter "x"]\n\tclean = touch {marker}\n[core]\n\tfsmonitor = touch {marker}\n'
        )
    (nested / ".gitattributes").write_text("* filter=x\n")
    for command in ("cd evil && git status", "cd nested && git status", "cd nested && git diff"):
        done = await propose(agentkit_home, workspace, "shell", {"command": command})
        assert done.asked == 1, command
        assert not marker.exists(), command


async def test_a_known_safe_git_diff_runs_no_external_diff_program(
    agentkit_home: Path, workspace: Path, tmp_path: Path
) -> None:
    """The person's own git config names an external diff: an unasked `git diff` skips it
    (known-safe calls run with repository-controlled execution off), an approved one not."""
    _git_repo(workspace)
    (workspace / "README.md").write_text("# Changed\n")
    marker = tmp_path / "RAN"
    program = tmp_path / "extdiff.sh"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n")
    program.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(f"[diff]\n\texternal = {program}\n")
    env = {"HOME": str(home)}
    no_sandbox = '[tools]\nsandbox = "off"\n'  # the program lives under /tmp, which it hides
    done = await propose(
        agentkit_home, workspace, "shell", {"command": "git diff"}, env=env, config=no_sandbox
    )
    assert done.asked == 0 and "+# Changed" in done.outputs[0]
    assert not marker.exists()
    # A rule allows the first part and the git read is known-safe: still hardened.
    mixed = no_sandbox + '[approval]\nallow = ["shell(echo *)"]\n'
    done = await propose(
        agentkit_home, workspace, "shell", {"command": "echo hi && git diff"}, env=env,
        config=mixed,
    )  # fmt: skip
    assert done.asked == 0 and not marker.exists()
    config = no_sandbox + '[approval]\nallow = ["shell(git diff)"]\n'
    done = await propose(
        agentkit_home, workspace, "shell", {"command": "git diff"}, env=env, config=config
    )
    assert done.asked == 0 and marker.exists()  # a rule the person wrote: their config applies
