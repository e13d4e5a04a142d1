"""Pilot tests of compaction in the TUI: /compact, the divider, and the status line."""

from __future__ import annotations

from textual.widgets import Collapsible

from app.ui.widgets.compacted import CompactedBlock
from app.ui.widgets.message_views import AssistantMessage
from app.ui.widgets.status_line import StatusLine, window_label
from tests.ui.conftest import AppFactory, type_and_send, until


async def _two_turns(app: object, pilot: object) -> None:
    for text in ("Tell me about the parser module", "And what about its tests?"):
        await type_and_send(pilot, text)  # type: ignore[arg-type]
        await until(
            pilot,  # type: ignore[arg-type]
            lambda: not app.turns.live and app.status.state == "idle",  # type: ignore[attr-defined]
        )


async def test_compact_shows_progress_then_the_divider(make_app: AppFactory) -> None:
    app = await make_app(demo_delay=0.02)
    async with app.run_test(size=(120, 40)) as pilot:
        await _two_turns(app, pilot)
        assert app.screen.query(AssistantMessage)
        await type_and_send(pilot, "/compact the parser")
        await until(pilot, lambda: app.status.state == "compacting")
        assert "Compacting the conversation…" in str(app.status.render())
        await until(pilot, lambda: bool(app.screen.query(CompactedBlock)))
        await until(pilot, lambda: app.status.state == "idle")
        (block,) = app.screen.query(CompactedBlock)
        assert block.collapsed and block.title.startswith("Earlier conversation compacted: ")
        assert "messages → summary" in block.title
        assert app.current is not None
        # The divider counts the messages the summary stands for (not its seq, not all).
        rows = await app.store.get_messages(app.current.id)
        (summary,) = [m for m in rows if m.summary_through is not None]
        through = summary.summary_through or 0
        covered = [m for m in rows if m.summary_through is None and m.seq <= through]
        assert 0 < len(covered) < len(rows) - 1
        assert f": {len(covered)} messages → summary" in block.title
        history = await app.store.get_chat_messages(app.current.id)
        assert history[0].summary and history[0].content.strip()
        assert block.summary == history[0].content
        block.collapsed = False  # it expands to the summary text
        await pilot.pause()
        assert not block.collapsed and block.query_one(Collapsible.Contents).display
        stored = await app.store.get_messages(app.current.id)
        assert sum(1 for m in stored if m.role == "user") == 2  # every message is kept


async def test_compact_with_nothing_to_compact_says_so(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "/compact")
        await until(pilot, lambda: bool(app._notifications))
        assert "send a message first" in next(iter(app._notifications)).message
        assert not app.screen.query(CompactedBlock)


async def test_the_status_line_shows_context_use_and_warns_past_the_threshold(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await type_and_send(pilot, "Tell me about the parser module")
        await until(pilot, lambda: not app.turns.live and app.status.context_window > 0)
        status = app.status
        assert isinstance(status, StatusLine)
        assert status.context_window == 32_000  # the demo model's window
        rendered = status.render()
        assert "ctx " in rendered.plain and "% of 32k" in rendered.plain
        assert not any("warning" in str(span.style) for span in rendered.spans)
        status.compact_at = 0.000_01
        assert any("warning" in str(span.style) for span in status.render().spans)
        assert app.current is not None
        session_id = app.current.id
        status.context_window = 0
        await app.conversation.open_session(session_id)  # read back from the usage log
        assert status.context_window == 32_000


def test_window_labels() -> None:
    assert [window_label(n) for n in (900, 32_000, 128_000, 1_047_576)] == [
        "900",
        "32k",
        "128k",
        "1.05M",
    ]


async def test_escape_stops_a_compaction_and_nothing_is_stored(make_app: AppFactory) -> None:
    app = await make_app(demo_delay=0.01)
    async with app.run_test(size=(120, 40)) as pilot:
        await _two_turns(app, pilot)
        app.service.gateway.demo.delay = 1.0  # the summary streams slowly: time to press esc
        await type_and_send(pilot, "/compact")
        await until(pilot, lambda: app.status.state == "compacting")
        await pilot.press("escape")
        await until(pilot, lambda: app.status.state == "idle")
        await until(
            pilot, lambda: not [w for w in app.workers if w.group == "compact" and w.is_running]
        )
        assert app.current is not None
        history = await app.store.get_chat_messages(app.current.id)
        assert not any(m.summary for m in history)
        assert not app.screen.query(CompactedBlock)
