"""Snapshots of the session dialogs on a bare host app (sync: snap_compare runs its own loop)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from app.ui.dialogs.delete import DeleteDialog
from app.ui.dialogs.help import HelpDialog
from app.ui.dialogs.model_picker import ModelPicker, add_provider_hint
from tests.ui.test_dialogs import HELP_ROWS, MODELS, DialogHost

SIZE = (100, 30)
WINDOWS = {"demo": 32_000, "openai/gpt-4o": 128_000, "ollama/llama3.2": 8_192}

SnapCompare = Callable[..., bool]


def test_model_picker_with_models(snap_compare: SnapCompare) -> None:
    """The model picker over an empty app: title, "Current: openai/gpt-4o", an empty filter
    input, then four models (name bold, then its context window in the accent colour where
    known: demo 32k, openai/gpt-4o 128k, ollama/llama3.2 8k, none for the Anthropic model;
    description dim) with openai/gpt-4o marked "(current)" and highlighted; no loading
    indicator; the keys [enter] choose, [↑↓] move, [esc] cancel at the bottom."""

    async def run_before(pilot: Pilot[Any]) -> None:
        picker = ModelPicker(current="openai/gpt-4o")
        pilot.app.push_screen(picker)
        await pilot.pause()
        picker.query_one(Input).cursor_blink = False
        picker.show_models(MODELS, WINDOWS)
        await pilot.pause()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=SIZE)


def test_model_picker_on_a_fresh_machine(snap_compare: SnapCompare) -> None:
    """The model picker where only the demo is set up: the demo model (32k) listed and
    highlighted, and under the list a muted line saying only the offline demo is set up and
    how to add a provider: a [providers.NAME] section in /home/me/.config/agentkit/config.toml
    (`agentkit config init` writes one), an API key variable, or Ollama."""

    async def run_before(pilot: Pilot[Any]) -> None:
        picker = ModelPicker(current="demo")
        pilot.app.push_screen(picker)
        await pilot.pause()
        picker.query_one(Input).cursor_blink = False
        picker.show_models(MODELS[:1], {"demo": 32_000})
        picker.show_hint(add_provider_hint(Path("/home/me/.config/agentkit/config.toml")))
        await pilot.pause()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=SIZE)


def test_model_picker_error(snap_compare: SnapCompare) -> None:
    """The model picker after listing failed: the demo model is listed, and below it the
    error "ollama: could not connect to 127.0.0.1:11434 [bold]x[/]" in the error colour,
    with the brackets shown literally (not bold)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        picker = ModelPicker(current="demo")
        pilot.app.push_screen(picker)
        await pilot.pause()
        picker.query_one(Input).cursor_blink = False
        picker.show_models(MODELS[:1])
        picker.show_error("ollama: could not connect to 127.0.0.1:11434 [bold]x[/]")
        await pilot.pause()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=SIZE)


def test_help_dialog(snap_compare: SnapCompare) -> None:
    """The help dialog: "Keys", then the groups Sessions, Turn, View and Composer in that
    order, each a bold heading with its keys in one column, descriptions in the next and the
    binding id (session.new, …) dimmed at the end of the row (the Composer row has none);
    the keys [↑↓] scroll and [esc] close at the bottom."""

    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(HelpDialog(HELP_ROWS))
        await pilot.pause()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=SIZE)


def test_delete_dialog(snap_compare: SnapCompare) -> None:
    """The delete confirmation with a red border: 'Delete “[bold red]x[/] notes” and its 12
    messages for good?' with the title's brackets shown literally, "This cannot be
    undone." below, and the keys [y] delete and [n] keep."""

    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(DeleteDialog("[bold red]x[/] notes", 12))
        await pilot.pause()

    assert snap_compare(DialogHost(), run_before=run_before, terminal_size=SIZE)
