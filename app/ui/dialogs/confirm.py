"""ConfirmDialog: approve or deny a tool call; "always" answers carry an editable rule.

Besides once-answers it offers: approve or deny *all* (this call, the others waiting in the
session and the later calls of the same step, which it lists), minimise (the turn keeps
waiting; f7 brings the dialog back), and for "always" answers a live preview of the earlier
calls of this session the edited rule would have matched.

Everything it shows comes from the model: escape sequences, control characters and
direction controls are stripped (a Trojan Source command such as ``ls \u202e txt.exe``
shows its characters in their real order), and the dialog says when the command held any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from app.engine.clients import RuleError, display_tool_name, matching_calls
from app.engine.human import ConfirmationRequest, Decision, DecisionAction, RuleScope
from app.ui.widgets.message_views import clean

SCOPES: list[tuple[str, RuleScope]] = [
    ("this session", "session"),
    ("this workspace (.agentkit/config.toml)", "workspace"),
    ("everywhere (user config)", "user"),
]

#: Calls listed in the rule preview before "… and N more".
PREVIEW_LINES = 6
HIDDEN_CHARACTERS_NOTE = (
    "Careful: the command holds control or direction characters that are not shown here; "
    "they are part of what would run."
)


@dataclass(frozen=True)
class ConfirmAnswer:
    """What the person chose: a decision (for one call or for all), or to minimise."""

    decision: Decision | None = None
    #: The decision also answers the other waiting calls and the rest of the step.
    everything: bool = False
    minimised: bool = False


def describe_call(name: str, args: dict[str, Any]) -> str:
    """One line for a call: the command, path or URL it is about."""
    for key in ("command", "path", "url", "pattern", "query"):
        if args.get(key):
            text = " ".join(clean(str(args[key])).split())
            shown = clean(display_tool_name(name))
            return f"{shown}: {text[:100]}{'…' if len(text) > 100 else ''}"
    return clean(display_tool_name(name))


def _lexer(request: ConfirmationRequest) -> str:
    if request.command.startswith(("--- ", "diff ", "@@")) or "\n@@ " in request.command:
        return "diff"
    return "bash" if request.tool == "shell" else "text"


def _minutes(seconds: float) -> str:
    if seconds <= 0:
        return ""
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"


class ConfirmDialog(ModalScreen[ConfirmAnswer | None]):
    """Shows the exact command or diff and returns a :class:`ConfirmAnswer`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('approve')", "Approve once", id="confirm.approve"),
        Binding("n", "answer('deny')", "Deny", id="confirm.deny"),
        Binding("escape", "answer('deny')", "Deny", show=False, id="confirm.escape"),
        Binding("a", "always('approve_always')", "Always approve", id="confirm.always"),
        Binding("d", "always('deny_always')", "Always deny", id="confirm.never"),
        Binding("Y", "everything('approve')", "Approve all", id="confirm.approve_all"),
        Binding("N", "everything('deny')", "Deny all", id="confirm.deny_all"),
        Binding("m", "minimise", "Minimise", id="confirm.minimise"),
    ]

    def __init__(
        self,
        request: ConfirmationRequest,
        *,
        also: Sequence[str] = (),
        earlier_calls: Sequence[tuple[str, dict[str, Any]]] = (),
        workspace: Path | None = None,
        timeout_seconds: float = 0.0,
    ) -> None:
        """``also``: the other calls an approve-all answer covers (one line each);
        ``earlier_calls``: this session's earlier tool calls, for the rule preview."""
        super().__init__()
        self.request = request
        self.also = list(also)
        self.earlier_calls = list(earlier_calls)
        self.workspace = workspace or Path(request.workspace)
        self.timeout_seconds = timeout_seconds
        self._always: DecisionAction | None = None
        #: Set when the question went away while another dialog covered this one.
        self.expired = False

    def on_screen_resume(self) -> None:
        """Close at once if the question went away while this dialog was covered."""
        if self.expired:
            self.dismiss(None)

    def compose(self) -> ComposeResult:
        request = self.request
        tool = display_tool_name(request.tool)
        who = f"{request.expert_name} ({tool})" if request.expert_name else tool
        command = clean(request.command)
        with Vertical(id="confirm-box"):
            yield Label(f"{clean(who)} wants to run", id="confirm-title", markup=False)
            with VerticalScroll(id="confirm-command"):
                yield Static(
                    Syntax(command, _lexer(request), word_wrap=True, theme="ansi_dark"),
                    id="confirm-code",
                )
            reason = clean(request.reason)
            if command != request.command:
                reason = f"{HIDDEN_CHARACTERS_NOTE} {reason}"
            waiting = _minutes(self.timeout_seconds)
            if waiting:
                reason += f" No answer within {waiting} counts as a denial."
            yield Static(reason, id="confirm-reason", markup=False)
            if request.sandbox:
                yield Static(
                    f"If approved, it runs {request.sandbox}.", id="confirm-sandbox", markup=False
                )
            if self.also:
                lines = "\n".join(f"  • {clean(line)}" for line in self.also)
                yield Static(
                    f"Y / N also answer {len(self.also)} more call"
                    f"{'s' if len(self.also) != 1 else ''} of this turn:\n{lines}",
                    id="confirm-also",
                    markup=False,
                )
            with Vertical(id="confirm-rule"):
                yield Label("Rule (edit it before saving):", id="confirm-rule-label")
                # What is shown is what is saved: no hidden characters in the rule either.
                yield Input(clean(request.proposed_rule or ""), id="confirm-rule-input")
                yield Static("", id="confirm-preview", markup=False)
                yield Select(SCOPES, value="session", allow_blank=False, id="confirm-scope")
                yield Static("Enter saves · Esc goes back", classes="hint", markup=False)
            keys = [("y", "approve once"), ("n", "deny")]
            if request.proposed_rule:
                keys.append(("a", "always approve"))
            keys.append(("d", "always deny"))
            if self.also:
                keys.append(("Y/N", "approve/deny all"))
            keys.append(("m", "minimise"))
            hint = Text()
            for index, (key, what) in enumerate(keys):
                if index:
                    hint.append("   ")
                hint.append(f" {key} ", style="bold reverse")
                hint.append(f" {what}")
            yield Static(hint, id="confirm-keys")

    def action_answer(self, action: DecisionAction) -> None:
        """Answer once (or go back from the rule editor on Esc)."""
        if self._always is not None and action == "deny":
            self._always = None
            self.remove_class("-always")
            return
        self.dismiss(ConfirmAnswer(Decision(action=action)))

    def action_everything(self, action: DecisionAction) -> None:
        """Answer this call and every other call listed under it."""
        if self._always is not None:
            return
        self.dismiss(ConfirmAnswer(Decision(action=action), everything=True))

    def action_minimise(self) -> None:
        """Hide the dialog to read the transcript; the turn keeps waiting."""
        if self._always is None:
            self.dismiss(ConfirmAnswer(minimised=True))

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
        self._preview(rule_input.value)
        rule_input.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Keep the preview in step with the rule as it is edited."""
        if self._always is not None:
            self._preview(event.value)

    def _preview(self, rule: str) -> None:
        preview = self.query_one("#confirm-preview", Static)
        if not rule.strip():
            preview.update("")
            return
        try:
            found = matching_calls(rule, self.earlier_calls, self.workspace)
        except RuleError as exc:
            preview.update(f"✗ {clean(str(exc))}")
            return
        if not self.earlier_calls:
            preview.update("No earlier tool calls in this session to compare with.")
            return
        if not found:
            preview.update("It matches none of this session's earlier calls.")
            return
        shown = [f"  • {describe_call(name, args)}" for name, args in found[:PREVIEW_LINES]]
        if len(found) > PREVIEW_LINES:
            shown.append(f"  … and {len(found) - PREVIEW_LINES} more")
        count = f"{len(found)} earlier call{'s' if len(found) != 1 else ''}"
        preview.update(f"It would have matched {count} of this session:\n" + "\n".join(shown))

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
            ConfirmAnswer(
                Decision(
                    action=self._always,
                    rule=rule,
                    scope=scope if scope in ("session", "workspace", "user") else "session",
                )
            )
        )
