"""Known-safe verdicts the mutation report (tests/mutation/run.py) found untested: per
command line, the first reason it is not known-safe, word for word, or ``None`` when it runs
unasked. Unlike tests/tools/test_knownsafe.py, the checker is asked even for lines the
parser calls not plain (it is the second wall: it must refuse them on its own)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.tools.knownsafe import KnownSafe
from app.tools.shellparse import parse_command


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "README.md").write_text("# R\n")
    (root / "src" / "main.py").write_text("x\n")
    (root / "link-out").symlink_to("/etc/passwd")
    return root


def why(workspace: Path, command: str) -> str | None:
    """The first reason a command of the line is not known-safe, or ``None``."""
    verdicts = KnownSafe(workspace).check_parsed(parse_command(command))
    return next((reason for reason in verdicts if reason), None)


FOUR_CDS = "cd a && cd b && cd c && cd d"  # each cd doubles the places paths count from

VERDICTS: list[tuple[str, str | None]] = [
    # --- the whole line (check.py)
    ("cat {a,b}", "it holds a brace expansion"),
    ("cat [ab].txt", "it holds a [ ] pattern that bash matches in its own way"),
    ("timeout 5 git status", "a wrapper in front of git would run it past the read-only settings"),
    ("timeout 5 cat README.md", None),
    ("nice git log", "a wrapper in front of git would run it past the read-only settings"),
    ("'cat' README.md", None),  # a quoted name is still the command
    ("'time' cat README.md", "time is not on the known-safe list"),  # the program, not the keyword
    ("cd a && cd b && cd c && cat README.md", None),  # eight places: still followed
    (f"{FOUR_CDS} && cat README.md", "too many changes of directory to follow"),
    (f"{FOUR_CDS} && c*t README.md", "c*t is not on the known-safe list"),
    ("sed -n p src/*.py", "sed with an unquoted glob is not known to be safe"),
    ("date -r src/*.py", "date with an unquoted glob is not known to be safe"),
    ("find src* -name x", None),  # a glob may name starting points
    ("find src -name *.py", "find with an unquoted glob in its expression (quote the pattern)"),
    ("git log src/*.py", None),  # git reads the paths; each match is checked
    # --- sed, date and find (commands.py)
    ("date -r/etc/passwd", "/etc/passwd leads outside the workspace"),
    ("date --reference=/etc/passwd=x", "/etc/passwd=x leads outside the workspace"),
    ("find -H /etc", "/etc leads outside the workspace"),
    # `(` and `!` begin the expression: what follows is not a starting point
    ("find '(' /etc", "find /etc is not known to be safe (it may run, delete or write)"),
    ("find ! /etc", "find /etc is not known to be safe (it may run, delete or write)"),
    ("find -name x", None),
    ("sed --expression 'w x' README.md", "the sed script 'w x' does more than print"),
    ("sed -n '--expression=w out=p' README.md", "the sed script 'w out=p' does more than print"),
    ("sed --expression", None),  # sed itself says the script is missing
    ("sed --expression /x/p README.md", None),  # /x/p is the script (print lines with x)
    ("sed -n --expression /x/p README.md", None),
    ("sed -", "the sed script '-' does more than print"),
    ("sed -nErsuz 1p README.md", None),
    ("sed -X 1p README.md", "sed -X is not known to be safe (it may edit, write or run)"),
    # --- options and operands against the table (options.py)
    ("grep /etc README.md", None),  # the pattern is text, not a file
    ("grep *.md README.md", "the pattern *.md could expand to file names"),
    ("grep x /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("grep -e /etc README.md", None),  # so is a pattern given to -e
    ("diff README.md src", "diff with a folder reads files of the other name inside it"),
    ("pwd -", "pwd takes no operands here"),  # a lone - is an operand
    ("uniq README.md -", "uniq with 2 operands may write a file"),
    ("cat --help /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("head -5 /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("cat -nX README.md", "cat -X is not known to be safe"),
    # --- file operands (paths.py)
    ("cd -- src && cat main.py", None),
    ("cat /dev/null /dev/stdin", None),
    ("cat ../nothing*", "../nothing* leads outside the workspace"),  # no match: the text
    ("cat link-*", "link-* leads outside the workspace"),  # each match, found from the cwd
    ("cd src && cat ../link-*", "../link-* leads outside the workspace"),
]


#: Wrappers in front of a command (wrappers.py): stripped only in the forms that run nothing
#: else and write nothing; the command after them is judged on its own.
WRAPPED: list[tuple[str, str | None]] = [
    ("time cat README.md", None),
    ("time -p cat README.md", None),
    ("time -p", "time without a command"),
    ("time", "time is not on the known-safe list"),
    ("time -x cat", "-x is not on the known-safe list"),  # time takes -p only
    ("time c*t README.md", "c*t is not on the known-safe list"),
    ("nohup", "nohup is not on the known-safe list"),
    ("nohup cat README.md", None),
    ("nohup -- cat README.md", None),
    ("nohup --", "nohup without a command"),
    ("'nice' cat README.md", None),  # quoted, nice is still the program nice
    ("nice cat README.md", None),
    ("nice -n 5 cat README.md", None),
    ("nice -n -5 ls", None),
    ("nice -n +5 ls", None),
    ("nice -n x cat README.md", "nice -n is not known to be safe"),
    ("nice -n", "nice -n is not known to be safe"),
    ("nice -n 5", "nice without a command"),
    ("nice -5 cat README.md", None),
    ("nice -x ls", "nice -x is not known to be safe"),
    ("nice --adjustment=-3 cat README.md", None),
    ("nice --adjustment=5 ls", None),
    ("nice --adjustment=x cat README.md", "nice --adjustment=x is not known to be safe"),
    ("timeout 5 cat README.md", None),
    ("timeout 1.5 ls", None),
    ("timeout 1.5m cat README.md", None),
    ("timeout 5d ls", None),
    ("timeout .5 ls", "timeout without a plain duration"),
    ("timeout 5x ls", "timeout without a plain duration"),
    ("timeout cat README.md", "timeout without a plain duration"),
    ("timeout 5", "timeout without a command"),
    ("timeout -k 1 5", "timeout without a command"),
    ("timeout -s KILL", "timeout without a plain duration"),
    ("timeout -s", "timeout -s is not known to be safe"),
    ("timeout -s KILL 5 cat README.md", None),
    ("timeout -s ABCDEFGHIJ 5 ls", None),
    ("timeout -s ABCDEFGHIJK 5 ls", "timeout -s ABCDEFGHIJK is not known to be safe"),
    ("timeout -s 'K;L' 5 cat README.md", "timeout -s K;L is not known to be safe"),
    ("timeout -k 1s 5 cat README.md", None),
    ("timeout -k x 5 cat README.md", "timeout -k x is not known to be safe"),
    ("timeout -k 1 -s 9 5 ls", None),
    ("timeout -k 1 --foreground 5 ls", None),
    ("timeout --foreground 5 cat README.md", None),
    ("timeout --preserve-status 5 ls", None),
    ("timeout -v 5 ls", None),
    ("timeout --verbose 5 ls", None),
    ("timeout --signal=TERM 5 cat README.md", None),
    ("timeout --signal=K+L 5 ls", "timeout --signal=K+L is not known to be safe"),
    ("timeout --kill-after=2 5 cat README.md", None),
    ("timeout --kill-after=1.5s 5 ls", None),
    ("timeout --kill-after=x 5 ls", "timeout --kill-after=x is not known to be safe"),
    ("timeout -x 5 cat README.md", "timeout -x is not known to be safe"),
    ("time nice -n 1 timeout 5 cat README.md", None),
    ("timeout 5 cat /etc/passwd", "/etc/passwd leads outside the workspace"),
]


@pytest.mark.parametrize(("command", "expected"), WRAPPED)
def test_wrappers(workspace: Path, command: str, expected: str | None) -> None:
    assert why(workspace, command) == expected


@pytest.mark.parametrize(("command", "expected"), VERDICTS)
def test_verdicts(workspace: Path, command: str, expected: str | None) -> None:
    assert why(workspace, command) == expected


def test_plain_word_lists_count_a_glob_character_as_a_glob(workspace: Path) -> None:
    checker = KnownSafe(workspace)
    assert checker.check([["ls", "-*"]]) == ["-* could expand to other options"]
    assert checker.check([["ls", "-l"], ["cat", "src/*.py"]]) == [None, None]


# --- git (git.py): the repository a read would use, found and judged as git finds it

BAD = "[core]\n\tfsmonitor = touch PWNED\n"
BAD_WHY = "the repository config sets core.fsmonitor, which may run code"


def git_dir(path: Path, config: str = "", *, objects: bool = True, refs: bool = True) -> Path:
    """A repository directory made by hand: HEAD, objects/ and refs/ as asked, a config."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "HEAD").write_text("ref: refs/heads/main\n")
    if objects:
        (path / "objects").mkdir()
    if refs:
        (path / "refs").mkdir()
    if config:
        (path / "config").write_text(config)
    return path


