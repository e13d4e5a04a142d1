"""HelpDialog: every key, grouped, in a scrollable view.

The rows come from the caller (built from the app's one table of actions, ``ui/keys.py``,
with the keys bound now), so the help cannot drift from the key bar and the palette. A row
may name its binding id (what ``[keys]`` remaps); it is shown after the description. Under
the keys, the MCP servers of the engine and their status (when any is configured).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.ui.mcp_commands import app_servers
from app.ui.widgets.message_views import one_line

#: (group, keys, description) or (group, keys, description, binding id).
HelpRow = tuple[str, str, str] | tuple[str, str, str, str]


def group_rows(rows: Sequence[HelpRow]) -> dict[str, list[tuple[str, str, str]]]:
    """Rows as {group: [(keys, description, binding id), …]}, in first-seen order."""
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        group, key, description = row[:3]
        binding_id = row[3] if len(row) > 3 else ""
        entry = (one_line(key), one_line(description), one_line(binding_id))
        groups.setdefault(one_line(group), []).append(entry)
    return groups


class HelpDialog(ModalScreen[None]):
    """Shows the keys; Esc, q or F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1", "close", "Close", id="help.close"),
    ]

    def __init__(self, rows: Sequence[HelpRow]) -> None:
        super().__init__()
        self.groups = group_rows(rows)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("Keys", id="help-title")
            with VerticalScroll(id="help-keys-list"):
                for group, keys in self.groups.items():
                    yield Label(group, classes="help-group", markup=False)
                    for key, description, binding_id in keys:
                        with Horizontal(classes="help-row"):
                            yield Static(key, classes="help-key", markup=False)
                            yield Static(description, classes="help-description", markup=False)
                            if binding_id:
                                yield Static(binding_id, classes="help-id", markup=False)
                servers = app_servers(self.app)
                if servers:
                    yield Label("MCP servers", classes="help-group", id="help-mcp")
                for server in servers:
                    with Horizontal(classes="help-row help-mcp-server"):
                        yield Static(one_line(server.name), classes="help-key", markup=False)
                        summary = one_line(server.summary, 200)
                        yield Static(summary, classes="help-description", markup=False)
            with Horizontal(id="help-keys"):
                yield Static("[↑↓] scroll", classes="key", markup=False)
                yield Static("[esc] close", classes="key", markup=False)

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
