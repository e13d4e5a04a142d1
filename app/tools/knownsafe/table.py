"""The table of known-safe commands: per command, the options it may take and what each
operand is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["any", "path", "num", "word", "opt"]


_NUMBER = re.compile(r"[+-]?\d+[A-Za-z]{0,3}")


@dataclass(frozen=True)
class Spec:
    """What one command may be given and still be known-safe."""

    flags: str = ""  #: short options without a value, combinable (``-la``)
    short_values: dict[str, Kind] = field(default_factory=dict)  #: short options with a value
    longs: dict[str, Kind | None] = field(default_factory=dict)  #: long options (None = no value)
    operands: Kind | None = "path"  #: what operands are; None = none allowed
    max_operands: int | None = None
    numeric_option: bool = False  #: ``head -5``
    first_operand: Kind | None = None  #: a leading non-path operand (grep's pattern)
    pattern_options: frozenset[str] = frozenset()  #: options that replace ``first_operand``


def _values(letters: str, kind: Kind = "any") -> dict[str, Kind]:
    return dict.fromkeys(letters, kind)


def _longs(
    names: str, values: str = "", paths: str = "", nums: str = "", optional: str = ""
) -> dict[str, Kind | None]:
    """Long options: without a value, with one, with a path, a number, or an optional value
    (GNU takes an optional value only as ``--name=value``)."""
    table: dict[str, Kind | None] = {name: None for name in names.split()}
    table.update({name: "opt" for name in optional.split()})
    table.update({name: "any" for name in values.split()})
    table.update({name: "path" for name in paths.split()})
    table.update({name: "num" for name in nums.split()})
    return table


_COMMON = _longs("help version")


SPECS: dict[str, Spec] = {
    "cat": Spec(
        "AbeEnstTuv",
        longs=_longs("show-all number-nonblank show-ends number squeeze-blank show-tabs "
                     "show-nonprinting"),
    ),
    "head": Spec(
        "qvz", _values("nc", "num"),
        _longs("quiet silent verbose zero-terminated", nums="lines bytes"), numeric_option=True,
    ),
    "tail": Spec(
        "qvz", _values("nc", "num"),
        _longs("quiet silent verbose zero-terminated", nums="lines bytes"), numeric_option=True,
    ),
    "wc": Spec("clmwL", longs=_longs("bytes chars lines words max-line-length", "total")),
    "nl": Spec(
        "p", _values("bdfhs") | _values("ilvw", "num") | _values("n", "word"),
        _longs("no-renumber", "body-numbering section-delimiter footer-numbering "
               "header-numbering line-increment join-blank-lines number-format "
               "number-separator starting-line-number number-width"),
    ),
    "cut": Spec(
        "nsz", _values("bcdf"),
        _longs("complement only-delimited zero-terminated",
               "bytes characters delimiter fields output-delimiter"),
    ),
    "paste": Spec("sz", {"d": "any"}, _longs("serial zero-terminated", "delimiters")),
    "rev": Spec(),
    "tr": Spec(
        "cCdst", longs=_longs("complement delete squeeze-repeats truncate-set1"), operands="any"
    ),
    "uniq": Spec(
        "cdDiuz", _values("fsw", "num"),
        _longs("count repeated ignore-case unique zero-terminated", optional="all-repeated group",
               nums="skip-fields skip-chars check-chars"),
        max_operands=1,  # a second operand is an output file
    ),
    "sort": Spec(
        "bdfgiMhnRrVcCsuz", {"k": "any", "t": "any", "S": "any"},
        _longs("ignore-leading-blanks dictionary-order ignore-case general-numeric-sort "
               "ignore-nonprinting month-sort human-numeric-sort numeric-sort random-sort "
               "reverse version-sort stable unique zero-terminated check",
               "sort key field-separator buffer-size parallel"),
    ),
    "ls": Spec(
        "aAbBcCdfFgGhHiklmnNopqQrRsStuUvxXZ1",  # no -L: a recursive listing would follow links
        {"w": "num", "I": "any", "T": "num"},
        _longs("all almost-all author escape ignore-backups directory dired file-type "
               "full-time group-directories-first no-group human-readable si "
               "dereference-command-line dereference-command-line-symlink-to-dir inode "
               "kibibytes literal numeric-uid-gid hide-control-chars show-control-chars "
               "quote-name reverse recursive size context zero",
               "block-size format hide indicator-style ignore quoting-style sort time time-style "
               "tabsize width", optional="color classify hyperlink"),
    ),
    "stat": Spec("LftZ", {"c": "any"}, _longs("dereference file-system terse", "format printf "
                                               "cached")),
    "file": Spec(
        "bdEhiklLNnrs0",  # no -C (writes), -p (touches times), -z (runs decompressors)
        {"e": "any", "F": "any", "P": "any", "m": "path"},  # no -f: it names files to read
        _longs("brief mime mime-type mime-encoding keep-going list dereference no-dereference "
               "raw special-files print0 extension apple no-buffer no-pad",
               "separator exclude exclude-quiet parameter", "magic-file"),
    ),
    "tree": Spec(
        "adfixpsughDFqNQrtvUcCAnSJX",  # no -o (writes), -R (writes), -l (follows links)
        {"L": "any", "P": "any", "I": "any"},
        _longs("gitignore ignore-case matchdirs metafirst prune info noreport si du inodes "
               "device dirsfirst filesfirst nolinks",
               "filelimit charset timefmt sort", "gitfile infofile"),
    ),
    "du": Spec(
        "abcDhHklmsSx0",  # no -L: it would follow links out of the workspace
        {"d": "num", "B": "any", "t": "any", "X": "path"},
        _longs("all apparent-size bytes total dereference-args human-readable inodes si "
               "summarize one-file-system null count-links separate-dirs",
               "block-size max-depth threshold time-style exclude", "exclude-from",
               optional="time"),
    ),
    "df": Spec(
        "ahHiklPT", _values("Btx"),
        _longs("all human-readable si inodes local portability print-type total sync no-sync",
               "block-size type exclude-type", optional="output"),
    ),
    "realpath": Spec(
        "eEmLPqsz",
        longs=_longs("canonicalize-existing canonicalize-missing logical physical quiet "
                     "no-symlinks strip zero", paths="relative-to relative-base"),
    ),
    "basename": Spec("az", {"s": "any"}, _longs("multiple zero", "suffix"), operands="any"),
    "dirname": Spec("z", longs=_longs("zero"), operands="any"),
    "pwd": Spec("LP", operands=None),
    "whoami": Spec(operands=None),
    "id": Spec("agGnruzZ", longs=_longs("group groups name real user zero context"),
               operands="any", max_operands=1),
    "uname": Spec(
        "asnrvmpio",
        longs=_longs("all kernel-name nodename kernel-release kernel-version machine "
                     "processor hardware-platform operating-system"),
        operands=None,
    ),
    "which": Spec("as", operands="any"),
    "seq": Spec("w", {"f": "any", "s": "any"}, _longs("equal-width", "format separator"),
                operands="any"),
    "base64": Spec("di", {"w": "any"}, _longs("decode ignore-garbage", "wrap"), max_operands=1),
    "grep": Spec(
        "EFGPiywxcLlovqsbHhnTZzraUVI",  # no -R: it follows links out of the workspace
        {"A": "num", "B": "num", "C": "num", "m": "num", "e": "any", "d": "any", "D": "any",
         "f": "path"},
        _longs("extended-regexp fixed-strings basic-regexp perl-regexp ignore-case "
               "no-ignore-case word-regexp line-regexp null-data no-messages invert-match "
               "byte-offset line-number line-buffered with-filename no-filename "
               "only-matching quiet silent text recursive files-without-match "
               "files-with-matches count initial-tab null",
               "regexp max-count label binary-files directories devices include exclude "
               "exclude-dir", "file exclude-from", "before-context after-context context",
               optional="color colour"),
        first_operand="any", pattern_options=frozenset({"-e", "-f", "--regexp", "--file"}),
    ),
    "rg": Spec(
        "iSsFwxvclnNHoqa0IpuU",  # no -L (follows links), -z (runs decompressors), --pre
        {"e": "any", "g": "any", "t": "any", "T": "any", "A": "num", "B": "num", "C": "num",
         "m": "num", "M": "num", "j": "num", "f": "path"},
        _longs("ignore-case smart-case case-sensitive fixed-strings word-regexp line-regexp "
               "invert-match count count-matches files-with-matches files-without-match "
               "line-number no-line-number with-filename no-filename only-matching quiet "
               "hidden no-ignore no-ignore-vcs no-ignore-parent json files multiline "
               "unrestricted vimgrep no-heading heading trim text column stats null "
               "no-messages type-list",
               "glob iglob type type-not regexp max-count max-depth context before-context "
               "after-context sort sortr color colors max-columns threads",
               "file ignore-file"),
        first_operand="any",
        pattern_options=frozenset({"-e", "-f", "--regexp", "--file", "--files", "--type-list"}),
    ),
    "diff": Spec(
        "qsuciEZbwBaNTtpy",  # no -r: a recursive diff follows links out of the workspace
        _values("IxFLDS") | _values("UCW", "num") | {"X": "path"},
        _longs("brief report-identical-files side-by-side ignore-case ignore-tab-expansion "
               "ignore-trailing-space ignore-space-change ignore-all-space ignore-blank-lines "
               "text new-file unidirectional-new-file initial-tab expand-tabs "
               "show-c-function normal minimal speed-large-files strip-trailing-cr "
               "suppress-common-lines",
               "label exclude ignore-matching-lines", "from-file to-file exclude-from", "width",
               optional="unified context color"),
    ),
    "echo": Spec(operands="any", flags="neE"),
    "printf": Spec(operands="any"),  # no -v: it would set a variable, even PATH
    "true": Spec(operands="any"),
    "false": Spec(operands="any"),
    "expr": Spec(operands="any"),
}  # fmt: skip
