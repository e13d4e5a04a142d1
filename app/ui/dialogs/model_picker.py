"""ModelPicker: choose the model for a session's next messages from a filterable list.

The dialog fetches nothing: it opens with a loading indicator, and the caller (the App,
from a worker) hands it the models with :meth:`ModelPicker.show_models` or a failure with
:meth:`ModelPicker.show_error`. Model names and descriptions come from providers, so they
are shown as ``Content`` (never parsed as markup) with control characters stripped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from app.ui.widgets.message_views import clean, one_line


class ModelList(OptionList):
    """The picker's list; it never takes focus, so typing always goes to the filter."""

    can_focus = False


def model_prompt(name: str, description: str, *, current: bool) -> Content:
    """One option: the model name in bold, a mark for the current model, the description dim."""
    return Content.assemble(
        (name, "bold"),
        ("  (current)" if current else "", "italic"),
        ("  " + description if description else "", "dim"),
    )


class ModelPicker(ModalScreen[str | None]):
    """Returns the chosen model name, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="model.cancel"),
        Binding("down", "move('cursor_down')", "Next", show=False, id="model.next"),
        Binding("up", "move('cursor_up')", "Previous", show=False, id="model.previous"),
        Binding("pagedown", "move('page_down')", "Page down", show=False, id="model.page_down"),
        Binding("pageup", "move('page_up')", "Page up", show=False, id="model.page_up"),
    ]

    def __init__(self, current: str) -> None:
        super().__init__(classes="-loading")
        self.current = current
        self.models: list[tuple[str, str]] = []
        self.error: str | None = None
        #: Model names in the order the list shows them after filtering.
        self.visible_names: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="model-box"):
            yield Label("Choose a model", id="model-title")
            yield Static(
                Content.assemble("Current: ", (one_line(self.current), "bold")),
                id="model-current",
            )
            yield Input(placeholder="Type to filter", id="model-filter")
            yield LoadingIndicator(id="model-loading")
            yield ModelList(id="model-list")
            yield Static("", id="model-empty", markup=False)
            yield Static("", id="model-error", markup=False)
            with Horizontal(id="model-keys"):
                yield Static("[enter] choose", classes="key", markup=False)
                yield Static("[↑↓] move", classes="key", markup=False)
                yield Static("[esc] cancel", classes="key", markup=False)

    def show_models(self, models: list[tuple[str, str]]) -> None:
        """Replace the loading indicator with ``models`` as (name, description) pairs."""
        unique: dict[str, str] = {}
        for name, description in models:
            unique.setdefault(one_line(name, 200), one_line(description))
        self.models = list(unique.items())
        self.remove_class("-loading")
        self.add_class("-loaded")
        self.call_later(self._refresh_list)

    def show_error(self, text: str) -> None:
        """Stop loading and show why models could not be listed (models already shown stay)."""
        self.error = clean(text).strip() or "The models could not be listed."
        self.remove_class("-loading")
        self.add_class("-failed")
        self.call_later(self._refresh_error)

    def _refresh_error(self) -> None:
        self.query_one("#model-error", Static).update(Content(self.error or ""))

    def _refresh_list(self) -> None:
        """Show the models that match the filter, keeping the current model highlighted."""
        typed = self.query_one("#model-filter", Input).value.strip()
        query = typed.casefold()
        self.visible_names = [
            name
            for name, description in self.models
            if query in name.casefold() or query in description.casefold()
        ]
        descriptions = dict(self.models)
        option_list = self.query_one(ModelList)
        option_list.set_options(
            Option(model_prompt(name, descriptions[name], current=name == self.current))
            for name in self.visible_names
        )
        if self.visible_names:
            option_list.highlighted = (
                self.visible_names.index(self.current) if self.current in self.visible_names else 0
            )
        self.set_class(not self.visible_names, "-no-match")
        self.query_one("#model-empty", Static).update(
            Content(f"No model matches “{one_line(typed, 40)}”.")
            if self.models
            else Content("No models are available.")
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        """Narrow the list as the filter changes."""
        event.stop()
        if self.models:
            self._refresh_list()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Choose the highlighted model."""
        event.stop()
        option_list = self.query_one(ModelList)
        if option_list.highlighted is None or not self.visible_names:
            self.app.bell()
            return
        self.dismiss(self.visible_names[option_list.highlighted])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Choose a model that was clicked."""
        event.stop()
        self.dismiss(self.visible_names[event.option_index])

    def action_move(self, movement: str) -> None:
        """Move the list's highlight while the filter keeps the focus."""
        option_list = self.query_one(ModelList)
        moves: dict[str, Callable[[], None]] = {
            "cursor_down": option_list.action_cursor_down,
            "cursor_up": option_list.action_cursor_up,
            "page_down": option_list.action_page_down,
            "page_up": option_list.action_page_up,
        }
        moves[movement]()

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
