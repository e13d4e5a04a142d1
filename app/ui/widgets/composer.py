"""Composer: a multi-line input. Enter sends, ctrl+j (or alt+enter) adds a new line,
up/down at the edges walk through earlier prompts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea


class Composer(TextArea):
    """Where the person writes; posts ``Composer.Submitted``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,alt+enter", "newline", "New line", id="composer.newline"),
    ]

    @dataclass
    class Submitted(Message):
        """The person sent ``text``."""

        text: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, tab_behavior="focus", **kwargs)  # type: ignore[arg-type]
        self.prompt_history: list[str] = []
        #: What Tab completes the first word to (set by the app from skills and commands).
        self.completion: str | None = None
        self._history_index: int | None = None
        self._draft = ""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "tab" and self.completion:
            event.prevent_default()
            event.stop()
            rest = self.text.split(maxsplit=1)[1] if " " in self.text else ""
            self.load_text(f"{self.completion} {rest}")
            self.move_cursor(self.document.end)
            return
        if event.key == "enter":
            event.prevent_default()
            event.stop()
            self.action_submit()
            return
        if event.key == "up" and self.cursor_location[0] == 0 and self.prompt_history:
            event.prevent_default()
            event.stop()
            self._walk(-1)
            return
        if (
            event.key == "down"
            and self._history_index is not None
            and (self.cursor_location[0] == self.document.line_count - 1)
        ):
            event.prevent_default()
            event.stop()
            self._walk(1)
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        """Insert a line break."""
        self.insert("\n")

    def action_submit(self) -> None:
        """Send the text (if any) and remember it."""
        text = self.text
        if not text.strip():
            return
        if not self.prompt_history or self.prompt_history[-1] != text:
            self.prompt_history.append(text)
        self._history_index = None
        self.clear()
        self.post_message(self.Submitted(text))

    def _walk(self, step: int) -> None:
        if self._history_index is None:
            if step > 0:
                return
            self._draft = self.text
            index = len(self.prompt_history) - 1
        else:
            index = self._history_index + step
        if index >= len(self.prompt_history):
            self._history_index = None
            self.load_text(self._draft)
        else:
            self._history_index = max(0, index)
            self.load_text(self.prompt_history[self._history_index])
        self.move_cursor(self.document.end)
