"""Rows of the session store as pydantic models (plain data, no database handles)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
SessionStatus = Literal["active", "closed"]
MessageStatus = Literal["complete", "streaming", "cancelled", "error", "interrupted"]

ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")
MESSAGE_STATUSES: tuple[MessageStatus, ...] = (
    "complete",
    "streaming",
    "cancelled",
    "error",
    "interrupted",
)


class ToolCallRecord(BaseModel):
    """A tool call an assistant message made. Unknown keys are kept for later versions."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = Field(
        default=None, description="What the model sent when it was not valid JSON."
    )


class Session(BaseModel):
    """A conversation bound to one agent."""

    id: str
    agent_name: str
    title: str
    status: SessionStatus
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    preview: str = Field(description="The start of the last user or assistant message.")
    message_count: int = Field(description="User and assistant messages of the main thread.")
    last_seq: int

    @property
    def is_closed(self) -> bool:
        """Whether the session refuses new messages."""
        return self.status == "closed"


class Message(BaseModel):
    """One stored message; ``seq`` orders it within its session."""

    id: int
    session_id: str
    seq: int
    role: Role
    content: str
    thinking: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    tool_call_id: str | None = None
    tool_name: str | None = None
    is_error: bool = False
    agent_name: str | None = None
    model: str | None = None
    status: MessageStatus = "complete"
    usage: dict[str, Any] | None = None
    reasoning: list[dict[str, Any]] | None = Field(
        default=None, description="Opaque provider reasoning blocks needed to replay a turn."
    )
    turn_id: str | None = None
    thread: str = "main"
    created_at: datetime
    updated_at: datetime
    summary_through: int | None = Field(
        default=None,
        description="A compaction summary: the last seq of the conversation it stands for.",
    )


class HistoryMessage(BaseModel):
    """A message as the model sees it next turn (see ``SessionStore.get_chat_messages``)."""

    role: Role
    content: str
    thinking: str = ""
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    tool_call_id: str | None = None
    tool_name: str | None = None
    is_error: bool = False
    reasoning: list[dict[str, Any]] | None = None
    model: str | None = None
    synthetic: bool = Field(
        default=False, description="Made by the store to repair the history, not stored."
    )
    summary: bool = Field(
        default=False, description="A compaction summary of the conversation before it."
    )


class Event(BaseModel):
    """One entry of a session's event log (approvals, skill matches, plan and team events)."""

    id: int
    session_id: str
    seq: int
    type: str
    data: dict[str, Any]
    turn_id: str | None = None
    created_at: datetime


class SearchHit(BaseModel):
    """A search result: a session title or a message, with a snippet and match spans."""

    kind: Literal["title", "message"]
    session_id: str
    session_title: str
    message_id: int | None = None
    seq: int | None = None
    role: Role | None = None
    snippet: str
    highlights: list[tuple[int, int]] = Field(
        default_factory=list, description="(start, end) offsets of matches in ``snippet``."
    )
    created_at: datetime
