"""The prompts the welcome text advertises do what it says, with the demo model."""

from __future__ import annotations

import re
from pathlib import Path

from app.ui.dialogs.confirm import ConfirmDialog
from app.ui.session.conversation import WELCOME
from app.ui.widgets.message_views import Note
from tests.ui.conftest import AppFactory, type_and_send, until


def _advertised(words: str) -> str:
    """The ``run `...` `` prompt on the welcome line that says ``words``."""
    for line in WELCOME.splitlines():
        found = re.match(r"- ``(run `[^`]+`) `` — (.*)$", line)
        if found and words in found.group(2):
            return found.group(1)
    raise AssertionError(f"the welcome text advertises no command that {words!r}")


async def test_the_advertised_approval_prompt_opens_the_dialog(
    make_app: AppFactory, workspace: Path
) -> None:
    prompt = _advertised("asks for your approval")
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, prompt)
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(pilot, lambda: not app.turns.live)
        assert (workspace / "notes.txt").exists()
        notes = [str(note.render()) for note in app.screen.query(Note)]
        assert any("approved by you" in note for note in notes), notes


async def test_the_advertised_safe_prompt_runs_and_says_the_policy_allowed_it(
    make_app: AppFactory,
) -> None:
    prompt = _advertised("allowed by the approval policy")
    app = await make_app()
    seen: set[type] = set()  # every screen on top while messages flowed

    def on_message(_message: object) -> None:
        seen.update(type(screen) for screen in app.screen_stack[-1:])

    async with app.run_test(size=(120, 40), message_hook=on_message) as pilot:
        await type_and_send(pilot, prompt)
        await until(pilot, lambda: app.current is not None and not app.turns.live)
        assert ConfirmDialog not in seen and seen
        assert app.current is not None
        logged = [event.type for event in await app.store.get_events(app.current.id)]
        assert "confirmation_request" not in logged and "confirmation_result" in logged
        notes = [str(note.render()) for note in app.screen.query(Note)]
        assert any("approved by the approval policy" in note for note in notes), notes
