"""HelpDialog: every key, grouped, in a scrollable view.

The rows come from the caller (built from the app's one table of bindings), so the help
cannot drift from the footer and the palette.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.ui.widgets.message_views import one_line


def group_rows(rows: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    """(group, key, description) rows as {group: [(key, description), …]}, in first-seen order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for group, key, description in rows:
        groups.setdefault(one_line(group), []).append((one_line(key), one_line(description)))
    return groups


class HelpDialog(ModalScreen[None]):
    """Shows the keys; Esc, q or F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1", "close", "Close", id="help.close"),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.groups = group_rows(rows)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("Keys", id="help-title")
            with VerticalScroll(id="help-keys-list"):
                for group, keys in self.groups.items():
                    yield Label(group, classes="help-group", markup=False)
                    for key, description in keys:
                        with Horizontal(classes="help-row"):
                            yield Static(key, classes="help-key", markup=False)
                            yield Static(description, classes="help-description", markup=False)
            with Horizontal(id="help-keys"):
                yield Static("[↑↓] scroll", classes="key", markup=False)
                yield Static("[esc] close", classes="key", markup=False)

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
