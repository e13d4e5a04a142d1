"""DeleteDialog: confirm that a session and its messages go for good."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.ui.widgets.message_views import one_line


def delete_question(title: str, message_count: int) -> str:
    """The question the dialog asks, e.g. 'Delete “Fix CI” and its 12 messages for good?'."""
    noun = "message" if message_count == 1 else "messages"
    return f"Delete “{one_line(title, 80)}” and its {message_count:,} {noun} for good?"


class DeleteDialog(ModalScreen[bool]):
    """Returns ``True`` to delete, ``False`` to keep (``n`` or Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Delete", id="delete.confirm"),
        Binding("n", "answer(False)", "Keep", id="delete.keep"),
        Binding("escape", "answer(False)", "Keep", show=False, id="delete.escape"),
    ]

    def __init__(self, title: str, message_count: int) -> None:
        super().__init__()
        self.session_title = title
        self.message_count = message_count

    def compose(self) -> ComposeResult:
        with Vertical(id="delete-box"):
            yield Label("Delete session", id="delete-title")
            yield Static(
                delete_question(self.session_title, self.message_count),
                id="delete-question",
                markup=False,
            )
            yield Static("This cannot be undone.", id="delete-warning", markup=False)
            with Horizontal(id="delete-keys"):
                yield Static("[y] delete", classes="key", markup=False)
                yield Static("[n] keep", classes="key", markup=False)

    def action_answer(self, delete: bool) -> None:
        """Answer the question."""
        self.dismiss(delete)
