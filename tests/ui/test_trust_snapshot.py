"""A snapshot of the start-up trust dialog on a bare host app (sync: snap_compare runs its own
loop)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from app.config import WorkspaceRules
from app.ui.dialogs.trust import TrustDialog
from tests.ui.test_dialogs import DialogHost

SnapCompare = Callable[..., bool]


def test_trust_dialog_for_a_changed_file(snap_compare: SnapCompare) -> None:
    """The trust dialog with a warning-coloured border: the title "Trust this workspace's
    approval rules?", the file path with "It changed since you trusted it.", the two allow
    rules in the warning colour (the second with its brackets shown literally), then the deny
    and ask rules dimmed with "(applies either way)", a dim line on what trust and not now
    mean, and the keys [t] trust and [n] not now at the bottom."""
    rules = WorkspaceRules(
        file=Path("/home/me/src/cloned-repo/.agentkit/config.toml"),
        digest="sha256:0",
        allow=("shell", "shell(echo [b]hi[/b])"),
        ask=("web_fetch",),
        deny=("shell(rm *)",),
        trusted=False,
        changed=True,
    )

    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(TrustDialog(rules))
        await pilot.pause()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=(100, 30))
