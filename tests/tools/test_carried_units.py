"""What each carrier gives, exactly: the command texts in option values and assignments, the
quoted strings of one-line programs, and what makes a line unknown (app/tools/shellparse/
carried.py). The policy-level tests are in test_carried_commands.py."""

from __future__ import annotations

import pytest

from app.tools.shellparse.carried import carried_by_assignments, carried_by_options


def seen(name: str, *args: str) -> tuple[list[str], list[str], int]:
    found = carried_by_options(name, list(args))
    return found.texts, found.code, len(found.unknown)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (["python3", "-c", "run('a b')"], ["a b"]),
        (["python3", "-Ic", "run('a')"], ["a"]),
        (["python3", "-crun('a')"], ["a"]),
        (["python3", "-I", "-crun('a')"], ["a"]),
        (["python3", "-W", "c", "-c", "run('b')"], ["b"]),  # -W takes a value
        (["python3", "-X", "dev", "-c", "run('b')"], ["b"]),
        (["python3", "--check-hash-based-pycs", "always", "-c", "run('b')"], []),
        (["python3", "--verbose", "-c", "run('a')"], ["a"]),  # a long option: go on
        (["python3", "--", "-c", "run('a')"], []),
        (["python3", "-", "-c", "run('a')"], []),  # the script is stdin
        (["python3", "x.py", "-c", "run('a')"], []),
        (["python3", "-c"], []),
        (["perl", "-lne", "system('a')", "f"], ["a"]),
        (["perl", "-E", "say `w`"], ["w"]),
        (["perl", "-i.bak", "-pe", "s/x/`y`/"], ["y"]),
        (["ruby", "-e", "system('r')"], ["r"]),
        (["ruby", "-rjson", "-e", 'system("r")'], ["r"]),
        (["awk", '{ system("a") }', '{ system("b") }'], ["a"]),  # the second is a file
        (["awk", "-F", ":", '{ system("a") }'], ["a"]),
        (["awk", "-F:", '{ system("a") }'], ["a"]),
        (["awk", "-v", "x=1", "-v", "y=2", '{ system("a") }'], ["a"]),
        (["awk", "--", '{ system("a") }'], ["a"]),
        (["awk", "-f", "prog.awk", "'x'"], []),
        (["awk", "--file", "prog.awk", "'x'"], []),
        (["awk", "-F"], []),
        (["gawk", 'BEGIN { print "x" "y" }'], ["x", "y"]),
        (["node", "-e", "exec('n')"], ["n"]),
        (["node", "--eval=exec('n')"], ["n"]),
        (["php", "-r", "shell_exec('p');"], ["p"]),
        (["vim", "+call system('v')"], ["v"]),
        (["less", "+call system('v')"], []),
        (["python3", "-c", "x = ''; y = \"  \""], []),  # empty strings are nothing
        (["python3", "-c", "run('a\\'b')"], ["a\\'b"]),
    ],
)
def test_the_strings_of_a_one_line_program(line: list[str], code: list[str]) -> None:
    assert seen(line[0], *line[1:])[1] == code


@pytest.mark.parametrize(
    ("line", "texts"),
    [
        (["rsync", "-e", "ssh -p 2"], ["ssh -p 2"]),
        (["rsync", "-essh -p 2"], ["ssh -p 2"]),
        (["rsync", "--rsh=ssh -p 2"], ["ssh -p 2"]),
        (["rsync", "--rsh", "ssh -p 2"], ["ssh -p 2"]),
        (["rsync", "--rshx=ssh"], []),
        (["rsync", "-e"], []),
        (["rsync", "a", "-e"], []),
        (["rsync", "--", "-e", "x"], []),
        (["rsync", "--rsync-path", "sudo rsync"], ["sudo rsync"]),
        (["zip", "-TT", "unzip -t"], ["unzip -t"]),
        (["zip", "-TTx"], []),
        (["tar", "--to-command=cat", "-xf", "a.tar"], ["cat"]),
        (["tar", "-Izstd", "-xf", "a.tar"], ["zstd"]),
        (["ssh", "-o", "ProxyCommand=nc h 22", "h"], ["nc h 22"]),
        (["ssh", "-o", "ProxyCommand = nc h 22 ", "h"], ["nc h 22"]),
        (["ssh", "-o", "ProxyCommand=none", "h"], []),
        (["ssh", "-o", "ProxyCommand=NONE", "h"], []),
        (["ssh", "-o", "ProxyJump=x", "h"], []),
        (["git", "-c", "core.pager=a=b", "log"], ["a=b"]),
        (["git", "-c", "alias.x=!a b", "x"], ["a b"]),
        (["git", "-c", "alias.x=log --oneline", "x"], ["log --oneline"]),
        (["git", "-c", "pager.log=false", "log"], []),
        (["git", "-c", "pager.log=ON", "log"], []),
        (["git", "-c", "core.pager=", "log"], []),
        (["git", "-c", "color.ui=always", "log"], []),
        (["git", "config", "--global", "core.pager", "a b"], ["a b"]),
        (["git", "config", "set", "core.pager", "a b"], ["a b"]),
        (["git", "config", "core.pager"], []),
        (["git", "config", "user.name", "Ann"], []),
        (["vim", "-c", "!a b"], ["a b"]),
        (["vim", "--cmd", "silent !a b"], ["a b"]),
        (["vim", "+:!a b"], ["a b"]),
        (["vim", "-c", "set nu"], []),
        (["less", "-c", "!a b"], []),
    ],
)
def test_commands_in_option_values(line: list[str], texts: list[str]) -> None:
    assert seen(line[0], *line[1:])[0] == texts


@pytest.mark.parametrize(
    ("line", "unknown"),
    [
        (["git", "-c", "include.path=x", "log"], 1),
        (["git", "-c", "includeIf.gitdir:/a/.path=x", "log"], 1),
        (["git", "-c", "core.hooksPath=h", "commit"], 1),
        (["git", "--config-env=core.pager=E", "log"], 1),
        (["git", "--config-env=include.path=E", "log"], 1),
        (["git", "--config-env=user.name=E", "log"], 0),
        (["git", "config", "include.path", "x"], 1),
        (["git", "log"], 0),
    ],
)
def test_what_git_loads_from_elsewhere_is_unknown(line: list[str], unknown: int) -> None:
    assert seen(line[0], *line[1:])[2] == unknown


@pytest.mark.parametrize(
    ("words", "texts", "unknown"),
    [
        (["PAGER=less -R", "git", "log"], ["less -R"], 0),
        (["LESSOPEN=||lesspipe %s", "less", "f"], ["lesspipe %s"], 0),
        (["LESSOPEN=lesspipe %s|", "less", "f"], ["lesspipe %s|"], 0),
        (["PAGER=", "git", "log"], [], 0),
        (["EDITOR=a\nb", "x"], ["a\nb"], 0),
        (["NODE_ENV=test", "npm", "test"], [], 0),
        (["env", "-i", "GIT_SSH_COMMAND=ssh -i k", "git", "fetch"], ["ssh -i k"], 0),
        (["LD_PRELOAD=x.so", "ls"], [], 1),
        (["GIT_CONFIG_KEY_7=core.pager", "git", "log"], [], 1),
        (["1PAGER=x", "ls"], [], 0),
        (["pager=x", "ls"], [], 0),
    ],
)
def test_commands_in_assignments(words: list[str], texts: list[str], unknown: int) -> None:
    found = carried_by_assignments(words)
    assert (found.texts, len(found.unknown)) == (texts, unknown)
