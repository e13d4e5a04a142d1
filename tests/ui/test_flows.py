"""Pilot tests of the flows people use: send, approve, deny, ask, stop, switch, search, close."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown, OptionList, Static

from app.ui.dialogs.ask_human import AskDialog
from app.ui.dialogs.confirm import ConfirmDialog
from app.ui.widgets.message_views import (
    AssistantMessage,
    ErrorLine,
    RenderedMarkdown,
    ToolStep,
    UserMessage,
)
from app.ui.widgets.sidebar import SessionSidebar
from tests.ui.conftest import AppFactory, type_and_send, until


def _markdown_text(app: object) -> str:
    views = app.screen.query(AssistantMessage)
    return "\n".join(view.text for view in views)


async def test_first_run_shows_the_welcome_and_the_demo_note(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        welcome = app.screen.query_one(".welcome", Markdown)
        assert "offline demo model" in welcome.source
        assert app.current is None  # no session is made until the first message


async def test_send_and_receive_with_the_demo_model(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "hello")
        await until(pilot, lambda: bool(app.screen.query(AssistantMessage)) and not app.turns.live)
        assert [v.text for v in app.screen.query(UserMessage)] == ["hello"]
        assert "demo" in _markdown_text(app).lower()
        assert app.current is not None
        stored = await app.store.get_messages(app.current.id)
        assert [m.role for m in stored] == ["user", "assistant"]
        assert app.status.state == "idle" and app.status.tokens > 0


async def test_approve_a_command(make_app: AppFactory, workspace: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "please run `touch approved.txt`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert app.status.state == "waiting"
        await pilot.press("y")
        await until(pilot, lambda: not app.turns.live)
        assert (workspace / "approved.txt").exists()
        step = app.screen.query_one(ToolStep)
        assert "✓" in str(step.title)


async def test_deny_a_command(make_app: AppFactory, workspace: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "please run `touch denied.txt`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await until(pilot, lambda: not app.turns.live)
        assert not (workspace / "denied.txt").exists()
        assert "✗" in str(app.screen.query_one(ToolStep).title)


async def test_always_approve_opens_an_editable_rule(make_app: AppFactory, workspace: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "please run `mkdir first`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("a")
        await pilot.press("enter")
        await until(pilot, lambda: not app.turns.live)
        await type_and_send(pilot, "please run `mkdir second`")
        await until(pilot, lambda: not app.turns.live and (workspace / "second").exists())
        assert not isinstance(app.screen, ConfirmDialog)  # the session rule answered


async def test_answer_the_agents_question(make_app: AppFactory) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "ask me a question")
        await until(pilot, lambda: isinstance(app.screen, AskDialog))
        await pilot.press(*"docs")
        await pilot.press("enter")
        await until(pilot, lambda: not app.turns.live)
        assert "docs" in _markdown_text(app)


async def test_escape_stops_a_streaming_reply(make_app: AppFactory) -> None:
    app = await make_app(demo_delay=0.02)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "show me a long markdown example")
        await until(pilot, lambda: app.status.state == "streaming")
        await pilot.press("escape")
        await until(pilot, lambda: not app.turns.live)
        view = app.screen.query_one(AssistantMessage)
        assert view.status == "cancelled"
        assert app.current is not None
        stored = await app.store.get_messages(app.current.id)
        assert stored[-1].status == "cancelled" and stored[-1].content


async def test_markup_and_escapes_from_a_model_are_shown_literally(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    session = await app.store.create_session("default")
    await app.store.append_message(session.id, "user", "[bold red]user[/] text")
    await app.store.append_message(
        session.id, "assistant", "Here: [bold red]x[/] and \x1b[31mred\x1b[0m"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query_one(UserMessage).text == "[bold red]user[/] text"
        reply = app.screen.query_one(AssistantMessage)
        assert reply.text == "Here: [bold red]x[/] and red"
        shown = reply.query_one(RenderedMarkdown).rendered_text()  # what is on screen
        assert "[bold red]x[/]" in shown and "\x1b" not in shown


async def test_switching_sessions_during_a_turn(make_app: AppFactory) -> None:
    app = await make_app(demo_delay=0.01)
    other = await app.store.create_session("default", title="Other session")
    await app.store.append_message(other.id, "user", "older question")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+n")
        await type_and_send(pilot, "show me a long markdown example")
        await until(pilot, lambda: app.status.state == "streaming")
        busy = app.current
        assert busy is not None
        app.post_message(SessionSidebar.SessionSelected(other.id))
        await until(pilot, lambda: app.current is not None and app.current.id == other.id)
        await pilot.pause()
        assert [v.text for v in app.screen.query(UserMessage)] == ["older question"]
        app.post_message(SessionSidebar.SessionSelected(busy.id))
        await until(pilot, lambda: app.current is not None and app.current.id == busy.id)
        await until(pilot, lambda: not app.turns.live)
        [live_reply] = app.screen.query(AssistantMessage)
        await until(pilot, lambda: live_reply.status == "complete")
        live_text = live_reply.text
        # Away and back: the view is built again from the database, not kept from the turn.
        app.post_message(SessionSidebar.SessionSelected(other.id))
        await until(pilot, lambda: app.current is not None and app.current.id == other.id)
        app.post_message(SessionSidebar.SessionSelected(busy.id))
        await until(
            pilot,
            lambda: (
                app.current is not None
                and app.current.id == busy.id
                and any(reply is not live_reply for reply in app.screen.query(AssistantMessage))
            ),
        )
        replies = app.screen.query(AssistantMessage)
        assert len(replies) == 1 and "| " in replies[0].text  # the whole reply, with its table
        stored = await app.store.get_messages(busy.id)
        assert [m.content for m in stored if m.role == "assistant"] == [replies[0].text]
        assert live_text == replies[0].text
        assert replies[0].status == "complete"


async def test_search_from_the_sidebar(make_app: AppFactory) -> None:
    app = await make_app()
    session = await app.store.create_session("default", title="Quokka facts")
    await app.store.append_message(session.id, "user", "tell me about quokkas")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+f")
        await pilot.press(*"quokka")
        await until(pilot, lambda: app.sidebar.searching)
        option_list = app.sidebar.query_one("#session-list")
        await until(pilot, lambda: option_list.option_count > 0)
        first = option_list.get_option_at_index(0)
        assert app.sidebar.hits[first.id or ""].session_id == session.id
        assert "Quokka" in str(first.prompt)


async def test_closed_sessions_are_read_only(make_app: AppFactory) -> None:
    app = await make_app()
    session = await app.store.create_session("default")
    await app.store.append_message(session.id, "user", "old")
    await app.store.close_session(session.id)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.main.has_class("-read-only")
        assert not app.screen.query_one("#composer").display
        await pilot.press("f5")
        await until(pilot, lambda: app.current is not None and app.current.id != session.id)
        assert not app.main.has_class("-read-only")
        assert app.current.metadata == {"continued_from": session.id}


async def test_a_long_session_shows_the_latest_and_loads_earlier_on_scroll(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    session = await app.store.create_session("default", title="Long")
    for number in range(1, 301):
        role = "user" if number % 2 else "assistant"
        await app.store.append_message(session.id, role, f"message {number}")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        transcript = app.transcript
        first_page = len(transcript.children)
        assert first_page <= 30 and transcript.has_earlier
        assert transcript.first_seq == 271
        assert transcript.is_vertical_scroll_end  # opened at the newest message
        transcript.scroll_home(animate=False)
        await until(pilot, lambda: len(transcript.children) > first_page)
        assert transcript.first_seq == 241


async def test_the_sidebar_lists_a_page_and_fetches_more_by_wheel_or_keys(
    make_app: AppFactory,
) -> None:
    """Thousands of sessions are never listed at once: a page, then more as the list's
    end comes into view (scrolled with the wheel) or the highlight nears it (keys)."""
    from app.ui.session.listing import PAGE_SESSIONS

    app = await make_app()
    total = PAGE_SESSIONS * 2 + 10
    for number in range(total):
        await app.store.create_session("default", title=f"Session {number}")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        sidebar = app.sidebar
        count = sidebar.query_one("#session-count", Static)
        assert len(sidebar.sessions) == PAGE_SESSIONS
        assert str(count.render()) == f"{PAGE_SESSIONS} sessions+"
        option_list = sidebar.query_one(OptionList)
        option_list.scroll_end(animate=False)
        await until(pilot, lambda: len(sidebar.sessions) == 2 * PAGE_SESSIONS)
        option_list.focus()
        option_list.highlighted = option_list.option_count - 1
        await until(pilot, lambda: len(sidebar.sessions) == total)
        await until(pilot, lambda: str(count.render()) == f"{total} sessions")
        titles = [session.title for session in sidebar.sessions]
        assert len(set(titles)) == total  # every session once, none lost between pages


async def test_ctrl_c_once_stops_a_streaming_reply(make_app: AppFactory) -> None:
    app = await make_app(demo_delay=0.02)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "show me a long markdown example")
        await until(pilot, lambda: app.status.state == "streaming")
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not app.turns.live)
        assert app.screen.query_one(AssistantMessage).status == "cancelled"
        assert app.is_running  # the app itself keeps going


async def test_a_huge_paste_is_sent_whole_and_shown_in_part(make_app: AppFactory) -> None:
    from textual import events

    from app.ui.widgets.message_views import USER_PREVIEW_CHARS

    app = await make_app()
    big = "\n".join(f"{i:07d} " + "x" * 92 for i in range(10_000))  # 1 MB, 10,000 lines
    async with app.run_test(size=(120, 40)) as pilot:
        composer = app.screen.query_one("#composer")
        composer.focus()
        paste = events.Paste(big)
        paste.bubble = False  # delivered as the app forwards a terminal paste: to the widget
        composer.post_message(paste)
        await until(pilot, lambda: len(composer.text) == len(big))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.screen.query(UserMessage)) and not app.turns.live)
        bubble = app.screen.query_one(UserMessage)
        assert bubble.text == big
        shown = str(bubble.render())
        assert len(shown) < USER_PREVIEW_CHARS + 200
        assert "0000000 " in shown and "0009999 " not in shown
        assert "more lines) not shown here" in shown
        assert app.current is not None
        stored = await app.store.get_messages(app.current.id)
        assert stored[0].role == "user" and stored[0].content == big


async def test_a_reopened_session_replays_its_event_notes(
    make_app: AppFactory, workspace: Path
) -> None:
    from app.ui.widgets.message_views import Note

    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "please run `touch noted.txt`")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await until(pilot, lambda: not app.turns.live)
        assert app.current is not None
        session_id = app.current.id
        await app.store.append_event(
            session_id, "notice", {"data": {"code": "x", "message": "A stored notice"}}
        )
        await app.store.append_event(session_id, "notice", {"data": {"code": "y", "message": ""}})
        await app.conversation.show_new_session()
        await app.conversation.open_session(session_id)  # from the database this time
        await pilot.pause()
        notes = [str(note.render()) for note in app.screen.query(Note)]
        assert any("approval asked: touch noted.txt" in note for note in notes), notes
        assert any("approved by you" in note for note in notes), notes
        assert any("A stored notice" in note for note in notes), notes


async def test_a_reopened_session_shows_an_errors_detail(make_app: AppFactory) -> None:
    """A refusal keeps a fixed message for clients; its numbers, in ``detail``, still show."""
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        session = await app.store.create_session("default")
        refusal = "Too many concurrent requests. Please wait for the current task to complete."
        detail = "4 turns are already running in this session; your message was saved."
        await app.store.append_event(
            session.id, "error", {"data": {"message": refusal, "detail": detail}}
        )
        await app.conversation.open_session(session.id)
        await until(pilot, lambda: bool(app.screen.query(ErrorLine)))
        shown = str(app.screen.query_one(ErrorLine).render())
    assert refusal in shown and detail in shown


async def test_a_reopened_skill_message_still_shows_its_skill(make_app: AppFactory) -> None:
    """A routed message is saved without its ``@skill`` prefix (as the reference saves it);
    the transcript names the skill from the turn's logged ``skill_match``, live and later."""
    from app.ui.widgets.message_views import Note

    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "@review the parser please")
        await until(pilot, lambda: bool(app.screen.query(UserMessage)) and not app.turns.live)
        assert app.current is not None
        session_id = app.current.id
        await app.conversation.show_new_session()
        await app.conversation.open_session(session_id)  # from the database this time
        await until(pilot, lambda: bool(app.screen.query(UserMessage)))
        transcript = [
            child for child in app.transcript.children if isinstance(child, (UserMessage, Note))
        ]
        shown = [
            child.text if isinstance(child, UserMessage) else str(child.render())
            for child in transcript
        ]
    assert shown[:2] == ["the parser please", "@review skill"], shown


