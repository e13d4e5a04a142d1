"""NewSessionDialog: choose the agent a new session starts with."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from app.ui.widgets.message_views import one_line


def agent_prompt(name: str, description: str, *, default: bool) -> Content:
    """One option: the agent name in bold, a mark for the default, the description dim."""
    return Content.assemble(
        (name, "bold"),
        ("  (default)" if default else "", "italic"),
        ("  " + description if description else "", "dim"),
    )


class NewSessionDialog(ModalScreen[str | None]):
    """Returns the chosen agent's name, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="new_session.cancel"),
    ]

    def __init__(self, agents: list[tuple[str, str]], default: str) -> None:
        super().__init__()
        unique: dict[str, str] = {}
        for name, description in agents:
            unique.setdefault(one_line(name, 200), one_line(description))
        #: (name, description) pairs in the order the list shows them.
        self.agents = list(unique.items())
        self.default = default
        names = [name for name, _ in self.agents]
        self.default_index = names.index(default) if default in names else 0

    def compose(self) -> ComposeResult:
        with Vertical(id="new-session-box"):
            yield Label("New session", id="new-session-title")
            yield Static("Which agent should it start with?", id="new-session-question")
            yield OptionList(
                *(
                    Option(agent_prompt(name, description, default=name == self.default))
                    for name, description in self.agents
                ),
                id="new-session-agents",
            )
            if not self.agents:
                yield Static("No agents are configured.", id="new-session-empty")
            with Horizontal(id="new-session-keys"):
                yield Static("[enter] start", classes="key", markup=False)
                yield Static("[↑↓] choose", classes="key", markup=False)
                yield Static("[esc] cancel", classes="key", markup=False)

    def on_mount(self) -> None:
        """Highlight the default agent."""
        if self.agents:
            self.query_one(OptionList).highlighted = self.default_index

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Start with the chosen agent."""
        event.stop()
        self.dismiss(self.agents[event.option_index][0])

    def action_cancel(self) -> None:
        """Close without starting a session."""
        self.dismiss(None)
