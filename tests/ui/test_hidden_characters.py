"""Trojan Source in the app: a command with a direction override (U+202E) and escape codes
is shown without them, in the approval dialog and in the transcript's tool step, and the
dialog says the command holds characters it does not show. What runs (and is stored) is
still the command exactly as the model sent it. The model is the offline demo model."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input, Static

from app.textsafe import BIDI_CONTROLS
from app.ui.dialogs.confirm import HIDDEN_CHARACTERS_NOTE, ConfirmDialog
from app.ui.widgets.message_views import ToolStep
from tests.ui.conftest import AppFactory, type_and_send, until

#: Shown as "touch exe.txt" by a terminal that honours the override; it is "touch txt.exe".
TROJAN = "touch \u202e\u2066txt.exe\u2069 \x1b[8mhidden\x1b[0m"
SHOWN = "touch txt.exe hidden"


def screen_text(app: object) -> str:
    """Every character the screen shows (an SVG of it, as a terminal would get them)."""
    return app.export_screenshot()  # type: ignore[attr-defined, no-any-return]


def rendered(widget: Widget) -> str:
    """The lines ``widget`` draws, as text, white space collapsed."""
    width, height = widget.size
    lines = widget.render_lines(Region(0, 0, width, height))
    return " ".join(" ".join(strip.text for strip in lines).split())


async def test_the_approval_dialog_shows_a_command_without_direction_controls(
    make_app: AppFactory, workspace: Path
) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, f"please run `{TROJAN}`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.request.command == TROJAN  # the engine asks about the real command
        shown = screen_text(app)
        assert not set(BIDI_CONTROLS + "\x1b") & set(shown)
        assert rendered(dialog.query_one("#confirm-code", Static)) == SHOWN
        reason = rendered(dialog.query_one("#confirm-reason", Static))
        assert reason.startswith(" ".join(HIDDEN_CHARACTERS_NOTE.split()))
        rule = dialog.query_one("#confirm-rule-input", Input).value
        assert not set(BIDI_CONTROLS + "\x1b") & set(rule)
        await pilot.press("n")
        await until(pilot, lambda: not app.turns.live)
        step = app.screen.query_one(ToolStep)
        assert "\u202e" not in str(step.title) and "txt.exe" in str(step.title)
        assert not set(BIDI_CONTROLS + "\x1b") & set(screen_text(app))
        assert app.current is not None
        asked = await app.store.get_events(app.current.id, types=["confirmation_request"])
        assert asked[0].data["data"]["command"] == TROJAN  # stored as it was, shown clean


async def test_a_plain_command_gets_no_warning(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "please run `touch txt.exe`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        reason = rendered(app.screen.query_one("#confirm-reason", Static))
        assert reason and "Careful" not in reason
        await pilot.press("n")
        await until(pilot, lambda: not app.turns.live)
