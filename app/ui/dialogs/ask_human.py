"""AskDialog: the agent's question, the answers it offers (keys 1–9) and a free-text input.

Enter replies with what was typed, a number picks the offered answer with that number (while
the input is empty, so an answer of one's own may still begin with a digit), Esc gives no
answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from app.ui.widgets.message_views import clean, one_line

#: The keys that pick an offered answer, in order.
CHOICE_KEYS = "123456789"


class AnswerInput(Input):
    """The free-text answer. While it is empty it lets the number keys of the offered
    answers through to the dialog's bindings (Textual drops a binding whose key the focused
    input would type); once an answer is begun, every key types."""

    def __init__(self, offered: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offered = offered

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Type the key, unless it picks an offered answer while nothing is typed."""
        if not self.value and key in CHOICE_KEYS[: self.offered]:
            return False
        return super().check_consume_key(key, character)


class AskDialog(ModalScreen[str | None]):
    """Returns the person's reply ("" for none)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "skip", "No answer", id="ask.skip"),
        *(
            # Priority: the key picks before the focused input could type it.
            Binding(key, f"choose({index})", "Choose", show=False, priority=True)
            for index, key in enumerate(CHOICE_KEYS)
        ),
    ]

    def __init__(self, question: str, choices: Sequence[str] = ()) -> None:
        super().__init__()
        self.question = question
        self.choices = tuple(choices[: len(CHOICE_KEYS)])
        #: Set when the question went away while another dialog covered this one.
        self.expired = False

    def on_screen_resume(self) -> None:
        """Close at once if the question went away while this dialog was covered."""
        if self.expired:
            self.dismiss(None)

    def compose(self) -> ComposeResult:
        with Vertical(id="ask-box"):
            yield Label("The agent asks", id="ask-title")
            yield Static(clean(self.question), id="ask-question", markup=False)
            if self.choices:
                with Vertical(id="ask-choices"):
                    for index, choice in enumerate(self.choices):
                        label = Content(f"{CHOICE_KEYS[index]}  {one_line(choice, 80)}")
                        yield Button(label, id=f"ask-choice-{index}", compact=True)
            placeholder = "Or write your own answer" if self.choices else "Your answer"
            yield AnswerInput(len(self.choices), placeholder=placeholder, id="ask-input")
            yield Static(self._hint(), classes="hint", markup=False)

    def on_mount(self) -> None:
        """Typing goes to the answer field; the number keys still pick while it is empty."""
        self.query_one(Input).focus()

    def _hint(self) -> str:
        if not self.choices:
            return "Enter replies · Esc sends no answer"
        last = CHOICE_KEYS[len(self.choices) - 1]
        keys = "1" if last == "1" else f"1–{last}"
        return f"{keys} picks an answer · or type one, Enter replies · Esc sends no answer"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Reply with what was typed."""
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Reply with the offered answer that was clicked."""
        index = int((event.button.id or "").rsplit("-", 1)[-1])
        self.dismiss(self.choices[index])

    def action_choose(self, index: int) -> None:
        """Reply with offered answer ``index`` (no answer has that number: nothing)."""
        if index >= len(self.choices):
            raise SkipAction()
        self.dismiss(self.choices[index])

    def action_skip(self) -> None:
        """Reply with nothing."""
        self.dismiss("")
