"""Collect a gateway stream into one summary object, for assertions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from app.llm.errors import LLMError
from app.llm.types import (
    Chunk,
    FinishChunk,
    ReasoningBlock,
    ReasoningChunk,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallChunk,
    UsageChunk,
)


@dataclass
class Collected:
    """Everything a stream produced, and the error that ended it, if any."""

    chunks: list[Chunk] = field(default_factory=list)
    error: LLMError | None = None

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chunks if isinstance(c, TextDelta))

    @property
    def thinking(self) -> str:
        return "".join(c.text for c in self.chunks if isinstance(c, ThinkingDelta))

    @property
    def calls(self) -> list[ToolCall]:
        return [c.call for c in self.chunks if isinstance(c, ToolCallChunk)]

    @property
    def reasoning(self) -> list[ReasoningBlock]:
        return [c.block for c in self.chunks if isinstance(c, ReasoningChunk)]

    @property
    def usage(self) -> UsageChunk | None:
        return next((c for c in self.chunks if isinstance(c, UsageChunk)), None)

    @property
    def finish(self) -> FinishChunk | None:
        return next((c for c in self.chunks if isinstance(c, FinishChunk)), None)


async def collect(stream: AsyncIterator[Chunk], *, catch: bool = True) -> Collected:
    """Drain ``stream``; with ``catch`` an LLMError is stored instead of raised."""
    result = Collected()
    try:
        async with contextlib.aclosing(stream) as chunks:  # type: ignore[type-var]
            async for chunk in chunks:
                result.chunks.append(chunk)
    except LLMError as exc:
        if not catch:
            raise
        result.error = exc
    return result