GIT_VERDICTS: list[tuple[str, str | None]] = [
    ("git log -*", "git with a glob among its options"),
    (
        "git log --format=%GS",  # %G asks gpg to check signatures: it runs a program
        "git log --format=%GS may write, run a program or read outside the repository",
    ),
    ("git log --format=%gd", None),  # %g… is the reflog: text only
    ("git log --grep=a/../../..", None),  # an option's value is text, not a path
    ("git diff -- README.md", None),
    (
        "git diff --outp=x=y",  # a prefix git takes for --output, with an = in the value
        "git diff --outp=x=y may write, run a program or read outside the repository",
    ),
    ("git log --t", "git log --t may write, run a program or read outside the repository"),
]


@pytest.mark.parametrize(("command", "expected"), GIT_VERDICTS)
def test_git_verdicts(workspace: Path, command: str, expected: str | None) -> None:
    git_dir(workspace / ".git")
    assert why(workspace, command) == expected


def test_a_read_below_a_repository_uses_it(workspace: Path) -> None:
    # Every place a path may count from is judged; the workspace itself holds no repository.
    git_dir(workspace / "src" / ".git", BAD)
    (workspace / "src" / "deep" / "er").mkdir(parents=True)
    assert why(workspace, "cd src/deep/er && git log") == BAD_WHY
    assert why(workspace, "cd docs && git log") is None


