"""Known-safe commands, one verdict each, in a workspace with a README, ``src/`` and a link
out: ``None`` when the command may run unasked, else the reason it asks, word for word.
The in-process twin of tests/security/test_known_safe_e2e.py (fast enough for mutation
testing, tests/mutation/run.py)."""

from __future__ import annotations

import subprocess
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


def verdict(workspace: Path, command: str) -> str | None:
    """Why the line is not known-safe (its first command that is not), or ``None``."""
    parsed = parse_command(command)
    if not parsed.plain:
        return "not plain: " + ", ".join(parsed.reasons)
    return next((why for why in KnownSafe(workspace).check_parsed(parsed) if why), None)


VERDICTS: list[tuple[str, str | None]] = [
    ("cat -- -X", None),  # after --, a word that looks like an option is a file name
    ("grep -e x -- -y", None),
    ("cat -n README.md", None),
    ("cat -X README.md", "cat -X is not known to be safe"),
    ("cat --number README.md", None),
    ("cat --number=3 README.md", "cat --number takes no value"),
    ("cat --frob README.md", "cat --frob is not known to be safe"),
    ("cat /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("cat link-out", "link-out leads outside the workspace"),
    ("cat ~/x", "it holds a ~ that bash would expand to a home directory"),
    ("cat {a,b}", "not plain: brace expansion"),
    ("cat *", "* could expand to a name that reads as an option"),
    ("cat src/*.py", None),
    ("head -n 3 README.md", None),
    ("head -n x README.md", "head -n: 'x' is not a number"),
    ("head -3 README.md", None),
    ("head --lines=3 README.md", None),
    ("head --lines README.md", "head --lines: 'README.md' is not a number"),
    ("head --lines", "head --lines: it needs a value"),
    ("head -n", "head -n: it needs a value"),
    ("tail -c5 README.md", None),
    ("wc -l README.md", None),
    ("wc --total=never README.md", None),
    ("wc --help", None),
    ("wc --version=1", "wc --version is not known to be safe"),
    ("nl -bt README.md", None),
    ("nl -nln README.md", None),
    ("nl -n1 README.md", "nl -n: '1' is not a plain word"),
    ("nl -w 3 README.md", None),
    ("nl -w x README.md", "nl -w: 'x' is not a number"),
    ("uniq README.md", None),
    ("uniq README.md out", "uniq with 2 operands may write a file"),
    ("sort -o out README.md", "sort -o is not known to be safe"),
    ("sort -k 2 README.md", None),
    (
        "sort -S 1 --compress-program=touch README.md",
        "sort --compress-program is not known to be safe",
    ),
    ("ls -la src", None),
    ("ls -L", "ls -L is not known to be safe"),
    ("ls -w 80", None),
    ("ls -w x", "ls -w: 'x' is not a number"),
    ("ls --color=auto", None),
    ("ls --all=1", "ls --all takes no value"),
    ("tree -o out", "tree -o is not known to be safe"),
    ("tree -L 2", None),
    ("file -C -m x", "file -C is not known to be safe"),
    ("file -m README.md", None),
    ("file -m /etc/magic", "file -m: /etc/magic leads outside the workspace"),
    ("du -sh src", None),
    ("du -L", "du -L is not known to be safe"),
    ("du -X /etc/x", "du -X: /etc/x leads outside the workspace"),
    ("df -h", None),
    (
        "realpath --relative-to=/etc README.md",
        "realpath --relative-to: /etc leads outside the workspace",
    ),
    ("pwd", None),
    ("pwd src", "pwd takes no operands here"),
    ("whoami", None),
    ("whoami x", "whoami takes no operands here"),
    ("id -u", None),
    ("id -u a b", "id with 2 operands may write a file"),
    ("uname -a", None),
    ("uname x", "uname takes no operands here"),
    ("which ls", None),
    ("seq 3", None),
    ("base64 README.md", None),
    ("base64 README.md out", "base64 with 2 operands may write a file"),
    ("base64 -o out", "base64 -o is not known to be safe"),
    ("grep -rn hello src", None),
    ("grep -R root .", "grep -R is not known to be safe"),
    ("grep -e root /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("grep root", None),
    ("grep -f /etc/x y", "grep -f: /etc/x leads outside the workspace"),
    ("grep -f pats.txt README.md", None),
    ("grep --file=pats.txt README.md", None),
    ("grep -A 2 x README.md", None),
    ("grep -A x y README.md", "grep -A: 'x' is not a number"),
    ("grep -- -x README.md", None),
    ("grep - README.md", None),
    ("rg TODO", None),
    ("rg --pre sh x", "rg --pre is not known to be safe"),
    ("rg -z x", "rg -z is not known to be safe"),
    ("rg -e x /etc", "/etc leads outside the workspace"),
    ("rg --files", None),
    ("rg --files /etc", "/etc leads outside the workspace"),
    ("diff README.md src/main.py", None),
    ("diff README.md /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("diff -U 3 a b", None),
    ("diff --label=x a b", None),
    ("echo hi", None),
    ("printf '%s' x", None),
    ("printf -v x y", "printf -v is not known to be safe"),
    ("true", None),
    ("false", None),
    ("expr 1 + 2", None),
    ("tr a b", None),
    ("basename /etc/passwd", None),
    ("dirname /x/y", None),
    ("stat README.md", None),
    ("stat -c %s README.md", None),
    ("cut -d, -f1 README.md", None),
    ("paste -d, a b", None),
    ("rev README.md", None),
    ("python x.py", "python is not on the known-safe list"),
    ("cd src", None),
    ("cd", "cd needs exactly one directory"),
    ("cd -", "cd with an option it may read as going home"),
    ("cd /", "/ leads outside the workspace"),
    ("cd .. ", ".. leads outside the workspace"),
    ("cd src && cat main.py", None),
    ("cd -P src", None),
    ("cd a b", "cd needs exactly one directory"),
    ("sed -n 1,5p README.md", None),
    ("sed -i s/a/b/ f", "sed -i is not known to be safe (it may edit, write or run)"),
    ("sed -n 1p -e '1e touch X' README.md", "the sed script '1e touch X' does more than print"),
    ("sed -n '1w X' README.md", "the sed script '1w X' does more than print"),
    ("sed -ne 1p README.md", None),
    (
        "sed -n --expression='1 e touch X' README.md",
        "the sed script '1 e touch X' does more than print",
    ),
    ("sed --expression 1p README.md", None),
    ("sed -n", "sed without a script"),
    ("sed", "sed without a script"),
    ("sed -n 1p /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("sed --quiet 1p README.md", None),
    ("sed --in-place 1p f", "sed --in-place is not known to be safe (it may edit, write or run)"),
    ("sed -E -n '/x/p' README.md", None),
    ("sed -n '$p;1d' README.md", None),
    ("sed -z 1p README.md", None),
    ("sed -n -e", None),
    ("sed 1p -", None),
    ("date", None),
    ("date +%Y", None),
    ("date -u", None),
    ("date -s 2020", "date -s may set the clock or read a file"),
    ("date -d yesterday", None),
    ("date -d", None),
    ("date --date yesterday", None),
    ("date --date=now", None),
    ("date -r README.md", None),
    ("date -r /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("date -rREADME.md", None),
    ("date --reference=/etc/passwd", "/etc/passwd leads outside the workspace"),
    ("date --reference README.md", None),
    ("date -I", None),
    ("date --rfc-3339=date", None),
    ("date -R", None),
    ("find . -name '*.py'", None),
    ("find . -delete", "find -delete is not known to be safe (it may run, delete or write)"),
    ("find . -exec rm {} ;", "find -exec is not known to be safe (it may run, delete or write)"),
    ("find . -fprint X", "find -fprint is not known to be safe (it may run, delete or write)"),
    ("find /etc", "/etc leads outside the workspace"),
    ("find -H src -type f", None),
    ("find . -name", "find -name needs a value"),
    ("find . -newer /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("find . -newer README.md", None),
    ("find", None),
    ("find src docs -maxdepth 1", None),
    ("find . -printf %p", None),
    ("find . ! -empty", None),
    ("git status", None),
    ("git status -s", None),
    ("git log --oneline", None),
    (
        "git diff --ext-diff",
        "git diff --ext-diff may write, run a program or read outside the repository",
    ),
    (
        "git -c core.pager=x log",
        "only git status, log, diff, show and branch (listing) are known-safe",
    ),
    ("git branch", None),
    ("git branch -D main", "git branch that does more than list"),
    ("git push", "only git status, log, diff, show and branch (listing) are known-safe"),
    ("git --no-pager log", None),
    ("git -P status", None),
    ("git --no-optional-locks status", None),
    ("git", "only git status, log, diff, show and branch (listing) are known-safe"),
    (
        "git diff --output=X",
        "git diff --output=X may write, run a program or read outside the repository",
    ),
    ("git show HEAD", None),
    ("git diff -- README.md", None),
    ("git diff /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("git branch --list", None),
    ("git branch -a -v", None),
    (
        "git log --textconv",
        "git log --textconv may write, run a program or read outside the repository",
    ),
    ("date --utc", None),
    ("date --universal -u", None),
    ("date --rfc-email", None),
    ("date --iso-8601=seconds", None),
    ("date -Iseconds +%s", None),
    ("date -d yesterday -s 2020", "date -s may set the clock or read a file"),
    ("date -dyesterday -s 2020", "date -s may set the clock or read a file"),
    ("date --date yesterday -s 2020", "date -s may set the clock or read a file"),
    ("date --date=now -s 2020", "date -s may set the clock or read a file"),
    ("date -r README.md -s 2020", "date -s may set the clock or read a file"),
    ("date -r", None),
    ("date --reference", None),
    ("date --reference=README.md -u", None),
    ("date -u -s 2020", "date -s may set the clock or read a file"),
    ("date +%s -s 2020", "date -s may set the clock or read a file"),
    ("date --rfc-3339=date -s 1", "date -s may set the clock or read a file"),
    ("find -P . -name x", None),
    ("find -H -P src", None),
    (
        "find . -name x -delete",
        "find -delete is not known to be safe (it may run, delete or write)",
    ),
    (
        "find . -maxdepth 1 -delete",
        "find -delete is not known to be safe (it may run, delete or write)",
    ),
    (
        "find src -newer README.md -delete",
        "find -delete is not known to be safe (it may run, delete or write)",
    ),
    ("find . -print -delete", "find -delete is not known to be safe (it may run, delete or write)"),
    ("find ! -delete", "find -delete is not known to be safe (it may run, delete or write)"),
    ("find /etc -name x", "/etc leads outside the workspace"),
    ("find -L .", "find -L is not known to be safe (it may run, delete or write)"),
    ("sed --expression=1p README.md", None),
    ("sed -n -e 1p -e 2p README.md", None),
    ("sed -s -n 1p README.md", None),
    ("sed -n 1p README.md /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("sed -e 1p -i README.md", "sed -i is not known to be safe (it may edit, write or run)"),
    (
        "sed --expression 1p --in-place README.md",
        "sed --in-place is not known to be safe (it may edit, write or run)",
    ),
    ("sed -nE 1p README.md", None),
    ("sed -n1p README.md", "sed -n1p is not known to be safe (it may edit, write or run)"),
    ("sed -nsuz 1p README.md", None),
    ("sed -n -e1p README.md /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("sed -ne 1p -e 'w x' README.md", "the sed script 'w x' does more than print"),
    ("cat -- -n /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("cat -- README.md", None),
    ("ls --color", None),
    ("ls --colour=auto", "ls --colour is not known to be safe"),
    ("ls --color=always src /etc", "/etc leads outside the workspace"),
    ("head -n 3 -q README.md /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("head -n3 README.md /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("grep -e x -e y /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("grep -e x README.md /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("grep --regexp=x /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("grep x README.md /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("grep -c x README.md /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("rg -e x README.md /etc", "/etc leads outside the workspace"),
    ("ls -w 80 /etc", "/etc leads outside the workspace"),
    ("ls --width 80 /etc", "/etc leads outside the workspace"),
    ("ls --block-size 1K /etc", "/etc leads outside the workspace"),
    ("wc --total=auto /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("cut -d , -f 1 /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("cd -L src && cat main.py", None),
    ("cd -P .. && ls", ".. leads outside the workspace"),
    ("cd src && ls /etc", "/etc leads outside the workspace"),
    ("git log -- /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("git diff -- x /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("git log --stat -- README.md", None),
    ("git status /etc", "/etc leads outside the workspace"),
    ("cat - /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("cat x -", None),
    ("sort -t , -k 2 /etc/passwd", "/etc/passwd leads outside the workspace"),
    ("seq -f %g 3", None),
]


@pytest.mark.parametrize(("command", "expected"), VERDICTS)
def test_verdicts(workspace: Path, command: str, expected: str | None) -> None:
    assert verdict(workspace, command) == expected


def test_hidden_characters_and_empty_commands_are_never_known_safe(workspace: Path) -> None:
    checker = KnownSafe(workspace)
    hidden = "it holds control or direction characters that hide what it says"
    assert checker.check([["cat", "a\0b"]]) == [hidden]
    assert checker.check([["ls", "\u202e txt.exe"]]) == [hidden]
    assert checker.check([[]]) == ["no command"]
    assert checker.all_safe([]) is False
    assert checker.all_safe([["ls"], ["wc", "-l"]]) is True
    assert checker.all_safe([["ls"], ["touch", "x"]]) is False


def test_cd_moves_later_paths_but_not_out(workspace: Path) -> None:
    checker = KnownSafe(workspace)
    assert checker.check([["cd", "src"], ["cat", "main.py"]]) == [None, None]
    assert checker.check([["cd", "src"], ["cat", "../../x"]]) == [
        None,
        "../../x leads outside the workspace",
    ]
    # From src, `..` is still inside; from the root it is not: every cwd is checked.
    assert checker.check([["cat", "../x"]]) == ["../x leads outside the workspace"]


def _git(*argv: str, cwd: Path) -> None:
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", *argv], cwd=cwd, env=env, check=True, capture_output=True)


def test_a_repository_whose_config_could_run_code_is_not_known_safe(workspace: Path) -> None:
    _git("init", "-q", cwd=workspace)
    assert verdict(workspace, "git status") is None
    nested = workspace / "nested"
    nested.mkdir()
    _git("init", "-q", cwd=nested)
    with (nested / ".git" / "config").open("a") as config:
        config.write("# a comment\n[core]\n\tfsmonitor = touch PWNED\n")
    assert verdict(workspace, "cd nested && git status") == (
        "the repository config sets core.fsmonitor, which may run code"
    )
    with (workspace / ".git" / "config").open("a") as config:
        config.write('[filter "x"]\n\tclean = touch PWNED\n')
    assert verdict(workspace, "git log") == (
        "the repository config sets filter.x.clean, which may run code"
    )


def test_a_bare_repository_or_a_git_file_inside_is_not_known_safe(workspace: Path) -> None:
    bare = workspace / "evil"
    _git("init", "-q", "--bare", str(bare), cwd=workspace)
    assert verdict(workspace, "cd evil && git status") == f"{bare} looks like a bare repository"
    linked = workspace / "linked"
    linked.mkdir()
    (linked / ".git").write_text("not a gitdir line\n")
    assert verdict(workspace, "cd linked && git status") == "a .git file git cannot follow safely"
    (linked / ".git").write_text("gitdir: ../evil\n")
    with (bare / "config").open("a") as config:
        config.write("[core]\n\tpager = touch PWNED\n")
    assert verdict(workspace, "cd linked && git log") == (
        "the repository config sets core.pager, which may run code"
    )


def test_a_worktree_reads_the_config_of_its_common_dir(workspace: Path) -> None:
    main = workspace / "main-git"
    main.mkdir()
    (main / "config").write_text("[core]\n\tsshCommand = touch PWNED\n")
    worktree_git = workspace / "wt-git"
    worktree_git.mkdir()
    (worktree_git / "commondir").write_text("../main-git\n")
    tree = workspace / "tree"
    tree.mkdir()
    (tree / ".git").write_text(f"gitdir: {worktree_git}\n")
    assert verdict(workspace, "cd tree && git status") == (
        "the repository config sets core.sshcommand, which may run code"  # as git names it
    )


def test_how_a_repository_config_is_read(workspace: Path) -> None:
    _git("init", "-q", cwd=workspace)
    config = workspace / ".git" / "config"
    plain = config.read_text()
    config.write_text(
        plain + "; a comment\n\n[user]\n\tname = a \\\n  continued = on the next line\n"
    )
    assert verdict(workspace, "git status") is None  # comments, blanks, a continued value
    config.write_text(plain + "[core] fsmonitor = touch PWNED\n")
    assert verdict(workspace, "git status") == (
        "the repository config sets core.fsmonitor, which may run code"
    )
    config.write_text(plain)
    (workspace / ".git" / "config.worktree").write_text("[core]\n\tpager = touch PWNED\n")
    assert verdict(workspace, "git status") == (
        "the repository config sets core.pager, which may run code"
    )


def test_a_folder_with_only_a_head_file_is_not_a_bare_repository(workspace: Path) -> None:
    _git("init", "-q", cwd=workspace)
    half = workspace / "half"
    half.mkdir()
    (half / "HEAD").write_text("ref: refs/heads/main\n")
    assert verdict(workspace, "cd half && git status") is None
    (half / "objects").mkdir()
    assert verdict(workspace, "cd half && git status") == f"{half} looks like a bare repository"


def test_bytes_that_are_not_utf8_do_not_break_the_check(workspace: Path) -> None:
    _git("init", "-q", cwd=workspace)
    with (workspace / ".git" / "config").open("ab") as config:
        config.write(b"[user]\n\tname = \xff\xfe\n")
    assert verdict(workspace, "git status") is None
    linked = workspace / "linked"
    linked.mkdir()
    (linked / ".git").write_bytes(b"gitdir: ../missing\xff\n")
    assert verdict(workspace, "cd linked && git status") is None  # nothing there: no risk
