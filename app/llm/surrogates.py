"""UTF-16 surrogates in text that came from JSON: pair them up, replace the lone ones.

JSON escapes a character outside the Basic Multilingual Plane as two ``\\uXXXX``
escapes (a surrogate pair), and Python's ``json.loads`` turns a lone escape into a lone
surrogate code point. Some servers split a pair across two stream events, so a delta can
end in half a character. Such a ``str`` cannot be encoded as UTF-8: saving or printing
it raises. :class:`SurrogateJoiner` holds a trailing high surrogate back until the next
delta, :func:`fix_surrogates` joins adjacent pairs into one character and turns every
lone surrogate into U+FFFD, and :class:`ChunkCleaner` applies both to a reply's chunks.
"""

from __future__ import annotations

import re
from typing import Any

from app.llm.types import (
    Chunk,
    FinishChunk,
    ReasoningChunk,
    TextDelta,
    ThinkingDelta,
    ToolCallChunk,
    UsageChunk,
)

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def fix_surrogates(text: str) -> str:
    """``text`` with surrogate pairs joined into one character and lone surrogates as U+FFFD."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    # UTF-16 is where surrogates belong: encoding keeps them as code units, decoding pairs
    # them up and replaces every unit that has no partner.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def fix_surrogates_in(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings) with :func:`fix_surrogates` on every string."""
    if isinstance(value, str):
        return fix_surrogates(value)
    if isinstance(value, dict):
        return {fix_surrogates_in(key): fix_surrogates_in(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fix_surrogates_in(item) for item in value]
    return value


def _is_high(char: str) -> bool:
    return "\ud800" <= char <= "\udbff"


class SurrogateJoiner:
    """Cleans one stream of text deltas; the two halves of a pair may come in two deltas."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        #: A high surrogate at the end of the last delta, waiting for its other half.
        self.held = ""

    def push(self, text: str) -> str:
        """The clean text of the next delta (a trailing high surrogate is held back)."""
        if self.held:
            text, self.held = self.held + text, ""
        elif text.isascii():
            return text
        if text and _is_high(text[-1]):
            text, self.held = text[:-1], text[-1]
        return fix_surrogates(text)

    def flush(self) -> str:
        """End of the stream: a half that never found its partner, as U+FFFD (or nothing)."""
        held, self.held = self.held, ""
        return REPLACEMENT if held else ""


class ChunkCleaner:
    """Makes every string in a reply's chunks encodable: answer and thinking deltas are
    joined across chunks, tool calls, reasoning and usage are cleaned whole."""

    __slots__ = ("_thinking", "text")

    def __init__(self) -> None:
        #: The answer's joiner (``text.held``: half a character waits for its other half).
        self.text = SurrogateJoiner()
        self._thinking = SurrogateJoiner()

    def clean(self, chunk: Chunk) -> list[Chunk]:
        """The clean chunks to pass on for ``chunk`` (none while its text is held back)."""
        if isinstance(chunk, TextDelta):
            text = self.text.push(chunk.text)
            if text == chunk.text:
                return [chunk]
            return [TextDelta(text=text)] if text else []
        if isinstance(chunk, ThinkingDelta):
            text = self._thinking.push(chunk.text)
            if text == chunk.text:
                return [chunk]
            return [ThinkingDelta(text=text)] if text else []
        out = self.flush()
        out.append(_clean_whole(chunk))
        return out

    def flush(self) -> list[Chunk]:
        """Deltas for halves still held back (the reply ended, or broke off)."""
        out: list[Chunk] = []
        thinking = self._thinking.flush()
        if thinking:
            out.append(ThinkingDelta(text=thinking))
        text = self.text.flush()
        if text:
            out.append(TextDelta(text=text))
        return out


def _clean_whole(chunk: Chunk) -> Chunk:
    """A tool call, reasoning block, usage or finish chunk with every string cleaned."""
    if isinstance(chunk, ToolCallChunk):
        field_values: Any = chunk.call.model_dump()
        fixed = fix_surrogates_in(field_values)
        if fixed == field_values:
            return chunk
        return ToolCallChunk(call=chunk.call.model_validate(fixed))
    if isinstance(chunk, ReasoningChunk | UsageChunk | FinishChunk):
        dumped: Any = chunk.model_dump()
        fixed = fix_surrogates_in(dumped)
        return chunk if fixed == dumped else type(chunk).model_validate(fixed)
    return chunk
