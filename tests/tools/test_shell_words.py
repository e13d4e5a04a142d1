"""How a command line splits into words, and what bash would still do to each word: the
words are bash's own (one test runs the whole table through ``bash``), the facts
(quoted, glob, brace, tilde, bracket) are what the known-safe check trusts, and the reasons a
line is not plain are what keeps it away from allow rules. Written against the mutation
report (tests/mutation/run.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.tools.registry import ToolRegistry
from app.tools.shellparse import Word, parse_command, split_words
from tests.tools.test_policy import Check

#: One simple command -> its words, as bash splits them (globbing off, nothing to expand).
SPLITS: list[tuple[str, list[str]]] = [
    ("ls -la", ["ls", "-la"]),
    ("  ls \t -la  src ", ["ls", "-la", "src"]),
    ("echo 'a b' \"c d\"", ["echo", "a b", "c d"]),
    ("echo a'b'\"c\"d", ["echo", "abcd"]),
    ("echo ''", ["echo", ""]),
    ("echo \"\" ''", ["echo", "", ""]),
    ("echo \"\"a a''", ["echo", "a", "a"]),
    ("echo a\\ b", ["echo", "a b"]),
    ("echo \\\\", ["echo", "\\"]),
    ("echo \\a\\'", ["echo", "a'"]),
    ("echo '\\\\'", ["echo", "\\\\"]),
    ("echo 'a\\'", ["echo", "a\\"]),
    ('echo "\\\\"', ["echo", "\\"]),
    ('echo "\\x"', ["echo", "\\x"]),
    ('echo "a\\"b"', ["echo", 'a"b']),
    ('echo "\\$x"', ["echo", "$x"]),
    ('echo "\\`"', ["echo", "`"]),
    ("echo 'it'\\''s'", ["echo", "it's"]),
    ("echo \"it's\" 'a\"b'", ["echo", "it's", 'a"b']),
    ("echo \\\" \\'", ["echo", '"', "'"]),
    ("ls \\\n -la", ["ls", "-la"]),
    ("ls \\\n-la", ["ls", "-la"]),
    ("ec\\\nho hi", ["echo", "hi"]),
    ("echo a \\\n", ["echo", "a"]),
    ('echo "a\\\nb"', ["echo", "ab"]),
    ("echo 'a\\\nb'", ["echo", "a\\\nb"]),
    ("echo \"a\nb\" 'c\nd'", ["echo", "a\nb", "c\nd"]),
    ("echo *.py a\\* '?'", ["echo", "*.py", "a*", "?"]),
    ("grep -E 'x|y' f", ["grep", "-E", "x|y", "f"]),
    ("echo \"a b\"'c d'e\\ f", ["echo", "a bc de f"]),
]


@pytest.mark.parametrize(("segment", "words"), SPLITS, ids=[s[:30] for s, _ in SPLITS])
def test_words_are_the_ones_bash_makes(segment: str, words: list[str]) -> None:
    assert [word.text for word in split_words(segment)] == words


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_table_is_what_bash_makes(tmp_path: Path) -> None:
    """Each expected list above is bash's own split (one bash run for the whole table)."""
    show = "show() { for w in \"$@\"; do printf '%s\\037' \"$w\"; done; printf '\\036'; }"
    script = ["set -f", show, *[f"show {segment}" for segment, _ in SPLITS]]
    ran = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", "\n".join(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    made = [call.split("\037")[:-1] for call in ran.stdout.split("\036")[:-1]]
    assert list(zip([segment for segment, _ in SPLITS], made, strict=True)) == SPLITS


def _facts(word: Word) -> str:
    """The facts of a word that hold, as letters: q(uoted) g(lob) b(race) t(ilde) [ (bracket)."""
    flags = [word.quoted, word.glob, word.brace, word.tilde, word.bracket]
    return "".join(letter for letter, on in zip("qgbt[", flags, strict=True) if on)


