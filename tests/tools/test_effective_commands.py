"""What the deny rules and the safety floor see of a shell line (``effective_commands``):
launchers, shells, ``source``, ``at``, ``find`` actions, ``ssh``, aliases and keywords seen
through, and what cannot be seen marked unknown. Written against the mutation report of
app/tools/shellparse/effective.py (tests/mutation/run.py): a surviving mutant there is a way
past the gate that no test notices."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.tools.shellparse import UNKNOWN, effective_commands
from app.tools.shellparse.effective import _effective_top


@pytest.fixture(autouse=True)
def _fresh_analysis() -> Iterator[None]:
    """No line's analysis cached by an earlier test (mutmut forks a process whose cache is
    warm from the unchanged code: a cached answer would hide the mutant)."""
    _effective_top.cache_clear()
    yield


STDIN = "a shell runs text from standard input that cannot be seen here"
FROM_FILE = "a shell reads its script from a file"
TOO_DEEP = "commands nested too deeply to follow"


def seen(command: str) -> tuple[list[list[str]], list[str]]:
    """The commands and the unknowns of ``command``."""
    found = effective_commands(command)
    return found.commands, found.unknown


def runs(command: str, words: list[str]) -> bool:
    """Whether ``words`` is among what ``command`` runs."""
    return words in effective_commands(command).commands


# ---------------------------------------------------------------- scripts in files


@pytest.mark.parametrize(
    ("command", "unknown"),
    [
        ("bash script.sh", "bash runs the file 'script.sh', which cannot be read here"),
        ("sh ./x", "sh runs the file './x', which cannot be read here"),
        ("zsh -- f", "zsh runs the file 'f', which cannot be read here"),
        ("zsh -- -f", "zsh runs the file '-f', which cannot be read here"),
        ("bash -x f", "bash runs the file 'f', which cannot be read here"),
        ("bash +x f", "bash runs the file 'f', which cannot be read here"),
        ("bash -o pipefail f", "bash runs the file 'f', which cannot be read here"),
        ("bash +o pipefail f", "bash runs the file 'f', which cannot be read here"),
        ("bash -O extglob f", "bash runs the file 'f', which cannot be read here"),
        ("bash +O extglob f", "bash runs the file 'f', which cannot be read here"),
        ("bash --rcfile rc f", "bash runs the file 'f', which cannot be read here"),
        ("bash --init-file rc f", "bash runs the file 'f', which cannot be read here"),
        ("bash --restricted f", "bash runs the file 'f', which cannot be read here"),
        ("bash --norc f -c 'ls'", "bash runs the file 'f', which cannot be read here"),
        ('bash "$F"', "bash runs the file '$F', which cannot be read here"),
        ("/bin/dash f", "dash runs the file 'f', which cannot be read here"),
        ("sudo -u root bash f", "bash runs the file 'f', which cannot be read here"),
        ("source f", "source runs the file 'f', which cannot be read here"),
        (". .venv/bin/activate", ". runs the file '.venv/bin/activate', which cannot be read here"),
        ("source -- f", "source runs the file 'f', which cannot be read here"),
        ("echo ls | at -f job now", "at runs a script file that cannot be read here"),
        ("echo ls | at -m -f job now", "at runs a script file that cannot be read here"),
        ("echo ls | at -mf job now", "at runs a script file that cannot be read here"),
        ("batch -f job", "batch runs a script file that cannot be read here"),
        ("ls | xargs bash", "bash runs a file only known when it runs, which cannot be read here"),
        ("bash < f", FROM_FILE),
        ("bash 0< f", FROM_FILE),
        ("bash 0<f", FROM_FILE),
        ("bash <f", FROM_FILE),
        ("bash <&3", FROM_FILE),
        ("bash <& 3", FROM_FILE),
        ("bash <> f", FROM_FILE),
        ("echo rm x | xargs sh -c", "a shell runs text that is only known when it runs"),
    ],
)
def test_a_script_that_cannot_be_read_here_is_unknown(command: str, unknown: str) -> None:
    # `bash <&3` is also split loosely at `&`: the same reason may come twice.
    assert set(effective_commands(command).unknown) == {unknown}


@pytest.mark.parametrize(
    "command",
    [
        "echo ls | bash",
        "echo ls | bash -",
        "echo ls | bash /dev/stdin",
        "echo ls | bash -s",
        "echo ls | bash -s arg",
        "echo ls | bash -xs arg",
        "echo ls | bash -o pipefail",
        "echo ls | bash -O extglob",
        "echo ls | bash -o pipefail -s",
        "echo ls | bash > log",
        "echo ls | bash >log 2>&1",
        "echo ls | bash &> log",
        "echo ls | source /dev/stdin",
        "echo ls | at now",
        "echo ls | at -m now",
        "echo ls | batch",
        "bash <<< ls",
        "bash <<<ls",
        "bash 0<<< ls",
        "bash -c ls",
        "bash -c ls -- arg",
        "bash -lc ls",
        "bash -o pipefail -c ls",
        "bash --norc -c ls",
        "sh -c -- ls",
        "bash -c ls < /dev/null",
        "bash < /dev/null -c ls",
        "bash -c ls <<< pwd",
    ],
)
def test_a_script_given_as_text_is_followed(command: str) -> None:
    commands, unknown = seen(command)
    assert ["ls"] in commands and unknown == [], command


def test_the_text_piped_into_a_shell_is_followed_not_what_it_reads_as_a_file() -> None:
    # A file operand wins over the pipe: what it runs is in the file.
    commands, unknown = seen("echo 'rm x' | bash f")
    assert ["rm", "x"] not in commands
    assert unknown == ["bash runs the file 'f', which cannot be read here"]


@pytest.mark.parametrize("command", ["bash 2< f", "bash 3<f"])
def test_reading_another_file_descriptor_is_not_reading_the_script(command: str) -> None:
    # Only descriptor 0 is the script: this shell reads the terminal (not seen here).
    assert seen(command)[1] == [STDIN]


def test_a_here_document_is_read_as_commands_not_as_unknown_input() -> None:
    for command in ("bash <<EOF\nrm x\nEOF", "bash << EOF\nrm x\nEOF", "bash <<-EOF\nrm x\nEOF"):
        commands, unknown = seen(command)
        assert ["rm", "x"] in commands and unknown == [], command


def test_a_here_string_is_read_as_the_shell_reads_it() -> None:
    # The word, as bash reads it: the backslash joins the two words.
    assert runs("bash <<< rm\\ x", ["rm", "x"])
    assert runs("bash <<<'rm x'", ["rm", "x"])
    assert runs("bash 0<<<'rm x'", ["rm", "x"])


def test_a_shell_script_given_with_c_is_followed_whatever_its_stdin() -> None:
    # A redirection of its standard input hid the script of `-c` (and the floor missed it).
    for command in (
        "bash -c 'rm -rf /' < /dev/null",
        "bash < /dev/null -c 'rm -rf /'",
        "bash -c 'rm -rf /' <<< x",
        "bash -c 'rm -rf /' 0<&-",
    ):
        commands, unknown = seen(command)
        assert ["rm", "-rf", "/"] in commands and unknown == [], command


def test_a_quoted_script_that_starts_like_a_redirection_is_still_the_script() -> None:
    assert runs("bash -c '< /etc/passwd rm -rf /'", ["rm", "-rf", "/"])
    assert runs("bash -c '>log rm -rf /'", ["rm", "-rf", "/"])


def test_a_shell_with_c_and_no_text_runs_nothing() -> None:
    assert seen("sh -c") == ([["sh", "-c"]], [])
    assert seen("bash -x -c") == ([["bash", "-x", "-c"]], [])


def test_a_shell_alone_or_at_alone_reads_text_that_cannot_be_seen() -> None:
    assert seen("bash") == ([["bash"]], [STDIN])
    assert seen("true; sh") == ([["true"], ["sh"]], [STDIN])
    assert seen("echo 'rm x'; sh") == ([["echo", "rm x"], ["sh"]], [STDIN])
    assert seen("at now") == ([["at", "now"]], [STDIN])
    assert seen("cat f | source /dev/stdin")[1] == [STDIN]


def test_source_with_nothing_to_read_runs_nothing() -> None:
    assert seen("source") == ([["source"]], [])
    assert seen(". -x") == ([[".", "-x"]], [])


@pytest.mark.parametrize(
    ("command", "unknown"),
    [
        ("printf '\\x72m x' | sh", "printf turns escapes into text that feeds a shell"),
        ("echo -e '\\x72m x' | bash", "echo turns escapes into text that feeds a shell"),
        ("/usr/bin/printf '\\x72m x' | sh", "printf turns escapes into text that feeds a shell"),
    ],
)
def test_printed_text_with_escapes_is_unknown(command: str, unknown: str) -> None:
    assert seen(command)[1] == [unknown]


def test_printed_text_through_a_path_is_followed() -> None:
    assert seen("/bin/echo 'rm x' | sh") == ([["echo", "rm x"], ["sh"], ["rm", "x"]], [])


# ---------------------------------------------------------------- launchers


@pytest.mark.parametrize(
    "command",
    [
        "env -u A -u B -u C -u D -u E -u F -u G -u H rm -rf /",
        "sudo -u a -g b -p c -C 3 -h d -r e -t f -U g rm -rf /",
        "sudo -u a -u b -u c -u d -u e -u f -u g -u h -b rm -rf /",
        "env A=1 B=2 -u a -u b -u c -u d -u e -u f -u g rm -rf /",
        "chroot -u a -u b -u c -u d -u e -u f -u g -u h /srv rm -rf /",
        "chroot /srv -u a -u b -u c -u d -u e -u f -u g -u h rm -rf /",
        "watch -n 1 -n 2 -n 3 -n 4 -n 5 -n 6 -n 7 -n 8 rm -rf /",
        "tmux new -s a -n b -c c -e X=1 -x 1 -y 2 -t t -F f rm -rf /",
        "sudo " + "-u a " * 63 + "rm -rf /",
    ],
)
def test_a_launcher_command_is_found_after_any_number_of_option_values(command: str) -> None:
    commands, unknown = seen(command)
    assert ["rm", "-rf", "/"] in commands and unknown == [], command


def test_too_many_places_for_a_launcher_command_to_start_is_unknown() -> None:
    commands, unknown = seen("sudo " + "-u a " * 64 + "rm -rf /")
    assert unknown == ["too many options before the command of sudo to follow"]
    assert ["rm", "-rf", "/"] not in commands
    assert seen("tmux " + "-u a " * 64 + "rm -rf /")[1] == [
        "too many options before the command of tmux to follow"
    ]


def test_a_launcher_tries_its_first_words_then_only_what_an_option_value_hides() -> None:
    # `a` cannot be an option's value: it is the command, and what follows are its arguments.
    commands = seen("sudo a b c d e f g h rm x")[0]
    assert ["h", "rm", "x"] in commands  # the eighth word is tried
    assert ["rm", "x"] not in commands  # the ninth is not: `a` runs


@pytest.mark.parametrize(
    "launcher",
    ["timeout 5", "nice", "nohup", "sudo", "doas", "env", "exec", "command", "builtin", "stdbuf",
     "busybox", "setsid", "nsenter", "unshare", "ionice", "runuser", "firejail", "strace",
     "fakeroot", "parallel", "pkexec", "systemd-run", "valgrind", "torsocks", "proxychains",
     "xvfb-run", "flatpak-spawn", "chronic", "ifne", "bwrap", "chroot /srv", "flock /tmp/l",
     "taskset 3", "chpst -u x", "sg grp", "chrt 5", "/lib64/ld-linux-x86-64.so.2",
     "/lib/ld-musl-x86_64.so.1", "ld.so"],
)  # fmt: skip
def test_a_launcher_runs_the_rest_of_its_words(launcher: str) -> None:
    assert runs(f"{launcher} /bin/rm -rf /x", ["rm", "-rf", "/x"]), launcher


def test_a_command_that_is_not_a_launcher_runs_nothing_else() -> None:
    assert seen("ls rm -rf /x") == ([["ls", "rm", "-rf", "/x"]], [])
    assert seen("lld-linux rm x") == ([["lld-linux", "rm", "x"]], [])


def test_launchers_in_launchers_are_followed_to_a_depth() -> None:
    assert "too many nested launchers" not in seen("nohup " * 12 + "rm x")[1]
    assert runs("nohup " * 12 + "rm x", ["rm", "x"])
    assert "too many nested launchers" in seen("nohup " * 13 + "rm x")[1]


def test_xargs_without_a_command_runs_echo() -> None:
    assert seen("ls | xargs") == ([["ls"], ["xargs"], [UNKNOWN], ["echo", UNKNOWN]], [])
    assert runs("ls | xargs -0", ["echo", UNKNOWN])
    assert not runs("ls | xargs rm", ["echo", UNKNOWN])


@pytest.mark.parametrize(
    ("command", "uncertain"),
    [
        ("ls | xargs rm", ["rm gets arguments that are only known when it runs"]),
        ('rm -f "$X"', ["rm gets arguments that are only known when it runs"]),
        ("chmod 700 `cat f`", ["chmod gets arguments that are only known when it runs"]),
        ("rm -f x", []),
        ('ls "$X"', []),
        ("eval 'rm \"$X\"'", ["rm gets arguments that are only known when it runs"]),
    ],
)
def test_destroying_what_is_only_known_when_it_runs_is_uncertain(
    command: str, uncertain: list[str]
) -> None:
    assert effective_commands(command).uncertain == uncertain


@pytest.mark.parametrize("word", ["r*", "r?", "r[m]", "a]", "a{b", "a}b", "$X", "${X}"])
def test_a_command_word_only_known_when_it_runs_is_unknown(word: str) -> None:
    assert seen(f"{word} -rf /") == ([], [f"the command word {word!r} is only known when it runs"])


def test_test_brackets_are_commands_not_globs() -> None:
    assert seen("[ -f x ] && rm y") == ([["[", "-f", "x", "]"], ["rm", "y"]], [])
    assert seen("[[ -f x ]]") == ([["[[", "-f", "x", "]]"]], [])


def test_a_brace_list_too_large_to_expand_is_unknown() -> None:
    line = "rm {a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}"
    assert seen(line) == ([], [f"a brace expansion too large to follow in {line!r}"])


# ---------------------------------------------------------------- keywords and definitions


@pytest.mark.parametrize(
    "command",
    [
        "time -p rm x",
        "time -- rm x",
        "time -p -- rm x",
        "A=1 B+=2 rm x",
        "export A=1; rm x",
        "! rm x",
        "function f { rm x; }",
        "f() { rm x; }",
        "f () { rm x; }",
        "f ( ) { rm x; }",
        "< in rm x",
        "<in rm x",
        "2>/dev/null rm x",
        "> log 2>&1 rm x",
        "A=1 >log B=2 rm x",
    ],
)
def test_what_stands_before_a_command_is_not_the_command(command: str) -> None:
    assert runs(command, ["rm", "x"]), command


def test_a_keyword_alone_runs_nothing() -> None:
    assert seen("time") == ([], [])
    assert seen("function") == ([["function"]], [])
    assert seen("A=1 >log") == ([], [])


# ---------------------------------------------------------------- named commands


def test_an_alias_runs_its_definition() -> None:
    assert runs("alias ll='rm -rf /x'", ["rm", "-rf", "/x"])
    assert runs("alias x='A=1 rm y'", ["rm", "y"])
    assert seen("alias ll") == ([["alias", "ll"]], [])


@pytest.mark.parametrize(
    "command",
    [
        "tmux new-session -d 'rm -rf /x'",
        "tmux new rm -rf /x",
        "screen -dmS s rm -rf /x",
        "byobu new-window rm -rf /x",
        "tmux send-keys -t s 'rm -rf /x' Enter",
    ],
)
def test_a_terminal_multiplexer_runs_its_command(command: str) -> None:
    assert runs(command, ["rm", "-rf", "/x"]), command


@pytest.mark.parametrize(
    "command",
    [
        "ssh host rm -rf /x",
        "ssh -p 22 host rm -rf /x",
        "ssh -v host rm -rf /x",
        "ssh -oBatchMode=yes host rm -rf /x",
        "ssh -o BatchMode=yes -i key host 'rm -rf /x'",
        "rsh host rm -rf /x",
    ],
)
def test_ssh_runs_its_command_remotely(command: str) -> None:
    assert runs(command, ["rm", "-rf", "/x"]), command


def test_ssh_without_a_command_runs_nothing_more() -> None:
    assert seen("ssh -p 22 host") == ([["ssh", "-p", "22", "host"]], [])


# ---------------------------------------------------------------- find


@pytest.mark.parametrize(
    ("command", "removed"),
    [
        ("find -delete", [["rm", "-r", "."]]),
        ("find . -delete", [["rm", "-r", "."]]),
        ("find -H src -delete", [["rm", "-r", "src"]]),
        ("find -L -P src -delete", [["rm", "-r", "src"]]),
        ("find -O3 src -delete", [["rm", "-r", "src"]]),
        ("find -O src -delete", [["rm", "-r", "src"]]),
        ("find -D tree src -delete", [["rm", "-r", "src"]]),
        ("find -D tree -D stat src -delete", [["rm", "-r", "src"]]),
        ("find -- src -delete", [["rm", "-r", "src"]]),
        ("find src docs -name x -delete", [["rm", "-r", "src"], ["rm", "-r", "docs"]]),
        ("find src ( -name a ) -delete", [["rm", "-r", "src"]]),
        ("find src ! -name a -delete", [["rm", "-r", "src"]]),
        ("find src -exec rm {} +", [["rm", "-r", "src"]]),
        ("find src -execdir /bin/rm -f {} ;", [["rm", "-r", "-f", "src"]]),
        ("find src -ok shred {} ;", [["shred", "-r", "src"]]),
        ("find src -okdir unlink {} ;", [["unlink", "-r", "src"]]),
        ("find src -exec echo {} \\; -delete", [["rm", "-r", "src"]]),
        ("find src -exec ls {} \\; -exec rm {} \\;", [["rm", "-r", "src"]]),
    ],
)
def test_find_removes_below_its_starting_points(command: str, removed: list[list[str]]) -> None:
    commands, unknown = seen(command)
    rms = [words for words in commands if words[0] in ("rm", "shred", "unlink")]
    assert (rms, unknown) == (removed, []), command


def test_find_runs_other_actions_with_the_starting_point_for_braces() -> None:
    commands = seen("find src -exec echo {} x ;")[0]
    assert commands == [["find", "src", "-exec", "echo", "{}", "x"], ["echo", "src", "x"]]
    # An action without its end runs to the end of the line.
    assert runs("find src -exec rm {}", ["rm", "-r", "src"])
    assert seen("find src -name x") == ([["find", "src", "-name", "x"]], [])
    # An empty action runs nothing.
    assert seen("find src -exec ;") == ([["find", "src", "-exec"]], [])


def test_find_actions_nested_too_deeply_are_unknown_not_dropped() -> None:
    inner = "find / -exec rm {} +"
    assert runs(f"bash -c \"bash -c '{inner}'\"", ["rm", "-r", "/"])
    deeper = f'bash -c "bash -c \'bash -c \\"{inner}\\"\'"'
    assert TOO_DEEP in seen(deeper)[1]


# ---------------------------------------------------------------- nesting and budget


def test_text_nested_three_deep_is_followed_and_deeper_is_unknown() -> None:
    assert seen("eval \"eval 'eval ls'\"")[1] == []
    assert runs("eval \"eval 'eval ls'\"", ["ls"])
    assert seen('eval "eval \'eval \\"eval ls\\"\'"')[1] == [TOO_DEEP]


def test_the_depth_given_counts_towards_the_limit() -> None:
    assert effective_commands("eval ls").unknown == []
    assert effective_commands("eval ls", depth=2).unknown == []
    assert effective_commands("eval ls", depth=3).unknown == [TOO_DEEP]
    assert effective_commands("eval 'eval ls'", depth=1).unknown == []
    assert effective_commands("eval 'eval ls'", depth=2).unknown == [TOO_DEEP]


def test_a_line_too_long_to_follow_is_unknown_once() -> None:
    assert seen("true;" * 3000)[1] == []
    assert seen("true;" * 3001)[1] == ["too many nested commands to follow"]
    assert seen("true;" * 3005)[1] == ["too many nested commands to follow"]


def test_the_budget_is_shared_with_nested_text() -> None:
    # Each eval spends some of it; what is left over carries on across them.
    line = "eval 'true;true';" * 1000 + "true"
    assert seen(line)[1] == ["too many nested commands to follow"]


def test_here_strings_anywhere_are_followed() -> None:
    for command in ("cat <<< 'rm x'", 'cat <<< "rm x"', "cat <<<rm"):
        assert runs(command, ["rm", "x"] if "x" in command else ["rm"]), command


def test_text_a_loose_piece_would_read_from_standard_input_is_unknown() -> None:
    # Inside quotes there is no pipe to follow: `at` there reads what cannot be seen.
    assert seen('echo "x; at now"')[1] == [STDIN]
    assert seen('echo "x; bash"')[1] == []  # but a shell named in quoted text is not asked about
