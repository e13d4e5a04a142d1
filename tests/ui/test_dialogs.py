"""Dialogs pushed onto a bare host App and driven with keys: the values they dismiss with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from textual.app import App
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Input, LoadingIndicator, OptionList, Static

from app.paths import styles_dir
from app.ui.dialogs.delete import DeleteDialog
from app.ui.dialogs.help import HelpDialog, HelpRow
from app.ui.dialogs.model_picker import ModelList, ModelPicker
from app.ui.dialogs.new_session import NewSessionDialog
from app.ui.dialogs.rename import EMPTY_TITLE, RenameDialog

ResultT = TypeVar("ResultT")

MARKUP = "[bold red]x[/]"

MODELS = [
    ("demo", "offline demo model"),
    ("openai/gpt-4o", "OpenAI flagship"),
    ("anthropic/claude-sonnet-4", "Anthropic, balanced"),
    ("ollama/llama3.2", "local via Ollama"),
]

AGENTS = [
    ("default", "General assistant with shell and file tools"),
    ("reviewer", "Reads code and suggests changes, never edits"),
    ("planner", "Plans first, then executes step by step"),
]

HELP_ROWS: list[HelpRow] = [
    ("Sessions", "ctrl+n", "New session", "session.new"),
    ("Turn", "escape", "Stop the running turn", "turn.cancel"),
    ("Sessions", "ctrl+f", "Search sessions", "session.search"),
    ("View", "ctrl+b", "Toggle the sidebar", "view.sidebar"),
    ("Turn", "ctrl+r", "Retry the last turn", "turn.retry"),
    ("Composer", "tab", "complete an @skill or a /command"),
]


class DialogHost(App[None]):
    """An empty app with only the dialog styles, so a dialog is tested on its own."""

    CSS_PATH = str(styles_dir() / "dialogs.tcss")

    def on_mount(self) -> None:
        """Fix the theme so colours do not depend on the machine."""
        self.theme = "textual-dark"


@asynccontextmanager
async def hosting(
    dialog: ModalScreen[ResultT],
) -> AsyncIterator[tuple[Pilot[None], list[ResultT | None]]]:
    """Run a host app with ``dialog`` pushed; yields the pilot and the dismissed values."""
    app = DialogHost()
    results: list[ResultT | None] = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(dialog, results.append)
        await pilot.pause()
        yield pilot, results


def text_of(screen: ModalScreen[Any], selector: str) -> str:
    """The plain text a Static shows (markup, if it had been parsed, would be gone)."""
    return str(screen.query_one(selector, Static).render())


def option_texts(option_list: OptionList) -> list[str]:
    """The plain text of every option in a list."""
    return [str(option.prompt) for option in option_list.options]


# Model picker


async def test_model_picker_shows_loading_until_the_models_arrive() -> None:
    picker = ModelPicker(current="demo")
    async with hosting(picker) as (pilot, results):
        assert picker.query_one(LoadingIndicator).display
        assert not picker.query_one(ModelList).display
        picker.show_models(MODELS)
        await pilot.pause()
        assert not picker.query_one(LoadingIndicator).display
        option_list = picker.query_one(ModelList)
        assert option_list.display
        assert option_list.option_count == len(MODELS)
        assert option_list.highlighted == 0  # the current model
        assert "(current)" in option_texts(option_list)[0]
        assert results == []


async def test_model_picker_returns_the_chosen_model() -> None:
    picker = ModelPicker(current="openai/gpt-4o")
    async with hosting(picker) as (pilot, results):
        picker.show_models(MODELS)
        await pilot.pause()
        assert picker.query_one(ModelList).highlighted == 1  # starts on the current model
        await pilot.press("down", "enter")
        await pilot.pause()
        assert results == ["anthropic/claude-sonnet-4"]


async def test_model_picker_filter_narrows_the_list_as_you_type() -> None:
    picker = ModelPicker(current="demo")
    async with hosting(picker) as (pilot, results):
        picker.show_models(MODELS)
        await pilot.pause()
        await pilot.press(*"son")
        await pilot.pause()
        assert picker.visible_names == ["anthropic/claude-sonnet-4"]
        await pilot.press("backspace", "backspace", "backspace", *"local")  # descriptions too
        await pilot.pause()
        assert picker.visible_names == ["ollama/llama3.2"]
        await pilot.press("enter")
        await pilot.pause()
        assert results == ["ollama/llama3.2"]


async def test_model_picker_typed_before_the_models_arrive_is_applied() -> None:
    picker = ModelPicker(current="demo")
    async with hosting(picker) as (pilot, _results):
        await pilot.press(*"gpt")
        picker.show_models(MODELS)
        await pilot.pause()
        assert picker.visible_names == ["openai/gpt-4o"]


async def test_model_picker_says_when_nothing_matches_and_stays_open() -> None:
    picker = ModelPicker(current="demo")
    async with hosting(picker) as (pilot, results):
        picker.show_models(MODELS)
        await pilot.pause()
        await pilot.press(*"zzz")
        await pilot.pause()
        empty = picker.query_one("#model-empty", Static)
        assert empty.display
        assert text_of(picker, "#model-empty") == "No model matches “zzz”."
        await pilot.press("enter")
        await pilot.pause()
        assert results == []
        assert pilot.app.screen is picker


async def test_model_picker_escape_cancels() -> None:
    picker = ModelPicker(current="demo")
    async with hosting(picker) as (pilot, results):
        picker.show_models(MODELS)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert results == [None]


async def test_model_picker_escape_cancels_while_loading() -> None:
    async with hosting(ModelPicker(current="demo")) as (pilot, results):
        await pilot.press("escape")
        await pilot.pause()
        assert results == [None]


async def test_model_picker_ignores_models_that_arrive_after_it_closed() -> None:
    picker = ModelPicker(current="demo")
    async with hosting(picker) as (pilot, results):
        await pilot.press("escape")
        await pilot.pause()
        picker.show_models(MODELS)  # the App's worker finished late
        picker.show_error("too late")
        await pilot.pause()
        assert results == [None]
        assert pilot.app.screen is not picker


async def test_model_picker_shows_errors_literally() -> None:
    picker = ModelPicker(current="demo")
    async with hosting(picker) as (pilot, results):
        picker.show_error(f"openai: 401 {MARKUP} \x1b[31mbad key\x1b[0m")
        await pilot.pause()
        assert not picker.query_one(LoadingIndicator).display
        assert picker.query_one("#model-error", Static).display
        assert text_of(picker, "#model-error") == f"openai: 401 {MARKUP} bad key"
        await pilot.press("escape")
        await pilot.pause()
        assert results == [None]


async def test_model_picker_keeps_listed_models_next_to_an_error() -> None:
    picker = ModelPicker(current="demo")
    async with hosting(picker) as (pilot, results):
        picker.show_models(MODELS[:1])
        picker.show_error("ollama: connection refused")
        await pilot.pause()
        assert picker.query_one(ModelList).display
        assert picker.query_one("#model-error", Static).display
        await pilot.press("enter")
        await pilot.pause()
        assert results == ["demo"]


async def test_model_picker_shows_model_names_literally() -> None:
    picker = ModelPicker(current=MARKUP)
    async with hosting(picker) as (pilot, results):
        picker.show_models([(MARKUP, MARKUP)])
        await pilot.pause()
        assert text_of(picker, "#model-current") == f"Current: {MARKUP}"
        assert option_texts(picker.query_one(ModelList)) == [f"{MARKUP}  (current)  {MARKUP}"]
        await pilot.press("enter")
        await pilot.pause()
        assert results == [MARKUP]


# New session


async def test_new_session_starts_on_the_default_agent() -> None:
    dialog = NewSessionDialog(AGENTS, default="reviewer")
    async with hosting(dialog) as (pilot, results):
        assert dialog.query_one(OptionList).highlighted == 1
        await pilot.press("enter")
        await pilot.pause()
        assert results == ["reviewer"]


async def test_new_session_returns_the_chosen_agent() -> None:
    async with hosting(NewSessionDialog(AGENTS, default="default")) as (pilot, results):
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert results == ["planner"]


async def test_new_session_escape_cancels() -> None:
    async with hosting(NewSessionDialog(AGENTS, default="default")) as (pilot, results):
        await pilot.press("escape")
        await pilot.pause()
        assert results == [None]


async def test_new_session_shows_agent_text_literally() -> None:
    dialog = NewSessionDialog([(MARKUP, MARKUP)], default="missing")
    async with hosting(dialog) as (pilot, results):
        assert option_texts(dialog.query_one(OptionList)) == [f"{MARKUP}  {MARKUP}"]
        await pilot.press("enter")
        await pilot.pause()
        assert results == [MARKUP]


# Rename


async def test_rename_is_prefilled_and_returns_the_new_title() -> None:
    dialog = RenameDialog("Fix the CI")
    async with hosting(dialog) as (pilot, results):
        assert dialog.query_one(Input).value == "Fix the CI"
        await pilot.press("end", *" pipeline  ", "enter")  # the title starts selected
        await pilot.pause()
        assert results == ["Fix the CI pipeline"]


async def test_rename_typing_at_once_replaces_the_selected_title() -> None:
    async with hosting(RenameDialog("Fix the CI")) as (pilot, results):
        await pilot.press(*"Release", "enter")
        await pilot.pause()
        assert results == ["Release"]


async def test_rename_refuses_an_empty_title_with_a_visible_message() -> None:
    dialog = RenameDialog("Fix the CI")
    async with hosting(dialog) as (pilot, results):
        error = dialog.query_one("#rename-error", Static)
        assert not error.display
        await pilot.press("ctrl+u", *"   ", "enter")
        await pilot.pause()
        assert results == []
        assert pilot.app.screen is dialog
        assert error.display
        assert text_of(dialog, "#rename-error") == EMPTY_TITLE
        await pilot.press(*"New title")
        await pilot.pause()
        assert not error.display  # typing again hides the message
        await pilot.press("enter")
        await pilot.pause()
        assert results == ["New title"]


async def test_rename_escape_cancels() -> None:
    async with hosting(RenameDialog("Fix the CI")) as (pilot, results):
        await pilot.press(*"zzz", "escape")
        await pilot.pause()
        assert results == [None]


async def test_rename_keeps_a_markup_title_literal() -> None:
    dialog = RenameDialog(MARKUP)
    async with hosting(dialog) as (pilot, results):
        assert dialog.query_one(Input).value == MARKUP
        await pilot.press("enter")
        await pilot.pause()
        assert results == [MARKUP]


# Delete


async def test_delete_y_deletes() -> None:
    async with hosting(DeleteDialog("Fix the CI", 12)) as (pilot, results):
        await pilot.press("y")
        await pilot.pause()
        assert results == [True]


async def test_delete_n_keeps() -> None:
    async with hosting(DeleteDialog("Fix the CI", 12)) as (pilot, results):
        await pilot.press("n")
        await pilot.pause()
        assert results == [False]


async def test_delete_escape_keeps() -> None:
    async with hosting(DeleteDialog("Fix the CI", 12)) as (pilot, results):
        await pilot.press("enter")  # Enter is no answer: deleting takes the shown key
        await pilot.pause()
        assert results == []
        await pilot.press("escape")
        await pilot.pause()
        assert results == [False]


async def test_delete_shows_the_title_literally_and_counts_messages() -> None:
    dialog = DeleteDialog(MARKUP, 1)
    async with hosting(dialog) as (_pilot, _results):
        assert text_of(dialog, "#delete-question") == (
            f"Delete “{MARKUP}” and its 1 message for good?"
        )
    dialog = DeleteDialog("Big one", 1234)
    async with hosting(dialog) as (_pilot, _results):
        assert text_of(dialog, "#delete-question") == (
            "Delete “Big one” and its 1,234 messages for good?"
        )


# Help


async def test_help_shows_every_key_grouped_in_first_seen_order() -> None:
    dialog = HelpDialog(HELP_ROWS)
    async with hosting(dialog) as (_pilot, _results):
        groups = [str(label.render()) for label in dialog.query(".help-group").results(Static)]
        assert groups == ["Sessions", "Turn", "View", "Composer"]
        keys = [str(key.render()) for key in dialog.query(".help-key").results(Static)]
        assert keys == ["ctrl+n", "ctrl+f", "escape", "ctrl+r", "ctrl+b", "tab"]
        ids = [str(key.render()) for key in dialog.query(".help-id").results(Static)]
        assert ids == ["session.new", "session.search", "turn.cancel", "turn.retry", "view.sidebar"]


async def test_help_closes_with_escape_q_and_f1() -> None:
    for key in ("escape", "q", "f1"):
        async with hosting(HelpDialog(HELP_ROWS)) as (pilot, results):
            await pilot.press(key)
            await pilot.pause()
            assert results == [None], key


async def test_help_scrolls_when_there_are_many_keys() -> None:
    rows = [(f"Group {n // 10}", f"ctrl+{n}", f"Action number {n}") for n in range(60)]
    dialog = HelpDialog(rows)
    async with hosting(dialog) as (pilot, _results):
        scroll = dialog.query_one("#help-keys-list")
        assert scroll.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert scroll.scroll_y > 0


async def test_help_shows_descriptions_literally() -> None:
    dialog = HelpDialog([(MARKUP, MARKUP, MARKUP)])
    async with hosting(dialog) as (_pilot, _results):
        texts = [str(widget.render()) for widget in dialog.query(Static)]
        assert texts.count(MARKUP) == 3