def test_a_folder_named_git_that_git_would_skip_is_skipped(workspace: Path) -> None:
    git_dir(workspace / "src" / ".git", BAD)
    inner = workspace / "src" / "inner"
    (inner / ".git").mkdir(parents=True)  # empty: not a repository, git looks further up
    assert why(workspace, "cd src/inner && git status") == BAD_WHY
    git_dir(inner / ".git", objects=False, refs=False)  # HEAD alone is not one either
    assert why(workspace, "cd src/inner && git status") == BAD_WHY
    (inner / ".git" / "objects").mkdir()  # HEAD and objects but no refs: still not
    assert why(workspace, "cd src/inner && git status") == BAD_WHY
    (inner / ".git" / "refs").mkdir()  # now it is, and its own config is clean
    assert why(workspace, "cd src/inner && git status") is None


def test_a_git_dir_with_a_commondir_is_a_repository_and_reads_both_configs(
    workspace: Path,
) -> None:
    main = git_dir(workspace / "main-git")
    linked = git_dir(workspace / "src" / ".git", objects=False, refs=False)
    (linked / "commondir").write_text("../../main-git\n")
    assert why(workspace, "cd src && git status") is None
    (main / "config.worktree").write_text(BAD)  # the common dir's worktree config
    assert why(workspace, "cd src && git status") == BAD_WHY
    (main / "config.worktree").unlink()
    (linked / "config").write_text(BAD)  # and the worktree's own config, as well
    assert why(workspace, "cd src && git status") == BAD_WHY


