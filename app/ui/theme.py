"""The configured theme, applied without trusting it: ``[ui] theme`` may name a theme this
Textual does not have (a typo, or one saved by a newer version)."""

from __future__ import annotations

from typing import Any

from textual.app import App, InvalidThemeError

from app.config import UIConfig

DEFAULT_THEME = "textual-dark"


def apply_configured_theme(app: App[Any], ui: UIConfig) -> str | None:
    """Use the configured theme (the default when it does not exist) and return what to tell
    the person about ``[ui]``: that, and any value that fell back to its default (None when
    all is well)."""
    problems = ui.fallbacks
    try:
        app.theme = ui.theme
    except InvalidThemeError:
        app.theme = DEFAULT_THEME
        problems.append(
            f"[ui] theme = {ui.theme!r} is not a theme here; using {DEFAULT_THEME}. "
            "Pick one with the command palette (ctrl+p, “Change theme”)."
        )
    return "\n".join(problems) or None
