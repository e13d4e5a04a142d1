"""Export asks where: the exports folder beside the database (Enter or e), or the
workspace (w); Esc writes nothing. The file holds the session as readable Markdown (or the
JSON document with ``/export json``), and the toast names the path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from app.ui.dialogs.confirm import ConfirmDialog
from app.ui.dialogs.export import ExportDialog
from tests.ui.conftest import AppFactory, type_and_send, until
from tests.ui.test_dialogs import DialogHost


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.exists() else []


async def test_export_goes_to_the_exports_folder_or_the_workspace(
    make_app: AppFactory, tmp_path: Path, agentkit_home: Path
) -> None:
    app = await make_app()
    workspace_folder = app.export_dir  # what the app calls the workspace for exports
    # The test's database is outside AGENTKIT_HOME, as with --db: exports go beside it.
    exports = app.store.path.parent / "exports"
    assert agentkit_home not in exports.parents
    toasts: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.notify = lambda message, **_options: toasts.append(str(message))  # type: ignore[method-assign]
        await type_and_send(pilot, "run `touch notes.txt`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(pilot, lambda: not app.turns.live)
        assert app.current is not None

        await pilot.press("ctrl+s")  # Markdown, to the default place
        await until(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.press("enter")
        await until(pilot, lambda: bool(_files(exports, "agentkit-*.md")))
        (markdown,) = _files(exports, "agentkit-*.md")
        assert f"Exported to {markdown}" in toasts
        text = markdown.read_text()
        assert "> **Approved** `shell` `touch notes.txt` · by you" in text
        assert '{"data"' not in text and "`usage`" not in text and "`result`" not in text

        await type_and_send(pilot, "/export json")  # JSON, into the workspace
        await until(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.press("w")
        await until(pilot, lambda: bool(_files(workspace_folder, "agentkit-*.json")))
        (document,) = _files(workspace_folder, "agentkit-*.json")
        assert json.loads(document.read_text())["session"]["id"] == app.current.id
        assert f"Exported to {document}" in toasts

        await pilot.press("ctrl+s")  # Esc: nothing is written anywhere
        await until(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ExportDialog))
        await pilot.pause()
        assert len(_files(exports, "agentkit-*.*")) == 1
        assert len(_files(workspace_folder, "agentkit-*.*")) == 1
        assert not (agentkit_home / "exports").exists()


async def test_the_dialog_names_both_folders(make_app: AppFactory) -> None:
    app = await make_app()
    session = await app.store.create_session("default", title="Old title")
    await app.store.append_message(session.id, "user", "hello")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.has_service)
        app.conversation.current = session
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ExportDialog))
        shown = " ".join(str(s.render()) for s in app.screen.query("#export-box Static"))
        assert str(app.store.path.parent / "exports") in shown and str(app.export_dir) in shown


async def test_two_exports_in_the_same_second_keep_both_files(make_app: AppFactory) -> None:
    """The clock is frozen in tests, so both exports get the same time in their names."""
    app = await make_app()
    session = await app.store.create_session("default", title="Twice")
    await app.store.append_message(session.id, "user", "hello")
    exports = app.store.path.parent / "exports"
    async with app.run_test(size=(120, 40)) as pilot:
        app.conversation.current = session
        for _ in range(2):
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, ExportDialog))
            await pilot.press("e")
            await until(pilot, lambda: not isinstance(app.screen, ExportDialog))
        await until(pilot, lambda: len(_files(exports, "agentkit-*.md")) == 2)


def test_the_where_dialog_snapshot(snap_compare: Any) -> None:
    """The export dialog over an empty app: "Export this session as Markdown", the question
    "Where should the file go?", the two folders ([e] the exports folder (Enter):
    /home/me/.local/share/agentkit/exports, and [w] the workspace: /home/me/project) and the
    keys [e] exports folder, [w] workspace, [esc] cancel at the bottom."""

    async def run_before(pilot: Pilot[Any]) -> None:
        exports = Path("/home/me/.local/share/agentkit/exports")
        pilot.app.push_screen(ExportDialog("md", exports, Path("/home/me/project")))
        await pilot.pause()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=(100, 24))
