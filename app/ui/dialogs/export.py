"""ExportDialog: where to write a session's export, the exports folder or the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from app.ui.widgets.message_views import one_line

#: What each format is called in the dialog's title.
FORMAT_NAMES = {"md": "Markdown", "json": "JSON"}


class ExportDialog(ModalScreen[Path | None]):
    """Returns the folder to write into (``None``: Esc, no export)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "choose('exports')", "Exports folder", id="export.exports"),
        Binding("enter", "choose('exports')", "Exports folder", show=False, id="export.default"),
        Binding("w", "choose('workspace')", "Workspace", id="export.workspace"),
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
    ]

    def __init__(self, fmt: str, exports: Path, workspace: Path) -> None:
        """``exports``: the default folder (in the data directory); ``workspace``: the
        project folder, for an export meant to live next to the code."""
        super().__init__()
        self.fmt = fmt
        self.folders = {"exports": exports, "workspace": workspace}

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            name = FORMAT_NAMES.get(self.fmt, self.fmt)
            yield Label(f"Export this session as {name}", id="export-title")
            yield Static("Where should the file go?", id="export-question", markup=False)
            yield Static(
                f"[e] the exports folder (Enter): {one_line(str(self.folders['exports']), 200)}",
                id="export-exports",
                markup=False,
            )
            yield Static(
                f"[w] the workspace: {one_line(str(self.folders['workspace']), 200)}",
                id="export-workspace",
                markup=False,
            )
            with Horizontal(id="export-keys"):
                yield Static("[e] exports folder", classes="key", markup=False)
                yield Static("[w] workspace", classes="key", markup=False)
                yield Static("[esc] cancel", classes="key", markup=False)

    def action_choose(self, where: str) -> None:
        """Export into the folder chosen."""
        self.dismiss(self.folders[where])

    def action_cancel(self) -> None:
        """Export nothing."""
        self.dismiss(None)
