"""The agent's question with choices: the dialog offers them on keys 1–9 and as buttons, next
to a free-text answer; the answer picked reaches the tool result."""

from __future__ import annotations

from textual.widgets import Button, Input

from app.ui.dialogs.ask_human import AskDialog
from app.ui.widgets.message_views import Note
from tests.ui.conftest import AppFactory, type_and_send, until
from tests.ui.test_dialogs import hosting

CHOICES = ("Keep it", "[bold]Drop[/bold] it", "Ask later")


async def test_pressing_2_answers_the_demo_question_with_its_second_choice(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "ask me a question")
        await until(pilot, lambda: isinstance(app.screen, AskDialog))
        dialog = app.screen
        assert isinstance(dialog, AskDialog)
        labels = [str(button.label) for button in dialog.query(Button)]
        assert labels == ["1  The code", "2  The tests", "3  The docs"]
        await pilot.press("2")
        await until(pilot, lambda: app.current is not None and not app.turns.live)
        assert app.current is not None
        messages = await app.store.get_messages(app.current.id)
        (answer,) = [m for m in messages if m.role == "tool" and m.tool_name == "ask_human"]
        assert answer.content == "The tests"
        events = await app.store.get_events(app.current.id)
        (asked,) = [event for event in events if event.type == "ask_human"]
        assert asked.data["choices"] == ["The code", "The tests", "The docs"]
        notes = [str(note.render()) for note in app.screen.query(Note)]
        assert any(note.endswith("(The code · The tests · The docs)") for note in notes), notes
        # Asking the person is no action to approve: no "approved by the policy" line for it.
        assert not [event for event in events if event.type == "confirmation_result"]
        assert not any("approved" in note for note in notes), notes


async def test_a_choice_key_picks_it_and_a_click_picks_too() -> None:
    async with hosting(AskDialog("Which?", CHOICES)) as (pilot, results):
        await pilot.press("3")
        await pilot.pause()
        assert results == ["Ask later"]
    async with hosting(AskDialog("Which?", CHOICES)) as (pilot, results):
        await pilot.click("#ask-choice-1")
        await pilot.pause()
        assert results == ["[bold]Drop[/bold] it"]  # the text, not its markup


async def test_digits_type_once_an_answer_is_begun_or_when_they_offer_nothing() -> None:
    async with hosting(AskDialog("How many?", CHOICES)) as (pilot, results):
        await pilot.press("4")  # only three choices: the key types
        await pilot.press("x", "2")  # an answer begun: the key types
        assert pilot.app.screen.query_one(Input).value == "4x2"
        await pilot.press("enter")
        await pilot.pause()
        assert results == ["4x2"]


async def test_the_choices_show_literally_and_esc_gives_no_answer() -> None:
    async with hosting(AskDialog("Which?", CHOICES)) as (pilot, results):
        labels = [str(button.label) for button in pilot.app.screen.query(Button)]
        assert labels[1] == "2  [bold]Drop[/bold] it"
        await pilot.press("escape")
        await pilot.pause()
        assert results == [""]


async def test_without_choices_a_digit_is_part_of_the_answer() -> None:
    async with hosting(AskDialog("How many?")) as (pilot, results):
        assert not pilot.app.screen.query(Button)
        await pilot.press("2", "enter")
        await pilot.pause()
        assert results == ["2"]
