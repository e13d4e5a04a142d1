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
import math
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from app.llm import pacing
from app.llm.errors import (
    LLMError,
    NetworkError,
    TimeoutError_,
    error_for_status,
    parse_retry_after,
)
from app.llm.replycheck import check_media_type, check_not_a_page, unexpected_json
from app.llm.types import Piece

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

    def feed(self, data: bytes) -> Sequence[Piece]:
        """Parse more bytes; return the chunks they complete (answer text may be a ``str``)."""
        ...

    def close(self) -> Sequence[Piece]:
        """End of body: return the final chunks, or raise StreamError if the reply is unfinished."""
        ...


def network_error(endpoint: Endpoint, exc: httpx.HTTPError, *, started: bool) -> LLMError:
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
        raise network_error(endpoint, exc, started=False) from None
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
    one timer is kept and only moved when it would fire too late. A limit of ``inf``
    (the consumer is busy, see :class:`_Reader`) never fires.
    """

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = task
        self._handle: asyncio.TimerHandle | None = None
        #: When the read under way must end (loop time); ``None`` while not reading.
        self.deadline: float | None = None
        self.fired = False

    def arm(self, deadline: float) -> None:
        """A read is under way (or starts now) and may last until ``deadline``."""
        self.deadline = deadline
        handle = self._handle
        if deadline == math.inf:
            return  # a timer already set finds nothing due and lapses
        if handle is None or handle.when() > deadline:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(deadline, self._check)

    def _check(self) -> None:
        self._handle = None
        deadline = self.deadline
        if deadline is None or deadline == math.inf:
            return  # not reading, or no limit now: the next arm() sets a new timer
        if self._loop.time() >= deadline:
            self.fired = True
            self._task.cancel()
        else:
            self._handle = self._loop.call_at(deadline, self._check)

    def close(self) -> None:
        """Stop the timer."""
        self.deadline = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


#: How many decoded chunks the reader may hold for a consumer that has not taken them yet
#: before it stops reading (then the socket's own flow control holds the server back).
MAX_READ_AHEAD = 4096


class _Reader:
    """Reads and decodes a streamed body in its own task; the consumer takes what piled up.

    The hand-off is one per batch, not one per network read: while the consumer is busy
    with a batch (saving, emitting, sending to clients), the reader keeps reading, and the
    next :meth:`take` returns every chunk decoded meanwhile. A consumer that keeps up gets
    one read's chunks per batch; one that falls behind gets bigger batches and catches up.

    The idle timeout runs only while the consumer waits for more: from the last data event
    or from the moment the consumer came back for more, whichever is later (a consumer
    that takes its time with a batch never makes the server look stalled).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        decoder: Decoder,
        reader: AsyncIterator[bytes],
        deadline: float | None,
        pacer: pacing.PacedStream | None = None,  # paced once the reply is under way
    ) -> None:
        self.endpoint = endpoint
        self.pacer = pacer
        self.decoder = decoder
        self.reader = reader
        self.deadline = deadline
        self.chunks: list[Piece] = []
        self.error: BaseException | None = None
        self.ended = False
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self._watchdog: _Watchdog | None = None
        #: The consumer holds a batch (the idle clock is stopped).
        self._busy = False
        self._quiet_since = self._loop.time()  # the last data event (or the headers)
        self._timeout = endpoint.first_byte_timeout

    def _limit(self) -> tuple[float, bool]:
        """When the read under way must end, and whether the call's deadline says so."""
        until = math.inf if self._busy else self._quiet_since + self._timeout
        deadline = self.deadline
        if deadline is not None and deadline < until:
            return deadline, True
        return until, False

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        if not busy:
            self._quiet_since = self._loop.time()
        watchdog = self._watchdog
        if watchdog is not None and watchdog.deadline is not None:
            if busy and self.deadline is None:
                watchdog.deadline = math.inf  # its timer, if set, finds nothing due
            else:
                watchdog.arm(self._limit()[0])

    async def take(self) -> list[Piece]:
        """The chunks decoded since the last call (waits for some); ``[]`` at the end.
        An error found while reading is raised after the chunks that came before it."""
        if self._busy:
            self._set_busy(False)
        while not self.chunks and not self.ended:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        chunks, self.chunks = self.chunks, []
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)
        if chunks:
            self._set_busy(True)
        elif self.error is not None:
            error, self.error = self.error, None
            raise error
        return chunks

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def run(self) -> None:
        """Read to the end (or the first error), handing chunks over as they are decoded."""
        try:
            await self._read()
        except asyncio.CancelledError:
            raise  # the consumer left: nobody waits for an error
        except BaseException as exc:
            self.error = exc
        finally:
            self.ended = True
            self._wake()

    def _put(self, chunks: Sequence[Piece]) -> None:
        if self.chunks:
            self.chunks += chunks
        else:
            self.chunks = list(chunks)
            self._wake()

    async def _read(self) -> None:
        endpoint, decoder, reader = self.endpoint, self.decoder, self.reader
        loop = self._loop
        task = asyncio.current_task()
        assert task is not None
        self._watchdog = watchdog = _Watchdog(task)
        started = False  # a data event arrived
        first_read = True
        kept_alive = False  # bytes came since the last data event, but no data
        try:
            while True:
                if self.deadline is None and not self._busy:
                    until = self._quiet_since + self._timeout  # the usual case, inline
                else:
                    until, by_deadline = self._limit()
                    if by_deadline and loop.time() >= until:
                        raise _deadline_error(endpoint)
                watchdog.arm(until)
                try:
                    data = await anext(reader)
                except StopAsyncIteration:
                    break
                except asyncio.CancelledError:
                    if watchdog.fired and task.uncancel() == 0:
                        if self._limit()[1]:
                            raise _deadline_error(endpoint) from None
                        what = "the next part of the reply" if started else "the reply to start"
                        why = "sent only keep-alives" if kept_alive else "stopped sending"
                        raise TimeoutError_(
                            f"{endpoint.name}: waited {self._timeout:g} s for {what}; "
                            f"the server {why}",
                            provider=endpoint.name,
                            retryable=False,
                        ) from None
                    raise
                except httpx.HTTPError as exc:
                    raise network_error(endpoint, exc, started=True) from None
                finally:
                    watchdog.deadline = None
                if first_read:
                    first_read = False
                    check_not_a_page(endpoint, data)
                progress = decoder.progress
                chunks = decoder.feed(data)
                kept_alive = decoder.progress == progress
                if not kept_alive:
                    self._quiet_since = loop.time()
                    if not started:
                        started = True
                        self._timeout = endpoint.idle_timeout
                        if self.pacer is not None:
                            self.pacer.pace(pacing.PACE_SECONDS)  # (the first data went at once)
                if chunks:
                    if self.chunks:
                        self.chunks += chunks
                    else:
                        self.chunks = list(chunks)
                        self._wake()
                if decoder.error is not None:
                    raise decoder.error
                if decoder.finished:
                    await _drain(reader)
                    return
                if len(self.chunks) >= MAX_READ_AHEAD:
                    # The consumer is behind: wait for it (not reading, so no timeout).
                    self._room = loop.create_future()
                    await self._room
                    self._room = None
            chunks = decoder.close()
            if chunks:
                self._put(chunks)
        finally:
            watchdog.close()
            if self.pacer is not None:
                self.pacer.pace(0)  # the connection may serve another request next


