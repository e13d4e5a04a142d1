"""Copying text out of the app, by the first way that can work here, and saying which.

1. The system clipboard, through ``pyperclip`` when it is installed and finds a clipboard tool
   (on the machine the app runs on: over SSH that is the remote one, where it usually fails).
2. OSC 52, the terminal's own clipboard sequence. Inside tmux it is sent twice: plain (for
   ``set-clipboard on``) and wrapped in tmux's passthrough (for ``allow-passthrough on``);
   tmux's default (``set-clipboard external``) drops both. Inside GNU screen it is wrapped in
   screen's passthrough. macOS Terminal ignores OSC 52 altogether.

What the person is told (:meth:`Copied.how`) says which way was used and, when that way may
silently do nothing, says so.
"""

from __future__ import annotations

import base64
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

#: How the text went out.
Way = Literal["system", "osc52", "tmux", "screen", "none"]

#: GNU screen passes at most this much of a string through at once.
SCREEN_CHUNK = 76


def osc52(text: str) -> str:
    """The OSC 52 sequence that puts ``text`` on the terminal's clipboard."""
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"\x1b]52;c;{encoded}\a"


def tmux_passthrough(sequence: str) -> str:
    """``sequence`` wrapped so tmux hands it to the outer terminal (its ESCs doubled)."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def screen_passthrough(sequence: str) -> str:
    """``sequence`` wrapped, in pieces GNU screen accepts, so screen hands it on."""
    pieces = [sequence[i : i + SCREEN_CHUNK] for i in range(0, len(sequence), SCREEN_CHUNK)]
    return "".join(f"\x1bP{piece}\x1b\\" for piece in pieces)


@dataclass(frozen=True, slots=True)
class Copied:
    """Which way a copy went."""

    way: Way
    #: Why the system clipboard was not used (shown when nothing else is known to work).
    detail: str = ""

    def how(self) -> str:
        """The end of the toast: where the text went, honestly."""
        if self.way == "system":
            return "to the system clipboard"
        if self.way == "tmux":
            return (
                "through tmux (OSC 52): if nothing arrives, set tmux's set-clipboard on "
                "or allow-passthrough on"
            )
        if self.way == "screen":
            return "through screen (OSC 52): it arrives if the outer terminal accepts OSC 52"
        if self.way == "osc52":
            return "with OSC 52: it arrives if the terminal accepts it"
        return "nowhere known to work: " + (self.detail or "no clipboard is reachable")


SystemCopy = Callable[[str], None]


def system_clipboard() -> SystemCopy | None:
    """``pyperclip.copy`` when pyperclip is installed (None otherwise)."""
    try:
        module = importlib.import_module("pyperclip")
    except ImportError:
        return None
    copy = getattr(module, "copy", None)
    return copy if callable(copy) else None


class Clipboard:
    """Copies text by the first way that can work in this terminal."""

    def __init__(
        self,
        write: Callable[[str], None] | None,
        *,
        env: Mapping[str, str] | None = None,
        system: Callable[[], SystemCopy | None] = system_clipboard,
    ) -> None:
        """``write`` sends escape sequences to the terminal (None: no terminal, headless);
        ``env`` is the environment (tmux and screen are found by ``$TMUX`` and ``$STY``);
        ``system`` finds the system clipboard's copy function."""
        self.write = write
        self.env = os.environ if env is None else env
        self.system = system

    def copy(self, text: str) -> Copied:
        """Copy ``text``; which way it went."""
        reason = "pyperclip is not installed"
        copy = self.system()
        if copy is not None:
            try:
                copy(text)
            except Exception as exc:  # pyperclip raises its own error when no tool is found
                reason = f"the system clipboard failed ({one_line_error(exc)})"
            else:
                return Copied("system")
        if self.write is None:
            return Copied("none", f"{reason}, and there is no terminal to send OSC 52 to")
        if self.env.get("TERM_PROGRAM") == "Apple_Terminal" and not self._multiplexed():
            return Copied("none", f"{reason}, and macOS Terminal ignores OSC 52")
        sequence = osc52(text)
        if self.env.get("TMUX"):
            self.write(sequence + tmux_passthrough(sequence))
            return Copied("tmux")
        if self.env.get("STY"):
            self.write(screen_passthrough(sequence))
            return Copied("screen")
        self.write(sequence)
        return Copied("osc52")

    def _multiplexed(self) -> bool:
        return bool(self.env.get("TMUX") or self.env.get("STY"))


def one_line_error(exc: BaseException) -> str:
    """An exception as one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 80 else text[:79] + "…"
