"""Pilot tests of the key line at the bottom (KeyBar): it follows focus, presses a clicked
key, leaves out what does not fit whole, keeps f1 Help, and the palette key on the right."""

from __future__ import annotations

from textual.widgets import Input

from app.ui.dialogs.help import HelpDialog
from app.ui.widgets.composer import Composer
from app.ui.widgets.key_bar import KeyBar
from tests.ui.conftest import AppFactory, until


def drawn(app: object) -> str:
    bar = app.main.query_one(KeyBar)  # type: ignore[attr-defined]
    return str(bar.render())


async def test_the_keys_follow_focus(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, Composer)
        assert "New line" in drawn(app)  # the composer's own key
        assert "^p palette" in drawn(app)
        app.sidebar.query_one("#session-search", Input).focus()
        await until(pilot, lambda: "New line" not in drawn(app))
        app.main.query_one(Composer).focus()
        await until(pilot, lambda: "New line" in drawn(app))


async def test_clicking_a_key_presses_it(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        line = drawn(app)
        column = line.index("f1 Help") + 1
        await pilot.click(KeyBar, offset=(column, 0))
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))


async def test_a_narrow_line_leaves_keys_out_whole_and_keeps_the_palette(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        line = drawn(app)
        assert len(line) <= 60
        assert line.rstrip().endswith("^p palette")
        assert "Search" not in line  # the last keys did not fit
        assert "f1 Help" in line  # the action table pins it
        placed = app.main.query_one(KeyBar).placed
        assert len(placed) >= 3
        for item in placed:  # each shown key is whole: its key and its description
            assert item.end <= 60
            assert line[item.start : item.end].strip() == f"{item.display} {item.description}"


async def test_f1_help_stays_on_the_line_at_80_columns(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        line = drawn(app)
        assert "f1 Help" in line and line.rstrip().endswith("^p palette")
        column = line.index("f1 Help") + 1
        await pilot.click(KeyBar, offset=(column, 0))
        await until(pilot, lambda: isinstance(app.screen, HelpDialog))


async def test_a_remapped_help_key_stays_on_the_line(make_app: AppFactory) -> None:
    app = await make_app(keys={"app.help": "f12"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        line = drawn(app)
        assert "f12 Help" in line and "f1 Help" not in line
