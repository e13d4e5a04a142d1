"""A loopback fake LLM provider: a real HTTP/1.1 server on 127.0.0.1 that replays scripts.

It speaks whatever the script says, so one server covers OpenAI Chat Completions SSE,
Anthropic Messages SSE and Ollama NDJSON (see :mod:`tests.fakes.scripts` for builders).
A reply is a status, headers and a body made of byte pieces and fault steps:
:class:`Stall` (stop sending, keep the connection open), :class:`Drop` (close the
connection mid-body), :class:`Gate` (wait until the test opens it). With ``hold=True``
the server never even sends the headers (a first-byte timeout).

Tests wait for events (``wait_disconnect``, ``wait_requests``), never for fixed times.
Run ``python -m tests.fakes.provider`` to serve a benchmark reply from its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Stall:
    """Stop sending but keep the connection open until the client goes away."""


@dataclass(frozen=True)
class Drop:
    """Close the connection abruptly, in the middle of the body."""


@dataclass
class Gate:
    """Pause the body until the test calls ``open()``."""

    event: asyncio.Event = field(default_factory=asyncio.Event)

    def open(self) -> None:
        """Let the server continue past this point."""
        self.event.set()


@dataclass(frozen=True)
class Repeat:
    """Send ``data`` again and again, ``every`` seconds apart, until the client goes away
    (an endless reply, or a server that sends nothing but keep-alives)."""

    data: bytes
    every: float = 0.0


Step = bytes | Stall | Drop | Gate | Repeat


@dataclass
class Reply:
    """One scripted HTTP reply."""

    status: int = 200
    body: list[Step] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"
    #: Never send the status line: the client waits for the first byte.
    hold: bool = False
    #: Only answer requests to this path (None: any path).
    path: str | None = None

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Reply:
        """A plain JSON reply (error bodies, model lists)."""
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        fixed = {key.replace("_", "-"): value for key, value in headers.items()}
        return cls(status=status, body=[raw], headers=fixed, content_type="application/json")


@dataclass
class Recorded:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The request body parsed as JSON."""
        return json.loads(self.body)


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Overloaded",
}


