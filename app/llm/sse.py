"""Incremental parsers for streamed bodies: Server-Sent Events and newline-delimited JSON.

Both take bytes as they come off the socket, in pieces of any size, and return the
complete items found so far. They follow the SSE rules of the HTML standard: lines end
in LF, CRLF or CR; ``:`` starts a comment (keep-alive); ``data`` lines of one event are
joined with LF; a blank line ends an event. Kept small and allocation-light because the
gateway runs every streamed token through them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class SSEEvent:
    """One dispatched event: its type (``message`` when unnamed), data and last id."""

    event: str
    data: str
    id: str | None = None


class LineSplitter:
    """Split a byte stream into complete lines (LF, CRLF or CR), keeping the remainder."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return every line that is now complete, without its line ending."""
        buffer = self._pending + data if self._pending else data
        if b"\r" in buffer:
            held = b""
            if buffer.endswith(b"\r"):
                # A CR at the very end may be half of a CRLF split across two reads.
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            lines = buffer.split(b"\n")
            self._pending = lines.pop() + held
            return lines
        lines = buffer.split(b"\n")
        self._pending = lines.pop()
        return lines

    def close(self) -> list[bytes]:
        """End of stream: return the last line if it had no line ending."""
        rest, self._pending = self._pending.rstrip(b"\r"), b""
        return [rest] if rest else []


class SSEParser:
    """Turn SSE bytes into :class:`SSEEvent` objects, incrementally.

    Bytes are cut into complete events at blank lines first (one ``split`` per network
    read), and a one-line ``data:`` event, the usual case, takes a fast path.
    """

    __slots__ = ("_id", "_pending")

    def __init__(self) -> None:
        self._pending = b""
        self._id: str | None = None

    @property
    def idle(self) -> bool:
        """True when no partial event is buffered (the next bytes start a new event)."""
        return not self._pending

    @property
    def pending_size(self) -> int:
        """How many bytes of a partial event are buffered."""
        return len(self._pending)

    def take_pending(self) -> bytes:
        """Hand back the bytes of the partial event buffered so far (the parser is idle after)."""
        pending, self._pending = self._pending, b""
        return pending

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Add bytes; return the events completed by them."""
        buffer = self._pending + data if self._pending else data
        held = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                # A CR at the very end may be half of a CRLF split across two reads.
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        blocks = buffer.split(b"\n\n")
        self._pending = blocks.pop() + held
        events: list[SSEEvent] = []
        for block in blocks:
            if block.startswith(b"data: ") and b"\n" not in block:
                events.append(SSEEvent("message", block[6:].decode("utf-8", "replace"), self._id))
            elif block:
                self._block(block, events)
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: flush a last event even if the server left out the final blank line."""
        rest, self._pending = self._pending.replace(b"\r", b"\n").strip(b"\n"), b""
        events: list[SSEEvent] = []
        if rest:
            self._block(rest, events)
        return events

    def _block(self, block: bytes, events: list[SSEEvent]) -> None:
        """Parse the lines of one event (the general case: names, ids, comments, many lines)."""
        event = ""
        data: list[str] = []
        for raw in block.split(b"\n"):
            if not raw:
                if data:
                    events.append(SSEEvent(event or "message", "\n".join(data), self._id))
                event, data = "", []
                continue
            if raw[:1] == b":":
                continue  # comment / keep-alive
            name, sep, value = raw.decode("utf-8", "replace").partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id" and "\0" not in value:
                self._id = value
            # "retry" and unknown fields are ignored, as the standard says.
        if data:
            events.append(SSEEvent(event or "message", "\n".join(data), self._id))
