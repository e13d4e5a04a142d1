"""Markdown drawn by Rich into cached lines (:class:`RenderedMarkdown`), and the rules for
cutting a reply into pieces that render the same apart as together.

Rich's Markdown puts one blank line before a block when the block before it asks for one
(every kind but a horizontal rule), except that a list, table or quote already starts with
that blank line itself. :func:`render_piece` applies the same rule at a cut, so a reply
drawn as several pieces (the frozen blocks of a streaming reply, its finished blocks and
its unfinished last one) has exactly the lines of the reply drawn whole.
"""

from __future__ import annotations

import re
import time
from typing import Any

from markdown_it import MarkdownIt
from rich.console import Console
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

#: A live reply freezes its finished blocks once this much text waits in the streaming tail.
FREEZE_AFTER_CHARS = 1_200
_FENCE = re.compile(r"^\s{0,3}(```|~~~)", re.MULTILINE)
#: A line that may continue the block above a blank line: indented, or a list item.
_CONTINUES = re.compile(r"[ \t]|[-*+](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)", re.MULTILINE)
#: A block that is a thematic break (``---``, ``***``, ``___``): no blank line follows it.
_RULE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
#: A streaming block's height grows ahead of its text, by what it grew in about
#: ``GROW_AHEAD_SECONDS`` (``HEIGHT_STEP`` to ``MAX_HEADROOM`` lines; blank lines wait below
#: the text): each change of height lays out and repaints the whole followed view twice, and
#: doing that for every new line cost most of the CPU of a stream at a model's pace.
HEIGHT_STEP = 4
MAX_HEADROOM = 10
GROW_AHEAD_SECONDS = 0.25
#: Blocks Rich draws with their own leading blank line (a nested block ended just before).
_CONTAINERS = frozenset({"bullet_list_open", "ordered_list_open", "table_open", "blockquote_open"})


def split_point(text: str) -> int:
    """Where ``text`` can be cut into finished blocks and the rest: just after the last blank
    line that is outside a code fence and before a block that cannot belong to the one above
    (not a list item or an indented line, which may continue a list), else 0."""
    cut = 0
    search_from = 0
    while True:
        found = text.find("\n\n", search_from)
        if found < 0:
            return cut
        after = found + 2
        while after < len(text) and text[after] == "\n":
            after += 1
        if (
            after < len(text)
            and _CONTINUES.match(text, after) is None
            and len(_FENCE.findall(text, 0, found)) % 2 == 0
        ):
            cut = after
        search_from = after


