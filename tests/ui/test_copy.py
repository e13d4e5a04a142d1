"""Pilot tests of copying: the whole last answer, or one code block chosen in a picker."""

from __future__ import annotations

from app.ui.dialogs.copy_picker import CopyPicker, code_blocks, copy_choices
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
