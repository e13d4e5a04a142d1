"""The HTTP part every protocol shares: send, map HTTP failures to typed errors, time out.

``stream_batches`` opens a streamed POST, waits for the reply to start (first-byte
timeout), then reads the body with an idle timeout between network reads and feeds it
to a protocol :class:`Decoder`. Closing the returned iterator closes the response (and
its connection) at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from app.llm.errors import (
    LLMError,
    NetworkError,
    StreamError,
    TimeoutError_,
    error_for_status,
    error_for_stream_event,
    parse_retry_after,
)
from app.llm.types import Chunk

MAX_ERROR_BODY = 64 * 1024
#: How long to wait for the rest of a body after the protocol's end marker.
DRAIN_SECONDS = 0.5


@dataclass(frozen=True)
class Endpoint:
    """One configured provider as the transport sees it (never holds the key itself)."""

    name: str
    kind: str
    base_url: str
    connect_timeout: float = 10.0
    first_byte_timeout: float = 120.0
    idle_timeout: float = 60.0
    max_retries: int = 3
    #: The longest one model call may take, retries included (``[engine]``).
    call_timeout: float = 600.0


class Decoder(Protocol):
    """A protocol's stream parser: bytes in, chunks out, state kept between calls."""

    #: Set once the protocol's end marker was seen; the transport stops reading then.
    finished: bool
    #: An error found mid-stream, raised after the chunks returned with it were yielded.
    error: LLMError | None
    #: Data events (or lines) parsed so far; keep-alive comments, pings and blank lines do
    #: not count. The idle timeout runs from the last one.
    progress: int

    def feed(self, data: bytes) -> list[Chunk]:
        """Parse more bytes; return the chunks they complete."""
        ...

    def close(self) -> list[Chunk]:
        """End of body: return the final chunks, or raise StreamError if the reply is unfinished."""
        ...


def _network_error(endpoint: Endpoint, exc: httpx.HTTPError, *, started: bool) -> LLMError:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return TimeoutError_(
            f"{endpoint.name}: could not connect to {endpoint.base_url} "
            f"within {endpoint.connect_timeout:g} s",
            provider=endpoint.name,
        )
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(
            f"{endpoint.name}: cannot connect to {endpoint.base_url} ({detail})",
            provider=endpoint.name,
        )
    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError_(f"{endpoint.name}: timed out ({detail})", provider=endpoint.name)
    where = "in the middle of the reply" if started else "before the reply started"
    return NetworkError(
        f"{endpoint.name}: the connection broke {where} ({detail})", provider=endpoint.name
    )


