"""The one table of actions: every key of the app, the keys of widgets and dialogs, and the
``/commands`` of the composer.

The App's ``BINDINGS``, the f1 help, the key bar, the command palette and ``[keys]`` remaps
all read :data:`ACTIONS`, so they cannot drift apart. A binding id (``session.new``) names an
action everywhere: in the keymap, in the help, and in :func:`bound_keys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the person can do with a key (and from the palette)."""

    #: The binding id (dotted): what ``[keys]`` remaps and the help lists.
    id: str
    #: Where the App finds the handler: ``part.method`` (``app`` is the App itself).
    target: str
    #: The default key(s), comma separated as in Textual.
    keys: str
    #: Short name for the key bar, the help and the palette.
    description: str
    #: The help's heading for it.
    group: str
    #: One sentence for the palette.
    detail: str
    #: Shown in the key bar.
    show: bool = True
    #: Listed in the command palette.
    palette: bool = True
    #: Works while the composer (a TextArea with its own ctrl keys) has focus.
    priority: bool = False
    #: Kept in the key bar however narrow the terminal is.
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class OtherKey:
    """A key of a widget or a dialog (it has its own binding there): listed by the help."""

    group: str
    keys: str
    description: str


@dataclass(frozen=True, slots=True)
class SlashCommand:
    """A ``/command`` typed into the composer; ``action`` runs it when it takes no argument."""

    name: str
    description: str
    action: str | None = None


# The order is the key bar's order.
ACTIONS: tuple[Action, ...] = (
    Action(
        "session.new",
        "actions.new_session",
        "ctrl+n",
        "New",
        "Sessions",
        "Start a new conversation (choosing the agent when there are several).",
        priority=True,
    ),
    Action(
        "turn.cancel",
        "actions.cancel_turn",
        "escape",
        "Stop",
        "Turn",
        "Stop the running turn of the open session (its partial reply is kept).",
    ),
    Action(
        "turn.interrupt",
        "actions.interrupt",
        "ctrl+c",
        "Stop",
        "Turn",
        "ctrl+c: stop the running turn; otherwise copy a selection, or say how to quit.",
        show=False,
        priority=True,
    ),
    Action(
        "session.search",
        "main.focus_search",
        "ctrl+f",
        "Search",
        "Sessions",
        "Jump to the session search box.",
        priority=True,
    ),
    Action(
        "view.sidebar",
        "main.toggle_sidebar",
        "ctrl+b",
        "Sidebar",
        "View",
        "Show or hide the session list (on narrow terminals it starts hidden).",
        priority=True,
    ),
    Action(
        "turn.retry",
        "actions.retry",
        "ctrl+r",
        "Retry",
        "Turn",
        "Send the last message of the open session again.",
        priority=True,
    ),
    Action(
        "session.export",
        "actions.export_markdown",
        "ctrl+s",
        "Export",
        "Sessions",
        "Write the open session as Markdown into the workspace.",
        priority=True,
    ),
    Action(
        "session.close",
        "actions.close_session",
        "f4",
        "Close",
        "Sessions",
        "Close the open session: it stays readable and takes no new messages.",
    ),
    Action(
        "session.continue",
        "actions.continue_session",
        "f5",
        "Continue",
        "Sessions",
        "Start a new session that continues a closed one (it copies only the title).",
        show=False,
    ),
    Action(
        "view.follow",
        "conversation.follow",
        "end",
        "Follow",
        "View",
        "Scroll to the end and follow new output again.",
        show=False,
    ),
    Action(
        "app.help",
        "app.show_help",
        "f1",
        "Help",
        "App",
        "Show every key and command, grouped.",
        pinned=True,
    ),
    Action(
        "session.rename",
        "actions.rename_in_dialog",
        "f2",
        "Rename",
        "Sessions",
        "Rename the open session in a dialog.",
    ),
    Action(
        "session.model",
        "actions.pick_model",
        "f3",
        "Model",
        "Sessions",
        "Choose the model for the open session's next messages.",
    ),
    Action(
        "turn.copy",
        "actions.copy_answer",
        "f6",
        "Copy",
        "Turn",
        "Copy the last answer, or one of the recent code blocks (system clipboard, else OSC 52).",
        priority=True,
    ),
    Action(
        "session.approvals",
        "desk.approvals_key",
        "f7",
        "Approvals",
        "Sessions",
        "Bring back a minimised question; otherwise review the session's approvals and the "
        "saved rules, and remove a saved rule.",
        priority=True,
    ),
    Action(
        "session.delete",
        "actions.delete",
        "f8",
        "Delete",
        "Sessions",
        "Delete the open session (after a confirmation).",
    ),
    Action(
        "view.panel",
        "conversation.toggle_panel",
        "f9",
        "Plan panel",
        "View",
        "Show or hide the plan / team panel.",
        priority=True,
    ),
)

