"""Read pacing: at a model's pace, let a few tokens gather in the socket before waking up.

A model streaming 50–200 tokens a second sends each token as its own TCP segment, so a
reader that reads as soon as anything arrives wakes the whole chain (HTTP parser, decoder,
engine, hub, clients) once per token. The wake-up, not the parsing, is what costs at that
pace: measured on the 2-core VM, ~500 µs of CPU per wake against ~25 µs of parsing per token.

:class:`PacedStream` wraps httpcore's network stream. Once the streamed reply is under way
(the reader turns pacing on after the first data event, so the first token is never held
back), a socket read that brought little for the time since the one before means the server,
not we, sets the pace: the next read then starts no sooner than ``interval`` after it, and the
kernel keeps what arrives meanwhile, so one read and one wake-up take several tokens. A read
that brings a lot (we are behind, or the stream runs at full speed) is followed at once, and
so is one that came back quickly. Cancelling (Ctrl+C, a timeout) interrupts the short sleep
like any read.

httpx (0.28, 0.29) takes no network backend (encode/httpx#3749 is open), so
:func:`paced_transport` builds its transport and then gives it a connection pool with ours:
the one place that reaches past httpx's public API (``tests/llm/test_pacing.py`` fails if a
new httpx stops using it).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

#: The longest a token waits in the socket while paced: about one frame of the screen.
PACE_SECONDS = 0.033
#: Paced means the server sends slower than this (a fast model: 1,000 tokens/s of ~250-byte
#: events). A stream at full speed (megabytes a second on a loopback or a LAN) is never
#: held back, so the server never waits for room in the socket buffers.
PACED_BYTES_PER_SECOND = 512 * 1024
#: A read that came back sooner than this after the one before (we read faster than the
#: server sends) is not paced either.
MIN_GAP_SECONDS = 0.002


class PacedStream(httpcore.AsyncNetworkStream):
    """An httpcore network stream whose reads can be paced (see the module docstring)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._interval = 0.0
        self._last = 0.0  # when the last read returned (event-loop time)
        self._hold = False  # the next read waits until ``_last + _interval``

    def pace(self, interval: float) -> None:
        """Pace the reads from now on (``0``: read as soon as asked, the default)."""
        self._interval = interval
        self._hold = False
        self._last = asyncio.get_running_loop().time() if interval else 0.0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 (httpcore's interface)
        """Read up to ``max_bytes``, after the pause pacing asks for (if any)."""
        interval = self._interval
        if not interval:
            return await self._inner.read(max_bytes, timeout)
        loop = asyncio.get_running_loop()
        if self._hold:
            wait = self._last + interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        data = await self._inner.read(max_bytes, timeout)
        now = loop.time()
        gap = now - self._last
        self._hold = gap >= MIN_GAP_SECONDS and len(data) < PACED_BYTES_PER_SECOND * gap
        self._last = now
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109 (httpcore's interface)
        """Write all of ``buffer``."""
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        """Close the connection."""
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        """Upgrade to TLS; the TLS stream is paced the same way."""
        return PacedStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        """What the wrapped stream says (socket, TLS object, whether it is readable)."""
        return self._inner.get_extra_info(info)


class PacedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's asyncio backend, handing out :class:`PacedStream` connections."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Open a TCP connection."""
        stream = await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return PacedStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Open a Unix-socket connection."""
        stream = await self._inner.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return PacedStream(stream)

    async def sleep(self, seconds: float) -> None:
        """Sleep (httpcore's retry back-off)."""
        await self._inner.sleep(seconds)


def paced_transport(
    ssl_context: ssl.SSLContext, *, limits: httpx.Limits | None = None
) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (HTTP/1.1, httpx's default limits unless given), its connections
    :class:`PacedStream`."""
    limits = limits or httpx.Limits()
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=PacedBackend(),
    )
    return transport


def pacer(response: httpx.Response) -> PacedStream | None:
    """The paced connection a streamed response is read from (None for other transports)."""
    stream = response.extensions.get("network_stream")
    return stream if isinstance(stream, PacedStream) else None
