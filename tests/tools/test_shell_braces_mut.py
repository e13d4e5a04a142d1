"""Brace expansion as bash does it: the words of ``{a,b}``, ``{1..9..2}``, ``{01..10}``, which
brace pairs bash leaves as written (``{1..a}``, ``{a}``), and the words an expansion leaves
empty, which bash drops (``{,} rm -rf /`` runs ``rm -rf /``). The expected words are bash's
own: one test checks the whole table against ``bash`` itself, the others check our expansion
against the table (fast enough for tests/mutation/run.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.tools.safety import floor_violation
from app.tools.shellparse import effective_commands, expand_braces

_ALPHABET = "abcdefghijklmnopqrstuvwxyz"

#: Word -> the words bash 5 makes of it, unquoted, with globbing off.
BASH: list[tuple[str, list[str]]] = [
    # Sequences: numbers, letters, steps (their sign is ignored, 0 counts as 1), padding.
    ("{1..3}", ["1", "2", "3"]),
    ("{3..1}", ["3", "2", "1"]),
    ("{-1..2}", ["-1", "0", "1", "2"]),
    ("{2..-1}", ["2", "1", "0", "-1"]),
    ("{-3..-1}", ["-3", "-2", "-1"]),
    ("{9..11}", ["9", "10", "11"]),
    ("{5..5}", ["5"]),
    ("{+1..3}", ["1", "2", "3"]),
    ("{1..+2}", ["1", "2"]),
    ("{1..10..3}", ["1", "4", "7", "10"]),
    ("{10..1..3}", ["10", "7", "4", "1"]),
    ("{1..10..-3}", ["1", "4", "7", "10"]),
    ("{1..3..0}", ["1", "2", "3"]),
    ("{1..2..3}", ["1"]),
    ("{5..1..2}", ["5", "3", "1"]),
    ("{1..3..+2}", ["1", "3"]),
    ("{-5..5..5}", ["-5", "0", "5"]),
    ("{1..100..30}", ["1", "31", "61", "91"]),
    ("{01..10}", ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]),
    ("{1..03}", ["01", "02", "03"]),
    ("{001..3}", ["001", "002", "003"]),
    ("{01..3..2}", ["01", "03"]),
    ("{1..10..03}", ["1", "4", "7", "10"]),
    ("{-01..2}", ["-01", "000", "001", "002"]),
    ("{-1..02}", ["-1", "00", "01", "02"]),
    ("{-03..-1}", ["-03", "-02", "-01"]),
    ("{-0..2}", ["0", "1", "2"]),
    ("{0..-2}", ["0", "-1", "-2"]),
    ("{00..2}", ["00", "01", "02"]),
    ("{+01..3}", ["1", "2", "3"]),
    ("{a..c}", ["a", "b", "c"]),
    ("{c..a}", ["c", "b", "a"]),
    ("{a..a}", ["a"]),
    ("{z..a}", list(reversed(_ALPHABET))),
    ("{a..z..2}", list(_ALPHABET[::2])),
    ("{a..e..-2}", ["a", "c", "e"]),
    ("{a..b..0}", ["a", "b"]),
    ("{Z..a..3}", ["Z", "]", "`"]),
    ("{X..Z}", ["X", "Y", "Z"]),
    # Not a sequence: bash leaves the braces as written.
    ("{1..a}", ["{1..a}"]),
    ("{a..1}", ["{a..1}"]),
    ("{1..a..2}", ["{1..a..2}"]),
    ("{ab..c}", ["{ab..c}"]),
    ("{a..cc}", ["{a..cc}"]),
    ("{..}", ["{..}"]),
    ("{a..}", ["{a..}"]),
    ("{..a}", ["{..a}"]),
    ("{1..2..}", ["{1..2..}"]),
    ("{1..2..x}", ["{1..2..x}"]),
    ("{1..3..1x}", ["{1..3..1x}"]),
    ("{a..z..2x}", ["{a..z..2x}"]),
    ("{1..3..2..4}", ["{1..3..2..4}"]),
    ("{1.5..3}", ["{1.5..3}"]),
    ("{1...3}", ["{1...3}"]),
    ("{a...b}", ["{a...b}"]),
    ("{1..3...}", ["{1..3...}"]),
    ("{--1..3}", ["{--1..3}"]),
    ("{0x1..3}", ["{0x1..3}"]),
    ("{!..#}", ["{!..#}"]),
    ("{-..a}", ["{-..a}"]),
    ("{9223372036854775806..9223372036854775807}",
     ["9223372036854775806", "9223372036854775807"]),
    ("{-9223372036854775808..-9223372036854775807}",
     ["-9223372036854775808", "-9223372036854775807"]),
    ("{-9223372036854775809..-9223372036854775808}",
     ["{-9223372036854775809..-9223372036854775808}"]),
    ("{9223372036854775807..9223372036854775808}",
     ["{9223372036854775807..9223372036854775808}"]),
    ("{a}", ["{a}"]),
    ("a{b}c", ["a{b}c"]),
    ("{}", ["{}"]),
    ("{a.b}", ["{a.b}"]),
    ("{a,b", ["{a,b"]),
    ("plain", ["plain"]),
    # Lists: split at the commas outside inner braces; empty words are dropped.
    ("x{a,b}y", ["xay", "xby"]),
    ("{a,b}{1..2}", ["a1", "a2", "b1", "b2"]),
    ("{1..2}{3..4}", ["13", "14", "23", "24"]),
    ("{a,b}{c,d}{e,f}", ["ace", "acf", "ade", "adf", "bce", "bcf", "bde", "bdf"]),
    ("{{a,b},c}", ["a", "b", "c"]),
    ("{a,{1..2}}", ["a", "1", "2"]),
    ("{{1..2},{3..4}}", ["1", "2", "3", "4"]),
    ("{a,b{c,d}e}f", ["af", "bcef", "bdef"]),
    ("{a,{b,{c,d},x},e}", ["a", "b", "c", "d", "x", "e"]),
    ("{a..c,d}", ["a..c", "d"]),
    ("{,1..3}", ["1..3"]),
    ("{a,}", ["a"]),
    ("{,a}", ["a"]),
    ("{,}", []),
    ("{,,}", []),
    ("{a,,b}", ["a", "b"]),
    ("x{,}", ["x", "x"]),
    ("x{{,},y}", ["x", "x", "xy"]),
    # Unmatched or invalid pairs: the next brace is tried.
    ("{1,2}}", ["1}", "2}"]),
    ("{{1,2}", ["{1", "{2"]),
    ("{a,b}{", ["a{", "b{"]),
    ("}{a,b}", ["}a", "}b"]),
    ("{a{b,c}", ["{ab", "{ac"]),
    ("{x{a,b}}y", ["{xa}y", "{xb}y"]),
    ("{a}{b,c}", ["{a}b", "{a}c"]),
    ("{1..a}{x,y}", ["{1..a}x", "{1..a}y"]),
    ("{ab..c}{x,y}", ["{ab..c}x", "{ab..c}y"]),
    ("{1..2}{1..a}", ["1{1..a}", "2{1..a}"]),
    ("a}b{c,d}", ["a}bc", "a}bd"]),
    ("{1..64}", [str(n) for n in range(1, 65)]),
    ("{x,y}{1..32}", [f"{a}{n}" for a in "xy" for n in range(1, 33)]),
]  # fmt: skip


@pytest.mark.parametrize(("word", "words"), BASH, ids=[word[:30] for word, _ in BASH])
def test_words_are_the_ones_bash_makes(word: str, words: list[str]) -> None:
    assert expand_braces(word) == words


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_table_is_what_bash_makes(tmp_path: Path) -> None:
    """Each expected list above is bash's own output (one bash run for the whole table)."""
    script = ["set -f", 'show() { for w in "$@"; do printf \'%s\\037\' "$w"; done; echo; }']
    script += [f"show {word}" for word, _ in BASH]
    ran = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", "\n".join(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    lines = ran.stdout.split("\n")[: len(BASH)]
    made = [line.split("\037")[:-1] for line in lines]
    assert list(zip([word for word, _ in BASH], made, strict=True)) == BASH


