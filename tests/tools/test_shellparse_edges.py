"""What the deny rules and the safety floor get to see of lines that hide a command: each
``find`` action (``-okdir``, a second ``-exec``, ``shred``/``unlink``, no start folder),
text printed into a shell, and brace ranges at their limits. Each case names a command the
line runs that must be among the effective commands (the rest of that list is the parser's
own business); cases that cannot be followed must say so."""

from __future__ import annotations

import pytest

from app.tools.shellparse import effective_commands, expand_braces

RUNS: list[tuple[str, list[str]]] = [
    # find: every action is seen, whichever comes first; no folder means '.'.
    (r"find -exec rm {} \;", ["rm", "-r", "."]),
    (r"find . -okdir rm {} \;", ["rm", "-r", "."]),
    (r"find . -exec echo {} \; -exec rm {} \;", ["rm", "-r", "."]),
    (r"find . -exec echo {} \; -exec rm {} \;", ["echo", "."]),
    (r"find . -exec shred {} \;", ["shred", "-r", "."]),
    ("find . -exec unlink {} +", ["unlink", "-r", "."]),
    ("find ! -name x -delete", ["rm", "-r", "."]),
    ("find src lib -delete", ["rm", "-r", "lib"]),
    # Text printed into a shell is the script it runs.
    ("printf 'rm %s' x | sh", ["rm", "x"]),
    ("printf 'rm %s %s' a | sh", ["rm", "a"]),
    ("printf 'rm %s\\n' a b | sh", ["rm", "b"]),
    ("printf 'rm 100%%' | sh", ["rm", "100%"]),
    ("echo rm x | sh", ["rm", "x"]),
    ("echo -n rm x | bash", ["rm", "x"]),
    # Scripts given to launchers, in their long and short spellings.
    ("env --split-string='FOO=1 rm x'", ["rm", "x"]),
    ("env '--split-string=rm a=b'", ["rm", "a=b"]),
    ("sudo -i -- rm x", ["rm", "x"]),
    ("bash --norc -c 'rm x'", ["rm", "x"]),
    ("watch -n1 rm -rf x", ["rm", "-rf", "x"]),
]


@pytest.mark.parametrize(("line", "command"), RUNS)
def test_the_hidden_command_is_seen(line: str, command: list[str]) -> None:
    seen = effective_commands(line)
    assert command in seen.commands, seen.commands
    assert seen.unknown == []


@pytest.mark.parametrize(
    "line",
    ["printf '%d' 1 | sh", "echo -e 'rm\\tx' | sh"],
)
def test_printed_text_that_cannot_be_known_is_unknown(line: str) -> None:
    assert effective_commands(line).unknown


@pytest.mark.parametrize(
    ("line", "commands"),
    [
        ("printf | sh", [["printf"], ["sh"]]),
        ("printf '%s' | sh", [["printf", "%s"], ["sh"]]),
        ("env -S", [["env", "-S"]]),
        ("env --split-string", [["env", "--split-string"]]),
        ("su -c", [["su", "-c"]]),
        ("bash -c", [["bash", "-c"]]),
    ],
)
def test_an_empty_script_runs_nothing_more(line: str, commands: list[list[str]]) -> None:
    """Nothing after the flag: the line's own words are all there is to match."""
    seen = effective_commands(line)
    assert (seen.commands, seen.unknown) == (commands, [])


@pytest.mark.parametrize(
    ("word", "expanded"),
    [
        ("{3..1}", ["3", "2", "1"]),
        ("{a..a}", ["a"]),
        ("{c..a}", ["c", "b", "a"]),
        ("{-2..1}", ["-2", "-1", "0", "1"]),
        ("{1..-2}", ["1", "0", "-1", "-2"]),
        ("{5..5}", ["5"]),
        ("{1..2..3}", ["1"]),  # a step larger than the range (bash: 1)
        ("{1..64}", [str(n) for n in range(1, 65)]),
        ("{0..63}", [str(n) for n in range(64)]),
        ("{-63..0}", [str(n) for n in range(-63, 1)]),
        ("{1..65}", None),
        ("{0..64}", None),
        ("{x,y}{1..40}", None),
        ("{x,y}{1..32}", [f"{a}{n}" for a in "xy" for n in range(1, 33)]),
    ],
)
def test_brace_ranges_at_their_limits(word: str, expanded: list[str] | None) -> None:
    """Up to 64 words are expanded (as bash would); beyond that the word is left unknown."""
    assert expand_braces(word) == expanded
