"""The pieces of a transcript: user and assistant messages, thinking, tool steps, notes.

Text from models and tools is never parsed as markup: it goes through ``Markdown`` (which
shows ``[bold]`` literally), ``Static(markup=False)`` or ``Content``; control characters,
escape sequences and direction controls are stripped on the way in (:func:`clean`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from app.engine.clients import display_tool_name
from app.textsafe import one_line as shared_one_line
from app.textsafe import strip_controls
from app.ui.widgets.markdown_lines import (
    CODE_THEMES,
    FREEZE_AFTER_CHARS,
    RenderedMarkdown,
    block_chunks,
    code_theme,
    estimate_lines,
    joins_after,
    rich_markdown,
    split_point,
)

__all__ = [  # the Markdown pieces live in markdown_lines; these names are imported from here
    "CODE_THEMES",
    "RenderedMarkdown",
    "code_theme",
    "estimate_lines",
    "rich_markdown",
]


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


#: The shortest time between two redraws of a streaming reply's tail: 20 a second reads as
#: smooth text, and at a model's pace (~200 tokens/s) a frame per token would cost ~10 times
#: the CPU for nothing the eye can follow.
STREAM_FRAME_SECONDS = 1 / 12


class AssistantMessage(Vertical):
    """A reply rendered as Markdown while it streams, with a final render when it ends.

    Streaming keeps the cost of a frame flat however long the reply gets: finished blocks
    (cut at a blank line outside a code fence) freeze into ``RenderedMarkdown`` widgets that
    are rendered once, and the tail renders each of its finished blocks once and only its
    unfinished last block again, repainting just the lines that changed. :meth:`write` owns
    the batching: fragments that arrive before the next update is due are merged into it
    (as Textual's ``MarkdownStream`` does), an update waits for the last one to be painted,
    and updates come at most ``STREAM_FRAME_SECONDS`` apart, so a stream at a model's pace
    costs a few redraws a second, not one per token. History replies (``live=False``) are
    one ``RenderedMarkdown``. Everything is drawn by Rich's Markdown, and the pieces join as
    Rich joins blocks, so a reply looks the same while it streams, when it ends, and later.
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
        marked = not live and status != "complete"  # a history reply says how it ended
        super().__init__(classes="message assistant" + (" -marked" if marked else ""))
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
        #: When the last update began (event loop time).
        self._updated_at = -1.0

    def compose(self) -> ComposeResult:
        classes = "reply -static" if not self.live else "reply -tail"
        yield RenderedMarkdown(self._initial, classes=classes, streaming=self.live)
        if self.live or self.status != "complete":
            # A finished history reply has no status line: a third fewer widgets for a page
            # of history to mount and lay out.
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
            self._next_update()

    def _next_update(self) -> None:
        """Update now, or when ``STREAM_FRAME_SECONDS`` have passed since the last one."""
        loop = asyncio.get_running_loop()
        wait = self._updated_at + STREAM_FRAME_SECONDS - loop.time()
        if wait > 0:
            loop.call_later(wait, self._due)
        else:
            self.call_later(self._update)

    def _due(self) -> None:
        if self.is_attached:
            self.call_later(self._update)
        else:
            self._updating = False

    async def _update(self) -> None:
        """Show what was written since the last update; the next waits for the repaint."""
        if not self._incoming or not self.is_attached:
            self._updating = False
            return
        self._updated_at = asyncio.get_running_loop().time()
        fragment = "".join(self._incoming)
        self._incoming.clear()
        await self.append(fragment)
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        if self._incoming and self.is_attached:
            self._next_update()
        else:
            self._updating = False

    def _take_incoming(self) -> None:
        """Fold fragments not shown yet into the text (the stream is ending)."""
        if self._incoming:
            self._parts.append(clean("".join(self._incoming)))
            self._incoming.clear()

    async def append(self, delta: str) -> None:
        """Stream more text: the tail is drawn again (its changed lines only)."""
        delta = clean(delta)
        if not delta or not self.live:
            return  # history replies do not stream
        self._parts.append(delta)
        self._tail_chars += len(delta)
        if self._tail_chars >= FREEZE_AFTER_CHARS:
            await self._freeze()
        if self.is_attached:
            self._show_tail()

    def _show_tail(self) -> None:
        """Give the tail the text after the frozen pieces."""
        text = self.text
        joins = joins_after(text[: self._frozen_chars])
        self.tail.set_text(text[self._frozen_chars :], joins=joins)

    async def _freeze(self) -> None:
        """Move the finished blocks of the tail into a widget rendered once."""
        text = self.text
        tail = text[self._frozen_chars :]
        cut = split_point(tail)
        if cut < FREEZE_AFTER_CHARS // 4:
            self._tail_chars = len(tail) - FREEZE_AFTER_CHARS // 2  # look again a bit later
            return
        if self.is_attached:
            frozen = []
            before = text[: self._frozen_chars]
            for piece in block_chunks(tail[:cut], FREEZE_AFTER_CHARS):
                joins = joins_after(before)
                block = RenderedMarkdown(piece, lazy=True, joins=joins, classes="reply -static")
                frozen.append(block)
                before = piece
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
            self._show_tail()
            self.tail.end_stream()
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
        for line in self.query(".status").results(Static):
            line.update(self._status_text())
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
