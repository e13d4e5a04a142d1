"""The JSON bodies of the API: what clients send (validated) and what they get back.

Field names follow the reference chat service, so its clients read ours. Times are ISO 8601
strings. A few fields are extensions (``status`` on a message, ``denied`` on a reply); a
client of the reference ignores them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from app.llm.surrogates import fix_surrogates_in
from app.store import Message, Session
from app.store.models import MessageStatus, Role, SessionStatus

# --------------------------------------------------------------------------- REST out


class SessionOut(BaseModel):
    """A session as the reference returns it."""

    session_id: str
    agent_name: str
    status: SessionStatus
    metadata: dict[str, Any]
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, session: Session) -> SessionOut:
        """The API shape of a stored session."""
        return cls(
            session_id=session.id,
            agent_name=session.agent_name,
            status=session.status,
            metadata=session.metadata,
            created_at=session.created_at.isoformat(),
            updated_at=session.updated_at.isoformat(),
        )


class MessageOut(BaseModel):
    """A message as the reference returns it (plus ``status``: complete, cancelled, …;
    ``agent_name`` is null on the person's messages)."""

    message_id: str
    session_id: str
    role: Role
    content: str
    tool_call_id: str | None
    agent_name: str | None
    created_at: str
    status: MessageStatus = "complete"

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        """The API shape of a stored message."""
        return cls(
            message_id=str(message.id),
            session_id=message.session_id,
            role=message.role,
            content=message.content,
            tool_call_id=message.tool_call_id,
            # As the reference: the person's messages belong to no agent.
            agent_name=None if message.role == "user" else message.agent_name,
            created_at=message.created_at.isoformat(),
            status=message.status,
        )


class DeniedCall(BaseModel):
    """A tool call the server's approval rule refused during a REST turn."""

    tool: str
    command: str
    reason: str


class ReplyOut(MessageOut):
    """The assistant's reply to a REST message, with the calls that were not allowed to run."""

    denied: list[DeniedCall] = Field(default_factory=list)


class ClosedOut(BaseModel):
    """What closing a session returns."""

    status: Literal["closed"] = "closed"
    session_id: str


# --------------------------------------------------------------------------- REST in


class _ClientBody(BaseModel):
    """What a client sends: every string as JSON parsed it, with lone UTF-16 surrogates as
    U+FFFD (they cannot be saved, and pydantic refuses them with an error that cannot be
    printed, which would be a 500)."""

    @model_validator(mode="before")
    @classmethod
    def _encodable(cls, data: Any) -> Any:
        return fix_surrogates_in(data)


class CreateSessionIn(_ClientBody):
    """``POST /chat/sessions``."""

    agent_name: str = Field(min_length=1, max_length=200)
    metadata: dict[str, Any] | None = None


class SendMessageIn(_ClientBody):
    """``POST /chat/sessions/{id}/messages``: a person's message starts a turn."""

    content: str = Field(min_length=1)
    role: str = Field(
        default="user",
        description="Accepted and ignored, as by the reference: the message is the person's.",
    )

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("content is empty")
        return value


# --------------------------------------------------------------------------- WebSocket in


class _ClientMessage(_ClientBody):
    model_config = ConfigDict(extra="ignore")


class WsUserMessage(_ClientMessage):
    """Start a turn."""

    type: Literal["message"]
    content: str = Field(min_length=1)
    model: str | None = None


class WsReply(_ClientMessage):
    """Answer an ``ask_human`` question: free text, also when the question offered
    ``choices`` (a choice is answered with its text)."""

    type: Literal["reply"]
    request_id: str
    #: Missing (or null) is an empty answer, as the reference read it.
    content: str | None = None


class WsConfirmationReply(_ClientMessage):
    """Approve or deny a ``confirmation_request``."""

    type: Literal["confirmation_reply"]
    confirmation_id: str
    #: Missing (or null) is a denial, as the reference read it.
    approved: bool | None = None


class WsCancel(_ClientMessage):
    """Stop the turns this connection started."""

    type: Literal["cancel"]


class WsPing(_ClientMessage):
    """Answered with ``pong``."""

    type: Literal["ping"]


ClientMessage = Annotated[
    WsUserMessage | WsReply | WsConfirmationReply | WsCancel | WsPing,
    Field(discriminator="type"),
]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
CLIENT_TYPES = ("message", "reply", "confirmation_reply", "cancel", "ping")
