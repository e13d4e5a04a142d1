"""ConfirmDialog: approve or deny one tool call; "always" answers carry an editable rule."""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from app.engine.human import ConfirmationRequest, Decision, DecisionAction, RuleScope

SCOPES: list[tuple[str, RuleScope]] = [
    ("this session", "session"),
    ("this workspace (.agentkit/config.toml)", "workspace"),
    ("everywhere (user config)", "user"),
]


def _lexer(request: ConfirmationRequest) -> str:
    if request.command.startswith(("--- ", "diff ", "@@")) or "\n@@ " in request.command:
        return "diff"
    return "bash" if request.tool == "shell" else "text"


class ConfirmDialog(ModalScreen[Decision | None]):
    """Shows the exact command or diff and returns the person's :class:`Decision`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('approve')", "Approve once", id="confirm.approve"),
        Binding("n", "answer('deny')", "Deny", id="confirm.deny"),
        Binding("escape", "answer('deny')", "Deny", show=False, id="confirm.escape"),
        Binding("a", "always('approve_always')", "Always approve", id="confirm.always"),
        Binding("d", "always('deny_always')", "Always deny", id="confirm.never"),
    ]

    def __init__(self, request: ConfirmationRequest) -> None:
        super().__init__()
        self.request = request
        self._always: DecisionAction | None = None

    def compose(self) -> ComposeResult:
        request = self.request
        with Vertical(id="confirm-box"):
            yield Label(f"{request.tool} wants to run", id="confirm-title", markup=False)
            with VerticalScroll(id="confirm-command"):
                yield Static(
                    Syntax(request.command, _lexer(request), word_wrap=True, theme="ansi_dark"),
                    id="confirm-code",
                )
            yield Static(request.reason, id="confirm-reason", markup=False)
            with Vertical(id="confirm-rule"):
                yield Label("Rule (edit it before saving):", id="confirm-rule-label")
                yield Input(request.proposed_rule or "", id="confirm-rule-input")
                yield Select(SCOPES, value="session", allow_blank=False, id="confirm-scope")
                yield Static("Enter saves · Esc goes back", classes="hint", markup=False)
            with Horizontal(id="confirm-keys"):
                yield Static("[y] approve once", classes="key", markup=False)
                yield Static("[n] deny", classes="key", markup=False)
                if request.proposed_rule:
                    yield Static("[a] always approve", classes="key", markup=False)
                yield Static("[d] always deny", classes="key", markup=False)

    def action_answer(self, action: DecisionAction) -> None:
        """Answer once (or go back from the rule editor on Esc)."""
        if self._always is not None and action == "deny":
            self._always = None
            self.remove_class("-always")
            return
        self.dismiss(Decision(action=action))

    def action_always(self, action: DecisionAction) -> None:
        """Open the rule editor for an "always" answer."""
        if action == "approve_always" and not self.request.proposed_rule:
            self.notify("This command can only be approved once.", markup=False)
            return
        self._always = action
        self.add_class("-always")
        rule_input = self.query_one("#confirm-rule-input", Input)
        if not rule_input.value:
            rule_input.value = self.request.tool
        rule_input.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Save the edited rule with its scope."""
        if self._always is None:
            return
        rule = event.value.strip()
        if not rule:
            self.notify("The rule cannot be empty.", severity="warning", markup=False)
            return
        scope = self.query_one("#confirm-scope", Select).value
        self.dismiss(
            Decision(
                action=self._always,
                rule=rule,
                scope=scope if scope in ("session", "workspace", "user") else "session",
            )
        )
