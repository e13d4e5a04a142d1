"""Splitting command lines, telling plain from non-plain, the floor and the known-safe list."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from app.tools.knownsafe import KnownSafe
from app.tools.safety import floor_violation
from app.tools.shellparse import (
    deny_candidates,
    effective_commands,
    parse_command,
    strip_wrappers,
)


@pytest.mark.parametrize(
    ("command", "commands"),
    [
        ("git status -s", [["git", "status", "-s"]]),
        ("git add . && git commit -m 'a b'", [["git", "add", "."], ["git", "commit", "-m", "a b"]]),
        ("make || echo failed; ls\npwd", [["make"], ["echo", "failed"], ["ls"], ["pwd"]]),
        ("cat x | grep y | wc -l", [["cat", "x"], ["grep", "y"], ["wc", "-l"]]),
        ('echo "a;b && c"', [["echo", "a;b && c"]]),
        ("timeout 5 nice -n 10 nohup time git log", [["git", "log"]]),
        ("timeout -s KILL 1m pytest -x", [["pytest", "-x"]]),
        ("find . -name '*.py' -exec wc -l {} \\;", [["find", ".", "-name", "*.py", "-exec",
                                                   "wc", "-l", "{}", ";"]]),
    ],
)  # fmt: skip
def test_plain_commands_are_split(command: str, commands: list[list[str]]) -> None:
    parsed = parse_command(command)
    assert parsed.plain, parsed.reasons
    assert parsed.commands == commands


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("ls > out.txt", "redirection"),
        ("ls 2>&1", "redirection"),
        ("cat < in", "redirection"),
        ("make |& tee log", "redirection"),
        ("echo $(whoami)", "command substitution"),
        ("echo `whoami`", "command substitution"),
        ('echo "$(rm -rf x)"', "command substitution"),
        ("echo $HOME", "expansion"),
        ("echo ${PATH}", "expansion"),
        ("(cd sub && ls)", "subshell"),
        ("{ ls; }", "command group"),
        ("sleep 10 &", "background job"),
        ("cat <<EOF\nhi\nEOF", "heredoc"),
        ("diff <(ls a) <(ls b)", "process substitution"),
        ("FOO=1 make", "environment assignment"),
        ("ls # comment", "comment"),
        ("echo 'unterminated", "unbalanced quotes"),
    ],
)
def test_non_plain_constructs_are_detected(command: str, reason: str) -> None:
    parsed = parse_command(command)
    assert not parsed.plain
    assert reason in parsed.reasons


def test_single_quotes_hide_metacharacters() -> None:
    parsed = parse_command("grep -E '$x|>(y)' file")
    assert parsed.plain and parsed.commands == [["grep", "-E", "$x|>(y)", "file"]]


def test_wrappers_alone_are_kept() -> None:
    assert strip_wrappers(["time"]) == ["time"]
    assert strip_wrappers(["nohup", "sleep", "1"]) == ["sleep", "1"]


def test_deny_candidates_look_inside_substitutions_and_shells() -> None:
    found = deny_candidates("echo $(rm -rf build)")
    assert ["rm", "-rf", "build"] in found
    nested = deny_candidates("bash -c 'cd /tmp && sudo rm -rf x'")
    assert ["rm", "-rf", "x"] in nested
    assert ["rm", "-rf", "y"] in deny_candidates("sudo -u root env A=1 rm -rf y")


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf /",
        "rm -rf /*",
        "rm -fr ~",
        "rm -r -f ~/",
        "sudo rm -rf --no-preserve-root /",
        "rm -rf $HOME",
        "cd /tmp && rm -rf /",
        "echo hi; bash -c 'rm -rf /'",
        "mkfs.ext4 /dev/sda1",
        "dd if=/dev/zero of=/dev/sda bs=1M",
        ":(){ :|:& };:",
        "chmod -R 777 /",
        "echo x > /dev/sda",
        "tee /dev/sda < image",
        "bash<<<'rm -rf ~'",
        'sh <<< "rm -rf /"',
        "ssh localhost rm -rf ~",
        "ssh -p 22 me@host 'rm -rf ~/'",
        "parallel rm -rf ::: ~",
        "chrt 10 rm -rf ~",
        "printf '%s\\n' 'rm -rf ~' | sh",
        "cp image.iso /dev/sdb",
        "shred -n 1 /dev/nvme0n1",
        "cat image > /dev/mapper/root",
        "sudo dd if=image of=/dev/disk/by-id/usb-x",
    ],
)
def test_safety_floor(command: str) -> None:
    assert floor_violation(command) is not None


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf build",
        "rm -rf ./node_modules",
        "dd if=a of=/dev/null",
        "chmod -R 755 src",
        "ls /",
        "cat /dev/sda | head -c 512 | xxd",
        "lsblk /dev/sda",
        "echo hi > /dev/null",
    ],
)
def test_floor_leaves_ordinary_commands(command: str) -> None:
    assert floor_violation(command) is None


@pytest.mark.parametrize(
    ("words", "safe"),
    [
        (["ls", "-la"], True),
        (["git", "status", "-s"], True),
        (["git", "log", "--oneline"], True),
        (["git", "diff", "--ext-diff"], False),
        (["git", "-c", "core.pager=x", "log"], False),
        (["git", "branch"], True),
        (["git", "branch", "-D", "main"], False),
        (["git", "push"], False),
        (["find", ".", "-name", "*.py"], True),
        (["find", ".", "-delete"], False),
        (["find", ".", "-exec", "rm", "{}", ";"], False),
        (["rg", "TODO"], True),
        (["rg", "--pre", "sh", "x"], False),
        (["sed", "-n", "1,5p", "f"], True),
        (["sed", "-i", "s/a/b/", "f"], False),
        (["base64", "-o", "out"], False),
        (["python", "x.py"], False),
        (["ls", "\u202e txt.exe"], False),
        (["git", "diff", "--outp=x"], False),  # git takes unique prefixes of long options
        (["git", "diff", "--no-ind", "/etc/passwd", "x"], False),
        (["diff", "-r", "a", "b"], False),
        (["file", "-f", "names"], False),
        (["sed", "-n", " " * 50_000 + "x"], False),  # and quickly
        (["cat", "notes\x1b[2Jx"], False),
    ],
)
def test_known_safe_commands(words: list[str], safe: bool, tmp_path: Path) -> None:
    parsed = parse_command(shlex.join(words))  # quoted as needed, like a careful person would
    verdicts = KnownSafe(tmp_path).check_parsed(parsed)
    assert (parsed.plain and all(v is None for v in verdicts)) is safe


@pytest.mark.parametrize(
    "command",
    ["cat $'/etc/passwd'", 'cat $"/etc/passwd"', "printf '\\x72m -rf ~' | sh",
     "echo -e '\\x72m -rf ~' | bash", "cat notes | sh", "sh < script.sh"],
)  # fmt: skip
def test_what_cannot_be_seen_through_is_never_plain_or_is_unknown(command: str) -> None:
    parsed = parse_command(command)
    assert not parsed.plain or effective_commands(command).unknown, command


@pytest.mark.parametrize(
    "command",
    ["xargs -I{} rm -rf {} < list", "find . -name '*.o' | xargs rm -f", "rm -rf \"$BUILD\"",
     "shred `cat names`"],
)  # fmt: skip
def test_destroying_what_is_only_known_later_is_uncertain_not_the_floor(command: str) -> None:
    assert floor_violation(command) is None
    assert effective_commands(command).uncertain, command
