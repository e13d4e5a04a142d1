"""The hard safety floor, case by case, as the mutation report (tests/mutation/run.py) found
untested: where a ``cd`` leads before a destructive command, home directories, recursion
flags, devices and fork bombs. Each case gives the floor pattern hit (or ``None``) and the
doubts that make a command ask even in auto mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tools.safety import floor_check, floor_violation

RM_ROOT = "rm -rf / or ~"
LOST = ["rm works in a folder a cd led to that cannot be known"]

FLOOR: list[tuple[str, str | None, list[str]]] = [
    ("cd -P / && rm -rf *", RM_ROOT, []),
    ("cd -L / && rm -rf *", RM_ROOT, []),
    ("cd -- / && rm -rf *", RM_ROOT, []),
    ("cd -x / && rm -rf *", None, LOST),  # an option cd may read as going home
    ("cd - && rm -rf x", None, LOST),
    ("cd && rm -rf *", RM_ROOT, []),  # cd alone goes home
    ("cd ~ && rm -rf *", RM_ROOT, []),
    ("cd $HOME && rm -rf *", RM_ROOT, []),
    ("cd $X && rm -rf *", None, LOST),
    ("cd `pwd` && rm -rf x", None, LOST),
    ("cd $X && cd / && rm -rf *", None, LOST),  # once lost, a later cd does not find it
    ("CDPATH=/ cd etc && rm -rf x", None, LOST),
    ("CDPATH=/ cd ./etc && rm -rf x", None, []),  # ./ is never looked up in CDPATH
    ("popd && rm -rf x", None, LOST),
    ("pushd / && rm -rf *", RM_ROOT, []),
    ("cd / && cd tmp && rm -rf ../*", RM_ROOT, []),
    ("cd /usr && rm -rf x", None, []),
    ("cd $X && rm -rf /tmp/x", None, []),  # an absolute target: where cd went does not matter
    ("cd /usr && rm x", None, []),
    ("rm -rf $HOME", RM_ROOT, []),
    ("rm -rf ~root", RM_ROOT, []),
    ("rm -rf ~/", RM_ROOT, []),
    ("rm -rf ~+", RM_ROOT, []),
    ("rm --rec /", RM_ROOT, []),
    ("rm --recursive=x /", RM_ROOT, []),
    ("rm -r /", RM_ROOT, []),
    ("rm -R /", RM_ROOT, []),
    ("rm --force /", None, []),
    ("chmod -R 777 /", "recursive chmod of / or ~", []),
    ("chown -R me /", "recursive chown of / or ~", []),
    ("chmod 777 /", None, []),
    (":(){ :|:& };:", "fork bomb", []),
    ("f(){ f|f& }; f", "fork bomb", []),
    ("function g { g & }; g", "fork bomb", []),
    ("dd if=/dev/zero of=/dev/sda", "dd to a device", []),
    ("cat /dev/sda", None, []),
    ("echo x > /dev/sda", "writing to a disk device", []),
    ("tee /dev/sda", "writing to a disk device", []),
    ("mkfs.ext4 /dev/sdb", "wiping a file system or disk", []),
]


@pytest.mark.parametrize(("command", "hit", "doubts"), FLOOR)
def test_floor(workspace: Path, command: str, hit: str | None, doubts: list[str]) -> None:
    assert floor_check(command, workspace) == (hit, doubts)
    assert floor_violation(command, workspace) == hit


def test_the_workspace_itself_is_its_own_business(workspace: Path) -> None:
    assert floor_check(f"cd {workspace} && rm -rf *", workspace) == (None, [])
    assert floor_check(f"rm -rf {workspace}/..", workspace) == (None, [])  # deep: not the floor
