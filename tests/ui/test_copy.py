"""Pilot tests of copying: the whole last answer, or one code block chosen in a picker."""

from __future__ import annotations

import sys
import types

import pytest

from app.ui.clipboard import SCREEN_CHUNK, Clipboard, osc52
from app.ui.dialogs.copy_picker import CopyPicker, code_blocks, copy_choices
from app.ui.widgets.composer import Composer
from tests.ui.conftest import AppFactory, until

ANSWER = """Two ways:

```python
print("one")
```

and, with tildes,

~~~bash
echo two
echo three
~~~

    indented = True
"""


def test_code_blocks_finds_fences_of_both_kinds_and_indented_code() -> None:
    assert code_blocks(ANSWER) == [
        ("python", 'print("one")'),
        ("bash", "echo two\necho three"),
        ("", "indented = True"),
    ]
    assert code_blocks("no code here, just `inline`") == []


def test_choices_put_the_whole_answer_first_then_newest_blocks() -> None:
    choices = copy_choices([ANSWER, "older\n\n```\nold code\n```\n"])
    assert choices[0].text == ANSWER and choices[0].label == "the whole last answer"
    assert [c.text for c in choices[1:]] == [
        'print("one")',
        "echo two\necho three",
        "indented = True",
        "old code",
    ]
    assert "answer −1" in choices[-1].detail and "python · 1 line" in choices[1].detail


async def test_f6_picks_a_code_block_or_the_whole_answer(make_app: AppFactory) -> None:
    app = await make_app()
    session = await app.store.create_session("default")
    await app.store.append_message(session.id, "user", "show me")
    await app.store.append_message(session.id, "assistant", ANSWER)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, CopyPicker))
        await pilot.press("3")
        await until(pilot, lambda: not isinstance(app.screen, CopyPicker))
        assert app.clipboard == "echo two\necho three"
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, CopyPicker))
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, CopyPicker))
        assert app.clipboard == ANSWER
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, CopyPicker))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CopyPicker))
        assert app.clipboard == ANSWER  # unchanged


async def test_f6_copies_an_answer_without_code_at_once(make_app: AppFactory) -> None:
    app = await make_app()
    session = await app.store.create_session("default")
    await app.store.append_message(session.id, "user", "hi")
    await app.store.append_message(session.id, "assistant", "Hello there.")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("f6")
        await until(pilot, lambda: app.clipboard == "Hello there.")
        assert not isinstance(app.screen, CopyPicker)  # copied at once, no picker


# ---------------------------------------------------------------- the ways out (#20 item 11)
# The one place where fakes are right: there is no real clipboard or tmux in CI.


class FakePyperclip(types.ModuleType):
    """Stands in for pyperclip: remembers what was copied, or fails like it does."""

    def __init__(self, *, fails: bool = False) -> None:
        super().__init__("pyperclip")
        self.copied: list[str] = []
        self.fails = fails

    def copy(self, text: str) -> None:
        if self.fails:
            raise RuntimeError("Pyperclip could not find a copy/paste mechanism for your system.")
        self.copied.append(text)


def test_the_system_clipboard_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePyperclip()
    monkeypatch.setitem(sys.modules, "pyperclip", fake)
    writes: list[str] = []
    copied = Clipboard(writes.append, env={"TMUX": "/tmp/tmux-1/default,1,0"}).copy("hello")
    assert copied.way == "system" and fake.copied == ["hello"] and writes == []
    assert "system clipboard" in copied.how()


def test_inside_tmux_osc52_goes_plain_and_through_the_passthrough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pyperclip", FakePyperclip(fails=True))
    writes: list[str] = []
    copied = Clipboard(writes.append, env={"TMUX": "/tmp/tmux-1/default,1,0"}).copy("héllo")
    sequence = osc52("héllo")
    assert sequence == "\x1b]52;c;aMOpbGxv\a"
    assert writes == [sequence + "\x1bPtmux;\x1b\x1b]52;c;aMOpbGxv\a\x1b\\"]
    assert copied.way == "tmux" and "set-clipboard on" in copied.how()


def test_inside_screen_osc52_is_wrapped_in_pieces() -> None:
    writes: list[str] = []
    text = "x" * 200
    copied = Clipboard(writes.append, env={"STY": "1234.pts-0.host"}, system=lambda: None).copy(
        text
    )
    assert copied.way == "screen"
    (written,) = writes
    pieces = written.split("\x1b\\")[:-1]
    assert all(p.startswith("\x1bP") and len(p) <= SCREEN_CHUNK + 2 for p in pieces)
    assert "".join(p[2:] for p in pieces) == osc52(text)


def test_plain_osc52_elsewhere_and_an_honest_no_where_it_cannot_work() -> None:
    writes: list[str] = []
    plain = Clipboard(writes.append, env={}, system=lambda: None).copy("a")
    assert plain.way == "osc52" and writes == [osc52("a")]
    assert "if the terminal accepts it" in plain.how()
    apple = Clipboard(writes.append, env={"TERM_PROGRAM": "Apple_Terminal"}, system=lambda: None)
    refused = apple.copy("a")
    assert refused.way == "none" and len(writes) == 1
    assert "macOS Terminal ignores OSC 52" in refused.how()
    assert "pyperclip is not installed" in refused.how()
    headless = Clipboard(None, env={}, system=lambda: None).copy("a")
    assert headless.way == "none" and "no terminal" in headless.how()


async def test_f6_says_which_way_the_copy_went(make_app: AppFactory) -> None:
    app = await make_app()
    session = await app.store.create_session("default")
    await app.store.append_message(session.id, "user", "hi")
    await app.store.append_message(session.id, "assistant", "Hello there.")
    writes: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.actions.clipboard = Clipboard(writes.append, env={"TMUX": "x"}, system=lambda: None)
        await pilot.press("f6")
        await until(pilot, lambda: bool(writes))
        assert osc52("Hello there.") in writes[0]
        assert app.clipboard == "Hello there."
        messages = [str(n.message) for n in app._notifications]
        assert any(m.startswith("Copied the last answer") and "tmux" in m for m in messages)
        app.actions.clipboard = Clipboard(None, env={}, system=lambda: None)
        await pilot.press("f6")
        await until(
            pilot,
            lambda: any("Could not copy" in str(n.message) for n in app._notifications),
        )


async def test_ctrl_c_copies_a_selection_the_same_way(make_app: AppFactory) -> None:
    app = await make_app()
    writes: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.actions.clipboard = Clipboard(writes.append, env={}, system=lambda: None)
        composer = app.main.query_one(Composer)
        composer.insert("select me")
        composer.select_all()
        await pilot.press("ctrl+c")
        assert writes == [osc52("select me")] and app.clipboard == "select me"
        assert any("Copied the selection with OSC 52" in str(n.message) for n in app._notifications)