@pytest.mark.parametrize(
    ("commondir", "expected"),
    [
        (b"\n", "a commondir git would read differently"),
        (b"../../main-git \n", "a commondir git would read differently"),
        (b"../../main-git\n../../other\n", "a commondir git would read differently"),
        (b"../../main-git\xff\n", "an unreadable commondir"),
        (b"../../mainX\n", BAD_WHY),  # a name ending in X: only the newline is cut off
    ],
)
def test_a_commondir_is_read_exactly_or_not_trusted(
    workspace: Path, commondir: bytes, expected: str
) -> None:
    git_dir(workspace / "mainX", BAD)
    git_dir(workspace / "main-git")
    linked = git_dir(workspace / "src" / ".git", objects=False, refs=False)
    (linked / "commondir").write_bytes(commondir)
    assert why(workspace, "cd src && git status") == expected


@pytest.mark.parametrize(
    "content",
    ["gitdir:  ../evil\n", "gitdir: ../ev\ril\n", "gitdir: ../evil\n../other\n"],
)
def test_a_git_file_git_would_read_literally_is_not_followed(workspace: Path, content: str) -> None:
    git_dir(workspace / "evil")
    (workspace / "src" / ".git").write_bytes(content.encode())
    assert why(workspace, "cd src && git status") == "a .git file git cannot follow safely"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('[user]\n\tname = "a\\nb"\n', None),  # a value over two lines: the key is user.name
        ("[user]\n\tname = ext::sh -c touch\n", None),  # a transport only matters in a URL
        (
            '[remote "x"]\n\turl = ext::sh -c touch% PWNED\n',
            "the repository config names a remote that runs a program (remote.x.url)",
        ),
        (
            '[remote "x"]\n\turl = FD::3\n',
            "the repository config names a remote that runs a program (remote.x.url)",
        ),
        ("[core\n", "is not a config git can read"),
    ],
)
def test_each_setting_of_a_repository_config_is_judged(
    workspace: Path, config: str, expected: str | None
) -> None:
    git_dir(workspace / ".git", config)
    found = why(workspace, "git status")
    if expected is None or found is None:
        assert found == expected
    else:
        assert found.endswith(expected)


def test_without_git_to_read_the_config_a_repository_is_not_trusted(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    git_dir(workspace / ".git", "[user]\n\tname = x\n")
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    assert why(workspace, "git status") == "git is not installed to read the repository's config"


def test_with_no_path_set_git_is_found_where_the_system_keeps_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_dir(workspace / ".git", "[user]\n\tname = x\n")
    monkeypatch.delenv("PATH")
    assert why(workspace, "git status") is None
    (workspace / ".git" / "config").write_text(BAD)
    assert why(workspace, "git status") == BAD_WHY


def test_a_git_that_does_not_answer_in_time_leaves_the_repository_untrusted(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app.tools.knownsafe import git

    config = git_dir(workspace / ".git", "[user]\n\tname = x\n") / "config"
    programs = tmp_path / "bin"
    programs.mkdir()
    (programs / "git").write_text(f"#!/bin/sh\nexec {shutil.which('sleep')} 30\n")
    (programs / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(programs))
    monkeypatch.setattr(git, "_GIT_CONFIG_SECONDS", 0.3)
    assert why(workspace, "git status") == f"{config} cannot be read"


def test_a_lone_dash_is_standard_input_whatever_a_file_of_that_name_is(workspace: Path) -> None:
    (workspace / "-").symlink_to("/etc/passwd")
    assert why(workspace, "cat -") is None
    assert why(workspace, "cat ./-") == "./- leads outside the workspace"


def test_plain_words_with_a_home_or_a_brace_list_are_not_proven(workspace: Path) -> None:
    # Word lists carry no quoting facts, so the path check itself refuses what bash expands.
    checker = KnownSafe(workspace)
    assert checker.check([["cat", "~/x"]]) == ["~/x is in a home directory, outside the workspace"]
    assert checker.check([["cat", "{a,b}"]]) == ["{a,b} would be brace-expanded"]
    assert checker.check([["cat", "x{1..3}"]]) == ["x{1..3} would be brace-expanded"]
    assert checker.check([["cat", "{x}", "a{}"]]) == [None]  # bash leaves these as they are
    assert checker.check([["cat", "a\0b"]]) == [
        "it holds control or direction characters that hide what it says"
    ]
