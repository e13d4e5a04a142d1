"""Bypasses a red-team pass found in the first gate, each kept here as a regression test
(with variants), at the level where the decision is made."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from app.config import ApprovalConfig
from app.tools.knownsafe import KnownSafe
from app.tools.policy import ApprovalPolicy
from app.tools.registry import builtin_registry
from app.tools.safety import floor_violation
from app.tools.shellparse import effective_commands, parse_command


def known_safe(root: Path, command: str) -> bool:
    parsed = parse_command(command)
    verdicts = KnownSafe(root).check_parsed(parsed)
    return parsed.plain and bool(verdicts) and all(v is None for v in verdicts)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "README.md").write_text("x\n")
    (root / "src" / "main.py").write_text("x\n")
    (root / "docs" / "a1.md").write_text("1\n")
    (root / "docs" / "a2.md").write_text("2\n")
    return root


@pytest.mark.parametrize(
    "command",
    [
        "find README.md -name {README.md,-exec,touch,PWNED,\\;,-quit}",
        "find src -name {main.py,-delete}",
        "sort -k {1,-oPWNED} README.md",
        "grep -h -e {root,/etc/passwd}",
        "cut -d {x,/etc/passwd} README.md",
        "printf -v PATH %s .",
        "printf -v GIT_CONFIG_VALUE_0 %s x",
        "\\time --output=.git/config true",
        "'time' -o x true",
        "nice --adjustment=1 -n 1 ls",
        "timeout --kill-after=1 -s KILL --bogus 5 ls",
        "grep root --color /etc/passwd",
        "diff README.md --unified /etc/passwd",
        "ls -a --color /root",
        "uniq README.md --group PWNED",
        "uniq docs/a?.md",
        "find . -name *",
        "cat -- $'/etc/passwd'",
        "sort -k * README.md",
    ],
)
def test_known_safe_lookalikes(ws: Path, command: str) -> None:
    assert not known_safe(ws, command)


def test_cd_is_judged_logically_and_physically(ws: Path) -> None:
    deep = ws / "a" / "b" / "c" / "d" / "e" / "f"
    deep.mkdir(parents=True)
    (ws / "l").symlink_to(deep)
    # The kernel would land back in the workspace; bash's logical cd lands far above it.
    climbing = "cd l/../../../../../.. && cat etc/passwd"
    assert not known_safe(ws, climbing)
    assert known_safe(ws, "cd src && cat main.py")


def test_many_cds_are_quick_and_not_proven(ws: Path) -> None:
    command = "cd a ; cd b ; " * 12 + "cat README.md"  # 2**24 places if all were followed
    started = time.monotonic()
    assert not known_safe(ws, command)
    assert time.monotonic() - started < 2.0


def test_huge_brace_lists_do_not_crash() -> None:
    command = "echo " + "{a,b}" * 1500
    assert floor_violation(command) is None
    effective_commands(command)  # no RecursionError


def _git(*argv: str, cwd: Path) -> None:
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), "PATH": os.environ["PATH"]}
    subprocess.run(["git", *argv], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.mark.parametrize(
    "config",
    [
        '[user]\n\tname = a\n[filter "x\x1cy"]\n\tclean = touch PWNED; cat\n',
        '[remote "origin"]\n\turl = ext::sh -c touch% PWNED\n\tpromisor = true\n',
        "[protocol]\n\tallow = always\n",
        "[extensions]\n\tpartialclone = origin\n",
        "[diff]\n\texternal = touch PWNED\n",
        "[log]\n\tshowsignature = true\n",
        "[include]\n\tpath = elsewhere\n",
    ],
)
def test_a_repository_config_that_could_run_code_makes_git_ask(ws: Path, config: str) -> None:
    _git("init", "-q", cwd=ws)
    with (ws / ".git" / "config").open("a") as handle:
        handle.write(config)
    assert not known_safe(ws, "git status")
    assert not known_safe(ws, "git log -p")


def test_an_ordinary_clone_config_is_fine(ws: Path) -> None:
    _git("init", "-q", cwd=ws)
    _git("remote", "add", "origin", "https://example.invalid/x.git", cwd=ws)
    _git("config", "branch.main.remote", "origin", cwd=ws)
    assert known_safe(ws, "git status")


@pytest.mark.parametrize(
    "command",
    [
        "dd if=/dev/zero of=//dev/sda",
        "cat /dev/zero > //dev/sda",
        "tee //dev/nvme0n1 < x",
        "cp x /dev/block/8:0",
        "cat x > /dev/sg0",
        "function f { f|f& }; f",
        "bomb() { bomb | bomb & }; bomb",
        "rm --r ~",
        "rm --recur -f /",
        "chmod -fR 000 ~",
        "chown --rec x /",
        "rm -rf /usr/*",
        "cd / && rm -rf usr",
        "coproc rm -rf ~; wait",
        "shopt -s expand_aliases\nalias x='rm -rf ~'\nx",
        "sudo -s 'rm -rf ~'",
        "flock -xc 'rm -rf ~' /tmp/lock",
        "env -vS'rm -rf /'",
        "stdbuf --output L rm -rf ~",
        "rm -rf ~root",
    ],
)
def test_the_floor_variants(command: str) -> None:
    assert floor_violation(command) is not None, command


def _policy(ws: Path, **rules: list[str]) -> ApprovalPolicy:
    return ApprovalPolicy(ApprovalConfig(mode="auto", **rules), ws)


@pytest.mark.parametrize(
    ("rule", "command"),
    [
        ("shell(git status *)", "git -C . status"),
        ("shell(git push *)", "git --no-pager push"),
        ("shell(npm publish *)", "npm --prefix . publish"),
        ("shell(git push *)", "git -c x=y -C . push origin"),
    ],
)
def test_deny_rules_see_past_global_options(ws: Path, rule: str, command: str) -> None:
    tool = builtin_registry().get("shell")
    decision = _policy(ws, deny=[rule]).evaluate(tool, tool.parse_args({"command": command}))
    assert decision.action == "deny", decision


def test_protected_folders_are_protected_in_any_case(ws: Path) -> None:
    tool = builtin_registry().get("write_file")
    args = tool.parse_args({"path": ".GIT/config", "content": "x"})
    assert _policy(ws).evaluate(tool, args).action == "ask"


# --------------------------------------------------------------------------- second pass


@pytest.mark.parametrize(
    "command",
    [
        "cd -e && cat secret.txt",
        "cd -Pe && cat x",
        "cd -LP && cat x",
        "cat $[PATH=0] README.md",
        "cat $((1)) README.md",
        "cat l[^x]nk",
        "cat l[[:alpha:]]nk",
        "cat a=~/passwd",
        "cd a=~ && cat passwd",
        "find -H ')' -maxdepth 1 -ls",
        "find , -maxdepth 1 -ls",
        "diff docs README.md",
        "nice git status",
        "timeout 9 git status",
        "nohup git diff",
        "git status --ignore-submodules=none",
        "git diff --submodule=diff",
        "git log --show-signature",
        "git log --format=%G?",
        "git log --recurse-submodules",
    ],
)
def test_second_pass_known_safe_lookalikes(ws: Path, command: str) -> None:
    (ws / "lank").symlink_to("/etc/passwd")
    (ws / "docs" / "README.md").symlink_to("/etc/passwd")
    (ws / ")").symlink_to("/etc")
    (ws / ",").symlink_to("/etc")
    assert not known_safe(ws, command)


def test_git_skips_an_invalid_inner_git_dir_and_so_do_we(ws: Path) -> None:
    _git("init", "-q", cwd=ws)
    with (ws / ".git" / "config").open("a") as handle:
        handle.write('[filter "x"]\n\tclean = touch PWNED; cat\n')
    (ws / "a" / "b" / ".git").mkdir(parents=True)  # not a repository: git looks further up
    assert not known_safe(ws, "cd a/b && git diff")


@pytest.mark.parametrize("content", ["gitdir:  evil/.git\n", "gitdir: evil/.git\nmore\n"])
def test_a_git_file_is_read_as_git_reads_it(ws: Path, content: str) -> None:
    (ws / "w").mkdir()
    (ws / "w" / ".git").write_text(content)
    assert not known_safe(ws, "cd w && git status")


@pytest.mark.parametrize(
    "command",
    [
        "cd -e && rm -rf *",
        "pushd ~ && rm -rf *",
        "time -p rm -rf ~",
        "time -- rm -rf /",
        "rbash -c 'rm -rf ~'",
        "tcsh -c 'rm -rf ~'",
        "busybox ash -c 'rm -rf ~'",
        "echo 'rm -rf ~' | bash /dev/stdin",
        "echo 'rm -rf ~' | source /dev/stdin",
        "echo 'rm -rf ~' | . /dev/stdin",
        "echo 'rm -rf ~' | bash /proc/self/fd/0",
        "find -H ~ -delete",
        "find -L / -delete",
        "find -O3 ~ -delete",
        "find -D tree ~ -delete",
        "watch rm -rf ~",
        "/lib64/ld-linux-x86-64.so.2 /bin/rm -rf ~",
        "tmux new -d 'rm -rf ~'",
        "screen -dm rm -rf ~",
        "echo 'rm -rf ~' | at now",
        "flatpak-spawn --host rm -rf ~",
    ],
)
def test_second_pass_floor_spellings(ws: Path, command: str) -> None:
    """Each is refused by the floor, or (where the place cannot be known) asks in auto."""
    from app.tools.safety import floor_check

    hit, doubts = floor_check(command, ws)
    assert hit is not None or doubts, command


def test_relative_targets_count_from_the_workspace(ws: Path) -> None:
    from app.tools.safety import floor_check

    climb = "../" * (len(ws.parts) + 2)
    assert floor_check(f"rm -rf {climb}*", ws)[0] is not None
    assert floor_check("cd ../../../../../../../.. && rm -rf usr", ws)[0] is not None
    assert floor_check("rm -rf build ./dist *", ws)[0] is None  # the workspace's own business


@pytest.mark.parametrize(
    "command", ["cd ${HOME:-/} && rm -rf *", "cd `echo ~` && rm -rf *", "popd; rm -rf *",
                "CDPATH=/ cd root && rm -rf *"]
)  # fmt: skip
def test_destruction_after_a_cd_that_cannot_be_followed_asks_in_auto(
    ws: Path, command: str
) -> None:
    tool = builtin_registry().get("shell")
    decision = _policy(ws).evaluate(tool, tool.parse_args({"command": command}))
    assert decision.action in ("ask", "deny"), decision


@pytest.mark.parametrize("word", ["nice", "env", "xargs", "sudo", "timeout 1"])
def test_deep_launcher_chains_are_quick(word: str) -> None:
    started = time.monotonic()
    effective_commands(f"{word} " * 40 + "true")
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("rule", "command"),
    [("shell(rm *)", "time -p rm x"), ("shell(rm *)", "rbash -c 'rm x'"),
     ("shell(rm *)", "echo 'rm x' | bash /dev/stdin"),
     ("shell(rm *)", "tmux new-session -d 'rm x'"),
     ("shell(rm *)", "/lib64/ld-linux-x86-64.so.2 /bin/rm x")],
)  # fmt: skip
def test_second_pass_deny_rules(ws: Path, rule: str, command: str) -> None:
    tool = builtin_registry().get("shell")
    decision = _policy(ws, deny=[rule]).evaluate(tool, tool.parse_args({"command": command}))
    assert decision.action == "deny", decision


@pytest.mark.parametrize(
    ("command", "floor"),
    [("watch rm -rf /", True), ("watch -n 1 rm -rf ~", True), ("watch -n 1 -d rm -rf /", True),
     ("rm -rf ~bob", True), ("dd if=/dev/sda of=backup.img", False),
     ("dd if=backup.img of=/dev/sda", True)],
)  # fmt: skip
def test_found_by_the_tests_branch(command: str, floor: bool) -> None:
    assert (floor_violation(command) is not None) is floor, command
