"""The pieces of a transcript: user and assistant messages, thinking, tool steps, notes.

Text from models and tools is never parsed as markup: it goes through ``Markdown`` (which
shows ``[bold]`` literally), ``Static(markup=False)`` or ``Content``; control characters,
escape sequences and direction controls are stripped on the way in (:func:`clean`).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from rich.markdown import Markdown as RichMarkdown
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Collapsible, Static

from app.engine.clients import display_tool_name
from app.textsafe import one_line as shared_one_line
from app.textsafe import strip_controls


def clean(text: str) -> str:
    """Untrusted text without escape sequences, control characters or direction controls
    (newlines and tabs stay): what is shown is the characters in their real order."""
    return strip_controls(text)


def one_line(text: str, width: int = 80) -> str:
    """``text`` cleaned, flattened to one line and cut to ``width`` characters."""
    return shared_one_line(text, width)


#: A user message longer than this shows its start and a note (all of it is sent and saved).
USER_PREVIEW_LINES = 60
USER_PREVIEW_CHARS = 6_000


class UserMessage(Static):
    """What the person wrote (a huge paste shows its start: laying out a megabyte of text
    would freeze the screen for seconds)."""

    def __init__(self, text: str) -> None:
        self.text = clean(text)
        super().__init__(preview(self.text), classes="message user")


def preview(text: str) -> Content:
    """``text`` as plain Content, cut after ``USER_PREVIEW_LINES`` lines or
    ``USER_PREVIEW_CHARS`` characters with a note of what is not shown."""
    shown = text[:USER_PREVIEW_CHARS]
    cut_at = -1
    for _ in range(USER_PREVIEW_LINES):
        cut_at = shown.find("\n", cut_at + 1)
        if cut_at < 0:
            break
    if cut_at >= 0:
        shown = shown[:cut_at]
    if len(shown) == len(text):
        return Content(text)
    hidden_lines = text.count("\n", len(shown))
    note = (
        f"\n… {len(text) - len(shown):,} more characters"
        + (f" ({hidden_lines:,} more lines)" if hidden_lines > 0 else "")
        + " not shown here; the whole message was sent and saved (ctrl+s exports it)."
    )
    return Content.assemble(shown, (note, "dim italic"))


#: A live reply freezes its finished blocks once this much text waits in the streaming tail.
FREEZE_AFTER_CHARS = 1_200
_FENCE = re.compile(r"^\s{0,3}(```|~~~)", re.MULTILINE)


def split_point(text: str) -> int:
    """Where ``text`` can be cut into finished blocks and the rest: just after the last blank
    line that is not inside a code fence (0 when there is none)."""
    cut = 0
    search_from = 0
    while True:
        found = text.find("\n\n", search_from)
        if found < 0:
            return cut
        if len(_FENCE.findall(text, 0, found)) % 2 == 0:
            cut = found + 2
        search_from = found + 1


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


def rich_markdown(text: str, theme: str = CODE_THEMES[True]) -> RichMarkdown:
    """Model text as a Rich Markdown renderable (never parsed as console markup), its code
    blocks in the Pygments style ``theme``."""
    return RichMarkdown(text, code_theme=theme, hyperlinks=False)


def estimate_lines(markdown: str, width: int) -> int:
    """About how many lines ``markdown`` takes at ``width`` (source lines, wrapped)."""
    usable = max(1, width - 2)
    return sum(max(1, -(-len(line) // usable)) for line in markdown.split("\n"))


class RenderedMarkdown(Widget):
    """Markdown rendered by Rich into lines, cached per width and theme.

    A Static holding a Rich renderable renders it again for every layout pass (to learn its
    height); with many of them in a transcript, streaming slows to a crawl. This keeps the
    lines per width, so layout and paint are lookups. ``set_text`` replaces the text (the
    live tail of a streaming reply): the next frame renders it once, however many updates
    came in between.
    """

    DEFAULT_CSS = "RenderedMarkdown { height: auto; }"

    def __init__(self, text: str, *, lazy: bool = False, **kwargs: Any) -> None:
        """``lazy``: until it is first drawn (or ``render_now``), the height is an estimate,
        so a block that streams past above the view costs nothing."""
        super().__init__(**kwargs)
        self.markdown_text = text
        self.lazy = lazy
        self._lines: dict[tuple[int, str], list[Strip]] = {}

    def _key(self, width: int) -> tuple[int, str]:
        """What the rendered lines depend on: the width and the theme (its colours)."""
        return (max(1, width), self.app.theme)

    def set_text(self, text: str) -> None:
        """Show ``text`` instead (rendered on the next frame)."""
        if text != self.markdown_text:
            self.markdown_text = text
            self._lines = {}
            self.refresh(layout=True)

    def _render_at(self, width: int) -> list[Strip]:
        key = self._key(width)
        width = key[0]
        lines = self._lines.get(key)
        if lines is None:
            if not self.markdown_text:
                lines = []
            else:
                console = self.app.console
                options = console.options.update(width=width, height=None)
                markdown = rich_markdown(self.markdown_text, code_theme(self.app))
                rendered = console.render_lines(markdown, options, pad=True)
                base = self.visual_style.rich_style  # the theme's colours under Rich's own
                lines = [Strip(line, width).apply_style(base) for line in rendered]
            self._lines = {key: lines}  # one width (and theme) at a time is enough
        return lines

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
        return len(self._render_at(width))

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


class AssistantMessage(Vertical):
    """A reply rendered as Markdown while it streams, with a final render when it ends.

    Streaming keeps the cost of a frame flat however long the reply gets: finished blocks
    (cut at a blank line outside a code fence) freeze into ``RenderedMarkdown`` widgets that
    are rendered once, and only the unfinished tail — a bounded amount of text — is
    rendered again, at most once per frame, however many tokens arrived since the last one.
    :meth:`write` owns that batching: fragments that arrive while the last update is not on
    screen yet are merged into the next update (as Textual's ``MarkdownStream`` does), so a
    screen slower than the stream draws fewer, larger updates, never a growing backlog.
    History replies (``live=False``) are one ``RenderedMarkdown``. Everything is drawn by
    Rich's Markdown, so a reply looks the same while it streams, when it ends, and later.
    """

    DEFAULT_CSS = "AssistantMessage { height: auto; }"

    def __init__(
        self,
        text: str = "",
        *,
        model: str | None = None,
        status: str = "complete",
        live: bool = True,
    ) -> None:
        super().__init__(classes="message assistant")
        self._initial = clean(text)
        self._parts: list[str] = [self._initial] if text else []
        self._frozen_chars = 0
        self._tail_chars = len(self._initial)
        self.model = model
        self.status = status
        self.live = live
        #: Fragments written since the last update, and whether an update is under way.
        self._incoming: list[str] = []
        self._updating = False

    def compose(self) -> ComposeResult:
        classes = "reply -static" if not self.live else "reply -tail"
        yield RenderedMarkdown(self._initial, classes=classes)
        yield Static(self._status_text(), classes="status", markup=False)

    def _status_text(self) -> str:
        marks = {
            "cancelled": "⏹ stopped — the partial reply was kept",
            "interrupted": "⚠ interrupted — the app closed while this streamed",
            "error": "⚠ cut off by an error",
            "streaming": "…",
        }
        return marks.get(self.status, "")

    @property
    def text(self) -> str:
        """The reply so far."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def tail(self) -> RenderedMarkdown:
        """The widget showing the unfinished end of the reply."""
        return self.query_one(".reply.-tail", RenderedMarkdown)

    def write(self, fragment: str) -> None:
        """Stream more text without waiting: it is shown with the next update, merged with
        whatever else arrives before that update is due."""
        if not self.live:
            return  # history replies do not stream
        self._incoming.append(fragment)
        if not self._updating:
            self._updating = True
            self.call_later(self._update)

    async def _update(self) -> None:
        """Show what was written since the last update; the next waits for the repaint."""
        if not self._incoming or not self.is_attached:
            self._updating = False
            return
        fragment = "".join(self._incoming)
        self._incoming.clear()
        await self.append(fragment)
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        if self._incoming and self.is_attached:
            self.call_later(self._update)
        else:
            self._updating = False

    def _take_incoming(self) -> None:
        """Fold fragments not shown yet into the text (the stream is ending)."""
        if self._incoming:
            self._parts.append(clean("".join(self._incoming)))
            self._incoming.clear()

    async def append(self, delta: str) -> None:
        """Stream more text: the tail is drawn again on the next frame."""
        delta = clean(delta)
        if not delta or not self.live:
            return  # history replies do not stream
        self._parts.append(delta)
        self._tail_chars += len(delta)
        if self._tail_chars >= FREEZE_AFTER_CHARS:
            await self._freeze()
        if self.is_attached:
            self.tail.set_text(self.text[self._frozen_chars :])

    async def _freeze(self) -> None:
        """Move the finished blocks of the tail into a widget rendered once."""
        tail = self.text[self._frozen_chars :]
        cut = split_point(tail)
        if cut < FREEZE_AFTER_CHARS // 4:
            self._tail_chars = len(tail) - FREEZE_AFTER_CHARS // 2  # look again a bit later
            return
        if self.is_attached:
            frozen = [
                RenderedMarkdown(piece, lazy=True, classes="reply -static")
                for piece in block_chunks(tail[:cut], FREEZE_AFTER_CHARS)
            ]
            await self.mount_all(frozen, before=self.tail)
        self._frozen_chars += cut
        self._tail_chars = len(tail) - cut

    async def finish(self, text: str | None = None, status: str = "complete") -> None:
        """Stop streaming and show the whole reply (the final text, when one is given)."""
        self._take_incoming()
        if text is not None and clean(text) != self.text:
            self._parts[:] = [clean(text)]
            if self.is_attached:
                await self.query(".reply.-static").remove()
            self._frozen_chars = 0
        if not self.is_attached:
            return  # removed meanwhile (the person opened another session)
        if self.live:
            self.tail.set_text(self.text[self._frozen_chars :])
            self.call_later(self._render_frozen)
        self.set_status(status)

    async def _render_frozen(self) -> None:
        """After the stream, render the blocks that streamed past unseen, one per turn of
        the event loop (keys stay responsive), so scrolling back finds true heights."""
        for block in list(self.query(".reply.-static").results(RenderedMarkdown)):
            block.render_now()
            await asyncio.sleep(0)

    def set_status(self, status: str) -> None:
        """Show how the reply ended."""
        self.status = status
        self.query_one(".status", Static).update(self._status_text())
        self.set_class(status != "complete", "-marked")


class ThinkingBlock(Collapsible):
    """Reasoning, collapsed by default."""

    def __init__(self, text: str = "", *, collapsed: bool = True) -> None:
        self._body = Static(clean(text), markup=False, classes="thinking-text")
        self._text = clean(text)
        super().__init__(self._body, title="Thinking", collapsed=collapsed, classes="thinking")

    def append(self, text: str) -> None:
        """Add reasoning text."""
        self._text += clean(text)
        self._body.update(self._text)

    def replace(self, text: str) -> None:
        """Set the whole reasoning text."""
        self._text = clean(text)
        self._body.update(self._text)


def describe_arguments(name: str, arguments: dict[str, Any]) -> str:
    """A compact one-line view of a call's arguments."""
    if name == "shell" and "command" in arguments:
        return str(arguments["command"])
    if "path" in arguments and len(arguments) == 1:
        return str(arguments["path"])
    return json.dumps(arguments, ensure_ascii=False)


class ToolStep(Collapsible):
    """One tool call: a compact line (tool, arguments, duration, status) over its output."""

    def __init__(self, call_id: str, name: str, arguments: dict[str, Any]) -> None:
        self.call_id = call_id
        self.tool_name = name
        self.summary = one_line(describe_arguments(name, arguments), 90)
        self._output = Static("", markup=False, classes="tool-output")
        super().__init__(self._output, title="", collapsed=True, classes="tool-step -running")
        self._set_title("⋯")

    def _set_title(self, mark: str, detail: str = "") -> None:
        text = f"{mark} {display_tool_name(self.tool_name)}  {self.summary}{detail}"
        self.title = Content(text)  # type: ignore[assignment]  # Content: never parsed as markup

    def set_result(self, output: str, is_error: bool, duration_ms: int | None) -> None:
        """Show the result: ✓ or ✗, how long it took, and the output (expandable)."""
        took = f"  · {duration_ms / 1000:.1f}s" if duration_ms is not None else ""
        self._set_title("✗" if is_error else "✓", took)
        self._output.update(clean(output) or "(no output)")
        self.remove_class("-running")
        self.set_class(is_error, "-error")


class Note(Static):
    """A small line: a skill match, a fallback, an approval, a question asked."""

    def __init__(self, text: str, kind: str = "note") -> None:
        super().__init__(clean(text), markup=False, classes=f"note -{kind}")


class ErrorLine(Static):
    """A short, clear error with what to do."""

    def __init__(self, text: str) -> None:
        super().__init__(clean(text), markup=False, classes="error-line")
