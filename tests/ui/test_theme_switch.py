"""A theme switch draws replies shown before it again, code blocks in a style that follows
light/dark (#20 item 7)."""

from __future__ import annotations

from typing import Any

from app.ui.widgets.message_views import CODE_THEMES, RenderedMarkdown, code_theme
from tests.ui.conftest import AppFactory, until

REPLY = "Some code:\n\n```python\ndef quokka():\n    return 1\n```\n"


def _code_backgrounds(block: RenderedMarkdown) -> set[str]:
    """The background colours of the rendered code line ``def quokka()``."""
    (lines,) = block._lines.values()
    line = next(strip for strip in lines if "def quokka" in strip.text)
    return {
        str(segment.style.bgcolor.triplet.hex)
        for segment in line
        if segment.text.strip() and segment.style and segment.style.bgcolor
        if segment.style.bgcolor.triplet is not None
    }


async def test_a_theme_switch_redraws_replies_and_code_follows_light_and_dark(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    session = await app.store.create_session("default", title="Code")
    await app.store.append_message(session.id, "user", "show code")
    await app.store.append_message(session.id, "assistant", REPLY)
    async with app.run_test(size=(100, 30)) as pilot:
        block = app.transcript.query_one(RenderedMarkdown)
        await until(pilot, lambda: bool(block._lines))
        assert code_theme(app) == CODE_THEMES[True]
        dark_code = _code_backgrounds(block)
        dark_text = {seg.style for strip in next(iter(block._lines.values())) for seg in strip}
        app.theme = "textual-light"
        await until(pilot, lambda: next(iter(block._lines))[1] == "textual-light")
        assert code_theme(app) == CODE_THEMES[False]
        light_code = _code_backgrounds(block)
        assert light_code and light_code != dark_code
        light_text = {seg.style for strip in next(iter(block._lines.values())) for seg in strip}
        assert light_text != dark_text


async def test_the_code_theme_can_be_set(make_app: AppFactory) -> None:
    app = await make_app()
    settings: Any = app.settings
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        ui = type("Ui", (), {"code_theme": "dracula, solarized-light"})()
        app.settings = type("S", (), {"ui": ui})()  # type: ignore[assignment]
        assert code_theme(app) == "dracula"
        app.theme = "textual-light"
        assert code_theme(app) == "solarized-light"
        app.settings = settings