async def open_response(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    method: str,
    path: str,
    payload: Mapping[str, Any] | None = None,
    *,
    deadline: float | None = None,
) -> httpx.Response:
    """Send a request and return the streamed response once its headers are in (or raise)."""
    content = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
    request = client.build_request(
        method,
        path,
        content=content,
        headers={"content-type": "application/json"} if content else None,
    )
    loop = asyncio.get_running_loop()
    limit = endpoint.first_byte_timeout
    by_deadline = deadline is not None and deadline - loop.time() < limit
    if deadline is not None and by_deadline:
        limit = max(0.0, deadline - loop.time())
    try:
        async with asyncio.timeout(limit):
            response = await client.send(request, stream=True)
    except TimeoutError:
        if by_deadline:
            raise _deadline_error(endpoint) from None
        raise TimeoutError_(
            f"{endpoint.name}: no reply within {endpoint.first_byte_timeout:g} s "
            "(first-byte timeout)",
            provider=endpoint.name,
            retryable=False,  # a model that is slow to start is not helped by asking again
        ) from None
    except httpx.HTTPError as exc:
        raise _network_error(endpoint, exc, started=False) from None
    if response.status_code >= 400:
        try:
            body = await _read_capped(response, endpoint)
        finally:
            await response.aclose()
        raise error_for_status(
            response.status_code,
            body,
            provider=endpoint.name,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    return response


async def _read_capped(response: httpx.Response, endpoint: Endpoint) -> bytes:
    """The start of an error body, read with the idle timeout (a stalled error body is cut)."""
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(endpoint.idle_timeout):
            async for data in response.aiter_bytes():
                parts.append(data)
                size += len(data)
                if size >= MAX_ERROR_BODY:
                    break
    except (TimeoutError, httpx.HTTPError):
        pass
    return b"".join(parts)[:MAX_ERROR_BODY]


class _Watchdog:
    """Cancels the reading task when one network read waits longer than its limit.

    Cheaper than an ``asyncio.timeout`` per read (the hot path is two attribute writes):
    one timer is kept and only moved when it would fire too late. Time the consumer spends
    between reads does not count, because the generator is not reading then.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self.deadline: float | None = None
        self.fired = False

    def arm(self, task: asyncio.Task[Any], deadline: float) -> None:
        """``task`` starts a read now, which may last until ``deadline`` (loop time)."""
        self._task = task
        self.deadline = deadline
        handle = self._handle
        if handle is None or handle.when() > deadline:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(deadline, self._check)

    def _check(self) -> None:
        self._handle = None
        if self.deadline is None:
            return  # not reading: the next arm() starts a new timer
        if self._loop.time() >= self.deadline and self._task is not None:
            self.fired = True
            self._task.cancel()
        else:
            self._handle = self._loop.call_at(self.deadline, self._check)

    def close(self) -> None:
        """Stop the timer."""
        self.deadline = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def stream_batches(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    path: str,
    payload: Mapping[str, Any],
    decoder: Decoder,
    *,
    deadline: float | None = None,
) -> AsyncGenerator[list[Chunk], None]:
    """POST ``payload`` and yield decoded chunks, one list per network read (never empty).

    The first data event may take the first-byte timeout, each later one the idle timeout:
    only data counts, so a server that sends nothing but keep-alive comments (or blank
    lines, or pings) times out all the same. ``deadline`` (event-loop time) ends the whole
    call, however steadily it streams.
    """
    loop = asyncio.get_running_loop()
    response = await open_response(client, endpoint, "POST", path, payload, deadline=deadline)
    watchdog = _Watchdog()
    try:
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("application/json") and endpoint.kind != "ollama":
            body = await _read_capped(response, endpoint)
            raise _unexpected_json(endpoint, body)
        _check_media_type(endpoint, content_type)
        encoded = response.headers.get("content-encoding", "identity") not in ("", "identity")
        reader = response.aiter_bytes() if encoded else response.aiter_raw()
        timeout = endpoint.first_byte_timeout
        started = False  # a data event arrived
        first_read = True
        quiet_since = loop.time()  # the last data event (or the headers)
        kept_alive = False  # bytes came since then, but no data
        while True:
            # The task is looked up per read: the consumer may hand the iterator on.
            task = asyncio.current_task()
            assert task is not None
            until = quiet_since + timeout
            by_deadline = deadline is not None and deadline < until
            if by_deadline:
                assert deadline is not None
                if loop.time() >= deadline:
                    raise _deadline_error(endpoint)
                until = deadline
            watchdog.arm(task, until)
            try:
                data = await anext(reader)
            except StopAsyncIteration:
                break
            except asyncio.CancelledError:
                if watchdog.fired and task.uncancel() == 0:
                    if by_deadline:
                        raise _deadline_error(endpoint) from None
                    what = "the next part of the reply" if started else "the reply to start"
                    why = "sent only keep-alives" if kept_alive else "stopped sending"
                    raise TimeoutError_(
                        f"{endpoint.name}: waited {timeout:g} s for {what}; the server {why}",
                        provider=endpoint.name,
                        retryable=False,
                    ) from None
                raise
            except httpx.HTTPError as exc:
                raise _network_error(endpoint, exc, started=True) from None
            finally:
                watchdog.deadline = None
            if first_read:
                first_read = False
                _check_not_a_page(endpoint, data)
            progress = decoder.progress
            chunks = decoder.feed(data)
            progressed = decoder.progress != progress
            kept_alive = not progressed
            if progressed and not started:
                started = True
                timeout = endpoint.idle_timeout
            if chunks:
                yield chunks
            if progressed:
                # From here, after the consumer took its time with the chunks.
                quiet_since = loop.time()
            if decoder.error is not None:
                raise decoder.error
            if decoder.finished:
                await _drain(reader)
                return
        chunks = decoder.close()
        if chunks:
            yield chunks
    finally:
        watchdog.close()
        await response.aclose()


def _deadline_error(endpoint: Endpoint) -> TimeoutError_:
    seconds = endpoint.call_timeout
    return TimeoutError_(
        f"{endpoint.name}: the model call took longer than {seconds:g} s "
        "([engine] model_call_timeout_seconds) and was stopped",
        provider=endpoint.name,
        retryable=False,
    )


async def _drain(reader: AsyncIterator[bytes]) -> None:
    """Read what follows the end marker (usually just the chunked terminator) so the
    connection can go back to the pool; a server that keeps it open is not waited on."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _data in reader:
                pass


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


def _expected(endpoint: Endpoint) -> str:
    return _STREAM_TYPES.get(endpoint.kind, _STREAM_TYPES["openai"])[0]


def _check_media_type(endpoint: Endpoint, content_type: str) -> None:
    """Refuse a 200 reply that is not a stream (a captive portal's or a proxy's page)."""
    media = content_type.partition(";")[0].strip().lower()
    allowed = _STREAM_TYPES.get(endpoint.kind, _STREAM_TYPES["openai"])
    if media in allowed or media in _LOOSE_STREAM_TYPES:
        return
    raise StreamError(
        f"{endpoint.name}: expected {_expected(endpoint)}, got {media[:60]} "
        f"from {endpoint.base_url} (a proxy or login page in between?)",
        provider=endpoint.name,
    )


def _check_not_a_page(endpoint: Endpoint, data: bytes) -> None:
    """Refuse a body that is an HTML or XML page although its label says stream."""
    start = data[:64].lstrip().lower()
    if start.startswith(_PAGE_STARTS):
        raise StreamError(
            f"{endpoint.name}: expected {_expected(endpoint)}, got an HTML page "
            f"from {endpoint.base_url} (a proxy or login page in between?)",
            provider=endpoint.name,
        )


def _unexpected_json(endpoint: Endpoint, body: bytes) -> LLMError:
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


async def get_json(client: httpx.AsyncClient, endpoint: Endpoint, path: str) -> Any:
    """GET ``path`` and return the parsed JSON body, with the same typed errors as streaming."""
    response = await open_response(client, endpoint, "GET", path)
    try:
        body = await _read_capped_all(response, endpoint)
    finally:
        await response.aclose()
    try:
        return json.loads(body)
    except ValueError:
        raise StreamError(
            f"{endpoint.name}: {path} did not return JSON", provider=endpoint.name
        ) from None


async def _read_capped_all(response: httpx.Response, endpoint: Endpoint) -> bytes:
    parts: list[bytes] = []
    try:
        async with asyncio.timeout(endpoint.idle_timeout):
            async for data in response.aiter_bytes():
                parts.append(data)
    except TimeoutError:
        raise TimeoutError_(
            f"{endpoint.name}: the model list did not arrive in time", provider=endpoint.name
        ) from None
    except httpx.HTTPError as exc:
        raise _network_error(endpoint, exc, started=True) from None
    return b"".join(parts)
