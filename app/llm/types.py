"""Provider-neutral chat types: messages, tool calls, requests and stream chunks.

One model of a conversation, stored verbatim by the engine and converted per wire
protocol only at the edge (see ``openai_chat``, ``anthropic`` and ``ollama``). Every
adapter yields the same chunk union, in this order: text and thinking deltas as they
arrive, then any :class:`ReasoningChunk` and :class:`ToolCallChunk`, then at most one
:class:`UsageChunk`, and always a :class:`FinishChunk` last.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
#: Normalised reasons a reply ended; the provider's own word is kept in ``native_reason``.
FinishReason = Literal["stop", "tool_calls", "length", "content_filter", "other"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReasoningBlock(_Model):
    """Opaque reasoning the provider needs back on the next request (Anthropic thinking)."""

    kind: Literal["thinking", "redacted_thinking", "reasoning_content"]
    text: str = ""
    #: Anthropic's signature of a thinking block; a block without one is never replayed.
    signature: str | None = None
    #: The encrypted payload of a ``redacted_thinking`` block.
    data: str | None = None
    #: Provider kind that produced the block (``anthropic``, ``openai``, ``ollama``).
    provider: str | None = None
    model: str | None = None


class ToolCall(_Model):
    """One call the model asked for, with its arguments parsed once at the end of the stream."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    #: The argument text exactly as the model sent it (kept so errors can quote it).
    raw_arguments: str | None = None
    #: Why the arguments could not be used; the engine reports this back to the model.
    parse_error: str | None = None
    #: The provider's own id when we had to make one up or rewrite it.
    provider_id: str | None = None


class ChatMessage(_Model):
    """One message of the canonical history (what the engine stores and replays)."""

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    #: For ``role == "tool"``: the id of the call this message answers, and its tool name.
    tool_call_id: str | None = None
    tool_name: str | None = None
    is_error: bool = False
    #: Provider reasoning to replay (Anthropic thinking blocks with signatures).
    reasoning: list[ReasoningBlock] = Field(default_factory=list)

    @property
    def thinking(self) -> str:
        """The readable reasoning text of this message, joined."""
        return "".join(block.text for block in self.reasoning)


class ToolSpec(_Model):
    """A tool the model may call: its name, what it does and its JSON-schema arguments."""

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ChatRequest(_Model):
    """Everything needed for one model call."""

    model: str = "default"
    messages: list[ChatMessage]
    tools: list[ToolSpec] = Field(default_factory=list)
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    #: Ask for extended thinking where the protocol has a switch (Anthropic budget, Ollama think).
    thinking_budget: int | None = Field(default=None, gt=0)
    #: Ollama only: the context window to request (``options.num_ctx``).
    num_ctx: int | None = Field(default=None, gt=0)


# --------------------------------------------------------------------------- chunks


class TextDelta(_Model):
    """A piece of answer text."""

    type: Literal["text"] = "text"
    text: str


class ThinkingDelta(_Model):
    """A piece of reasoning text (thinking, ``reasoning_content``)."""

    type: Literal["thinking"] = "thinking"
    text: str


class ReasoningChunk(_Model):
    """A finished reasoning block to store with the message and replay later."""

    type: Literal["reasoning"] = "reasoning"
    block: ReasoningBlock


class ToolCallChunk(_Model):
    """A complete tool call (arguments parsed, or ``parse_error`` set)."""

    type: Literal["tool_call"] = "tool_call"
    call: ToolCall


class UsageChunk(_Model):
    """Token counts for the call; ``raw`` is the provider's own usage object."""

    type: Literal["usage"] = "usage"
    input_tokens: int = 0
    output_tokens: int = 0
    raw: dict[str, Any] = Field(default_factory=dict)


class FinishChunk(_Model):
    """The reply is complete; always the last chunk of a successful stream."""

    type: Literal["finish"] = "finish"
    reason: FinishReason
    #: The protocol's own value (``end_turn``, ``tool_calls``, ``stop`` …) or None.
    native_reason: str | None = None
    #: The resolved ``provider/model`` that produced the reply.
    model: str = ""


Chunk = Annotated[
    TextDelta | ThinkingDelta | ReasoningChunk | ToolCallChunk | UsageChunk | FinishChunk,
    Field(discriminator="type"),
]

#: An item of a gateway batch: a chunk, or a piece of answer text as a plain ``str`` (the
#: hot path builds no model per token; :meth:`Gateway.stream` makes it a :class:`TextDelta`).
Piece = TextDelta | ThinkingDelta | ReasoningChunk | ToolCallChunk | UsageChunk | FinishChunk | str


class ChatResponse(_Model):
    """A whole reply, as :meth:`Gateway.chat` returns it."""

    message: ChatMessage
    finish_reason: FinishReason
    native_reason: str | None = None
    usage: UsageChunk | None = None
    model: str = ""


def finish_reason(native: str | None, *, has_tool_calls: bool) -> FinishReason:
    """Map a provider's stop word to ours; tool calls win over a plain ``stop``."""
    if native in ("length", "max_tokens", "model_length"):
        return "length"
    if has_tool_calls:
        return "tool_calls"
    if native in (None, "stop", "end_turn", "stop_sequence", "eos", "unload", "load"):
        return "stop"
    if native in ("tool_calls", "tool_use", "function_call"):
        return "stop"
    if native in ("content_filter", "refusal", "safety"):
        return "content_filter"
    return "other"


#: What reading a JSON value of the wrong shape raises (``{"choices": "oops"}``): a decoder
#: that meets one treats the event like invalid JSON.
SCHEMA_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError)


def token_count(value: Any) -> int:
    """A token count from a provider's usage object; anything but a number counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return max(0, int(value))


def text_or_none(value: Any) -> str | None:
    """``value`` if it is a non-empty string (ids, names, stop reasons), else None."""
    return value if isinstance(value, str) and value else None
