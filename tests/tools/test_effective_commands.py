"""What the deny rules and the safety floor see of a shell line (``effective_commands``):
launchers, shells, ``source``, ``at``, ``find`` actions, ``ssh``, aliases and keywords seen
through, and what cannot be seen marked unknown. Written against the mutation report of
app/tools/shellparse/effective.py (tests/mutation/run.py): a surviving mutant there is a way
past the gate that no test notices."""

from __future__ import annotations

import pytest

from app.tools.shellparse import UNKNOWN, effective_commands

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
