"""The configured theme, applied without trusting it: ``[ui] theme`` may name a theme this
Textual does not have (a typo, or one saved by a newer version)."""

from __future__ import annotations

from typing import Any

from textual.app import App, InvalidThemeError

DEFAULT_THEME = "textual-dark"


def apply_configured_theme(app: App[Any], name: str) -> str | None:
    """Use theme ``name``; when it does not exist use the default and return what to tell the
    person (None when all is well)."""
    try:
        app.theme = name
    except InvalidThemeError:
        app.theme = DEFAULT_THEME
        return (
            f"[ui] theme = {name!r} is not a theme here; using {DEFAULT_THEME}. "
            "Pick one with the command palette (ctrl+p, “Change theme”)."
        )
    return None
