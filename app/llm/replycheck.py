"""What a model server's 200 reply must look like before it is read as a stream: refusing a
proxy's or captive portal's page, or a single JSON document, with an error that says so."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from app.llm.errors import LLMError, StreamError, error_for_stream_event

if TYPE_CHECKING:
    from app.llm.transport import Endpoint

#: What a stream may be labelled besides its own type: servers that label it loosely.
_LOOSE_STREAM_TYPES = ("", "text/plain", "application/octet-stream")
_STREAM_TYPES = {
    "openai": ("text/event-stream",),
    "anthropic": ("text/event-stream",),
    "ollama": (
        "application/x-ndjson",
        "application/json",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
    ),
}
_PAGE_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")


def expected_type(endpoint: Endpoint) -> str:
    """The media type a stream of this kind of server is sent as."""
    return _STREAM_TYPES.get(endpoint.kind, _STREAM_TYPES["openai"])[0]


def check_media_type(endpoint: Endpoint, content_type: str) -> None:
    """Refuse a 200 reply that is not a stream (a captive portal's or a proxy's page)."""
    media = content_type.partition(";")[0].strip().lower()
    allowed = _STREAM_TYPES.get(endpoint.kind, _STREAM_TYPES["openai"])
    if media in allowed or media in _LOOSE_STREAM_TYPES:
        return
    raise StreamError(
        f"{endpoint.name}: expected {expected_type(endpoint)}, got {media[:60]} "
        f"from {endpoint.base_url} (a proxy or login page in between?)",
        provider=endpoint.name,
    )


def check_not_a_page(endpoint: Endpoint, data: bytes) -> None:
    """Refuse a body that is an HTML or XML page although its label says stream."""
    start = data[:64].lstrip().lower()
    if start.startswith(_PAGE_STARTS):
        raise StreamError(
            f"{endpoint.name}: expected {expected_type(endpoint)}, got an HTML page "
            f"from {endpoint.base_url} (a proxy or login page in between?)",
            provider=endpoint.name,
        )


def unexpected_json(endpoint: Endpoint, body: bytes) -> LLMError:
    """The error for one JSON document where a stream was expected (its error, if it says one)."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, Mapping) and "error" in data:
        return error_for_stream_event(data, provider=endpoint.name)
    return StreamError(
        f"{endpoint.name}: expected a streamed reply but the server sent one JSON document "
        "(does this server support streaming?)",
        provider=endpoint.name,
    )


def _shown(head: bytes) -> str:
    """The first line of ``head`` as readable text (no control characters), for a message."""
    line = head.strip().splitlines()[0].decode("utf-8", "replace") if head.strip() else ""
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line[:80] + ("…" if len(line) > 80 else "")


def ended_early(provider: str, *, skipped: int, unit: str, head: bytes | None) -> StreamError:
    """The error for a body that ended before the model finished. ``head`` is the start of
    the body when not one event or line was read from it (None otherwise): then the server
    sent something that is no stream at all (a proxy's plain-text message), and we show it."""
    message = f"{provider}: the reply stream ended before the model finished"
    if head is not None:
        shown = _shown(head)
        message += f" (no {unit} in it; it read: {shown!r})" if shown else " (its body was empty)"
    elif skipped:
        message += f" ({skipped} unreadable {unit} skipped)"
    return StreamError(message, provider=provider)


def unreadable_reply(provider: str, *, skipped: int, unit: str) -> StreamError:
    """The error for a reply that finished with nothing readable in it but some
    unreadable pieces: what the model said was lost, so no "empty reply" stands in for it."""
    return StreamError(
        f"{provider}: the model's reply could not be read ({skipped} unreadable {unit} "
        "skipped, nothing else in it)",
        provider=provider,
    )
