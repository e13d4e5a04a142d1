"""A script the policy cannot read (``bash script.sh``, ``source f``, ``bash < f``) goes
through the approval policy as an unknown command: every shell deny rule applies to it, and
it asks even in auto mode. And what effective.py now sees through reaches the floor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.tools.policy import PolicyDecision
from app.tools.registry import ToolRegistry
from app.tools.shellparse.effective import _effective_top
from tests.tools.test_policy import Check


@pytest.fixture
def check(registry: ToolRegistry, workspace: Path) -> Check:
    return Check(registry, workspace)


@pytest.fixture(autouse=True)
def _fresh_analysis() -> Iterator[None]:
    """No line's analysis cached by an earlier test (mutmut forks a process whose cache is
    warm from the unchanged code: a cached answer would hide the mutant)."""
    _effective_top.cache_clear()
    yield


FILE_SCRIPTS = [
    ("bash build.sh", "bash runs the file 'build.sh', which cannot be read here"),
    ("sh ./x", "sh runs the file './x', which cannot be read here"),
    ("zsh -- f", "zsh runs the file 'f', which cannot be read here"),
    ("source env.sh", "source runs the file 'env.sh', which cannot be read here"),
    (". f", ". runs the file 'f', which cannot be read here"),
    ("bash < f", "a shell reads its script from a file"),
    ("sudo bash -x f", "bash runs the file 'f', which cannot be read here"),
    ("echo ls | at -f job now", "at runs a script file that cannot be read here"),
]


@pytest.mark.parametrize(("command", "why"), FILE_SCRIPTS)
def test_a_script_in_a_file_asks_even_in_auto_mode(check: Check, command: str, why: str) -> None:
    assert check(check.policy("auto"), "shell", command=command) == PolicyDecision(
        "ask", None, f"{why}, so it asks even in auto mode", "floor"
    )


@pytest.mark.parametrize(("command", "why"), FILE_SCRIPTS)
def test_every_shell_deny_rule_applies_to_a_script_in_a_file(
    check: Check, command: str, why: str
) -> None:
    policy = check.policy("auto", deny=["shell(rm *)"])
    assert check(policy, "shell", command=command) == PolicyDecision(
        "deny", "shell(rm *)", f"denied by rule `shell(rm *)`: {why}, so every deny rule applies",
        "rule",
    )  # fmt: skip


def test_text_given_to_a_shell_is_still_judged_by_what_it_runs(check: Check) -> None:
    # Not a file: `bash -c` text and literal text piped in are read, so auto mode runs them.
    for command in ("bash -c 'ls'", "echo ls | bash", "bash <<< ls"):
        assert check(check.policy("auto"), "shell", command=command).action == "allow", command
    policy = check.policy("auto", deny=["shell(rm *)"])
    assert check(policy, "shell", command="bash -c 'ls'").action == "allow"


@pytest.mark.parametrize(
    "command",
    [
        "bash -c 'rm -rf /' < /dev/null",
        "bash -c 'rm -rf /' <<< x",
        ">log rm -rf /",
        "< /dev/null rm -rf /",
        "2>/dev/null rm -rf /",
        "env -u A -u B -u C -u D -u E -u F -u G -u H rm -rf /",
        "watch -n 1 -n 2 -n 3 -n 4 -n 5 rm -rf /",
    ],
)
def test_the_floor_sees_what_these_lines_hid(check: Check, command: str) -> None:
    # Each of these passed the floor before: auto mode would have run rm -rf /.
    decision = check(check.policy("auto", allow=["shell"]), "shell", command=command)
    assert (decision.action, decision.source) == ("deny", "floor"), command
    assert "safety floor" in decision.reason
