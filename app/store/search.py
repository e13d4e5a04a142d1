"""Full-text search (FTS5) over titles, message text, thinking, tool arguments and output."""

from __future__ import annotations

import re
from typing import Any

from app.store.base import StorePart, from_db_time
from app.store.migrations import PARTS_PER_MESSAGE
from app.store.models import SearchHit

# Private-use markers around matches in FTS snippets; they cannot occur in stored text
# that people search for, and are turned into (start, end) spans.
_OPEN = "\ue000"
_CLOSE = "\ue001"
_SNIPPET_TOKENS = 16
#: Different words (or phrases) of one query that are searched for; a longer query is
#: a paste, and each term costs a pass over its hits.
MAX_TERMS = 16
#: Longest snippet shown for one hit, in characters.
MAX_SNIPPET_CHARS = 240


def fts_query(text: str) -> str:
    """Turn what a person typed into a safe FTS5 query: every word must match.

    Words are quoted (so ``AND``, ``-`` or ``"`` typed by a person are plain text); a
    ``"quoted phrase"`` stays a phrase; the last word also matches as a prefix, so results
    appear while typing. Returns ``""`` when nothing searchable was typed.

    A term typed again adds nothing but work (each copy is weighed in every hit: a pasted
    line that repeats a word 30 times took 20 times as long), so each counts once, at its
    last place; past :data:`MAX_TERMS` different terms (a pasted page) the first ones are
    used, which can only find more, never miss a message that has them all.
    """
    terms: dict[str, str] = {}  # by case-folded form, in the order last typed
    for phrase, word in re.findall(r'"([^"]*)"|(\w+)', text):
        if phrase:
            words = re.findall(r"\w+", phrase)
            term = '"' + " ".join(words) + '"' if words else ""
        else:
            term = f'"{word}"' if word else ""
        if term:
            terms.pop(term.casefold(), None)
            terms[term.casefold()] = term
    chosen = list(terms.values())
    if len(chosen) > MAX_TERMS:
        chosen = chosen[: MAX_TERMS - 1] + chosen[-1:]  # the word being typed stays
    if chosen and not text.rstrip().endswith('"') and not text.endswith(" "):
        chosen[-1] += "*"
    return " ".join(chosen)


def _spans(marked: str) -> tuple[str, list[tuple[int, int]]]:
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    start = -1
    for piece in re.split(f"([{_OPEN}{_CLOSE}])", marked):
        if piece == _OPEN:
            start = length
        elif piece == _CLOSE:
            if start >= 0:
                spans.append((start, length))
            start = -1
        else:
            cleaned = re.sub(r"\s+", " ", piece)
            plain.append(cleaned)
            length += len(cleaned)
    return "".join(plain), spans


def _window(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """The snippet text and its match spans, cut to :data:`MAX_SNIPPET_CHARS` around the
    first match: FTS5 counts a snippet in tokens, and one token may be a whole index part
    (a pasted line with no spaces, a run of CJK text), 16,000 characters long."""
    text, spans = _spans(marked)
    if len(text) <= MAX_SNIPPET_CHARS:
        return text, spans
    first = spans[0][0] if spans else 0
    start = max(0, first - MAX_SNIPPET_CHARS // 4)
    end = min(len(text), start + MAX_SNIPPET_CHARS)
    start = max(0, end - MAX_SNIPPET_CHARS)
    lead = "…" if start else ""
    shift = len(lead) - start
    kept = [(max(a, start) + shift, min(b, end) + shift) for a, b in spans if a < end and b > start]
    return lead + text[start:end] + ("…" if end < len(text) else ""), kept


class SearchPart(StorePart):
    """Ranked search with snippets."""

    async def search(
        self, text: str, *, limit: int = 50, session_id: str | None = None
    ) -> list[SearchHit]:
        """Sessions whose title matches, then messages, each group ranked by relevance."""
        query = fts_query(text)
        if not query or limit <= 0:
            return []
        hits: list[SearchHit] = []
        if session_id is None:
            rows = await self._db.fetchall(
                "SELECT s.id, s.title, s.created_at, "
                f"highlight(sessions_fts, 0, '{_OPEN}', '{_CLOSE}') AS marked "
                "FROM sessions_fts JOIN sessions s ON s.pk = sessions_fts.rowid "
                "WHERE sessions_fts MATCH ? ORDER BY rank LIMIT ?",
                (query, limit),
            )
            for row in rows:
                snippet, spans = _window(row["marked"])
                hits.append(
                    SearchHit(
                        kind="title",
                        session_id=row["id"],
                        session_title=row["title"],
                        snippet=snippet,
                        highlights=spans,
                        created_at=from_db_time(row["created_at"]),
                    )
                )
        for row in await self._message_rows(query, limit, session_id):
            snippet, spans = _window(row["marked"])
            hits.append(
                SearchHit(
                    kind="message",
                    session_id=row["session_id"],
                    session_title=row["title"],
                    message_id=row["id"],
                    seq=row["seq"],
                    role=row["role"],
                    snippet=snippet,
                    highlights=spans,
                    created_at=from_db_time(row["created_at"]),
                )
            )
        return hits[:limit]

    async def _message_rows(self, query: str, limit: int, session_id: str | None) -> list[Any]:
        """The best-ranked messages: each message's best part first (so one long message
        with many hits is one hit), then snippets cut from just those parts."""
        scope, params = (
            (
                f"AND rowid / {PARTS_PER_MESSAGE} IN "
                "(SELECT id FROM messages WHERE session_id = ?)",
                (session_id,),
            )
            if session_id
            else ("", ())
        )
        best = await self._db.fetchall(
            f"SELECT rowid AS part, rowid / {PARTS_PER_MESSAGE} AS message, min(rank) AS best "
            f"FROM messages_fts WHERE messages_fts MATCH ? {scope} "
            "GROUP BY message ORDER BY best LIMIT ?",
            (query, *params, limit),
        )
        if not best:
            return []
        parts = [row["part"] for row in best]
        marks = ", ".join("?" * len(parts))
        rows = await self._db.fetchall(
            "SELECT m.id, m.session_id, m.seq, m.role, m.created_at, s.title, f.marked, f.part "
            "FROM ("
            f"  SELECT rowid AS part, snippet(messages_fts, -1, '{_OPEN}', '{_CLOSE}', '…', "
            f"  {_SNIPPET_TOKENS}) AS marked FROM messages_fts "
            f"  WHERE messages_fts MATCH ? AND rowid IN ({marks})"
            f") AS f JOIN messages m ON m.id = f.part / {PARTS_PER_MESSAGE} "
            "JOIN sessions s ON s.id = m.session_id",
            (query, *parts),
        )
        order = {part: index for index, part in enumerate(parts)}
        return sorted(rows, key=lambda row: order[row["part"]])