#: One word -> the facts that hold for it.
FACTS: list[tuple[str, str]] = [
    ("plain", ""),
    ("'plain'", "q"),
    ('""plain', "q"),
    ("''", "q"),
    ('""', "q"),
    ("a\\b", "q"),
    ("ti\\\nme", ""),
    ("*.py", "g"),
    ("a?", "g"),
    ("'*.py'", "q"),
    ("\\*.py", "q"),
    ('"a"*', "qg"),
    ("[ab]", "g["),
    ("'['", "q"),
    ("a\\[", "q"),
    ("~", "t"),
    ("~/x", "t"),
    ("a~b", "t"),
    ("'~'", "q"),
    ("\\~", "q"),
    ("{a,b}", "b"),
    ("{1..3}", "b"),
    ("x{a,b}y", "b"),
    ("{a}", ""),
    ("{}", ""),
    ("{a.b}", ""),
    ("'{a,b}'", "q"),
    ("{a','b}", "q"),
    ("{a'..'b}", "q"),
    ("\\{a,b}", "q"),
    ("{a,b\\}", "q"),
    ("{'a',b}", "qb"),
    ("{x{a,b}", "b"),
    ("{a,{b}}", "b"),
    ("{{a},b}", "b"),
    ("}{a,b", ""),
    ("}a,b{", ""),
    ("{a}{b}", ""),
    ("{a}b,c}", ""),
    ("{a{b}c}", ""),
    ("{a}{b,c}", "b"),
    ("{a,b}}", "b"),
    ("{a.'x'.b}", "q"),
    ("{1'.'.3}", "q"),
    ("Xy", ""),
    ("a\\X", "q"),
]


@pytest.mark.parametrize(("text", "facts"), FACTS)
def test_the_facts_of_a_word(text: str, facts: str) -> None:
    (word,) = split_words(text)
    assert _facts(word) == facts


@pytest.mark.parametrize(
    ("segment", "error"),
    [
        ("echo 'abc", "No closing quotation"),
        ('echo "abc', "No closing quotation"),
        ('echo "a\\"', "No closing quotation"),
        ("echo abc\\", "a trailing backslash"),
    ],
)
def test_a_broken_command_is_refused_with_why(segment: str, error: str) -> None:
    with pytest.raises(ValueError) as raised:
        split_words(segment)
    assert str(raised.value) == error


#: A line -> its simple commands (wrappers stripped), which read a pipe, and why not plain.
LINES: list[tuple[str, list[list[str]], list[bool], list[str]]] = [
    ("a | b || c; d | e", [["a"], ["b"], ["c"], ["d"], ["e"]],
     [False, True, False, False, True], []),
    ("a && b & c", [["a"], ["b"], ["c"]], [False, False, False], ["background job"]),
    ("a;;b", [["a"], ["b"]], [False, False], []),
    ("a\nb", [["a"], ["b"]], [False, False], []),
    ("a |& b", [["a"], ["b"]], [False, True], ["redirection"]),
    ("a &> f", [["a", "&>", "f"]], [False], ["redirection"]),
    ("a >& f", [["a", ">&", "f"]], [False], ["redirection"]),
    ("a 2>&1 | b", [["a", "2>&1"], ["b"]], [False, True], ["redirection"]),
    ("a <> f", [["a", "<>", "f"]], [False], ["redirection"]),
    ("a <<< x", [["a", "<<<", "x"]], [False], ["heredoc", "redirection"]),
    ("a >(b)", [["a", ">(b)"]], [False], ["process substitution", "subshell"]),
    ("echo $'a'", [["echo", "$a"]], [False], ["ANSI-C or locale quoting"]),
    ('echo $"a"', [["echo", "$a"]], [False], ["ANSI-C or locale quoting"]),
    ("echo \"$'a'\"", [["echo", "$'a'"]], [False], ["expansion"]),
    ('echo "$"', [["echo", "$"]], [False], []),
    ("echo $ a", [["echo", "$", "a"]], [False], []),
    ("echo a$", [["echo", "a$"]], [False], []),
    ("echo \"a$\"b", [["echo", "a$b"]], [False], []),
    ("echo $1", [["echo", "$1"]], [False], ["expansion"]),
    ("echo \"a\\\"$(b)\"", [["echo", 'a"$(b)']], [False], ["command substitution"]),
    ("echo 'a\\' b", [["echo", "a\\", "b"]], [False], []),
    ("echo 'a;b' \"c|d\" e\\;f", [["echo", "a;b", "c|d", "e;f"]], [False], []),
    ("echo \\$HOME \\`x\\`", [["echo", "$HOME", "`x`"]], [False], []),
    ("echo a#b", [["echo", "a#b"]], [False], []),
    ("echo \\#b", [["echo", "#b"]], [False], []),
    ("echo X#c", [["echo", "X#c"]], [False], []),
    ("#c", [["#c"]], [False], ["comment"]),
    ("a;#c", [["a"], ["#c"]], [False, False], ["comment"]),
    ("a&#c", [["a"], ["#c"]], [False, False], ["background job", "comment"]),
    ("a|#c", [["a"], ["#c"]], [False, True], ["comment"]),
    ("a\t#c", [["a", "#c"]], [False], ["comment"]),
    ("a\n#c", [["a"], ["#c"]], [False, False], ["comment"]),
    ("echo {X,y}", [["echo", "{X,y}"]], [False], ["brace expansion"]),
    ("echo {a}", [["echo", "{a}"]], [False], []),
    ("{ ls;}", [["{", "ls"], ["}"]], [False, False], ["command group"]),
    ("{ ls; }|cat", [["{", "ls"], ["}"], ["cat"]], [False, False, True], ["command group"]),
    ("{ ls; }&", [["{", "ls"], ["}"]], [False, False], ["command group", "background job"]),
    ("{ ls; };x", [["{", "ls"], ["}"], ["x"]], [False, False, False], ["command group"]),
    ("{\tls; }", [["{", "ls"], ["}"]], [False, False], ["command group"]),
    ("a X{ b", [["a", "X{", "b"]], [False], []),
    ("a }X b", [["a", "}X", "b"]], [False], []),
    ("a X} b", [["a", "X}", "b"]], [False], []),
    ("a {X b", [["a", "{X", "b"]], [False], []),
    ("a }x", [["a", "}x"]], [False], []),
    ("x{ a", [["x{", "a"]], [False], []),
    ("echo a\\", [], [], ["cannot be parsed (a trailing backslash)"]),
    ("FOO=1 make", [["FOO=1", "make"]], [False], ["environment assignment"]),
    ("make FOO=1", [["make", "FOO=1"]], [False], []),
    ("echo 'open", [], [], ["unbalanced quotes", "cannot be parsed (No closing quotation)"]),
    ("ls; echo \"x", [["ls"]], [False], ["unbalanced quotes",
                                            "cannot be parsed (No closing quotation)"]),
    ("", [], [], []),
    ("\nls\n\npwd", [["ls"], ["pwd"]], [False, False], []),
    ("ls\n\\\n\npwd", [["ls"], ["pwd"]], [False, False], []),
    ("echo 'a' $'b'", [["echo", "a", "$b"]], [False], ["ANSI-C or locale quoting"]),
    ("echo \"a\" $\"b\"", [["echo", "a", "$b"]], [False], ["ANSI-C or locale quoting"]),
    (" ; ", [], [], []),
    ("timeout 5 git push", [["git", "push"]], [False], []),
]  # fmt: skip


