"""Search: what people remember (titles, text, thinking, tool arguments, tool output)."""

from __future__ import annotations

import pytest

from app.store import SessionStore
from app.store.search import fts_query


@pytest.fixture
async def corpus(store: SessionStore) -> dict[str, str]:
    deploy = await store.create_session("a", title="Deploy the gateway")
    debug = await store.create_session("a", title="Flaky tests")
    await store.append_message(debug.id, "user", "Why does test_parser fail on CI?")
    await store.append_message(
        debug.id,
        "assistant",
        "Let me run it.",
        thinking="Probably a timezone assumption in the fixture.",
        tool_calls=[{"id": "c1", "name": "shell", "arguments": {"command": "pytest -k quokka"}}],
    )
    await store.append_message(
        debug.id,
        "tool",
        "FAILED test_parser.py::test_dates - naïve datetime",
        tool_call_id="c1",
        tool_name="shell",
    )
    await store.append_message(deploy.id, "user", "Ship the gateway to staging")
    return {"deploy": deploy.id, "debug": debug.id}


@pytest.mark.parametrize(
    ("query", "role"),
    [
        ("test_parser", "user"),  # message text
        ("timezone", "assistant"),  # thinking
        ("quokka", "assistant"),  # tool-call arguments
        ("naive datetime", "tool"),  # tool output, diacritics folded
    ],
)
async def test_search_covers_every_kind_of_text(
    store: SessionStore, corpus: dict[str, str], query: str, role: str
) -> None:
    hits = [h for h in await store.search(query) if h.kind == "message"]
    assert hits and hits[0].role == role and hits[0].session_id == corpus["debug"]


async def test_titles_come_first_with_highlight_spans(
    store: SessionStore, corpus: dict[str, str]
) -> None:
    hits = await store.search("gateway")
    assert [(h.kind, h.session_id) for h in hits] == [
        ("title", corpus["deploy"]),
        ("message", corpus["deploy"]),
    ]
    for hit in hits:
        assert hit.highlights
        for start, end in hit.highlights:
            assert hit.snippet[start:end].lower() == "gateway"


async def test_prefix_of_the_last_word_matches_while_typing(
    store: SessionStore, corpus: dict[str, str]
) -> None:
    assert [h.role for h in await store.search("timez")] == ["assistant"]
    assert await store.search("timez ") == []  # a finished word is a whole word


async def test_fts_syntax_typed_by_people_is_plain_text(
    store: SessionStore, corpus: dict[str, str]
) -> None:
    for text in ['"unbalanced', "AND OR NOT", "col:thing", "a*b", "(", "-x", "NEAR(a b)"]:
        await store.search(text)  # never an FTS syntax error
    assert await store.search("   ") == []
    assert fts_query('ship "the gateway" to') == '"ship" "the gateway" "to"*'


async def test_search_within_one_session_and_limit(
    store: SessionStore, corpus: dict[str, str]
) -> None:
    scoped = await store.search("the", session_id=corpus["deploy"])
    assert scoped and {h.session_id for h in scoped} == {corpus["deploy"]}
    assert all(h.kind == "message" for h in scoped)
    assert len(await store.search("test", limit=1)) == 1


async def test_search_finds_renamed_titles_not_old_ones(
    store: SessionStore, corpus: dict[str, str]
) -> None:
    await store.rename_session(corpus["deploy"], "Release checklist")
    assert not [h for h in await store.search("gateway") if h.kind == "title"]
    assert [h.kind for h in await store.search("checklist")] == ["title"]


# Long messages are indexed in parts (schema v2); these words sit at chosen places.
PART = 16_384


def _long_text() -> str:
    """~100 KB of filler with marker words at the start, across the first part boundary,
    and at the very end; "filler" itself occurs ~16,000 times."""
    filler = "filler text " * (PART // 12 + 10)
    head = "aardvark " + filler
    # A word that starts a few characters before the first part ends and finishes after it.
    boundary = head[: PART - 4] + " straddleword " + filler
    return boundary + filler * 4 + " zebrafinch"


async def test_words_anywhere_in_a_long_message_are_found_once(store: SessionStore) -> None:
    session = await store.create_session("a", title="log paste")
    other = await store.create_session("a", title="short")
    long_message = await store.append_message(session.id, "user", _long_text())
    await store.append_message(other.id, "user", "one filler line")
    for word in ("aardvark", "straddleword", "zebrafinch"):
        hits = [h for h in await store.search(word) if h.kind == "message"]
        assert [h.message_id for h in hits] == [long_message.id], word
        assert word in hits[0].snippet
        start, end = hits[0].highlights[0]
        assert hits[0].snippet[start:end].lower() == word
    # A word in every part: one hit per message, not one per part, and limits count messages.
    hits = [h for h in await store.search("filler") if h.kind == "message"]
    assert sorted(h.message_id for h in hits) == sorted([long_message.id, hits[-1].message_id])
    assert len(hits) == 2
    assert len(await store.search("filler", limit=1)) == 1
    scoped = await store.search("filler", session_id=other.id)
    assert [h.session_id for h in scoped] == [other.id]


async def test_a_message_that_shrinks_or_goes_leaves_no_parts_behind(
    store: SessionStore,
) -> None:
    session = await store.create_session("a")
    message = await store.append_message(session.id, "assistant", _long_text())
    assert await store.search("zebrafinch")
    await store.update_message(message.id, content="now short, no marker")
    assert not await store.search("zebrafinch")
    assert [h.message_id for h in await store.search("marker")] == [message.id]
    db = store._db
    parts = await db.fetchall("SELECT rowid FROM messages_fts")
    assert [row[0] for row in parts] == [message.id * 4096]
    await store.delete_session(session.id)
    assert not await db.fetchall("SELECT rowid FROM messages_fts")


async def test_tool_call_arguments_of_a_long_call_are_searchable(store: SessionStore) -> None:
    session = await store.create_session("a")
    body = "line of file content\n" * 2000 + "okapi at the end"
    message = await store.append_message(
        session.id,
        "assistant",
        "",
        tool_calls=[{"id": "c1", "name": "write_file", "arguments": {"content": body}}],
    )
    assert [h.message_id for h in await store.search("okapi")] == [message.id]
