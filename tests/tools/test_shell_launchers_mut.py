"""The command behind wrappers and launchers (``timeout --signal KILL 5 git push``,
``sudo -- rm``, ``xargs -L 1 rm``), and the forms of a command without its leading global
options (``git -C repo push`` is also ``git push``), which the deny rules match. Written
against the mutation report (tests/mutation/run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tools.registry import ToolRegistry
from app.tools.shellparse import (
    option_skipping_variants,
    parse_command,
    strip_launchers,
    strip_wrappers,
)
from tests.tools.test_policy import Check

WRAPPED: list[tuple[list[str], list[str]]] = [
    (["timeout", "--signal", "KILL", "5", "git", "push"], ["git", "push"]),
    (["timeout", "--kill-after", "1", "5", "git", "push"], ["git", "push"]),
    (["timeout", "--signal=KILL", "5", "git", "push"], ["git", "push"]),
    (["timeout", "-s", "TERM", "-k", "2", "1.5m", "make"], ["make"]),
    (["nice", "-n", "5", "--", "-dash-named"], ["-dash-named"]),
    (["nohup", "--", "--", "x"], ["--", "x"]),
    (["nice", "-", "x"], ["-", "x"]),  # `-` is an operand: the program named "-"
    (["time"], ["time"]),
    (["nohup", "-n"], ["nohup", "-n"]),  # options only: nothing is run behind them
    (["nohup", "--help"], ["nohup", "--help"]),
    (["timeout", "-s"], ["timeout", "-s"]),
]


@pytest.mark.parametrize(("words", "command"), WRAPPED)
def test_wrappers_are_stripped_to_the_command_they_run(
    words: list[str], command: list[str]
) -> None:
    assert strip_wrappers(words) == command


def test_a_stripped_wrapper_is_what_allow_rules_match() -> None:
    assert parse_command("timeout --signal KILL 5 git push").commands == [["git", "push"]]
    assert parse_command("timeout --kill-after 1 5 git push").commands == [["git", "push"]]


LAUNCHED: list[tuple[list[str], list[str]]] = [
    (["sudo", "rm"], ["rm"]),
    (["sudo", "--", "rm", "x"], ["rm", "x"]),
    (["sudo", "-u", "root", "--", "-rm"], ["-rm"]),
    (["xargs", "-L", "1", "rm"], ["rm"]),
    (["xargs", "-L", "1", "-P", "2", "rm", "-f"], ["rm", "-f"]),
    (["env", "A=1", "B=2", "rm", "x"], ["rm", "x"]),
    (["env", "A=1", "B+=2", "C=3", "rm"], ["rm"]),
    (["stdbuf", "-oL", "nice", "-n", "1", "rm", "x"], ["rm", "x"]),
    (["command", "-v", "rm"], ["rm"]),
    (["sudo", "-n"], ["sudo", "-n"]),  # options only: nothing behind them, no crash
    (["sudo", "-u"], ["sudo", "-u"]),
    (["sudo", "-E"], ["sudo", "-E"]),
    (["rm", "-rf", "x"], ["rm", "-rf", "x"]),
]


@pytest.mark.parametrize(("words", "command"), LAUNCHED)
def test_launchers_are_stripped_to_the_command_they_run(
    words: list[str], command: list[str]
) -> None:
    assert strip_launchers(words) == command


VARIANTS: list[tuple[list[str], list[list[str]]]] = [
    (["ls"], [["ls"]]),
    (["git", "push"], [["git", "push"]]),
    (["git", "--version"], [["git", "--version"]]),  # nothing after the options: no variant
    (["git", "-v", "-v"], [["git", "-v", "-v"]]),
    (["git", "--no-pager", "push"], [["git", "--no-pager", "push"], ["git", "push"]]),
    (
        ["git", "-C", "repo", "push", "--force"],
        [["git", "-C", "repo", "push", "--force"], ["git", "repo", "push", "--force"],
         ["git", "push", "--force"]],
    ),
    (
        ["git", "-C", "a", "-c", "x=y", "push"],
        [["git", "-C", "a", "-c", "x=y", "push"], ["git", "a", "-c", "x=y", "push"],
         ["git", "x=y", "push"], ["git", "push"]],
    ),
    (
        ["git", "--bare", "-C", "a", "push"],
        [["git", "--bare", "-C", "a", "push"], ["git", "a", "push"], ["git", "push"]],
    ),
    (
        ["npm", "--prefix", "web", "run", "build"],
        [["npm", "--prefix", "web", "run", "build"], ["npm", "web", "run", "build"],
         ["npm", "run", "build"]],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("words", "variants"), VARIANTS)
def test_variants_drop_the_leading_options_and_their_values(
    words: list[str], variants: list[list[str]]
) -> None:
    assert option_skipping_variants(words) == variants


def test_up_to_eight_leading_options_are_looked_past() -> None:
    """The bound keeps the work small on a long line; eight options is more than people use."""
    eight = ["git", *[f"-{c}" for c in "abcdefgh"], "push"]
    assert ["git", "push"] in option_skipping_variants(eight)
    nine = ["git", *[f"-{c}" for c in "abcdefghi"], "push"]
    assert ["git", "push"] not in option_skipping_variants(nine)
    assert len(option_skipping_variants(["git", *["-x"] * 500, "push"])) <= 10


@pytest.mark.parametrize(
    "command",
    [
        "git -C repo push --force",
        "git --no-pager push",
        "git -c a=b -C repo push",
        "sudo git -C repo push",
        "timeout --signal KILL 5 git -C . push",
    ],
)
def test_a_deny_rule_on_a_subcommand_is_not_passed_by_options_before_it(
    registry: ToolRegistry, workspace: Path, command: str
) -> None:
    check = Check(registry, workspace)
    decision = check(check.policy("auto", deny=["shell(git push *)"]), "shell", command=command)
    assert (decision.action, decision.rule) == ("deny", "shell(git push *)")
