# ruff: noqa: E501  (one case per line reads best as a table)
"""How command lines are split and seen through, case by case: the simple commands and why a
line is not plain (``parse_command``), and every command a line would run, through launchers,
``eval``, ``sh -c``, pipes into a shell, ``find`` actions and brace lists, with what cannot be
known (``effective_commands``). Fast enough for mutation testing (tests/mutation/run.py); the
property tests are in test_shell_properties.py."""

from __future__ import annotations

import pytest

from app.tools.shellparse import (
    effective_commands,
    expand_braces,
    parse_command,
    strip_launchers,
)

UNKNOWN = "\x00unknown"

CASES: list[tuple[str, list[list[str]], list[str], list[list[str]], list[str]]] = [
    ('ls -la', [['ls', '-la']], [], [['ls', '-la']], []),
    ('ls  -la   src', [['ls', '-la', 'src']], [], [['ls', '-la', 'src']], []),
    ("git add . && git commit -m 'a b'", [['git', 'add', '.'], ['git', 'commit', '-m', 'a b']], [], [['git', 'add', '.'], ['git', 'commit', '-m', 'a b']], []),
    ('a || b; c\nd', [['a'], ['b'], ['c'], ['d']], [], [['a'], ['b'], ['c'], ['d']], []),
    ('a | b | c', [['a'], ['b'], ['c']], [], [['a'], ['b'], ['c']], []),
    ('a & b', [['a'], ['b']], ['background job'], [['a'], ['b']], []),
    ('a &', [['a']], ['background job'], [['a']], []),
    ('echo "a;b"', [['echo', 'a;b']], [], [['echo', 'a;b'], ['echo', 'a'], ['b']], []),
    ("echo 'it''s'", [['echo', 'its']], [], [['echo', 'its']], []),
    ('echo a\\ b', [['echo', 'a b']], [], [['echo', 'a b']], []),
    ('echo "$HOME"', [['echo', '$HOME']], ['expansion'], [['echo', '$HOME']], []),
    ("echo '$HOME'", [['echo', '$HOME']], [], [['echo', '$HOME']], []),
    ('echo $(date)', [['echo', '$(date)']], ['command substitution', 'subshell'], [['echo', '$(date)'], ['echo'], ['date']], []),
    ('echo `date`', [['echo', '`date`']], ['command substitution'], [['echo', '`date`'], ['echo'], ['date']], []),
    ('ls > out', [['ls', '>', 'out']], ['redirection'], [['ls', '>', 'out']], []),
    ('ls >> out', [['ls', '>>', 'out']], ['redirection'], [['ls', '>>', 'out']], []),
    ('ls 2>&1', [['ls', '2>&1']], ['redirection'], [['ls', '2>&1'], ['ls', '2>'], ['1']], []),
    ('cat < in', [['cat', '<', 'in']], ['redirection'], [['cat', '<', 'in']], []),
    ('cat <<EOF\nx\nEOF', [['cat', '<<EOF'], ['x'], ['EOF']], ['heredoc', 'redirection'], [['cat', '<<EOF'], ['x'], ['EOF']], []),
    ('make |& tee log', [['make'], ['tee', 'log']], ['redirection'], [['make'], ['tee', 'log']], []),
    ('(cd src && ls)', [['(cd', 'src'], ['ls)']], ['subshell'], [['(cd', 'src'], ['ls)'], ['cd', 'src'], ['ls']], []),
    ('{ ls; }', [['{', 'ls'], ['}']], ['command group'], [['ls']], []),
    ('ls # comment', [['ls', '#', 'comment']], ['comment'], [['ls', '#', 'comment']], []),
    ('echo a#b', [['echo', 'a#b']], [], [['echo', 'a#b']], []),
    ('x=1 ls', [['x=1', 'ls']], ['environment assignment'], [['ls']], []),
    ('FOO=bar env', [['FOO=bar', 'env']], ['environment assignment'], [['env']], []),
    ('A=1', [['A=1']], ['environment assignment'], [], []),
    ('ls *.py', [['ls', '*.py']], [], [['ls', '*.py']], []),
    ('ls ~', [['ls', '~']], [], [['ls', '~']], []),
    ('echo {a,b}', [['echo', '{a,b}']], ['brace expansion'], [['echo', 'a', 'b']], []),
    ('echo ${X}', [['echo', '${X}']], ['expansion'], [['echo', '${X}']], []),
    ('echo $((1+2))', [['echo', '$((1+2))']], ['command substitution', 'subshell'], [['echo', '$((1+2))'], ['echo'], ['1+2']], []),
    ('ls; ', [['ls']], [], [['ls']], []),
    (';', [], [], [], []),
    ('', [], [], [], []),
    ('   ', [], [], [], []),
    ('sudo rm -rf x', [['sudo', 'rm', '-rf', 'x']], [], [['sudo', 'rm', '-rf', 'x'], ['rm', '-rf', 'x'], ['x']], []),
    ('sudo -u root rm x', [['sudo', '-u', 'root', 'rm', 'x']], [], [['sudo', '-u', 'root', 'rm', 'x'], ['root', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('env -i FOO=1 rm x', [['env', '-i', 'FOO=1', 'rm', 'x']], [], [['env', '-i', 'FOO=1', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('env -u HOME rm x', [['env', '-u', 'HOME', 'rm', 'x']], [], [['env', '-u', 'HOME', 'rm', 'x'], ['HOME', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('nice -n 5 rm x', [['rm', 'x']], [], [['nice', '-n', '5', 'rm', 'x'], ['5', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('timeout 5 rm x', [['rm', 'x']], [], [['timeout', '5', 'rm', 'x'], ['5', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('timeout -s KILL 5 rm x', [['rm', 'x']], [], [['timeout', '-s', 'KILL', '5', 'rm', 'x'], ['KILL', '5', 'rm', 'x'], ['5', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('nohup rm x', [['rm', 'x']], [], [['nohup', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('time rm x', [['rm', 'x']], [], [['rm', 'x']], []),
    ('command rm x', [['command', 'rm', 'x']], [], [['command', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('exec rm x', [['exec', 'rm', 'x']], [], [['exec', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('builtin echo x', [['builtin', 'echo', 'x']], [], [['builtin', 'echo', 'x'], ['echo', 'x'], ['x']], []),
    ('xargs rm', [['xargs', 'rm']], [], [['xargs', 'rm'], ['rm', '\x00unknown'], ['\x00unknown']], []),
    ('xargs -n1 rm -f', [['xargs', '-n1', 'rm', '-f']], [], [['xargs', '-n1', 'rm', '-f'], ['rm', '-f', '\x00unknown'], ['\x00unknown']], []),
    ('find . -exec rm {} ;', [['find', '.', '-exec', 'rm', '{}']], [], [['find', '.', '-exec', 'rm', '{}'], ['rm', '-r', '.']], []),
    ('find . -delete', [['find', '.', '-delete']], [], [['find', '.', '-delete'], ['rm', '-r', '.']], []),
    ("find . -execdir sh -c 'rm x' ;", [['find', '.', '-execdir', 'sh', '-c', 'rm x']], [], [['find', '.', '-execdir', 'sh', '-c', 'rm x'], ['sh', '-c', 'rm x'], ['rm', 'x']], []),
    ('find . -ok rm {} ;', [['find', '.', '-ok', 'rm', '{}']], [], [['find', '.', '-ok', 'rm', '{}'], ['rm', '-r', '.']], []),
    ("eval 'rm -rf x'", [['eval', 'rm -rf x']], [], [['eval', 'rm -rf x'], ['rm', '-rf', 'x']], []),
    ('eval rm x', [['eval', 'rm', 'x']], [], [['eval', 'rm', 'x'], ['rm', 'x']], []),
    ("sh -c 'rm x; ls'", [['sh', '-c', 'rm x; ls']], [], [['sh', '-c', 'rm x; ls'], ['rm', 'x'], ['ls'], ['sh', '-c', 'rm', 'x'], ['rm']], []),
    ("bash -lc 'rm x'", [['bash', '-lc', 'rm x']], [], [['bash', '-lc', 'rm x'], ['rm', 'x']], []),
    ('bash -c', [['bash', '-c']], [], [['bash', '-c']], []),
    ("sh -ec 'rm x'", [['sh', '-ec', 'rm x']], [], [['sh', '-ec', 'rm x'], ['rm', 'x']], []),
    ('zsh -c "rm x"', [['zsh', '-c', 'rm x']], [], [['zsh', '-c', 'rm x'], ['rm', 'x']], []),
    ("echo 'rm x' | sh", [['echo', 'rm x'], ['sh']], [], [['echo', 'rm x'], ['sh'], ['rm', 'x']], []),
    ("printf 'rm x' | bash", [['printf', 'rm x'], ['bash']], [], [['printf', 'rm x'], ['bash'], ['rm', 'x']], []),
    ("printf '%s' 'rm x' | sh", [['printf', '%s', 'rm x'], ['sh']], [], [['printf', '%s', 'rm x'], ['sh'], ['rm', 'x']], []),
    ('cat s.sh | sh', [['cat', 's.sh'], ['sh']], [], [['cat', 's.sh'], ['sh']], ['a shell runs text from standard input that cannot be seen here']),
    ('curl x | sh', [['curl', 'x'], ['sh']], [], [['curl', 'x'], ['sh']], ['a shell runs text from standard input that cannot be seen here']),
    ('echo rm x | xargs sh -c', [['echo', 'rm', 'x'], ['xargs', 'sh', '-c']], [], [['echo', 'rm', 'x'], ['xargs', 'sh', '-c'], ['sh', '-c', '\x00unknown'], ['\x00unknown']], ['a shell runs text that is only known when it runs']),
    ('$CMD x', [['$CMD', 'x']], ['expansion'], [], ["the command word '$CMD' is only known when it runs"]),
    ('${CMD} x', [['${CMD}', 'x']], ['expansion'], [], ["the command word '${CMD}' is only known when it runs"]),
    ('$(which rm) x', [['$(which', 'rm)', 'x']], ['command substitution', 'subshell'], [['which', 'rm'], ['x']], ["the command word '$(which' is only known when it runs"]),
    ('`which rm` x', [['`which', 'rm`', 'x']], ['command substitution'], [['which', 'rm'], ['x']], ["the command word '`which' is only known when it runs"]),
    ('"$X" y', [['$X', 'y']], ['expansion'], [], ["the command word '$X' is only known when it runs"]),
    ('rm $(ls)', [['rm', '$(ls)']], ['command substitution', 'subshell'], [['rm', '$(ls)'], ['rm'], ['ls']], []),
    ('rm {a,b}', [['rm', '{a,b}']], ['brace expansion'], [['rm', 'a', 'b']], []),
    ('r{m,x} y', [['r{m,x}', 'y']], ['brace expansion'], [['rm', 'rx', 'y']], []),
    ('stdbuf -oL rm x', [['stdbuf', '-oL', 'rm', 'x']], [], [['stdbuf', '-oL', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('watch rm x', [['watch', 'rm', 'x']], [], [['watch', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('doas rm x', [['doas', 'rm', 'x']], [], [['doas', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ("su -c 'rm x'", [['su', '-c', 'rm x']], [], [['su', '-c', 'rm x'], ['rm', 'x']], []),
    ('/bin/rm x', [['/bin/rm', 'x']], [], [['rm', 'x']], []),
    ('./rm x', [['./rm', 'x']], [], [['rm', 'x']], []),
    ('\\rm x', [['rm', 'x']], [], [['rm', 'x']], []),
]  # fmt: skip


@pytest.mark.parametrize(("command", "commands", "reasons", "effective", "unknown"), CASES)
def test_split_and_seen_through(
    command: str,
    commands: list[list[str]],
    reasons: list[str],
    effective: list[list[str]],
    unknown: list[str],
) -> None:
    parsed = parse_command(command)
    assert (parsed.commands, parsed.reasons) == (commands, reasons)
    assert parsed.plain is (not reasons and bool(commands))
    seen = effective_commands(command)
    assert (seen.commands, seen.unknown) == (effective, unknown)


BRACES: list[tuple[str, list[str] | None]] = [
    ('a{b,c}d', ['abd', 'acd']),
    ('{a,b}{1,2}', ['a1', 'a2', 'b1', 'b2']),
    ('{1..3}', ['1', '2', '3']),
    ('{3..1}', ['3', '2', '1']),
    ('{-1..1}', ['-1', '0', '1']),
    ('{a..c}', ['a', 'b', 'c']),
    ('{c..a}', ['c', 'b', 'a']),
    ('{a..cc}', ['{a..cc}']),
    ('{1..100}', None),
    ('x{,y}', ['x', 'xy']),
    ('{a}', ['{a}']),
    ('pre{1..2}{x,y}', ['pre1x', 'pre1y', 'pre2x', 'pre2y']),
    ('{1..70}', None),
    ('{a,b', ['{a,b']),
    ('a}b{c,d}', ['a}bc', 'a}bd']),
    ('{aa..b}', ['{aa..b}']),
    ('plain', ['plain']),
]  # fmt: skip


@pytest.mark.parametrize(("word", "expanded"), BRACES)
def test_brace_expansion(word: str, expanded: list[str] | None) -> None:
    assert expand_braces(word) == expanded


LAUNCHED: list[tuple[list[str], list[str]]] = [
    (['timeout', '5', 'rm'], ['rm']),
    (['timeout', '-s', 'KILL', '5', 'rm'], ['rm']),
    (['timeout', '-k', '1', '5', 'rm'], ['rm']),
    (['timeout', '--', '5', 'rm'], ['rm']),
    (['nice', '-n', '5', 'rm'], ['rm']),
    (['nohup', '--', 'rm'], ['rm']),
    (['time', '-p', 'rm'], ['rm']),
    (['timeout', '5'], ['timeout', '5']),
    (['nice'], ['nice']),
    (['timeout', 'x', 'rm'], ['x', 'rm']),
    (['sudo', '-u', 'root', '-g', 'x', 'rm'], ['rm']),
    (['env', 'A=1', 'B=2', 'rm'], ['rm']),
    (['env', '-i', 'rm'], ['rm']),
    (['xargs', '-I', '{}', 'rm'], ['rm']),
    (['xargs', '-n', '1', '-P', '4', 'rm'], ['rm']),
    (['sudo', 'timeout', '5', 'rm'], ['rm']),
    (['sudo'], ['sudo']),
    (['env', 'A=1'], ['env', 'A=1']),
    (['sudo', '-C', '3', 'nice', 'rm'], ['rm']),
]  # fmt: skip


@pytest.mark.parametrize(("words", "command"), LAUNCHED)
def test_launchers_and_wrappers_are_stripped(words: list[str], command: list[str]) -> None:
    assert strip_launchers(words) == command


SEEN: list[tuple[str, list[list[str]], list[str]]] = [
    ("env -S 'rm -rf x'", [['env', '-S', 'rm -rf x'], ['rm', '-rf', 'x']], []),
    ("env --split-string='rm x'", [['env', '--split-string=rm x'], ['rm', 'x']], []),
    ("env -S'rm x'", [['env', '-Srm x'], ['rm', 'x']], []),
    ("env --split-string 'rm x'", [['env', '--split-string', 'rm x'], ['rm', 'x']], []),
    ("su -c 'rm x' root", [['su', '-c', 'rm x', 'root'], ['rm', 'x']], []),
    ("runuser -u bob -c 'rm x'", [['runuser', '-u', 'bob', '-c', 'rm x'], ['rm', 'x']], []),
    ("script -c 'rm x' /dev/null", [['script', '-c', 'rm x', '/dev/null'], ['rm', 'x']], []),
    ("flock /tmp/l -c 'rm x'", [['flock', '/tmp/l', '-c', 'rm x'], ['rm', 'x']], []),
    ('flock /tmp/l rm x', [['flock', '/tmp/l', 'rm', 'x'], ['l', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('chroot /srv rm x', [['chroot', '/srv', 'rm', 'x'], ['srv', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('taskset 3 rm x', [['taskset', '3', 'rm', 'x'], ['3', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('sg grp rm x', [['sg', 'grp', 'rm', 'x'], ['grp', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('xargs -I {} rm {}', [['xargs', '-I', '{}', 'rm', '{}'], ['rm', '{}', '\x00unknown'], ['\x00unknown']], ["the command word '{}' is only known when it runs", "the command word '{}' is only known when it runs"]),
    ('strace -o f rm x', [['strace', '-o', 'f', 'rm', 'x'], ['f', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('ionice -c 3 rm x', [['ionice', '-c', '3', 'rm', 'x'], ['3', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('nsenter -t 1 rm x', [['nsenter', '-t', '1', 'rm', 'x'], ['1', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('sudo -- rm x', [['sudo', '--', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('env -- rm x', [['env', '--', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('sudo A=1 rm x', [['sudo', 'A=1', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('busybox rm x', [['busybox', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('exec -a name rm x', [['exec', '-a', 'name', 'rm', 'x'], ['name', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('unshare -r rm x', [['unshare', '-r', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('timeout 5 sudo rm x', [['timeout', '5', 'sudo', 'rm', 'x'], ['5', 'sudo', 'rm', 'x'], ['sudo', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('nice -n 5 env A=1 rm x', [['nice', '-n', '5', 'env', 'A=1', 'rm', 'x'], ['5', 'env', 'A=1', 'rm', 'x'], ['env', 'A=1', 'rm', 'x'], ['rm', 'x'], ['x']], []),
    ('echo x | sh -s', [['echo', 'x'], ['sh', '-s'], ['x']], []),
    ("echo 'rm x' | sh -s -- arg", [['echo', 'rm x'], ['sh', '-s', '--', 'arg'], ['rm', 'x']], []),
    ("printf '%s\\n' 'rm x' | bash", [['printf', '%s\\n', 'rm x'], ['bash'], ['rm', 'x']], []),
    ("echo -n 'rm x' | sh", [['echo', '-n', 'rm x'], ['sh'], ['rm', 'x']], []),
    ('echo "$(rm x)"', [['echo', '$(rm x)'], ['echo'], ['rm', 'x']], []),
    ('find . -name x -exec rm -f {} +', [['find', '.', '-name', 'x', '-exec', 'rm', '-f', '{}', '+'], ['rm', '-r', '-f', '.']], []),
    ('find . -fprint x', [['find', '.', '-fprint', 'x']], []),
    ('bash -c \'bash -c "rm x"\'', [['bash', '-c', 'bash -c "rm x"'], ['bash', '-c', 'rm x'], ['rm', 'x']], []),
    ('sh -c', [['sh', '-c']], []),
    ("sh -c ''", [['sh', '-c', '']], []),
    ("sh -x -c 'rm x'", [['sh', '-x', '-c', 'rm x'], ['rm', 'x']], []),
    ("bash --norc -c 'rm x'", [['bash', '--norc', '-c', 'rm x'], ['rm', 'x']], []),
    ('eval', [['eval']], []),
    ("eval ''", [['eval', '']], []),
    ('if true; then rm x; fi', [['true'], ['rm', 'x']], []),
    ('! rm x', [['rm', 'x']], []),
    ('while true; do rm x; done', [['true'], ['rm', 'x']], []),
    ('r${X}m x', [], ["the command word 'r${X}m' is only known when it runs"]),
    ('"rm" x', [['rm', 'x']], []),
    ("'r'm x", [['rm', 'x']], []),
    ("python3 -c 'import os'", [['python3', '-c', 'import os']], []),
]  # fmt: skip


@pytest.mark.parametrize(("command", "effective", "unknown"), SEEN)
def test_launchers_scripts_and_pipes_are_seen_through(
    command: str, effective: list[list[str]], unknown: list[str]
) -> None:
    seen = effective_commands(command)
    assert (seen.commands, seen.unknown) == (effective, unknown)
