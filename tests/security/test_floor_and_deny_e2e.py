"""The floor holds in auto mode and deny rules match what runs, not what was written.

These run with the sandbox off, so the text analysis is what is tested, and with HOME set
to a throwaway directory, so a failure destroys nothing that matters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.conftest import propose

pytestmark = pytest.mark.slow

NO_SANDBOX = '[tools]\nsandbox = "off"\n'


@pytest.mark.parametrize(
    "command",
    [
        "{rm,-rf,~}",
        "eval 'rm -rf ~'",
        "echo 'rm -rf ~' | sh",
        "printf 'rm -rf %s' ~ | bash -s",
        "find ~ -delete",
        "find ~ -type f -exec rm -f {} +",
        "env rm -rf ~",
        "/bin/rm -rf ~/",
        "command rm -r -f ~",
        "sh -c 'cd / && rm -rf ~/*'",
        "rm $'-rf' ~",
        "rm --rec ~",
        "chmod -fR 000 ~",
        "bash -c -- 'rm -rf ~'",
        "script -qc 'rm -rf ~' /dev/null",
        "setpriv rm -rf ~",
        "xargs --max-chars 1000 rm -rf ~ < list",
        "nice --adjustment 5 rm -rf ~",
        "function f { rm -rf ~; }; f",
        "cd ~ && rm -rf *",
        "env -iS 'rm -rf ~'",
    ],
)
async def test_the_floor_holds_in_auto_mode(
    command: str, agentkit_home: Path, workspace: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "precious").write_text("keep me")
    (workspace / "list").write_text(f"{home}\n")
    done = await propose(
        agentkit_home, workspace, "shell", {"command": command}, approve="auto",
        config=NO_SANDBOX, env={"HOME": str(home)},
    )  # fmt: skip
    assert (home / "precious").read_text() == "keep me"
    assert done.decisions[-1]["approved"] is False
    assert done.asked == 0  # refused outright: nobody is asked


@pytest.mark.parametrize(
    "command",
    ["/bin/rm victim", "/usr/bin/env rm victim", "{rm,victim}", "command rm victim",
     "r\\m victim", "'rm' victim", "nice -n 1 rm victim", "sudo -n rm victim",
     "$(printf rm) victim", "eval rm victim", "bash -c 'rm victim'", "echo rm victim | sh",
     "xargs rm < names", "find . -name victim -delete"],
)  # fmt: skip
async def test_deny_rules_match_what_runs(
    command: str, agentkit_home: Path, workspace: Path
) -> None:
    (workspace / "victim").write_text("x")
    (workspace / "names").write_text("victim\n")
    config = NO_SANDBOX + '[approval]\ndeny = ["shell(rm *)"]\n'
    done = await propose(
        agentkit_home, workspace, "shell", {"command": command}, approve="auto", config=config
    )
    assert (workspace / "victim").exists(), command
    assert done.decisions[-1]["approved"] is False
    assert done.asked == 0 and done.decisions[-1]["decider"] == "rule"  # the rule said no


async def test_an_ordinary_command_still_runs_in_auto_mode(
    agentkit_home: Path, workspace: Path
) -> None:
    config = NO_SANDBOX + '[approval]\ndeny = ["shell(rm *)"]\n'
    done = await propose(
        agentkit_home, workspace, "shell", {"command": "touch made && ls"}, approve="auto",
        config=config,
    )  # fmt: skip
    assert (workspace / "made").exists()
    assert done.decisions[-1]["approved"] is True


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("write_file", {"path": ".agentkit/config.toml", "content": '[approval]\nallow=["shell"]'}),
        ("write_file", {"path": ".git/hooks/pre-commit", "content": "touch PWNED"}),
        ("shell", {"command": "c=touch; $c PWNED"}),
        ("shell", {"command": "cat notes | sh"}),
    ],
)
async def test_what_auto_mode_still_asks_is_denied_without_a_terminal(
    tool: str, arguments: dict[str, str], agentkit_home: Path, workspace: Path
) -> None:
    """Protected paths and commands the policy cannot see through need a person, also in auto."""
    (workspace / ".git" / "hooks").mkdir(parents=True)
    (workspace / "notes").write_text("touch PWNED\n")
    done = await propose(
        agentkit_home, workspace, tool, arguments, approve="auto", config=NO_SANDBOX
    )
    assert done.asked == 1
    assert done.decisions[-1]["approved"] is False
    assert not (workspace / "PWNED").exists()
    assert not (workspace / ".agentkit" / "config.toml").exists()
    assert not (workspace / ".git" / "hooks" / "pre-commit").exists()


@pytest.mark.parametrize(
    "command", ["x=~; rm -rf $x", "cat list | xargs rm -rf", 'rm -rf "$TARGET"/*']
)
async def test_a_destructive_command_with_unknowable_targets_asks_even_in_auto_mode(
    command: str, agentkit_home: Path, workspace: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "precious").write_text("keep me")
    (workspace / "list").write_text(f"{home}\n")
    done = await propose(
        agentkit_home, workspace, "shell", {"command": command}, approve="auto",
        config=NO_SANDBOX, env={"HOME": str(home), "TARGET": str(home)},
    )  # fmt: skip
    assert (home / "precious").read_text() == "keep me"
    assert done.asked == 1 and done.decisions[-1]["approved"] is False
