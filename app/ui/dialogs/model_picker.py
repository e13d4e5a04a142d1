"""ModelPicker: choose the model for a session's next messages from a filterable list.

The dialog fetches nothing: it opens with a loading indicator, and the caller (the App,
from a worker) hands it the models (with their context windows, where known) with
:meth:`ModelPicker.show_models`, a failure with :meth:`ModelPicker.show_error`, and a
line of advice (how to add a provider, on a machine with only the demo) with
:meth:`ModelPicker.show_hint`. Model names and descriptions come from providers, so they
are shown as ``Content`` (never parsed as markup) with control characters stripped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from app.ui.widgets.message_views import clean, one_line
from app.ui.widgets.status_line import window_label


def add_provider_hint(config_file: Path | None) -> str:
    """What to do when only the offline demo is set up: where a provider is added."""
    where = f"to {config_file}" if config_file is not None else "to the config file"
    return (
        "Only the offline demo model is set up. To use a real model, add a [providers.NAME] "
        f"section {where} (`agentkit config init` writes a commented one), or set "
        "OPENAI_API_KEY or ANTHROPIC_API_KEY, or start Ollama; then reopen this list."
    )


class ModelList(OptionList):
    """The picker's list; it never takes focus, so typing always goes to the filter."""

    can_focus = False


def model_prompt(name: str, description: str, *, current: bool, window: int = 0) -> Content:
    """One option: the model name in bold, its context window (``128k``) when known, a mark
    for the current model, the description dim."""
    return Content.assemble(
        (name, "bold"),
        (f"  {window_label(window)}" if window > 0 else "", "$accent"),
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
        #: Context windows in tokens, by model name, where known.
        self.windows: dict[str, int] = {}
        self.error: str | None = None
        self.hint = ""
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
            yield Static("", id="model-hint", markup=False)
            with Horizontal(id="model-keys"):
                yield Static("[enter] choose", classes="key", markup=False)
                yield Static("[↑↓] move", classes="key", markup=False)
                yield Static("[esc] cancel", classes="key", markup=False)

    def show_models(
        self, models: list[tuple[str, str]], windows: Mapping[str, int] | None = None
    ) -> None:
        """Replace the loading indicator with ``models`` as (name, description) pairs, each
        with its context window from ``windows`` (tokens by name) where known."""
        self.windows = {one_line(name, 200): tokens for name, tokens in (windows or {}).items()}
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

    def show_hint(self, text: str) -> None:
        """Show a line of advice under the list (how to add a provider, …)."""
        self.hint = clean(text).strip()
        self.set_class(bool(self.hint), "-hint")
        self.query_one("#model-hint", Static).update(Content(self.hint))

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
            Option(
                model_prompt(
                    name,
                    descriptions[name],
                    current=name == self.current,
                    window=self.windows.get(name, 0),
                )
            )
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
