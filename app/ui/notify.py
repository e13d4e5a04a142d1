"""Telling the person that a turn ended or a question waits while they look elsewhere.

Textual knows whether the terminal has focus (``App.app_focus``, from the terminal's focus
reports). While it does not, a turn that ends or a question that waits rings the bell and,
with ``[ui] notify = "desktop"``, also asks the terminal for a desktop notification: OSC 777
in terminals known for it (rxvt, foot), OSC 9 elsewhere (iTerm2, WezTerm, Windows Terminal,
Ghostty, kitty); inside tmux through its passthrough. A question rings the bell even while
the terminal has focus (as before); ``notify = "off"`` silences both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from app.textsafe import strip_controls
from app.ui.clipboard import tmux_passthrough

if TYPE_CHECKING:
    from textual.app import App

NotifyMode = Literal["bell", "desktop", "off"]
NOTIFY_MODES: tuple[NotifyMode, ...] = ("bell", "desktop", "off")

#: What each way a turn can end is called in a notification.
ENDINGS = {
    "completed": "the reply is ready",
    "cancelled": "the turn was stopped",
    "error": "the turn failed",
}


def notify_mode(settings: object) -> NotifyMode:
    """``[ui] notify`` when it is set to a known value, else ``"bell"``."""
    value = getattr(getattr(settings, "ui", None), "notify", "bell")
    return next((mode for mode in NOTIFY_MODES if mode == value), "bell")


def _field(text: str, width: int = 200) -> str:
    """Text safe inside an OSC sequence (no controls, no ``;`` separators), one line."""
    flat = " ".join(strip_controls(text).replace(";", ",").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def desktop_sequence(title: str, body: str, env: Mapping[str, str]) -> str:
    """The escape sequence asking this terminal for a desktop notification."""
    term = env.get("TERM", "")
    if term.startswith(("rxvt", "foot")):
        sequence = f"\x1b]777;notify;{_field(title)};{_field(body)}\a"
    else:
        sequence = f"\x1b]9;{_field(title + ': ' + body)}\a"
    return tmux_passthrough(sequence) if env.get("TMUX") else sequence


class Notifier:
    """Rings the bell and sends desktop notifications (``[ui] notify``) for ``app``."""

    def __init__(self, app: App[Any], *, env: Mapping[str, str] | None = None) -> None:
        """Notify through ``app``'s terminal; ``env`` tells tmux and the terminal apart."""
        self.app = app
        self.env = os.environ if env is None else env
        #: Sends escape sequences to the terminal (found on first use; tests replace it).
        self.write: Callable[[str], None] | None = None
        #: How many times the bell was rung (the terminal's bell leaves no other trace).
        self.rung = 0

    @property
    def mode(self) -> NotifyMode:
        """``[ui] notify`` as set (``"bell"`` when unset or unknown)."""
        return notify_mode(getattr(self.app, "settings", None))

    def _writer(self) -> Callable[[str], None] | None:
        if self.write is None:
            driver = self.app._driver
            if driver is not None and not self.app.is_headless:
                self.write = driver.write
        return self.write

    def _bell(self) -> None:
        self.rung += 1
        self.app.bell()

    def _desktop(self, title: str, body: str) -> None:
        write = self._writer()
        if write is not None:
            write(desktop_sequence(title, body, self.env))

    def turn_ended(self, session_title: str, status: str) -> None:
        """A turn ended: tell the person when the terminal is not focused."""
        if self.app.app_focus or self.mode == "off":
            return
        self._bell()
        if self.mode == "desktop":
            ending = ENDINGS.get(status, f"the turn ended ({status})")
            self._desktop("AgentKit", f"{session_title or 'New session'}: {ending}")

    def question_waiting(self, session_title: str) -> None:
        """A question waits for the person: the bell, and when the terminal is not focused a
        desktop notification too."""
        if self.mode == "off":
            return
        self._bell()
        if self.mode == "desktop" and not self.app.app_focus:
            self._desktop("AgentKit", f"{session_title or 'New session'}: a question waits")
