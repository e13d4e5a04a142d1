"""The scripts that launchers and shells are given, as the deny rules and the floor see them:
``sudo -s``/``-i`` (after options that take values), ``su``/``runuser``/``script``/``flock``
``-c``, ``env -S``, shells other than bash (``mksh``, ``yash``…), and what ``echo`` and
``printf`` print into a shell. Written against the mutation report (tests/mutation/run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tools.registry import ToolRegistry
from app.tools.safety import floor_violation
from app.tools.shellparse import effective_commands
from tests.tools.test_policy import Check

#: Line -> a command it runs, which the effective commands must hold (nothing unknown).
RUNS: list[tuple[str, list[str]]] = [
    # sudo/doas -s and -i run the command through a shell, after sudo's own options.
    ("sudo -s 'rm -rf x'", ["rm", "-rf", "x"]),
    ("sudo -i 'rm -rf x'", ["rm", "-rf", "x"]),
    ("sudo --shell 'rm -rf x'", ["rm", "-rf", "x"]),
    ("sudo --login 'rm -rf x'", ["rm", "-rf", "x"]),
    ("doas -s 'rm -rf x'", ["rm", "-rf", "x"]),
    ("sudo -u bob -s 'rm -rf x'", ["rm", "-rf", "x"]),
    ("sudo -u bob -i rm -rf x", ["rm", "-rf", "x"]),
    ("sudo -iu bob rm -rf x", ["rm", "-rf", "x"]),
    ("sudo -ubob -s rm -rf x", ["rm", "-rf", "x"]),
    ("sudo -Es -C 3 rm -rf x", ["rm", "-rf", "x"]),
    ("sudo --user bob --login rm -rf x", ["rm", "-rf", "x"]),
    ("sudo --user=bob -s rm -rf x", ["rm", "-rf", "x"]),
    ("sudo -s -- rm -rf x", ["rm", "-rf", "x"]),
    ("doas -u bob -s 'rm -rf x'", ["rm", "-rf", "x"]),
    # su, runuser, script, flock: -c and --command, attached or not, `--` before the script.
    ("su --command 'rm x'", ["rm", "x"]),
    ("su --command='rm x'", ["rm", "x"]),
    ("su --login -c 'rm x'", ["rm", "x"]),
    ("su -c -- 'rm x'", ["rm", "x"]),
    ("su -lc 'rm x'", ["rm", "x"]),
    ("su -c'rm -rf cache'", ["rm", "-rf", "cache"]),
    ("runuser -u bob --command 'rm x'", ["rm", "x"]),
    ("flock -w 5 /tmp/l -c 'rm x'", ["rm", "x"]),
    ("flock /tmp/l --command 'rm x'", ["rm", "x"]),
    ("env -S'rm -S x'", ["rm", "-S", "x"]),
    ("env -i -S 'rm x'", ["rm", "x"]),
    ("env -u HOME -S 'rm x'", ["rm", "x"]),
    ("env -C /tmp -S 'rm x'", ["rm", "x"]),
    # A command behind env or flock keeps its own -c/-S: it is not a script.
    ("env git -c a=b push --force", ["git", "-c", "a=b", "push", "--force"]),
    ("env A=1 sort -S 1G f", ["sort", "-S", "1G", "f"]),
    ("flock /tmp/l git -c a=b push", ["git", "-c", "a=b", "push"]),
    ("flock -w 5 /tmp/l git -c a=b push", ["git", "-c", "a=b", "push"]),
    # Shells by another name; rsh runs its command remotely (not a shell reading -c).
    ("mksh -c 'rm x'", ["rm", "x"]),
    ("yash -c 'rm x'", ["rm", "x"]),
    ("tcsh -c 'rm x'", ["rm", "x"]),
    ("elvish -c 'rm x'", ["rm", "x"]),
    ("/bin/ash -c 'rm x'", ["rm", "x"]),
    ("fish -c 'rm x'", ["rm", "x"]),
    ("echo 'rm x' | rbash", ["rm", "x"]),
    ("rsh host rm -rf x", ["rm", "-rf", "x"]),
    ("bash -xc 'rm x'", ["rm", "x"]),
    ("bash -c -- 'rm x'", ["rm", "x"]),
    # What echo and printf print is the script a shell reads.
    ("echo 'rm a\\b' | sh", ["rm", "ab"]),
    ("echo -e 'ls\\nrm x' | sh", ["rm", "x"]),
    ("echo -ne 'ls\\nrm x' | sh", ["rm", "x"]),
    ("echo -n -e 'ls\\nrm x' | sh", ["rm", "x"]),
    ("echo -E 'rm a\\tb' | sh", ["rm", "atb"]),
    ("echo -e -E 'rm a\\tb' | sh", ["rm", "atb"]),
    ("echo perl -e 'unlink x' | sh", ["perl", "-e", "unlink", "x"]),
    ("echo rm -n x | sh", ["rm", "-n", "x"]),
    ("echo -n -x rm | sh", ["-x", "rm"]),
    ("echo -- rm x | sh", ["--", "rm", "x"]),
    ("printf '%s\\n' 'echo %b' | sh", ["echo", "%b"]),
    ("printf 'rm x\\n' | sh", ["rm", "x"]),
]


@pytest.mark.parametrize(("line", "command"), RUNS)
def test_the_script_a_launcher_or_shell_runs_is_seen(line: str, command: list[str]) -> None:
    seen = effective_commands(line)
    assert command in seen.commands, seen.commands
    assert seen.unknown == []


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ("sudo -s", [["sudo", "-s"]]),
        ("sudo -u bob -s", [["sudo", "-u", "bob", "-s"], ["bob", "-s"]]),
        ("echo 'rm x' | mosh", [["echo", "rm x"], ["mosh"]]),
        ("echo 'rm x' | ssh", [["echo", "rm x"], ["ssh"]]),
        ("sudo rm -i x", [["sudo", "rm", "-i", "x"], ["rm", "-i", "x"], ["x"]]),
        ("env -S", [["env", "-S"]]),
        ("su -c --", [["su", "-c", "--"]]),
    ],
)
def test_no_script_is_made_up(line: str, commands: list[list[str]]) -> None:
    """A shell flag with no command starts a shell; ssh/mosh are not local shells; an -i
    after the command is the command's own option."""
    seen = effective_commands(line)
    assert (seen.commands, seen.unknown) == (commands, [])


