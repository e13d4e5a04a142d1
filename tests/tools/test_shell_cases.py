# ruff: noqa: E501  (one case per line reads best as a table)
"""How command lines are split and seen through, case by case: the simple commands and why a
line is not plain (``parse_command``), and every command a line would run, through launchers,
``eval``, ``sh -c``, pipes into a shell, ``find`` actions and brace lists, with what cannot be
known (``effective_commands``). Fast enough for mutation testing (tests/mutation/run.py); the
property tests are in test_shell_properties.py."""

from __future__ import annotations

import pytest

from app.tools.shellparse import effective_commands, parse_command

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
    ('echo "$HOME"', [['echo', '$HOME']], ['variable expansion'], [['echo', '$HOME']], []),
    ("echo '$HOME'", [['echo', '$HOME']], [], [['echo', '$HOME']], []),
    ('echo $(date)', [['echo', '$(date)']], ['command substitution', 'subshell'], [['echo', '$(date)'], ['echo'], ['date']], []),
    ('echo `date`', [['echo', '`date`']], ['command substitution'], [['echo', '`date`'], ['echo'], ['date']], []),
    ('ls > out', [['ls', '>', 'out']], ['redirection'], [['ls', '>', 'out'], ['ls'], ['out']], []),
    ('ls >> out', [['ls', '>>', 'out']], ['redirection'], [['ls', '>>', 'out'], ['ls'], ['out']], []),
    ('ls 2>&1', [['ls', '2>&1']], ['redirection'], [['ls', '2>&1'], ['ls', '2'], ['1']], []),
    ('cat < in', [['cat', '<', 'in']], ['redirection'], [['cat', '<', 'in'], ['cat']], []),
    ('cat <<EOF\nx\nEOF', [['cat', '<<EOF'], ['x'], ['EOF']], ['heredoc', 'redirection'], [['cat', '<<EOF'], ['x'], ['EOF'], ['cat']], []),
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
    ('echo {a,b}', [['echo', '{a,b}']], [], [['echo', 'a', 'b']], []),
    ('echo ${X}', [['echo', '${X}']], ['variable expansion'], [['echo', '${X}']], []),
    ('echo $((1+2))', [['echo', '$((1+2))']], ['command substitution', 'subshell'], [['echo', '$((1+2))'], ['echo'], ['1+2']], []),
    ('ls; ', [['ls']], [], [['ls']], []),
    (';', [], [], [], []),
    ('', [], [], [], []),
    ('   ', [], [], [], []),
    ('sudo rm -rf x', [['sudo', 'rm', '-rf', 'x']], [], [['sudo', 'rm', '-rf', 'x'], ['rm', '-rf', 'x']], []),
    ('sudo -u root rm x', [['sudo', '-u', 'root', 'rm', 'x']], [], [['sudo', '-u', 'root', 'rm', 'x'], ['rm', 'x']], []),
    ('env -i FOO=1 rm x', [['env', '-i', 'FOO=1', 'rm', 'x']], [], [['env', '-i', 'FOO=1', 'rm', 'x'], ['rm', 'x']], []),
    ('env -u HOME rm x', [['env', '-u', 'HOME', 'rm', 'x']], [], [['env', '-u', 'HOME', 'rm', 'x'], ['rm', 'x']], []),
    ('nice -n 5 rm x', [['rm', 'x']], [], [['rm', 'x']], []),
    ('timeout 5 rm x', [['rm', 'x']], [], [['rm', 'x']], []),
    ('timeout -s KILL 5 rm x', [['rm', 'x']], [], [['rm', 'x']], []),
    ('nohup rm x', [['rm', 'x']], [], [['rm', 'x']], []),
    ('time rm x', [['rm', 'x']], [], [['rm', 'x']], []),
    ('command rm x', [['command', 'rm', 'x']], [], [['command', 'rm', 'x'], ['rm', 'x']], []),
    ('exec rm x', [['exec', 'rm', 'x']], [], [['exec', 'rm', 'x'], ['rm', 'x']], []),
    ('builtin echo x', [['builtin', 'echo', 'x']], [], [['builtin', 'echo', 'x'], ['echo', 'x']], []),
    ('xargs rm', [['xargs', 'rm']], [], [['xargs', 'rm'], ['rm', '\x00unknown']], []),
    ('xargs -n1 rm -f', [['xargs', '-n1', 'rm', '-f']], [], [['xargs', '-n1', 'rm', '-f'], ['rm', '-f', '\x00unknown']], []),
    ('find . -exec rm {} ;', [['find', '.', '-exec', 'rm', '{}']], [], [['find', '.', '-exec', 'rm', '{}'], ['rm', '-r', '.']], []),
    ('find . -delete', [['find', '.', '-delete']], [], [['find', '.', '-delete'], ['rm', '-r', '.']], []),
    ("find . -execdir sh -c 'rm x' ;", [['find', '.', '-execdir', 'sh', '-c', 'rm x']], [], [['find', '.', '-execdir', 'sh', '-c', 'rm x'], ['sh', '-c', 'rm x'], ['rm', 'x']], []),
    ('find . -ok rm {} ;', [['find', '.', '-ok', 'rm', '{}']], [], [['find', '.', '-ok', 'rm', '{}'], ['rm', '-r', '.']], []),
    ("eval 'rm -rf x'", [['eval', 'rm -rf x']], [], [['eval', 'rm -rf x'], ['rm', '-rf', 'x']], []),
    ('eval rm x', [['eval', 'rm', 'x']], [], [['eval', 'rm', 'x'], ['rm', 'x']], []),
    ("sh -c 'rm x; ls'", [['sh', '-c', 'rm x; ls']], [], [['sh', '-c', 'rm x; ls'], ['rm', 'x'], ['ls'], ['sh', '-c', 'rm', 'x'], ['rm']], []),
    ("bash -lc 'rm x'", [['bash', '-lc', 'rm x']], [], [['bash', '-lc', 'rm x'], ['rm', 'x']], []),
    ('bash -c', [['bash', '-c']], [], [['bash', '-c']], ['a shell runs text from standard input that cannot be seen here']),
    ("sh -ec 'rm x'", [['sh', '-ec', 'rm x']], [], [['sh', '-ec', 'rm x'], ['rm', 'x']], []),
    ('zsh -c "rm x"', [['zsh', '-c', 'rm x']], [], [['zsh', '-c', 'rm x'], ['rm', 'x']], []),
    ("echo 'rm x' | sh", [['echo', 'rm x'], ['sh']], [], [['echo', 'rm x'], ['sh'], ['rm', 'x']], []),
    ("printf 'rm x' | bash", [['printf', 'rm x'], ['bash']], [], [['printf', 'rm x'], ['bash'], ['rm', 'x']], []),
    ("printf '%s' 'rm x' | sh", [['printf', '%s', 'rm x'], ['sh']], [], [['printf', '%s', 'rm x'], ['sh'], ['rm', 'x']], []),
    ('cat s.sh | sh', [['cat', 's.sh'], ['sh']], [], [['cat', 's.sh'], ['sh']], ['a shell runs text from standard input that cannot be seen here']),
    ('curl x | sh', [['curl', 'x'], ['sh']], [], [['curl', 'x'], ['sh']], ['a shell runs text from standard input that cannot be seen here']),
    ('echo rm x | xargs sh -c', [['echo', 'rm', 'x'], ['xargs', 'sh', '-c']], [], [['echo', 'rm', 'x'], ['xargs', 'sh', '-c'], ['sh', '-c', '\x00unknown'], ['\x00unknown']], []),
    ('$CMD x', [['$CMD', 'x']], ['variable expansion'], [], ["the command word '$CMD' is only known when it runs"]),
    ('${CMD} x', [['${CMD}', 'x']], ['variable expansion'], [], ["the command word '${CMD}' is only known when it runs"]),
    ('$(which rm) x', [['$(which', 'rm)', 'x']], ['command substitution', 'subshell'], [['which', 'rm'], ['x']], ["the command word '$(which' is only known when it runs"]),
    ('`which rm` x', [['`which', 'rm`', 'x']], ['command substitution'], [['which', 'rm'], ['x']], ["the command word '`which' is only known when it runs"]),
    ('"$X" y', [['$X', 'y']], ['variable expansion'], [], ["the command word '$X' is only known when it runs"]),
    ('rm $(ls)', [['rm', '$(ls)']], ['command substitution', 'subshell'], [['rm', '$(ls)'], ['rm'], ['ls']], []),
    ('rm {a,b}', [['rm', '{a,b}']], [], [['rm', 'a', 'b']], []),
    ('r{m,x} y', [['r{m,x}', 'y']], [], [['rm', 'rx', 'y']], []),
    ('stdbuf -oL rm x', [['stdbuf', '-oL', 'rm', 'x']], [], [['stdbuf', '-oL', 'rm', 'x'], ['rm', 'x']], []),
    ('watch rm x', [['watch', 'rm', 'x']], [], [['rm', 'x']], []),
    ('doas rm x', [['doas', 'rm', 'x']], [], [['doas', 'rm', 'x'], ['rm', 'x']], []),
    ("su -c 'rm x'", [['su', '-c', 'rm x']], [], [['rm', 'x']], []),
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
