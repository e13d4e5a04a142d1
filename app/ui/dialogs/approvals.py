"""ApprovalsDialog: a session's approval history, and the saved rules, one of which can go.

The dialog reads and writes nothing. The caller hands it the rows (built from the stored
event log with :func:`approval_rows`) and the saved rules (from the workspace's and the
user's config files), and removes the rule the dialog returns. Commands and rules come from
the model and from files, so they are shown as ``Text``/``Content`` (never parsed as markup)
with control characters stripped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color, ColorParseError
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, OptionList, Static
from textual.widgets.option_list import Option

from app.engine.events import (
    ConfirmationRequestData,
    ConfirmationRequestEvent,
    ConfirmationResultEvent,
    from_wire,
)
from app.ui.widgets.message_views import one_line

if TYPE_CHECKING:
    from app.engine.service import RuleEntry

#: Column caps: with cell padding the table fits the dialog on a 110-column terminal; on a
#: narrower one it scrolls sideways.
TOOL_WIDTH = 12
COMMAND_WIDTH = 32
DECIDER_WIDTH = 28
RULE_WIDTH = 70


class ApprovalRow(BaseModel):
    """One decided approval: when, which tool and command, the answer, and who gave it."""

    model_config = ConfigDict(frozen=True)

    when: datetime
    tool: str
    command: str
    approved: bool
    decider: str
    rule: str | None = None
    scope: str | None = None


class LoggedEvent(Protocol):
    """What :func:`approval_rows` needs of a stored event (``app.store.models.Event`` fits)."""

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...

    @property
    def created_at(self) -> datetime: ...


def approval_rows(events: Iterable[LoggedEvent]) -> list[ApprovalRow]:
    """Pair ``confirmation_request`` and ``confirmation_result`` events into rows, oldest first.

    Events are read as the engine logs them: the wire object without its ``type``, so the
    fields are under ``data`` (a row that does not parse as its event model is skipped, not
    guessed at). A result without a request (decided by a rule or the policy, nobody was
    asked) still makes a row, with its own tool and command. A request with no result yet
    (still waiting, or the app died while it waited) was never decided: no row.
    """
    requests: dict[str, ConfirmationRequestData] = {}
    rows: list[ApprovalRow] = []
    for event in events:
        if event.type not in ("confirmation_request", "confirmation_result"):
            continue
        try:
            parsed = from_wire({**event.data, "type": event.type})
        except ValidationError:
            continue
        if isinstance(parsed, ConfirmationRequestEvent):
            requests[parsed.data.confirmation_id] = parsed.data
        elif isinstance(parsed, ConfirmationResultEvent):
            result = parsed.data
            request = requests.pop(result.confirmation_id, None)
            rows.append(
                ApprovalRow(
                    when=event.created_at,
                    tool=(request.tool if request else None) or result.tool or "",
                    command=(request.command if request else None) or result.command or "",
                    approved=result.approved,
                    decider=result.decider or "",
                    rule=result.rule or None,
                    scope=result.scope or None,
                )
            )
    return rows


def decided_by(row: ApprovalRow) -> str:
    """Who decided, in words: "you", "rule shell(ls *)", "policy", "no answer in time", …."""
    rule = one_line(row.rule or "", RULE_WIDTH)
    if row.decider == "user":
        if not rule:
            return "you"
        return f"you, for the session: {rule}" if row.scope == "session" else f"you, saved {rule}"
    if row.decider == "rule":
        return f"rule {rule}" if rule else "a rule"
    if row.decider == "session_rule":
        return f"session rule {rule}" if rule else "a session rule"
    words = {"policy": "policy", "timeout": "no answer in time", "cancelled": "turn stopped"}
    return words.get(row.decider, one_line(row.decider, 20))


def local_time(when: datetime, zone: tzinfo | None = None) -> str:
    """``when`` as HH:MM:SS in ``zone`` (the machine's local time when ``None``)."""
    return when.astimezone(zone).strftime("%H:%M:%S")


#: Where a rule lives, in words (in this order in the list).
SCOPE_WORDS = {"session": "this session", "workspace": "this workspace", "user": "everywhere"}


def rule_prompt(saved: RuleEntry) -> Content:
    """One saved rule: allow/deny, the rule as written, and where it is saved (dim)."""
    return Content.assemble(
        ("allow" if saved.kind == "allow" else "deny ", "bold"),
        "  ",
        one_line(saved.rule, RULE_WIDTH),
        (f"  {SCOPE_WORDS.get(saved.scope, 'everywhere')}", "dim"),
    )


def theme_colour(variables: Mapping[str, str], name: str) -> Style:
    """A theme colour as a Rich style for table cells (which do not resolve ``$variables``)."""
    try:
        return Style(color=Color.parse(variables.get(name, "")).rich_color)
    except ColorParseError:
        return Style(bold=True)


class RuleList(OptionList):
    """The saved rules; ``r`` or Enter picks the highlighted rule for removal."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "select", "Remove rule", id="approvals.remove"),
    ]


class ApprovalsDialog(ModalScreen["RuleEntry | None"]):
    """Returns the saved rule chosen for removal, or ``None`` when closed with Esc."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="approvals.close"),
    ]

    def __init__(
        self,
        history: list[ApprovalRow],
        saved: list[RuleEntry],
        *,
        zone: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.history = list(history)
        #: Workspace rules first, then the user's, each in file order (as the list shows them).
        self.saved = sorted(saved, key=lambda rule: list(SCOPE_WORDS).index(rule.scope))
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical(id="approvals-box"):
            yield Label("Approvals", id="approvals-title")
            yield Label("This session", classes="approvals-heading")
            if self.history:
                yield DataTable(id="approvals-history", cursor_type="row", zebra_stripes=True)
            else:
                yield Static(
                    "No approvals in this session yet.", id="approvals-no-history", markup=False
                )
            yield Label("Saved rules", classes="approvals-heading")
            if self.saved:
                yield RuleList(
                    *(Option(rule_prompt(rule)) for rule in self.saved), id="approvals-rules"
                )
            else:
                yield Static("No saved rules.", id="approvals-no-rules", markup=False)
            with Horizontal(id="approvals-keys"):
                if self.history and self.saved:
                    yield Static("[tab] switch", classes="key", markup=False)
                if self.history or self.saved:
                    yield Static("[↑↓] move", classes="key", markup=False)
                if self.saved:
                    yield Static("[r] remove rule", classes="key", markup=False)
                yield Static("[esc] close", classes="key", markup=False)

    def on_mount(self) -> None:
        """Fill the history (newest last, scrolled to it) and focus the saved rules."""
        if self.history:
            table: DataTable[Text] = self.query_one("#approvals-history", DataTable)
            colours = self.app.get_css_variables()
            table.add_columns("Time", "Tool", "Command", "", "Decided by")
            for row in self.history:
                table.add_row(
                    Text(local_time(row.when, self.zone)),
                    Text(one_line(row.tool, TOOL_WIDTH)),
                    Text(one_line(row.command, COMMAND_WIDTH)),
                    Text("✓", style=theme_colour(colours, "text-success"))
                    if row.approved
                    else Text("✗", style=theme_colour(colours, "text-error")),
                    Text(one_line(decided_by(row), DECIDER_WIDTH)),
                )
            table.move_cursor(row=len(self.history) - 1)
        if self.saved:
            self.query_one(RuleList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Return the chosen rule; the caller removes it."""
        event.stop()
        self.dismiss(self.saved[event.option_index])

    def action_close(self) -> None:
        """Close without removing anything."""
        self.dismiss(None)