async def stream_batches(
    client: httpx.AsyncClient,
    endpoint: Endpoint,
    path: str,
    payload: Mapping[str, Any],
    decoder: Decoder,
    *,
    deadline: float | None = None,
) -> AsyncGenerator[list[Piece], None]:
    """POST ``payload`` and yield decoded chunks in batches (never empty): everything decoded
    since the consumer last asked, read by a task of its own (see :class:`_Reader`).

    The first data event may take the first-byte timeout, each later one the idle timeout:
    only data counts, so a server that sends nothing but keep-alive comments (or blank
    lines, or pings) times out all the same. ``deadline`` (event-loop time) ends the whole
    call, however steadily it streams.
    """
    response = await open_response(client, endpoint, "POST", path, payload, deadline=deadline)
    task: asyncio.Task[None] | None = None
    try:
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("application/json") and endpoint.kind != "ollama":
            body = await _read_capped(response, endpoint)
            raise unexpected_json(endpoint, body)
        check_media_type(endpoint, content_type)
        encoded = response.headers.get("content-encoding", "identity") not in ("", "identity")
        reader = _Reader(
            endpoint,
            decoder,
            response.aiter_bytes() if encoded else response.aiter_raw(),
            deadline,
            pacing.pacer(response),
        )
        task = asyncio.create_task(reader.run())
        while chunks := await reader.take():
            yield chunks
    finally:
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
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
