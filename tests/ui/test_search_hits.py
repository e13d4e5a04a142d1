"""Search hits (#20 item 9): every hit listed, clean snippets, and a hit opens its session at
the message that matched, marked."""

from __future__ import annotations

from textual.widgets import OptionList

from app.ui.widgets.message_views import AssistantMessage, UserMessage
from app.ui.widgets.snippet import clean_snippet
from tests.ui.conftest import AppFactory, until


def _hl(content: object) -> list[str]:
    plain = content.plain  # type: ignore[attr-defined]
    return [plain[span.start : span.end] for span in content.spans]  # type: ignore[attr-defined]


def test_snippets_lose_markdown_marks_and_keep_the_highlight_across_newlines() -> None:
    snippet = "## The **quokka**\n- a `quokka` is [cute](http://x.y) | yes\n\nquokka  again"
    spans = [
        (index, index + 6) for index in range(len(snippet)) if snippet[index:].startswith("quokka")
    ]
    shown = clean_snippet(snippet, spans)
    assert shown.plain == "The quokka a quokka is cute yes quokka again"
    assert _hl(shown) == ["quokka", "quokka", "quokka"]
    two_lines = clean_snippet("word\nnext one", [(0, 9)])
    assert two_lines.plain == "word next one" and _hl(two_lines) == ["word next"]
    assert clean_snippet("snake_case and 2 * 3", []).plain == "snake_case and 2 * 3"


async def test_every_hit_is_listed_and_a_hit_opens_its_session_there(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    session = await app.store.create_session("default", title="Animals")
    for number in range(1, 121):
        role = "user" if number % 2 else "assistant"
        text = f"message {number}"
        if number in (20, 90):
            text += " about the **wombat** burrow"
        await app.store.append_message(session.id, role, text)
    other = await app.store.create_session("default", title="Newest")
    await app.store.append_message(other.id, "user", "nothing to see")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.current is not None and app.current.id == other.id)
        await pilot.press("ctrl+f")
        await pilot.press(*"wombat")
        option_list = app.sidebar.query_one(OptionList)
        await until(pilot, lambda: app.sidebar.searching and option_list.option_count == 2)
        labels = [str(option_list.get_option_at_index(i).prompt) for i in range(2)]
        assert all("**" not in label for label in labels)
        hits = list(app.sidebar.hits.values())
        assert {hit.seq for hit in hits} == {20, 90}
        early = next(i for i, hit in enumerate(hits) if hit.seq == 20)
        option_list.focus()
        option_list.highlighted = early
        await pilot.press("enter")
        await until(pilot, lambda: app.current is not None and app.current.id == session.id)
        transcript = app.transcript
        await until(pilot, lambda: bool(transcript.query(".-hit")))
        marked = transcript.query_one(".-hit")
        assert isinstance(marked, AssistantMessage) and "wombat" in marked.text
        assert transcript.first_seq is not None and transcript.first_seq <= 20
        assert transcript.has_earlier is (transcript.first_seq > 1)
        await pilot.pause()
        assert transcript.scroll_y > 0 or transcript.max_scroll_y == 0
        region = marked.region
        assert transcript.region.contains_region(region) or region.height > transcript.region.height
        # The later hit in the same session can be chosen too (focus stayed in the list).
        assert app.focused is option_list
        option_list.highlighted = 1 - early
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                bool(transcript.query(".-hit"))
                and "message 90 " in transcript.query_one(".-hit").text
            ),  # type: ignore[attr-defined]
        )
        # The newest messages are shown below the hit (the session is short enough).
        assert [v.text for v in transcript.query(AssistantMessage)][-1] == "message 120"
        assert not transcript.has_later


async def test_a_hit_far_back_shows_its_page_and_end_shows_the_newest(
    make_app: AppFactory,
) -> None:
    from app.ui.session.conversation import AFTER_HIT_MESSAGES

    app = await make_app()
    session = await app.store.create_session("default", title="Very long")
    total = AFTER_HIT_MESSAGES + 60
    for number in range(1, total + 1):
        text = f"message {number}" + (" platypus" if number == 11 else "")
        await app.store.append_message(session.id, "user" if number % 2 else "assistant", text)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.conversation.open_session(session.id, at_seq=11)
        transcript = app.transcript
        assert transcript.has_later
        hit = transcript.query_one(".-hit", UserMessage)
        assert "platypus" in hit.text
        await until(pilot, lambda: app.main.has_class("-scrolled-up"))  # the end is below
        app.main.query_one("#composer").focus()
        await pilot.press("end")
        await until(pilot, lambda: not transcript.has_later)
        await until(pilot, lambda: transcript.is_vertical_scroll_end)
        assert f"message {total}" in [v.text for v in transcript.query(AssistantMessage)][-1]


async def test_below_a_hit_far_back_scrolling_down_loads_the_next_pages(
    make_app: AppFactory,
) -> None:
    """The page around an old hit ends where the page ends; scrolling to its bottom loads
    the messages after it, page by page, until the newest (no gap, no repeat)."""
    from app.ui.session.conversation import AFTER_HIT_MESSAGES, PAGE_MESSAGES

    app = await make_app()
    session = await app.store.create_session("default", title="Very long")
    total = AFTER_HIT_MESSAGES + 2 * PAGE_MESSAGES + 7
    for number in range(1, total + 1):
        text = f"message {number}" + (" echidna" if number == 11 else "")
        await app.store.append_message(session.id, "user" if number % 2 else "assistant", text)

    def shown() -> list[int]:
        views = transcript.query("UserMessage, AssistantMessage")
        texts = [view.text for view in views]  # type: ignore[attr-defined]
        return [int(text.split()[1]) for text in texts]

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.conversation.open_session(session.id, at_seq=11)
        transcript = app.transcript
        assert transcript.has_later
        first_page = shown()
        assert first_page[-1] < total

        def scrolled_to_the_bottom_loads_more(before: int | None) -> bool:
            transcript.scroll_end(animate=False, immediate=True)  # as the wheel does, again
            return transcript.last_seq != before

        for _ in range(3):
            before = transcript.last_seq
            await until(pilot, lambda b=before: scrolled_to_the_bottom_loads_more(b))
            if not transcript.has_later:
                break
        assert not transcript.has_later
        assert shown() == list(range(first_page[0], total + 1))
        assert not transcript.query(".-more")
        assert transcript.query_one(".-hit", UserMessage).text.endswith("echidna")
