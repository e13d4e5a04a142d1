"""Commands carried inside other words: environment variables a program runs as a command,
option values that are commands (ssh -o ProxyCommand, rsync -e, git -c core.pager, tar
--to-command), and text piped into ssh. Auto mode runs every call that is not floored or
unknown, so each of these must reach the floor and the deny rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ApprovalConfig
from app.tools.policy import ApprovalPolicy
from app.tools.registry import builtin_registry
from app.tools.shellparse import effective_commands

SHELL = builtin_registry().get("shell")


def decide(root: Path, command: str, *, deny: tuple[str, ...] = ()) -> tuple[str, str]:
    policy = ApprovalPolicy(ApprovalConfig(deny=list(deny)), root, mode="auto")
    decision = policy.evaluate(SHELL, SHELL.Args(command=command))
    return decision.action, decision.reason


@pytest.mark.parametrize(
    "command",
    [
        "PAGER='rm -rf ~' git log",
        "env GIT_PAGER='rm -rf ~' git log",
        "MANPAGER='rm -rf /' man ls",
        "GIT_EXTERNAL_DIFF='rm -rf ~' git diff",
        "GIT_SSH_COMMAND='rm -rf ~' git fetch",
        "sudo EDITOR='rm -rf ~' visudo",
        "LESSOPEN='|rm -rf ~ %s' less notes.txt",
        "git -c core.pager='rm -rf ~' log",
        "git -c CORE.PAGER='rm -rf ~' log",
        "git -c alias.x='!rm -rf ~' x",
        "git -c core.sshCommand='rm -rf ~' fetch",
        "git -c diff.x.textconv='rm -rf ~' diff",
        "git -c filter.lfs.smudge='rm -rf ~' checkout .",
        "git -c credential.helper='!rm -rf ~' push",
        "git fetch --upload-pack='rm -rf ~' origin",
        "git config core.pager 'rm -rf ~'",
        "git config --global alias.x '!rm -rf ~'",
        "ssh -o ProxyCommand='rm -rf ~' host",
        "ssh -oProxyCommand='rm -rf ~' host",
        "ssh -o 'proxycommand rm -rf ~' host",
        "ssh -vo 'LocalCommand rm -rf ~' host",
        "scp -o RemoteCommand='rm -rf ~' a host:b",
        "sftp -S 'rm -rf ~' host",
        "rsync -e 'rm -rf ~' a host:b",
        "rsync --rsh='rm -rf ~' a host:b",
        "rsync --rsync-path 'rm -rf ~' a host:b",
        "tar --to-command='rm -rf ~' -xf a.tar",
        "tar -I 'rm -rf ~' -xf a.tar",
        "sort --compress-program='rm -rf ~' big.txt",
        "echo 'rm -rf ~' | ssh host",
        "printf 'rm -rf ~\\n' | ssh -p 2222 -l me host",
        "ssh host <<< 'rm -rf ~'",
        "timeout 5 ssh -o ProxyCommand='rm -rf ~' host",
    ],
)
def test_a_carried_command_meets_the_floor(tmp_path: Path, command: str) -> None:
    action, reason = decide(tmp_path, command)
    assert action == "deny", reason
    assert "safety floor" in reason


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("BASH_ENV=setup.sh bash -c ls", "BASH_ENV"),
        ("LD_PRELOAD=./evil.so ls", "LD_PRELOAD"),
        ("env GIT_CONFIG_PARAMETERS=\"'core.pager=x'\" git log", "GIT_CONFIG_PARAMETERS"),
        ("GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.pager git log", "GIT_CONFIG"),
        ("git -c include.path=/tmp/more.cfg status", "include.path"),
        ("git -c core.hooksPath=hooks commit -m x", "core.hookspath"),
        ("git --config-env=core.pager=MYPAGER log", "core.pager"),
        ("ssh host < script.sh", "file"),
    ],
)
def test_code_that_cannot_be_seen_asks_even_in_auto(tmp_path: Path, command: str, why: str) -> None:
    action, reason = decide(tmp_path, command)
    assert action == "ask", reason
    assert why in reason and "even in auto mode" in reason


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("PAGER='curl evil.example' git log", "shell(curl *)"),
        ("ssh -o ProxyCommand='nc evil 80' host", "shell(nc *)"),
        ("git -c core.sshCommand='curl x' push", "shell(curl *)"),
        ("echo 'git push --force' | ssh host", "shell(git push *)"),
    ],
)
def test_deny_rules_see_the_carried_command(tmp_path: Path, command: str, rule: str) -> None:
    action, reason = decide(tmp_path, command, deny=(rule,))
    assert action == "deny", reason
    assert rule in reason


@pytest.mark.parametrize(
    "command",
    [
        "git -c pager.log=false log",
        "git -c color.ui=always log",
        "ssh -o ProxyCommand=none host ls",
        "ssh host ls",
        "echo 'rm -rf ~' | ssh -n host true",
        "echo 'rm -rf ~' | ssh -N -L 8080:x:80 host",
        "PAGER=cat git log",
        "EDITOR=vim git commit",
        "NODE_ENV=test npm test",
        "rsync -a src/ host:dst/",
    ],
)
def test_ordinary_lines_still_run_in_auto(tmp_path: Path, command: str) -> None:
    action, reason = decide(tmp_path, command)
    assert action == "allow", reason


def test_ssh_with_no_host_runs_no_script() -> None:
    seen = effective_commands("echo 'rm x' | ssh -v")
    assert ["rm", "x"] not in seen.commands and seen.unknown == []


def test_the_carried_text_is_followed_through_its_own_launchers() -> None:
    seen = effective_commands("GIT_PAGER='sudo -u bob rm -rf /srv' git log")
    assert ["rm", "-rf", "/srv"] in seen.commands


@pytest.mark.parametrize(
    ("command", "not_a_command"),
    [("git -c pager.log=false log", "false"), ("ssh -o ProxyCommand=none host", "none")],
)
def test_a_switch_value_is_not_taken_for_a_command(command: str, not_a_command: str) -> None:
    assert [not_a_command] not in effective_commands(command).commands


@pytest.mark.parametrize(
    "command",
    [
        "python3 -c \"import os; os.system('rm -rf ~')\"",
        "python3 -W ignore -Ic \"import os; os.system('rm -rf ~')\"",
        "python -c\"import subprocess; subprocess.run('rm -rf /', shell=True)\"",
        "perl -e 'system(\"rm -rf ~\")'",
        "perl -lne 'system(\"rm -rf ~\")' list.txt",
        "perl -i.bak -pe '`rm -rf ~`' notes.txt",
        "ruby -e 'system(\"rm -rf ~\")'",
        "node -e \"require('child_process').execSync('rm -rf ~')\"",
        "php -r 'shell_exec(\"rm -rf ~\");'",
        "awk 'BEGIN { system(\"rm -rf ~\") }'",
        "gawk -v x=1 -- 'BEGIN { system(\"rm -rf /\") }'",
        "vim -c '!rm -rf ~' -c q",
        "vim '+silent !rm -rf ~'",
        "nvim -c 'call system(\"rm -rf ~\")'",
    ],
)
def test_a_shell_out_in_a_one_line_program_meets_the_floor(tmp_path: Path, command: str) -> None:
    action, reason = decide(tmp_path, command)
    assert action == "deny", reason


@pytest.mark.parametrize(
    "command",
    [
        "python -c 'print(1 != 2)'",
        "python -c \"import os; home = '$HOME'; pattern = '*.py'\"",
        "python script.py -c 'rm -rf ~'",
        "python -m pytest -c 'rm -rf ~'",
        "perl -lne 'print \"$1\" if /x/' list.txt",
        "awk -F: '{ print $1 }' list.txt",
        "awk -f prog.awk 'rm -rf ~'",
        "vim -c 'set nu' notes.txt",
    ],
)
def test_a_one_line_program_without_a_shell_out_still_runs(tmp_path: Path, command: str) -> None:
    """Strings in a program are followed only for what they would run: what cannot be seen
    in them (``$HOME`` in a print) is no doubt, and a script's own words are not a program."""
    action, reason = decide(tmp_path, command)
    assert action == "allow", reason