@pytest.mark.parametrize(
    "line",
    ["timeout 60 git push", "sudo git push", "nice make publish", "env A=1 ./refresh"],
)
def test_a_word_ending_in_sh_is_not_a_shell(line: str) -> None:
    """``push`` or ``publish`` behind a launcher is not a shell reading standard input (that
    made every deny rule refuse ``timeout 60 git push``)."""
    assert effective_commands(line).unknown == []


@pytest.mark.parametrize(
    "line",
    [
        "printf '%b' 'rm x' | sh",
        "printf '%d' 1 | sh",
        "printf 'rm\\tx' | sh",
        "echo -e 'rm\\tx' | sh",
        "echo -Ee 'rm\\tx' | sh",
        "echo -e 'rm x\\\\n' | sh",
    ],
)
def test_escapes_that_could_print_anything_are_unknown(line: str) -> None:
    assert effective_commands(line).unknown


@pytest.mark.parametrize(
    "line",
    [
        "sudo -u bob -s 'rm -rf ~'",
        "sudo -u bob -i rm -rf ~",
        "sudo -iu root rm -rf /",
        "doas -u root -s 'rm -rf /'",
        "echo -e 'ls\\nrm -rf ~' | sh",
        "echo -ne 'true\\nrm -rf /' | bash",
        "mksh -c 'rm -rf ~'",
        "su -c -- 'rm -rf ~'",
        "flock -w 1 /tmp/l -c 'rm -rf ~'",
    ],
)
def test_the_floor_sees_the_script(line: str) -> None:
    assert floor_violation(line) is not None


@pytest.mark.parametrize(
    "command",
    [
        "flock /tmp/l git -c a=b push",
        "env -u X git -c a=b push",
        "sudo -u bob -i git push",
        "su -c 'git push' bob",
    ],
)
def test_a_deny_rule_reaches_the_command_behind_a_launcher(
    registry: ToolRegistry, workspace: Path, command: str
) -> None:
    check = Check(registry, workspace)
    decision = check(check.policy("auto", deny=["shell(git push *)"]), "shell", command=command)
    assert (decision.action, decision.rule) == ("deny", "shell(git push *)")