class FakeProvider:
    """The server. ``async with FakeProvider() as fake:`` then ``fake.url``."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.disconnects = 0
        #: TCP connections accepted so far (keep-alive reuse shows as fewer connections).
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        #: A context window, as the largest request body (bytes) a model call may have;
        #: bigger ones get ``too_long`` (a provider's 400) without using a scripted reply.
        self.max_request_bytes: int | None = None
        self.too_long: Reply | None = None
        self.refused = 0
        #: Answers some requests by their content (a summary request, …) ahead of the
        #: scripted queue: returns a reply, or None to take the next scripted one.
        self.responder: Callable[[Recorded], Reply | None] | None = None
        #: What the server says about its models' context windows, by model id: served as
        #: ``GET …/models`` (each entry's ``catalogue_key``) and ``POST …/api/show``
        #: (``model_info``), unless a reply is scripted for that exact path. Those requests
        #: are kept in ``info_requests``, apart from ``requests``.
        self.catalogue: dict[str, int] = {}
        self.catalogue_key = "context_length"
        self.info_requests: list[Recorded] = []
        #: Never answer the model-info requests (a lookup that times out).
        self.info_hold = False

    @property
    def url(self) -> str:
        """Base URL of the server, like ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        """Queue replies; each request takes the first queued reply that matches its path."""
        self.replies.extend(replies)

    async def start(self) -> FakeProvider:
        """Listen on a free port of 127.0.0.1."""
        self._server = await asyncio.start_server(self._on_connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeProvider:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_requests(self, count: int, within: float = 5.0) -> None:
        """Wait until ``count`` requests have arrived."""
        await self._wait(lambda: len(self.requests) >= count, within)

    async def wait_disconnect(self, count: int = 1, within: float = 5.0) -> None:
        """Wait until the client has closed ``count`` connections in the middle of a reply."""
        await self._wait(lambda: self.disconnects >= count, within)

    async def _wait(self, predicate: Any, within: float) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ serving

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self._writers.add(writer)
        self.connections += 1
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # stop() cancels handlers; end quietly so asyncio does not log the cancellation
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.transport.abort()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        path = target.split("?", 1)[0]
        if _is_info(method, path) and not any(r.path == path for r in self.replies):
            self.info_requests.append(Recorded(method, path, headers, body))
            await self._notify()
            if self.info_hold:
                await self._until_client_leaves(reader)
                return False
            return await self._send(self._info_reply(path, body), reader, writer)
        self.requests.append(Recorded(method, path, headers, body))
        await self._notify()
        limit = self.max_request_bytes
        if limit is not None and self.too_long is not None and len(body) > limit:
            self.refused += 1
            return await self._send(self.too_long, reader, writer)
        answered = self.responder(self.requests[-1]) if self.responder is not None else None
        reply = answered or self._take(path)
        if reply.hold:
            await self._until_client_leaves(reader)
            return False
        return await self._send(reply, reader, writer)

    def _info_reply(self, path: str, body: bytes) -> Reply:
        """The catalogue as an OpenAI-compatible model list or an Ollama ``/api/show``."""
        if path.endswith("/models"):
            listed = [
                {"id": name, "object": "model", self.catalogue_key: tokens}
                for name, tokens in self.catalogue.items()
            ]
            return Reply.json(200, {"object": "list", "data": listed})
        asked = json.loads(body or b"{}")
        name = asked.get("model") or asked.get("name")
        if name not in self.catalogue:
            return Reply.json(404, {"error": f"model '{name}' not found"})
        info = {"general.architecture": "llama", "llama.context_length": self.catalogue[name]}
        return Reply.json(200, {"details": {"family": "llama"}, "model_info": info})

    def _take(self, path: str) -> Reply:
        for reply in self.replies:
            if reply.path is None or reply.path == path:
                self.replies.remove(reply)
                return reply
        return Reply.json(
            500, {"error": {"message": f"fake provider: nothing scripted for {path}"}}
        )

    async def _send(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        reason = _REASONS.get(reply.status, "Status")
        head = [f"HTTP/1.1 {reply.status} {reason}", f"content-type: {reply.content_type}"]
        streamed = reply.content_type != "application/json" or any(
            not isinstance(step, bytes) for step in reply.body
        )
        if streamed:
            head.append("transfer-encoding: chunked")
        else:
            head.append(f"content-length: {sum(len(step) for step in reply.body)}")  # type: ignore[arg-type]
        head += [f"{key}: {value}" for key, value in reply.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if not streamed:
            for step in reply.body:
                writer.write(step)  # type: ignore[arg-type]
            await writer.drain()
            return True
        for step in reply.body:
            if isinstance(step, bytes):
                if step:
                    writer.write(b"%x\r\n%s\r\n" % (len(step), step))
                    await writer.drain()
            elif isinstance(step, Gate):
                await writer.drain()
                if not await self._gate(step, reader):
                    return False
            elif isinstance(step, Stall):
                await writer.drain()
                await self._until_client_leaves(reader)
                return False
            elif isinstance(step, Repeat):
                await self._repeat(step, writer)
                return False
            else:  # Drop
                await writer.drain()
                writer.transport.abort()
                return False
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    async def _repeat(self, step: Repeat, writer: asyncio.StreamWriter) -> None:
        """Write ``step.data`` until the connection breaks (the client closed it)."""
        piece = b"%x\r\n%s\r\n" % (len(step.data), step.data)
        try:
            while not writer.transport.is_closing():
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(step.every)  # the server's pace (0: as fast as it can)
        except ConnectionError:
            pass
        self.disconnects += 1
        await self._notify()

    async def _gate(self, gate: Gate, reader: asyncio.StreamReader) -> bool:
        """Wait for the gate; False if the client went away first."""
        opened = asyncio.ensure_future(gate.event.wait())
        left = asyncio.ensure_future(self._until_client_leaves(reader))
        try:
            await asyncio.wait({opened, left}, return_when=asyncio.FIRST_COMPLETED)
            # Decide before the cleanup below: a cancelled task also counts as done.
            passed = opened.done() and not left.done()
        finally:
            for task in (opened, left):
                task.cancel()
            await asyncio.gather(opened, left, return_exceptions=True)
        return passed

    async def _until_client_leaves(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        self.disconnects += 1
        await self._notify()


def _is_info(method: str, path: str) -> bool:
    """A request for model information: a model list, or Ollama's ``/api/show``."""
    return (method == "GET" and path.endswith("/models")) or (
        method == "POST" and path.endswith("/api/show")
    )


# ---------------------------------------------------------------------- benchmark server


async def _serve_benchmark(tokens: int) -> None:
    """Serve a ``tokens``-token OpenAI stream forever: one write per event on
    ``/chat/completions``, the whole body in one write on ``/bulk/chat/completions``."""
    from tests.fakes.scripts import openai_text_events

    events = openai_text_events(["tok "] * tokens, usage=(10, tokens))
    bulk = b"".join(events)
    fake = FakeProvider()
    await fake.start()

    def refill() -> None:
        for path, body in (("/chat/completions", events), ("/bulk/chat/completions", [bulk])):
            while sum(reply.path == path for reply in fake.replies) < 2:
                fake.script(Reply(body=list(body), path=path))

    refill()
    print(fake.port, flush=True)
    while True:
        await fake.wait_requests(len(fake.requests) + 1, within=3600)
        refill()


if __name__ == "__main__":
    import sys

    asyncio.run(_serve_benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000))
