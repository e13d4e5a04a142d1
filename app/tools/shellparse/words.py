"""The word splitter: a command line into simple commands of shell words, and whether the
line is plain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.tools.shellparse.launchers import _ASSIGNMENT, strip_wrappers

#: Stands for a quoted character in the bare form of a word (bash passes no NUL in a word).
_QUOTED = "\0"


@dataclass(frozen=True)
class Word:
    """One shell word after quote removal, and what bash would still do to it."""

    text: str
    #: Holds an unquoted ``*``, ``?`` or ``[``: bash may replace it with file names.
    glob: bool = False
    #: Some part of it was quoted or escaped (so it is not a keyword like ``time``).
    quoted: bool = False
    #: An unquoted brace list or sequence (``{a,b}``, ``{1..3}``): bash expands it.
    brace: bool = False
    #: An unquoted ``~`` (bash expands it at the start, and after ``=`` or ``:``).
    tilde: bool = False
    #: An unquoted ``[``: a bracket pattern, which bash reads in ways Python's glob does not.
    bracket: bool = False


@dataclass
class ParsedCommand:
    """One command line taken apart: its simple commands (wrappers stripped) and plainness."""

    raw: str
    commands: list[list[str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    #: For each command: whether its standard input is the previous command's output.
    piped: list[bool] = field(default_factory=list)
    #: For each command: its words as written (wrappers kept), with quoting facts.
    words: list[list[Word]] = field(default_factory=list)

    @property
    def plain(self) -> bool:
        """Whether the line is only simple commands joined by ``&& || ; |`` and newlines."""
        return not self.reasons and bool(self.commands)


def parse_command(command: str) -> ParsedCommand:
    """Split ``command`` into simple commands and record every non-plain construct found."""
    parsed = ParsedCommand(raw=command)
    segments, reasons, piped = _scan(command)
    parsed.reasons.extend(reasons)
    for segment, from_pipe in zip(segments, piped, strict=True):
        if not segment.strip():
            continue
        try:
            raw_words = split_words(segment)
        except ValueError as exc:
            _note(parsed.reasons, f"cannot be parsed ({exc})")
            continue
        if not raw_words:
            continue
        words = [word.text for word in raw_words]
        if _ASSIGNMENT.match(words[0]):
            _note(parsed.reasons, "environment assignment")
        if any(word.brace for word in raw_words):
            _note(parsed.reasons, "brace expansion")
        parsed.commands.append(strip_wrappers(words))
        parsed.piped.append(from_pipe)
        parsed.words.append(raw_words)
    return parsed


def split_words(segment: str) -> list[Word]:
    """Split one simple command into words the way bash does, keeping quoting facts.

    A backslash before a newline joins the lines (bash removes both, even inside double
    quotes). Raises ValueError for an unclosed quote or a trailing backslash.
    """
    out = _Words()
    quote: str | None = None
    index, size = 0, len(segment)
    while index < size:
        char = segment[index]
        pair = segment[index : index + 2]
        if quote == "'":
            if char == "'":
                quote = None
            else:
                out.add(char, quoted=True)
        elif quote == '"':
            if char == '"':
                quote = None
            elif pair in ("\\$", "\\`", '\\"', "\\\\"):
                out.add(segment[index + 1], quoted=True)
                index += 1
            elif pair == "\\\n":
                index += 1  # a line continuation: both go
            else:
                out.add(char, quoted=True)
        elif char in " \t\n":
            out.finish()
        elif char == "\\":
            if index + 1 >= size:
                raise ValueError("a trailing backslash")
            index += 1
            if segment[index] != "\n":  # else a line continuation: both go
                out.add(segment[index], quoted=True)
        elif char in "'\"":
            quote = char
            out.open_quote()
        else:
            out.add(char, quoted=False)
        index += 1
    if quote is not None:
        raise ValueError("No closing quotation")
    out.finish()
    return out.words


class _Words:
    """The words split so far and the one being read (its characters, which were quoted)."""

    def __init__(self) -> None:
        self.words: list[Word] = []
        self.chars: list[str] = []
        self.quoted: list[bool] = []
        self.started = False  # a word has begun (an empty '' is a word too)
        self.was_quoted = False  # some of it was quoted or escaped, even an empty part

    def add(self, char: str, *, quoted: bool) -> None:
        self.chars.append(char)
        self.quoted.append(quoted)
        self.started = True
        self.was_quoted = self.was_quoted or quoted

    def open_quote(self) -> None:
        self.started = self.was_quoted = True

    def finish(self) -> None:
        if self.started:
            self.words.append(_word(self.chars, self.quoted, self.was_quoted))
        self.chars, self.quoted = [], []
        self.started = self.was_quoted = False


def _word(chars: list[str], quoted: list[bool], any_quote: bool) -> Word:
    """A word from its characters and which of them were quoted (``any_quote``: some part was,
    even an empty ``''``)."""
    bare = "".join(
        _QUOTED if was_quoted else char for char, was_quoted in zip(chars, quoted, strict=True)
    )
    return Word(
        "".join(chars),
        glob=any(char in bare for char in "*?["),
        quoted=any_quote,
        brace=_has_brace_list(bare),
        tilde="~" in bare,
        bracket="[" in bare,
    )


def _has_brace_list(bare: str) -> bool:
    """Whether an unquoted ``{…}`` holds an unquoted ``,`` or ``..``: bash may expand it (a few
    such words it leaves alone, like ``{1..a}``, count too)."""
    opened: list[int] = []
    for position, char in enumerate(bare):
        if char == "{":
            opened.append(position)
        elif char == "}" and opened:
            body = bare[opened.pop() + 1 : position]
            if "," in body or ".." in body:
                return True
    return False


def _note(reasons: list[str], reason: str) -> None:
    if reason not in reasons:
        reasons.append(reason)


def _scan(text: str) -> tuple[list[str], list[str], list[bool]]:
    """Cut ``text`` at top-level separators, noting constructs that make it non-plain.

    Also says, per segment, whether it reads the previous segment's output (``|``).
    """
    segments: list[str] = []
    reasons: list[str] = []
    piped: list[bool] = [False]
    current: list[str] = []
    quote: str | None = None
    i, n = 0, len(text)

    def cut(pipe: bool = False) -> None:
        segments.append("".join(current))
        current.clear()
        piped.append(pipe)

    while i < n:
        char = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if quote == "'":
            current.append(char)
            if char == "'":
                quote = None
            i += 1
            continue
        if char == "\\":
            current.append(text[i : i + 2])
            i += 2
            continue
        if char == "$" and nxt in ("'", '"') and quote is None:
            _note(reasons, "ANSI-C or locale quoting")
        elif char == "$" and nxt and nxt not in ' \t\n"':
            # $(…), ${…}, $VAR, $[…], $((…)), $1, $@ …: what runs depends on it.
            _note(reasons, "command substitution" if nxt == "(" else "expansion")
        elif char == "`":
            _note(reasons, "command substitution")
        if quote == '"':
            current.append(char)
            if char == '"':
                quote = None
            i += 1
            continue
        if char in "'\"":
            quote = char
        elif char in "<>":
            if text.startswith("<<", i):
                _note(reasons, "heredoc")
            elif nxt == "(":
                _note(reasons, "process substitution")
            else:
                _note(reasons, "redirection")
        elif char in "()":
            _note(reasons, "subshell")
        elif char in "{}" and _is_word_start(text, i) and _is_word_end(text, i):
            _note(reasons, "command group")
        elif char == "#" and _is_word_start(text, i):
            _note(reasons, "comment")
        elif char in ";\n" or (char == "|" and nxt != "&"):
            step = 2 if text.startswith(("||", ";;"), i) else 1
            cut(pipe=char == "|" and step == 1)
            i += step
            continue
        elif char == "|" and nxt == "&":
            _note(reasons, "redirection")
            cut(pipe=True)
            i += 2
            continue
        elif char == "&":
            if nxt == "&":
                cut()
                i += 2
                continue
            if nxt == ">" or (current and current[-1] in "<>"):
                _note(reasons, "redirection")
            else:
                _note(reasons, "background job")
                cut()
                i += 1
                continue
        current.append(char)
        i += 1
    if quote:
        _note(reasons, "unbalanced quotes")
    segments.append("".join(current))
    return segments, reasons, piped


def _is_word_start(text: str, index: int) -> bool:
    return index == 0 or text[index - 1] in " \t\n;&|("


def _is_word_end(text: str, index: int) -> bool:
    return index + 1 >= len(text) or text[index + 1] in " \t\n;&|)"