async def test_retry_and_history_send_a_skill_message_with_its_skill(make_app: AppFactory) -> None:
    """The stored text has no ``@skill`` prefix; ctrl+r and the composer's history put it back,
    so the message goes to the same skill again."""
    from app.ui.widgets.composer import Composer

    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await type_and_send(pilot, "@review the parser please")
        await until(pilot, lambda: bool(app.screen.query(UserMessage)) and not app.turns.live)
        assert app.current is not None
        session_id = app.current.id
        await pilot.press("ctrl+r")
        await until(pilot, lambda: len(app.screen.query(UserMessage)) == 2 and not app.turns.live)
        matched = await app.store.get_events(session_id, types=["skill_match"])
        assert len(matched) == 2  # the retry was routed to the skill again
        await app.conversation.show_new_session()
        await app.conversation.open_session(session_id)
        composer = app.main.query_one(Composer)
        await until(pilot, lambda: bool(composer.prompt_history))
        assert composer.prompt_history[-1] == "@review the parser please"


async def test_a_theme_that_does_not_exist_falls_back_with_a_notice(make_app: AppFactory) -> None:
    """``[ui] theme = "no-such"`` (a typo, or a theme of a newer Textual) does not stop the
    app: it starts with the default theme and says why."""
    app = await make_app(ui={"theme": "no-such-theme"})
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == "textual-dark"

        await until(
            pilot,
            lambda: any("no-such-theme" in str(n.message) for n in app._notifications),
        )
        assert any("using textual-dark" in str(n.message) for n in app._notifications)


async def test_bad_ui_values_fall_back_each_with_a_notice(make_app: AppFactory) -> None:
    """Any bad value in ``[ui]`` (and a key a newer version wrote) falls back to its default:
    the app starts, and one notice names each problem."""
    app = await make_app(
        ui={"theme": "textual-light", "notify": "loud", "mouse": "maybe", "from_the_future": 1}
    )
    assert app.settings.ui.notify == "bell"
    assert app.settings.ui.mouse is True
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == "textual-light"  # the good values still count

        def told() -> str:
            return "\n".join(str(n.message) for n in app._notifications)

        await until(pilot, lambda: "[ui] notify" in told())
        assert "got 'loud'; using the default" in told()
        assert "[ui] mouse" in told()
        assert "[ui] from_the_future: unknown key, ignored" in told()
