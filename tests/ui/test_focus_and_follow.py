"""Pilot tests of the search box's Esc and of focus after dialogs (#20 item 8), and of
following the end from anywhere (#20 item 10)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Static

from app.ui.dialogs.rename import RenameDialog
from app.ui.widgets.composer import Composer
from app.ui.widgets.sidebar import SearchBox
from app.ui.work import WorkState
from tests.ui.conftest import AppFactory, until
from tests.ui.test_work_panel import T0, update


async def _long_session(app: Any, count: int = 60) -> str:
    session = await app.store.create_session("default", title="Long")
    for number in range(1, count + 1):
        role = "user" if number % 2 else "assistant"
        await app.store.append_message(session.id, role, f"message {number} " + "word " * 30)
    return str(session.id)


async def test_esc_in_the_search_box_clears_then_goes_back_to_the_composer(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    session = await app.store.create_session("default", title="Quokka facts")
    await app.store.append_message(session.id, "user", "tell me about quokkas")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+f")
        search = app.sidebar.query_one(SearchBox)
        assert app.focused is search
        await pilot.press(*"quokka")
        await until(pilot, lambda: app.sidebar.searching)
        await pilot.press("escape")
        assert search.value == "" and app.focused is search
        await until(pilot, lambda: not app.sidebar.searching)  # the list is back
        await pilot.press("escape")
        assert isinstance(app.focused, Composer)


async def test_the_search_placeholder_names_the_key_that_works(make_app: AppFactory) -> None:
    app = await make_app(keys={"session.search": "ctrl+g"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        search = app.sidebar.query_one(SearchBox)
        assert "(/)" not in search.placeholder and "^g" in search.placeholder
        await pilot.press("ctrl+g")
        assert app.focused is search


async def test_after_a_dialog_focus_returns_to_where_it_was_before_the_search(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    session = await app.store.create_session("default", title="Quokka facts")
    await app.store.append_message(session.id, "user", "tell me about quokkas")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, Composer)
        await pilot.press("ctrl+f")
        await pilot.press("f2")  # a dialog opens over the search box
        await until(pilot, lambda: isinstance(app.screen, RenameDialog))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, RenameDialog))
        await pilot.pause()
        assert isinstance(app.focused, Composer)
        await pilot.press(*"hi")
        assert app.main.query_one(Composer).text == "hi"  # typed text is a message, not a search
        assert app.sidebar.query_one(SearchBox).value == ""


async def test_end_in_an_empty_composer_follows_the_end(make_app: AppFactory) -> None:
    app = await make_app()
    await _long_session(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        transcript = app.transcript
        await until(pilot, lambda: transcript.max_scroll_y > 0)
        transcript.scroll_to(y=transcript.max_scroll_y // 2, animate=False, immediate=True)
        await until(pilot, lambda: app.main.has_class("-scrolled-up"))
        composer = app.main.query_one(Composer)
        assert app.focused is composer
        await pilot.press("end")
        await until(pilot, lambda: not app.main.has_class("-scrolled-up"))
        assert transcript.is_vertical_scroll_end
        # With text written, End is the composer's own (end of the line).
        composer.insert("draft")
        composer.move_cursor((0, 0))
        transcript.scroll_to(y=0, animate=False, immediate=True)
        await until(pilot, lambda: app.main.has_class("-scrolled-up"))
        await pilot.press("end")
        assert composer.cursor_location == (0, 5)
        assert app.main.has_class("-scrolled-up")


async def test_a_click_on_the_hint_follows_the_end(make_app: AppFactory) -> None:
    app = await make_app()
    await _long_session(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        transcript = app.transcript
        await until(pilot, lambda: transcript.max_scroll_y > 0)
        transcript.scroll_to(y=0, animate=False, immediate=True)
        await until(pilot, lambda: app.main.has_class("-scrolled-up"))
        hint = app.main.query_one("#new-output", Static)
        assert "click" in str(hint.render())
        await pilot.pause()
        await pilot.click("#new-output")
        await until(pilot, lambda: not app.main.has_class("-scrolled-up"))
        assert transcript.is_vertical_scroll_end


@pytest.mark.parametrize("size", [(120, 30), (80, 30)])  # beside, and below (narrow)
async def test_no_hint_when_the_panel_merely_shrinks_the_view(
    make_app: AppFactory, size: tuple[int, int]
) -> None:
    app = await make_app()
    await _long_session(app)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        transcript = app.transcript
        await until(pilot, lambda: transcript.max_scroll_y > 0)
        assert not app.main.has_class("-scrolled-up")
        state = WorkState()
        state.apply(update(("one", "running"), ("two", "pending")), T0)
        await app.conversation.show_panel(state)
        await until(pilot, lambda: not app.main.has_class("-no-panel"))
        await pilot.pause()
        await pilot.pause()
        assert not app.main.has_class("-scrolled-up")
        assert transcript.is_vertical_scroll_end
