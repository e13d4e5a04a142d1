"""Notifications while the terminal is not focused (#20 item 15): the bell, and with
``[ui] notify = "desktop"`` an OSC 9 / OSC 777 desktop notification."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from app.ui.dialogs.confirm import ConfirmDialog
from app.ui.notify import desktop_sequence, notify_mode
from tests.ui.conftest import AppFactory, type_and_send, until


def _desktop(app: Any, writes: list[str], mode: str) -> None:
    """Send the app's notifications to ``writes``, in ``mode`` (``[ui] notify``)."""
    notifier = app.conversation.notifier
    notifier.write = writes.append
    notifier.env = {"TERM": "xterm-256color"}
    app.settings = SimpleNamespace(**{**vars(app.settings), "ui": SimpleNamespace(notify=mode)})


def test_the_sequences_and_the_mode() -> None:
    assert desktop_sequence("AgentKit", "done; ok", {}) == "\x1b]9;AgentKit: done, ok\a"
    assert (
        desktop_sequence("AgentKit", "a\x1b]0;x\ab", {"TERM": "foot"})
        == "\x1b]777;notify;AgentKit;ab\a"  # escapes in the text are dropped
    )
    wrapped = desktop_sequence("A", "b", {"TMUX": "x"})
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]9;A: b\a") and wrapped.endswith("\x1b\\")
    assert notify_mode(SimpleNamespace(ui=SimpleNamespace(notify="desktop"))) == "desktop"
    assert notify_mode(SimpleNamespace(ui=SimpleNamespace(notify="loud"))) == "bell"
    assert notify_mode(SimpleNamespace(ui=SimpleNamespace())) == "bell"


async def test_a_turn_that_ends_unfocused_rings_and_notifies(make_app: AppFactory) -> None:
    app = await make_app()
    writes: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        _desktop(app, writes, "desktop")
        notifier = app.conversation.notifier
        await type_and_send(pilot, "hello")
        await until(pilot, lambda: app.current is not None and not app.turns.live)
        assert notifier.rung == 0 and writes == []  # focused: nothing
        app.app_focus = False  # the terminal reported that it lost focus
        await app.conversation.send("hello again")  # (a key press would focus it again)
        await until(pilot, lambda: bool(writes))
        assert notifier.rung == 1
        assert writes[0].startswith("\x1b]9;AgentKit: ") and "the reply is ready" in writes[0]
        app.settings.ui.notify = "bell"
        await app.conversation.send("and again")
        await until(pilot, lambda: notifier.rung == 2)
        assert len(writes) == 1  # the bell only
        app.settings.ui.notify = "off"
        await app.conversation.send("once more")
        await until(pilot, lambda: not app.turns.live)
        await pilot.pause()
        assert notifier.rung == 2 and len(writes) == 1


async def test_a_question_waiting_unfocused_notifies(make_app: AppFactory) -> None:
    app = await make_app()
    writes: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        _desktop(app, writes, "desktop")
        app.app_focus = False
        await app.conversation.send("please run `touch notified.txt`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await until(pilot, lambda: bool(writes))
        assert "a question waits" in writes[0]
        assert app.conversation.notifier.rung == 1
        await pilot.press("n")
        await until(pilot, lambda: not app.turns.live)
