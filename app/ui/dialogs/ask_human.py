"""AskDialog: the agent's question and an input; Enter replies, Esc gives no answer."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from app.ui.widgets.message_views import clean


class AskDialog(ModalScreen[str | None]):
    """Returns the person's reply ("" for none)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "skip", "No answer", id="ask.skip")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
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
            yield Input(placeholder="Your answer", id="ask-input")
            yield Static("Enter replies · Esc sends no answer", classes="hint", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Reply with what was typed."""
        self.dismiss(event.value)

    def action_skip(self) -> None:
        """Reply with nothing."""
        self.dismiss("")
