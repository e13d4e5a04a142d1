"""The streaming reply view: finished blocks freeze into small pieces drawn only when seen,
the tail is drawn at most once per frame, and when the stream ends every piece has its
true height and the whole text is there, unchanged."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from app.ui.widgets.message_views import (
    FREEZE_AFTER_CHARS,
    AssistantMessage,
    RenderedMarkdown,
    block_chunks,
    estimate_lines,
    split_point,
)
from tests.ui.conftest import AppFactory, until

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


MIXED = (
    "# Title\n\nA paragraph that is long enough to wrap at a narrow width, so that the pieces "
    "have more than one line each.\n\n1. first step\n\n2. second step, a loose list\n\n"
    "3. third\n\n```python\ndef f(x):\n\n    return x\n```\n\n| a | b |\n| --- | ---: |\n"
    "| 1 | 22 |\n\n---\n\nAfter a rule.\n\n> a quote\n> more\n\n- a\n- b\n\nThe end.\n"
)


def _whole(text: str, width: int) -> list[str]:
    from rich.console import Console
    from rich.style import Style

    from app.ui.widgets.markdown_lines import render_piece

    console = Console(width=width)
    return [s.text for s in render_piece(console, text, width, "monokai", Style(), joins=False)]


def test_pieces_cut_at_any_blank_line_draw_exactly_the_whole_reply() -> None:
    from rich.console import Console
    from rich.style import Style

    from app.ui.widgets.markdown_lines import joins_after, render_piece

    console = Console(width=60)
    for size in (1, 40, 120, 10_000):
        lines: list[str] = []
        before = ""
        for piece in block_chunks(MIXED, size):
            drawn = render_piece(console, piece, 60, "monokai", Style(), joins=joins_after(before))
            lines += [strip.text for strip in drawn]
            before = piece
        assert lines == _whole(MIXED, 60), size


def test_a_loose_list_is_never_cut_apart() -> None:
    text = "1. one\n\n2. two\n\n   more of two\n\n3. three\n\nafter\n"
    cut = split_point(text)
    assert text[cut:] == "after\n"
    assert block_chunks(text, 1) == [text[:cut], "after\n"]
    assert split_point("para\n\n") == 0  # what follows the blank line is not known yet


async def test_a_streamed_reply_draws_the_same_lines_as_the_reply_drawn_whole() -> None:
    app = Host()
    async with app.run_test(size=(70, 30)) as pilot:
        message = app.query_one(AssistantMessage)
        text = MIXED * 6
        for start in range(0, len(text), 23):
            await message.append(text[start : start + 23])
            await pilot.pause()
        await message.finish()
        await until(pilot, lambda: not message.tail.streaming)
        width = message.tail.content_region.width
        drawn: list[str] = []
        for block in message.query(".reply").results(RenderedMarkdown):
            drawn += block.rendered_text().splitlines()
        assert drawn == _whole(text, width)
        tail = message.tail
        # The blank lines a streaming tail keeps below its text go when the stream ends.
        await until(pilot, lambda: tail.outer_size.height == len(tail.rendered_text().splitlines()))


async def test_a_growing_tail_repaints_only_its_changed_lines() -> None:
    app = Host()
    async with app.run_test(size=(70, 30)) as pilot:
        message = app.query_one(AssistantMessage)
        await message.append("# Head\n\n" + "word " * 40)
        await pilot.pause()
        tail = message.tail
        painted: list[tuple[int, int]] = []
        refresh = tail.refresh

        def spy(*regions: Any, **options: Any) -> Any:
            painted.extend((region.y, region.height) for region in regions)
            return refresh(*regions, **options)

        tail.refresh = spy  # type: ignore[method-assign]
        await message.append("more ")
        first_changed = min(y for y, _ in painted)
        assert first_changed >= 2  # the heading and the blank line are not drawn again


def test_the_shared_parser_draws_what_rich_markdown_draws() -> None:
    from rich.console import Console
    from rich.markdown import Markdown as RichMarkdown

    from app.ui.widgets.markdown_lines import rich_markdown

    console = Console(width=60, color_system="truecolor")
    for text in (MIXED, "*em* **strong** `code` ~~gone~~ [link](http://x)", ""):
        ours = console.render_lines(rich_markdown(text, "friendly"), pad=True)
        theirs = console.render_lines(
            RichMarkdown(text, code_theme="friendly", hyperlinks=False), pad=True
        )
        assert ours == theirs


async def test_history_replies_mark_how_they_ended_and_finished_ones_have_no_status_line(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    session = await app.store.create_session("default", title="Ends")
    await app.store.append_message(session.id, "user", "first")
    await app.store.append_message(session.id, "assistant", "a whole answer")
    await app.store.append_message(session.id, "user", "second")
    await app.store.append_message(session.id, "assistant", "half an ans", status="interrupted")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: len(app.transcript.query(AssistantMessage)) == 2)
        whole, cut = app.transcript.query(AssistantMessage).results(AssistantMessage)
        assert not whole.query(".status")  # one widget fewer per finished reply
        await pilot.pause()
        (status,) = cut.query(".status").results(Static)
        assert "interrupted" in str(status.render())
        assert cut.has_class("-marked")
