"""The streaming reply view: finished blocks freeze into small pieces drawn only when seen,
the tail is drawn at most once per frame, and when the stream ends every piece has its
true height and the whole text is there, unchanged."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from app.ui.widgets.message_views import (
    FREEZE_AFTER_CHARS,
    AssistantMessage,
    RenderedMarkdown,
    block_chunks,
    estimate_lines,
    split_point,
)
from tests.ui.conftest import until

SECTION = (
    "## Part {n}\n\nSome prose about part {n}, long enough to wrap once or twice at a narrow "
    "width so that heights are not trivial.\n\n- a list item\n- another item\n\n"
    "```python\ndef part_{n}() -> int:\n\n    return {n}\n```\n\n"
)
LONG = "".join(SECTION.format(n=n) for n in range(60))


def test_block_chunks_cut_only_between_blocks_and_keep_every_character() -> None:
    pieces = block_chunks(LONG, 400)
    assert "".join(pieces) == LONG
    assert len(pieces) > 10
    for piece in pieces:
        assert piece.count("```") % 2 == 0  # never inside a code fence
        assert piece.endswith("\n\n")
    assert block_chunks("short\n\n", 400) == ["short\n\n"]
    fence = "```\n" + "x\n\n" * 500 + "```\n\nafter\n\n"
    assert "".join(block_chunks(fence, 100)) == fence  # one long block stays whole


def test_split_point_ignores_blank_lines_inside_fences() -> None:
    assert split_point("a\n\n```\nb\n\nc") == 3
    assert split_point("no blank line") == 0


def test_estimate_counts_wrapped_source_lines() -> None:
    assert estimate_lines("a\nb", 80) == 2
    assert estimate_lines("x" * 200, 52) == 4


class Host(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="scroll"):
            yield AssistantMessage(status="streaming")


async def test_a_long_stream_freezes_lazily_and_settles_to_true_heights() -> None:
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        message = app.query_one(AssistantMessage)
        for start in range(0, len(LONG), 97):
            await message.append(LONG[start : start + 97])
        await pilot.pause()
        frozen = list(message.query(".reply.-static").results(RenderedMarkdown))
        assert len(frozen) > 5
        assert all(len(block.markdown_text) <= 2 * FREEZE_AFTER_CHARS for block in frozen)
        unseen = [block for block in frozen if not block.drawn_text()]
        assert unseen  # pieces that streamed past above the view were never drawn
        await message.finish(LONG)
        blocks = message.query(".reply").results
        await until(
            pilot,
            lambda: (
                "".join(b.markdown_text for b in blocks(RenderedMarkdown)) == LONG
                and all(b.drawn_text() for b in blocks(RenderedMarkdown))
            ),
        )
        pieces = [b.markdown_text for b in message.query(".reply").results(RenderedMarkdown)]
        assert "".join(pieces) == LONG
        for block in message.query(".reply").results(RenderedMarkdown):
            assert block.drawn_text()  # every piece rendered once the stream ended
            assert block.outer_size.height == len(block.rendered_text().splitlines())
        assert "Part 59" in message.tail.drawn_text() or "part_59" in message.tail.drawn_text()


async def test_fragments_written_while_an_update_is_due_are_merged_into_one() -> None:
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        message = app.query_one(AssistantMessage)
        updates: list[str] = []
        append = message.append

        async def counted(delta: str) -> None:
            updates.append(delta)
            await append(delta)

        message.append = counted  # type: ignore[method-assign]
        for word in ("one ", "two ", "three "):
            message.write(word)  # all before the widget got round to an update
        await until(pilot, lambda: "three" in message.tail.drawn_text())
        assert updates == ["one two three "]
        message.write("four ")
        await until(pilot, lambda: "four" in message.tail.drawn_text())
        assert updates[-1] == "four "
        message.write("five")  # not shown yet when the stream ends: finish keeps it
        await message.finish()
        assert message.text == "one two three four five"
        await pilot.pause()
        assert "five" in message.tail.drawn_text()
