"""RenameDialog: edit a session's title; an empty title is refused on the dialog."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from app.ui.widgets.message_views import clean

EMPTY_TITLE = "The title cannot be empty."


class RenameDialog(ModalScreen[str | None]):
    """Returns the new title (trimmed, one line), or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="rename.cancel"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_before = " ".join(clean(title).split())

    def compose(self) -> ComposeResult:
        with Vertical(id="rename-box"):
            yield Label("Rename session", id="rename-title")
            yield Input(self.title_before, placeholder="Session title", id="rename-input")
            yield Static("", id="rename-error", markup=False)
            with Horizontal(id="rename-keys"):
                yield Static("[enter] rename", classes="key", markup=False)
                yield Static("[esc] cancel", classes="key", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Rename, unless the title is empty (then say so and stay open)."""
        event.stop()
        title = " ".join(clean(event.value).split())
        if not title:
            self.query_one("#rename-error", Static).update(EMPTY_TITLE)
            self.add_class("-invalid")
            return
        self.dismiss(title)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Hide the validation message once the person types again."""
        event.stop()
        if event.value.strip():
            self.remove_class("-invalid")

    def action_cancel(self) -> None:
        """Keep the old title."""
        self.dismiss(None)
