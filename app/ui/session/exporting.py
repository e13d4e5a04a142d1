"""Exporting the open session: ask where (the exports folder or the workspace), then write.

The exports folder sits beside the database (the data directory unless ``--db`` or
``AGENTKIT_DB`` put it elsewhere, like the log file), so an export never lands in the project
by surprise; the workspace is one key away for an export meant to be committed
or shared with the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.atomic import write_text_atomically
from app.ui.dialogs.export import ExportDialog

if TYPE_CHECKING:
    from app.ui.app import AgentKitApp

FORMATS = ("md", "json")


def write_export(folder: Path, stem: str, fmt: str, text: str) -> Path:
    """Write ``text`` to a new file ``stem.fmt`` in ``folder`` (made if missing; ``-2``,
    ``-3``… when the name is taken, so no export replaces another); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.{fmt}"
    number = 2
    while path.exists():
        path = folder / f"{stem}-{number}.{fmt}"
        number += 1
    write_text_atomically(path, text)
    return path


def exports_folder(database: Path) -> Path:
    """The exports folder for the database file ``database``: ``exports`` beside it."""
    return database.parent / "exports"


class SessionExporter:
    """Asks where an export goes and writes it there; the toast gives the path."""

    def __init__(self, app: AgentKitApp) -> None:
        self.app = app

    async def export(self, fmt: str) -> None:
        """Ask where the open session's export (``md`` or ``json``) should go."""
        session = self.app.current
        if session is None:
            self.app.notify("Nothing to export yet.", markup=False)
            return
        if fmt not in FORMATS:
            self.app.notify("Export as md or json: /export md, /export json", markup=False)
            return
        dialog = ExportDialog(fmt, exports_folder(self.app.store.path), self.app.export_dir)

        async def chosen(folder: Path | None) -> None:
            if folder is not None:
                await self.write(session.id, fmt, folder)

        await self.app.push_screen(dialog, chosen)

    async def write(self, session_id: str, fmt: str, folder: Path) -> Path | None:
        """Write the export into ``folder`` (made if missing); the path, or None on failure."""
        text = await self.app.store.export_session(session_id, fmt)  # type: ignore[arg-type]
        stamp = self.app.clock().astimezone().strftime("%Y%m%d-%H%M%S")
        try:
            path = write_export(folder, f"agentkit-{session_id[:8]}-{stamp}", fmt, text)
        except OSError as exc:
            self.app.notify(f"Export failed: {exc}", severity="error", markup=False)
            return None
        self.app.notify(f"Exported to {path}", markup=False)
        return path