@pytest.mark.parametrize(("line", "commands", "piped", "reasons"), LINES)
def test_a_line_is_split_into_commands_and_reasons(
    line: str, commands: list[list[str]], piped: list[bool], reasons: list[str]
) -> None:
    parsed = parse_command(line)
    assert (parsed.commands, parsed.piped[: len(parsed.commands)], parsed.reasons) == (
        commands,
        piped,
        reasons,
    )
    assert parsed.plain == (not reasons and bool(commands))


def test_the_words_of_each_command_keep_wrappers_and_quoting() -> None:
    parsed = parse_command("timeout 5 'git' push | \"\"time x")
    assert [[w.text for w in words] for words in parsed.words] == [
        ["timeout", "5", "git", "push"],
        ["time", "x"],
    ]
    assert [[w.quoted for w in words] for words in parsed.words] == [
        [False, False, True, False],
        [True, False],
    ]
    assert parsed.piped == [False, True]
    assert parsed.raw == "timeout 5 'git' push | \"\"time x"


@pytest.mark.parametrize(
    "command",
    ["git \\\n push --force", "git \\\npush --force", "git\\\n push --force", "git \\\n\tpush"],
)
def test_a_line_continuation_does_not_hide_a_subcommand_from_a_deny_rule(
    registry: ToolRegistry, workspace: Path, command: str
) -> None:
    """bash joins the lines; an empty word left between ``git`` and ``push`` passed the rule."""
    check = Check(registry, workspace)
    decision = check(check.policy("auto", deny=["shell(git push *)"]), "shell", command=command)
    assert (decision.action, decision.rule) == ("deny", "shell(git push *)")


def test_a_quoted_time_is_the_program_not_the_keyword() -> None:
    """``""time`` is not bash's keyword: the known-safe check must not strip it."""
    (word, _) = split_words('""time ls')
    assert word.quoted
