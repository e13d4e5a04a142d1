"""A stdio MCP server's stderr: read by a thread into the log file, never the terminal; its
first lines are kept for the failure notice."""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TextIO

from app.textsafe import strip_controls

#: How many lines of a server's stderr a failure notice shows.
STDERR_LINES = 5


@dataclass
class StderrSink:
    """A pipe for a stdio server's stderr, read by a thread into the log file."""

    server: str
    log_file: Path | None
    head: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        #: Set when the pipe is at its end: the server process is gone.
        self.ended = threading.Event()
        read_fd, write_fd = os.pipe()
        self.writer: TextIO = os.fdopen(write_fd, "w")
        self._thread = threading.Thread(
            target=self._pump, args=(read_fd,), name=f"mcp-stderr-{self.server}", daemon=True
        )
        self._thread.start()

    def _pump(self, read_fd: int) -> None:
        log_handle: IO[str] | None = None
        if self.log_file is not None:
            try:
                log_handle = open(self.log_file, "a", encoding="utf-8")  # noqa: SIM115
            except OSError:
                log_handle = None
        try:
            with os.fdopen(read_fd, "rb") as source:
                for raw in source:
                    line = strip_controls(raw.decode("utf-8", "replace")).rstrip("\n")
                    if len(self.head) < STDERR_LINES and line.strip():
                        self.head.append(line)
                    if log_handle is not None:
                        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
                        log_handle.write(f"{stamp} mcp[{self.server}] stderr: {line}\n")
                        log_handle.flush()
        finally:
            self.ended.set()
            if log_handle is not None:
                log_handle.close()

    def close_writer(self) -> None:
        """Drop our copy of the pipe's write end (the server keeps its own)."""
        if not self.writer.closed:
            self.writer.close()

    async def drained(self, within: float = 2.0) -> None:
        """Wait (a little) until everything the server wrote has been read."""
        self.close_writer()
        await asyncio.to_thread(self._thread.join, within)
