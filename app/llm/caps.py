"""Bounds on what a decoder keeps from one reply (``[engine] max_reply_chars``).

The gateway counts answer and thinking text. Everything else a decoder accumulates is
bounded here, with the same typed error: tool calls (their arguments, names, and the
calls themselves), opaque reasoning data (signatures, redacted blocks), and the bytes of
a line or event that has not ended yet, so a server that streams one endless line (an
Ollama tool call is one NDJSON line) cannot grow memory without limit.
"""

from __future__ import annotations

from app.llm.errors import ReplyTooLongError

#: What one more tool call or content block costs on its own, in characters: a stream of
#: empty calls or blocks is bounded too, not only the text inside them.
ITEM_COST = 64
#: A line or event may take this many bytes per allowed character (a JSON ``\\uXXXX``
#: escape is six bytes for one character) ...
BYTES_PER_CHAR = 6
#: ... and never fewer than this, so a big but finished event is still parsed and cut.
MIN_PENDING_BYTES = 16 * 1024 * 1024


class CharBudget:
    """Characters one reply may still spend on ``what``; past the limit, ReplyTooLongError."""

    __slots__ = ("_limit", "_provider", "_room", "_what")

    def __init__(self, provider: str, max_chars: int | None, what: str) -> None:
        self._provider = provider
        self._limit = max_chars
        self._room = max_chars
        self._what = what

    def spend(self, chars: int) -> None:
        """Count ``chars`` more; raise once the total passes the limit (no limit: no-op)."""
        if self._room is None:
            return
        self._room -= chars
        if self._room < 0:
            raise ReplyTooLongError(
                f"{self._provider}: {self._what} passed {self._limit:,} characters "
                "([engine] max_reply_chars); the model call was stopped",
                provider=self._provider,
                retryable=False,
            )


class PendingBytes:
    """Bytes of the line or event being received that has not ended yet."""

    __slots__ = ("_count", "_limit", "_provider")

    def __init__(self, provider: str, max_chars: int | None) -> None:
        self._provider = provider
        self._count = 0
        self._limit = (
            None if max_chars is None else max(MIN_PENDING_BYTES, BYTES_PER_CHAR * max_chars)
        )

    def after_lines(self, data: bytes) -> ReplyTooLongError | None:
        """Account for ``data`` fed to a line splitter; the error if its open line is too long."""
        end = max(data.rfind(b"\n"), data.rfind(b"\r"))
        self._count = self._count + len(data) if end < 0 else len(data) - end - 1
        return self._check()

    def after_events(self, data: bytes, *, idle: bool, ended: bool) -> ReplyTooLongError | None:
        """Account for ``data`` fed to an SSE parser (``idle``: nothing buffered now;
        ``ended``: it completed an event); the error if the open event is too long."""
        if idle:
            self._count = 0
        elif ended:
            self._count = len(data)  # at most what came after the last complete event
        else:
            self._count += len(data)
        return self._check()

    def open_bytes(self, size: int) -> ReplyTooLongError | None:
        """The open event now holds ``size`` bytes; the error if that is too long."""
        self._count = size
        return self._check()

    def _check(self) -> ReplyTooLongError | None:
        if self._limit is None or self._count <= self._limit:
            return None
        return ReplyTooLongError(
            f"{self._provider}: one line of the reply passed {self._limit:,} bytes without "
            "ending ([engine] max_reply_chars); the model call was stopped",
            provider=self._provider,
            retryable=False,
        )
