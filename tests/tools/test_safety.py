"""The hard safety floor and the proposed "always allow" rules, case by case (fast enough for
mutation testing, tests/mutation/run.py; the property tests are in test_shell_properties)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tools.safety import floor_violation, is_interpreter, propose_shell_rule

HOME = str(Path.home())
PARENT = str(Path.home().parent)


@pytest.mark.parametrize(
    ("command", "hit"),
    [
        (":(){ :|:& };:", "fork bomb"),
        ("bomb(){ bomb|bomb& }; bomb", "fork bomb"),
        ("echo x > /dev/sda", "writing to a disk device"),
        ("echo x >> /dev/nvme0n1", "writing to a disk device"),
        ("echo x &> '/dev/mmcblk0'", "writing to a disk device"),
        ("echo x > /dev/null", None),
        ("echo x > /dev/./null", None),
        ("echo x >| /dev/stderr", None),
        ("rm -rf /", "rm -rf / or ~"),
        ("rm -r /etc", "rm -rf / or ~"),
        ("rm -R /usr", "rm -rf / or ~"),
        ("rm --recursive ~", "rm -rf / or ~"),
        ("rm -fr ~/", "rm -rf / or ~"),
        ("rm -rf $HOME", "rm -rf / or ~"),
        ("rm -rf ${HOME}/", "rm -rf / or ~"),
        ("rm -rf $HOME/project", None),
        ("rm -rf ${HOME}/project", None),
        ("rm -rf /Xfiles/a", None),
        # Targets only known when it runs: not the floor; they ask even in auto mode.
        ("rm -rf $TARGET", None),
        ("rm -rf $(pwd)", None),
        ("rm -rf `pwd`", None),
        (f"rm -rf {HOME}", "rm -rf / or ~"),
        (f"rm -rf {PARENT}", "rm -rf / or ~"),
        (f"rm -rf {HOME}/project", None),
        ("rm -rf /*", "rm -rf / or ~"),
        ("rm -rf /usr/*", "rm -rf / or ~"),  # everything in a top-level folder
        ("rm -rf /usr/lib", None),
        ("rm -rf build", None),
        ("rm -f /etc", None),  # not recursive: not this pattern
        ("rm -f /srv", None),  # an "r" in a target is not a flag
        ("echo x > /dev/tty", None),  # a device, but not a disk
        ("cp x --target-directory=/dev/sdb", "writing to a disk device"),
        ("rm --force /", None),
        ("sudo rm -rf /", "rm -rf / or ~"),
        ("find / -delete", "rm -rf / or ~"),
        ("mkfs.ext4 /dev/sdb1", "wiping a file system or disk"),
        ("wipefs -a /dev/sdb", "wiping a file system or disk"),
        ("dd if=/dev/zero of=/dev/sda", "dd to a device"),
        ("dd if=x of=/dev/null", None),
        ("tee /dev/sda", "writing to a disk device"),
        ("cp x /dev/disk/by-id/usb-1", "writing to a disk device"),
        ("shred --random-source=x /dev/sdc", "writing to a disk device"),
        ("cat /dev/sda", None),
        ("/usr/bin/cat /dev/sda", None),
        ("chmod -R 777 /", "recursive chmod of / or ~"),
        ("chown -R me ~", "recursive chown of / or ~"),
        ("chgrp --recursive staff /etc", "recursive chgrp of / or ~"),
        ("chmod -Rv 700 /", "recursive chmod of / or ~"),
        ("chmod 777 /", None),
        ("chmod -R 777 src", None),
        ("ls -la /", None),
        ("echo hello", None),
    ],
)
def test_the_floor(command: str, hit: str | None) -> None:
    assert floor_violation(command) == hit


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("npm test", "shell(npm test *)"),
        ("npm", "shell(npm)"),
        ("npm run", "shell(npm run)"),
        ("npm run build --watch", "shell(npm run build *)"),
        ("npm run -x", None),
        ("npm run ./build", None),
        ("npm run bash", None),
        ("uv run pytest -q", "shell(uv run pytest *)"),
        ("git -C x status", None),
        ("git commit -m 'x y'", "shell(git commit *)"),
        ("git 'my sub' x", "shell(git 'my sub' *)"),
        ("make", "shell(make)"),
        ("pytest -q", "shell(pytest *)"),
        ("touch a.txt", "shell(touch *)"),
        ("./build.sh", None),
        ("bin/tool x", None),
        ("weird$name x", None),
        ("bash -c 'ls'", None),
        ("python3 x.py", None),
        ("python3.12w x.py", None),
        ("pypy3 x.py", None),
        ("rm x", None),
        ("mkfs.ext4 x", None),
        ("mkfsx", None),
        ("find . -name x", None),
        ("echo hi > out.txt", None),  # not plain: approve once
        ("touch a && touch b", "shell(touch *)"),
        ("touch a && mkdir b", None),  # two different rules: none covers both
        ("ls && touch a", "shell(touch *)"),  # the known-safe part needs no rule
        ("ls", "shell(ls *)"),
        ("ab@c x", None),  # an odd command name: approve it once
        ("MyTool x", "shell(MyTool *)"),
    ],
)
def test_proposed_rules(command: str, rule: str | None, tmp_path: Path) -> None:
    assert propose_shell_rule(command, tmp_path) == rule


def test_interpreters() -> None:
    assert all(is_interpreter(n) for n in ("bash", "/bin/sh", "python", "python3.11", "pythonw"))
    assert not any(is_interpreter(n) for n in ("ls", "pythonista", "git", "python-x"))


def test_the_home_directory_and_every_folder_above_it_are_protected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", "/home/ada/work")
    assert floor_violation("rm -rf /home/ada") == "rm -rf / or ~"
    assert floor_violation("rm -rf /home/ada/work") == "rm -rf / or ~"
    assert floor_violation("rm -rf ~/..") == "rm -rf / or ~"
    assert floor_violation("rm -rf /home/ada/other") is None
    assert floor_violation("rm -rf ~/project") is None
    assert floor_violation("rm -rf ~/../work") == "rm -rf / or ~"
