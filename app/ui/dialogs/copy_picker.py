"""CopyPicker: choose what to copy — the last answer whole, or one of its code blocks.

Code blocks come from the last few answers, newest first, parsed with markdown-it (the
parser Textual's Markdown uses), so ``` and ~~~ fences and indented blocks all count.
Enter or a digit copies; the text is returned, the app puts it on the clipboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from markdown_it import MarkdownIt
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from app.ui.widgets.message_views import one_line


@dataclass(frozen=True)
class Copyable:
    """One thing the person can copy."""

    label: str
    detail: str
    text: str


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """The (language, code) of every code block in ``markdown``, in order."""
    blocks: list[tuple[str, str]] = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type in ("fence", "code_block") and token.content.strip():
            language = token.info.strip().split(" ")[0] if token.type == "fence" else ""
            blocks.append((language, token.content.rstrip("\n")))
    return blocks


def copy_choices(answers: list[str]) -> list[Copyable]:
    """The last answer, then the code blocks of ``answers`` (newest answer first)."""
    if not answers:
        return []
    last = answers[0]
    lines = last.count("\n") + 1
    choices = [Copyable("the whole last answer", f"{lines} line{'s' if lines != 1 else ''}", last)]
    for age, answer in enumerate(answers):
        where = "last answer" if age == 0 else f"answer −{age}"
        for language, code in code_blocks(answer):
            count = code.count("\n") + 1
            detail = f"{language or 'code'} · {count} line{'s' if count != 1 else ''} · {where}"
            choices.append(Copyable(one_line(code.lstrip(), 70), detail, code))
    return choices


class CopyPicker(ModalScreen[str | None]):
    """Returns the text to copy, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="copy.cancel"),
    ]

    def __init__(self, choices: list[Copyable]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="copy-box"):
            yield Label("Copy to the clipboard", id="copy-title")
            yield OptionList(
                *(
                    Option(
                        Content.assemble(
                            (f"{index + 1 if index < 9 else ' '} ", "bold"),
                            (choice.label, "bold" if index == 0 else ""),
                            ("  " + choice.detail, "dim"),
                        )
                    )
                    for index, choice in enumerate(self.choices)
                ),
                id="copy-options",
            )
            with Horizontal(id="copy-keys"):
                yield Static("[enter] copy", classes="key", markup=False)
                yield Static("[1-9] copy that one", classes="key", markup=False)
                yield Static("[esc] cancel", classes="key", markup=False)

    def on_mount(self) -> None:
        """Start on the whole answer."""
        self.query_one(OptionList).highlighted = 0

    def on_key(self, event: events.Key) -> None:
        """Digits pick an entry at once."""
        if event.character and event.character.isdigit() and event.character != "0":
            index = int(event.character) - 1
            if index < len(self.choices):
                event.stop()
                self.dismiss(self.choices[index].text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Copy the chosen entry."""
        event.stop()
        self.dismiss(self.choices[event.option_index].text)

    def action_cancel(self) -> None:
        """Close without copying."""
        self.dismiss(None)