ACTIONS_BY_ID: dict[str, Action] = {action.id: action for action in ACTIONS}

#: Keys of widgets and dialogs (bound there), for the help.
OTHER_KEYS: tuple[OtherKey, ...] = (
    OtherKey("Composer", "enter", "send the message"),
    OtherKey("Composer", "ctrl+j / alt+enter", "new line"),
    OtherKey("Composer", "up / down", "earlier messages you sent"),
    OtherKey("Composer", "tab", "complete an @skill or a /command"),
    OtherKey("Composer", "end", "with nothing written: follow the end of the conversation"),
    OtherKey("Session search", "esc", "clear the search; again: back to the composer"),
    OtherKey("Approval dialog", "y", "approve once"),
    OtherKey("Approval dialog", "n / esc", "deny"),
    OtherKey("Approval dialog", "a / d", "always approve / always deny (edit the rule first)"),
    OtherKey("Approval dialog", "Y / N", "approve / deny every call listed as waiting"),
    OtherKey("Approval dialog", "m", "minimise (f7 brings it back)"),
    OtherKey("Plan / team panel", "[ / ]", "wider / narrower (when the panel has focus)"),
    OtherKey("Copy picker", "1-9", "copy that entry at once"),
    OtherKey("App", "ctrl+p", "every command"),
    OtherKey("App", "ctrl+q", "quit"),
)

#: Commands the composer understands (``/plan`` and ``/team`` go to the engine's router).
COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("/new", "start a new session", "session.new"),
    SlashCommand("/model", "choose the model for this session", "session.model"),
    SlashCommand("/plan", "plan the task in phases, then carry them out"),
    SlashCommand("/team", "work on the task with a team of experts"),
    SlashCommand("/export", "export this session: /export md or /export json"),
    SlashCommand("/rename", "rename this session: /rename NEW TITLE"),
    SlashCommand("/close", "close this session (it stays readable)", "session.close"),
    SlashCommand("/retry", "send the last message again", "turn.retry"),
    SlashCommand("/compact", "summarise older turns for the model: /compact [focus]"),
    SlashCommand("/help", "every key and command", "app.help"),
)

COMMANDS_BY_NAME: dict[str, SlashCommand] = {command.name: command for command in COMMANDS}

#: Commands the engine's router handles (sent as messages).
ENGINE_COMMANDS = frozenset({"/plan", "/team"})


def bindings() -> list[Binding]:
    """The App's ``BINDINGS``, one per action (the keymap remaps them by id)."""
    return [
        Binding(
            action.keys,
            f"run({action.id!r})",
            action.description,
            show=action.show,
            id=action.id,
            priority=action.priority,
            tooltip=action.detail,
        )
        for action in ACTIONS
    ]


def bound_keys(keymap: Mapping[str, str]) -> dict[str, str]:
    """The keys each action is bound to once ``keymap`` (binding id -> keys) is applied."""
    return {action.id: keymap.get(action.id) or action.keys for action in ACTIONS}


def help_rows(keymap: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """(group, keys, description, binding id) for the help: the app's actions with the keys
    they have now, the keys of widgets and dialogs, and the ``/commands``."""
    keys = bound_keys(keymap)
    rows = [
        (action.group, keys[action.id].replace(",", " / "), action.description, action.id)
        for action in ACTIONS
    ]
    rows += [(other.group, other.keys, other.description, "") for other in OTHER_KEYS]
    rows += [("Commands", command.name, command.description, "") for command in COMMANDS]
    return rows


def is_pinned(binding_id: str | None) -> bool:
    """Whether the key bar keeps this binding however narrow the line is."""
    action = ACTIONS_BY_ID.get(binding_id or "")
    return action is not None and action.pinned