@pytest.mark.parametrize(
    "word",
    ["{1..65}", "{0..64}", "{64..0}", "{1..193..3}", "{a,b}{1..33}", "{x,y}{1..40}",
     "{1..99999999999999}", "{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}"],
)  # fmt: skip
def test_more_than_64_words_are_too_large_to_follow(word: str) -> None:
    assert expand_braces(word) is None


@pytest.mark.parametrize(
    "word", ["{1..190..3}", "{64..1}", "{a,b}{1..32}", "{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}"]
)
def test_64_words_are_followed(word: str) -> None:
    expanded = expand_braces(word)
    assert expanded is not None
    assert len(expanded) == 64


def test_seventeen_braces_are_not_followed_sixteen_are() -> None:
    assert expand_braces("{a}" * 16 + "{b,c}") is None
    assert expand_braces("{a}" * 15 + "{b,c}") == ["{a}" * 15 + "b", "{a}" * 15 + "c"]


def test_a_parameter_expansion_is_not_a_brace_list() -> None:
    """``${x:-{a,b}}`` and ``${x,}`` are parameters (bash expands no braces in them)."""
    assert expand_braces("${x:-{a,b}}") == ["${x:-{a,b}}"]
    assert expand_braces("${x,}{a,b}") == ["${x,}a", "${x,}b"]
    assert expand_braces("${x{a,b}") == ["${xa", "${xb"]


def test_an_empty_word_stays_as_written() -> None:
    assert expand_braces("") == [""]


@pytest.mark.parametrize(
    ("line", "runs"),
    [
        ("{,} rm -rf /", ["rm", "-rf", "/"]),
        ("{,}{,} rm -rf /", ["rm", "-rf", "/"]),
        ("rm {1..a}{x,y} {,}", ["rm", "{1..a}x", "{1..a}y"]),
        ("r{m,} -rf /", ["rm", "r", "-rf", "/"]),
    ],
)
def test_the_effective_command_is_what_bash_runs(line: str, runs: list[str]) -> None:
    assert runs in effective_commands(line).commands
    assert not effective_commands(line).unknown


def test_an_expansion_to_nothing_does_not_hide_rm_from_the_floor() -> None:
    """bash drops the two empty words of ``{,}``: the line runs ``rm -rf /``."""
    assert floor_violation("{,} rm -rf /") is not None
