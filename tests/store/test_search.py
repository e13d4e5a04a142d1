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
