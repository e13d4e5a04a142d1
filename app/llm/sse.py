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
    """Turn SSE bytes into :class:`SSEEvent` objects, incrementally."""

    __slots__ = ("_data", "_event", "_id", "_lines")

    def __init__(self) -> None:
        self._lines = LineSplitter()
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Add bytes; return the events completed by them."""
        return self._process(self._lines.feed(data))

    def close(self) -> list[SSEEvent]:
        """End of stream: flush a last event even if the server left out the final blank line."""
        events = self._process(self._lines.close())
        if self._data:
            events.append(SSEEvent(self._event or "message", "\n".join(self._data), self._id))
            self._data = []
            self._event = ""
        return events

    def _process(self, lines: list[bytes]) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        for raw in lines:
            if not raw:
                if self._data:
                    data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
                    events.append(SSEEvent(self._event or "message", data, self._id))
                    self._data = []
                self._event = ""
                continue
            if raw.startswith(b"data: "):  # the common case, checked first
                self._data.append(raw[6:].decode("utf-8", "replace"))
                continue
            if raw[:1] == b":":
                continue  # comment / keep-alive
            line = raw.decode("utf-8", "replace")
            name, sep, value = line.partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id" and "\0" not in value:
                self._id = value
            # "retry" and unknown fields are ignored, as the standard says.
        return events