def block_chunks(text: str, size: int) -> list[str]:
    """``text`` (finished blocks) cut at blank lines outside code fences into pieces of
    about ``size`` characters (a piece can be longer when one block is)."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > size:
        cut = split_point(text[start : start + size])
        if cut == 0:
            # One long block: end the piece at the next place a cut is possible.
            rest = text[start:]
            probe = size
            while cut == 0 and probe < len(rest):
                probe *= 2
                cut = split_point(rest[:probe])
            if cut == 0:
                break
        pieces.append(text[start : start + cut])
        start += cut
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def joins_after(before: str) -> bool:
    """Whether a piece that follows the text ``before`` (cut at a blank line) is drawn with
    a blank line first, as Rich draws blocks: after any block but a horizontal rule."""
    if not before.strip():
        return False
    last_block = before.rstrip("\n").rsplit("\n\n", 1)[-1]
    return _RULE.fullmatch(last_block.strip("\n")) is None


#: The code blocks' colours (Pygments styles) under dark and under light themes.
CODE_THEMES = {True: "monokai", False: "friendly"}


def code_theme(app: App[Any]) -> str:
    """The Pygments style for code blocks under the app's theme: ``[ui] code_theme`` when it
    is set (one name, or ``"dark-name, light-name"``), else one that follows light/dark."""
    dark = app.current_theme.dark
    ui = getattr(getattr(app, "settings", None), "ui", None)
    chosen = str(getattr(ui, "code_theme", "") or "")
    names = [name.strip() for name in chosen.split(",") if name.strip()]
    if names:
        return names[0] if dark or len(names) == 1 else names[1]
    return CODE_THEMES[dark]


class _SharedParserMarkdown(RichMarkdown):
    """Rich's Markdown, parsed by one markdown-it parser made once.

    ``rich.markdown.Markdown.__init__`` makes a new parser for every text, which took about
    four times as long as parsing a reply (~0.85 ms against ~0.2 ms): a streaming tail is
    parsed up to 12 times a second, a page of history 15 times at once. This sets the same
    attributes Rich's ``__init__`` sets (a test checks both draw alike).
    """

    _parser: MarkdownIt | None = None

    def __init__(self, markup: str, code_theme: str) -> None:  # no super(): see above
        parser = _SharedParserMarkdown._parser
        if parser is None:
            parser = MarkdownIt().enable("strikethrough").enable("table")
            _SharedParserMarkdown._parser = parser
        self.markup = markup
        self.parsed = parser.parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = False
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme


def rich_markdown(text: str, theme: str = CODE_THEMES[True]) -> RichMarkdown:
    """Model text as a Rich Markdown renderable (never parsed as console markup), its code
    blocks in the Pygments style ``theme``."""
    return _SharedParserMarkdown(text, theme)


def render_piece(
    console: Console, text: str, width: int, theme: str, base: Style, *, joins: bool
) -> list[Strip]:
    """``text`` drawn at ``width`` as lines in the ``base`` colours; ``joins``: it follows
    other blocks of the same reply (see :func:`joins_after`), so it gets the blank line Rich
    would draw between them."""
    if not text.strip():
        return []
    markdown = rich_markdown(text, theme)
    options = console.options.update(width=width, height=None)
    rendered = console.render_lines(markdown, options, pad=True)
    if joins and markdown.parsed and markdown.parsed[0].type not in _CONTAINERS:
        rendered.insert(0, [Segment(" " * width)])
    return [Strip(list(Segment.apply_style(line, base)), width) for line in rendered]


def estimate_lines(markdown: str, width: int) -> int:
    """About how many lines ``markdown`` takes at ``width`` (source lines, wrapped)."""
    usable = max(1, width - 2)
    return sum(max(1, -(-len(line) // usable)) for line in markdown.split("\n"))


class RenderedMarkdown(Widget):
    """Markdown rendered by Rich into lines, cached per width and theme.

    A Static holding a Rich renderable renders it again for every layout pass (to learn its
    height); with many of them in a transcript, streaming slows to a crawl. This keeps the
    lines per width, so layout and paint are lookups. ``set_text`` replaces the text (the
    live tail of a streaming reply) and draws it at once: a ``streaming`` block renders its
    finished blocks once each and only its unfinished last block again, and repaints only
    the lines that changed (a layout pass only when its height changed).
    """

    DEFAULT_CSS = "RenderedMarkdown { height: auto; }"

    def __init__(
        self,
        text: str,
        *,
        lazy: bool = False,
        joins: bool = False,
        streaming: bool = False,
        **kwargs: Any,
    ) -> None:
        """``lazy``: until it is first drawn (or ``render_now``), the height is an estimate,
        so a block that streams past above the view costs nothing. ``joins``: the text
        follows other blocks of the same reply (:func:`render_piece`). ``streaming``: the
        text grows at its end (the tail of a live reply)."""
        super().__init__(**kwargs)
        self.markdown_text = text
        self.lazy = lazy
        self.joins = joins
        self.streaming = streaming
        self._lines: dict[tuple[int, str], list[Strip]] = {}
        #: The finished blocks of a streaming text, and their lines (for the key they hold).
        self._done = ""
        self._done_lines: tuple[tuple[int, str], list[Strip]] | None = None
        #: A streaming block's height (lines), and how many lines it had when it grew, when.
        self._allotted = 0
        self._allotted_for = 0
        self._allotted_at = 0.0

    def _key(self, width: int) -> tuple[int, str]:
        """What the rendered lines depend on: the width and the theme (its colours)."""
        return (max(1, width), self.app.theme)

    def set_text(self, text: str, *, joins: bool | None = None) -> None:
        """Show ``text`` instead: drawn now when it can be, else on the next frame."""
        changed_joins = joins is not None and joins != self.joins
        if text == self.markdown_text and not changed_joins:
            return
        self.markdown_text = text
        if joins is not None:
            self.joins = joins
        if changed_joins or not text.startswith(self._done):
            self._done, self._done_lines = "", None
        width = self.content_region.width
        old = self._lines.get(self._key(width)) if width > 0 else None
        self._lines = {}
        if old is None or not self.is_attached or self.lazy:
            self.refresh(layout=True)
            return
        self._repaint_changed(old, self._render_at(width))

    def _repaint_changed(self, old: list[Strip], new: list[Strip]) -> None:
        """Repaint only from the first line that differs; lay out only if the height did."""
        first = next(
            (y for y, (was, now) in enumerate(zip(old, new, strict=False)) if was != now),
            min(len(old), len(new)),
        )
        height_before = self._allotted if self.streaming else len(old)
        resized = self._height(new) != height_before
        height = max(len(old), len(new)) - first
        if height > 0 or resized:
            region = Region(0, first, max(1, self.content_region.width), max(1, height))
            self.refresh(region, layout=resized)

    def _height(self, lines: list[Strip]) -> int:
        """How many lines the block takes: a streaming block grows ahead of its text."""
        if not self.streaming:
            return len(lines)
        if len(lines) > self._allotted:
            now = time.monotonic()
            elapsed = max(0.05, now - self._allotted_at)
            rate = (len(lines) - self._allotted_for) / elapsed  # lines a second, lately
            headroom = max(HEIGHT_STEP, min(MAX_HEADROOM, int(rate * GROW_AHEAD_SECONDS)))
            self._allotted = len(lines) + headroom
            self._allotted_for, self._allotted_at = len(lines), now
        return self._allotted

    def end_stream(self) -> None:
        """The text is complete: draw it whole (as history is), at its true height."""
        if self.streaming:
            self.streaming = False
            self._done, self._done_lines = "", None
            self._lines = {}
            self.refresh(layout=True)

    def _render_at(self, width: int) -> list[Strip]:
        key = self._key(width)
        lines = self._lines.get(key)
        if lines is None:
            lines = self._draw(key)
            self._lines = {key: lines}  # one width (and theme) at a time is enough
        return lines

    def _draw(self, key: tuple[int, str]) -> list[Strip]:
        """Draw the text for ``key``: whole, or (streaming) as finished blocks drawn once
        each plus the unfinished last block."""
        width = key[0]
        console, theme = self.app.console, code_theme(self.app)
        base = self.visual_style.rich_style  # the theme's colours under Rich's own
        text = self.markdown_text
        if not self.streaming:
            return render_piece(console, text, width, theme, base, joins=self.joins)
        held = self._done_lines
        if held is None or held[0] != key:
            self._done, held = "", (key, [])
        done_lines = held[1]
        cut = len(self._done) + split_point(text[len(self._done) :])
        if cut > len(self._done):
            joins = joins_after(self._done) if self._done else self.joins
            finished = text[len(self._done) : cut]
            done_lines = done_lines + render_piece(
                console, finished, width, theme, base, joins=joins
            )
            self._done = text[:cut]
        self._done_lines = (key, done_lines)
        joins = joins_after(self._done) if self._done else self.joins
        return done_lines + render_piece(console, text[cut:], width, theme, base, joins=joins)

    def rendered_text(self) -> str:
        """What is on screen, as plain text (for tests and copying)."""
        return "\n".join(strip.text for strip in self._render_at(self.content_region.width))

    def drawn_text(self) -> str:
        """The text of the lines already rendered for the screen ('' before the first frame
        after a change); unlike ``rendered_text`` it never renders (benchmarks poll it)."""
        lines = next(iter(self._lines.values()), [])
        return "\n".join(strip.text for strip in lines)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.lazy and self._key(width) not in self._lines:
            return estimate_lines(self.markdown_text, width)
        return self._height(self._render_at(width))

    def render_line(self, y: int) -> Strip:
        width = self.content_region.width
        if self.lazy and self._key(width) not in self._lines:
            self.render_now()
        lines = self._render_at(width)
        return lines[y] if 0 <= y < len(lines) else Strip.blank(width)

    def render_now(self) -> None:
        """Render a lazy block for real (its height may change from the estimate)."""
        width = max(1, self.content_region.width)
        if not self.lazy or not self.is_attached or self._key(width) in self._lines:
            return
        if len(self._render_at(width)) != estimate_lines(self.markdown_text, width):
            self.refresh(layout=True)
