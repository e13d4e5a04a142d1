"""Engine events: one pydantic model per wire shape, discriminated on ``type``.

Each event serialises (``to_wire``) to exactly the JSON of DESIGN.md "Events on the wire":
the same objects go to ``agentkit run --json`` (one per line), into the stored event log,
and through the TUI. Metadata such as turn id, sequence and time is never inside the wire
object; the store keeps it in columns. ``notice`` and ``result`` on every turn are our two
documented extensions; extra optional keys inside ``data`` (who decided an approval, which
rule) are left out when unset.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from app.engine.mode_events import (
    ExpertInfo,
    ExpertResultData,
    ExpertResultEvent,
    ExpertStepData,
    ExpertStepEvent,
    PhaseCompletedData,
    PhaseCompletedEvent,
    PhaseFailedData,
    PhaseFailedEvent,
    PhaseInfo,
    PhaseStartedData,
    PhaseStartedEvent,
    PhaseStatus,
    PlanStepData,
    PlanStepEvent,
    PlanUpdateData,
    PlanUpdateEvent,
    ReplanningData,
    ReplanningEvent,
    StepKind,
    TeamDissolvedData,
    TeamDissolvedEvent,
    TeamFormedData,
    TeamFormedEvent,
    TeamSynthesisData,
    TeamSynthesisEvent,
)
from app.engine.person_events import (
    AskHumanEvent,
    ConfirmationRequestData,
    ConfirmationRequestEvent,
    ConfirmationResultData,
    ConfirmationResultEvent,
    Decider,
    LaterCallData,
    ask_human,
    confirmation_request,
    confirmation_result,
)
from app.engine.wire import Redacted, Wire
from app.textsafe import redact_url_credentials

#: The plan and team event models live in ``app.engine.mode_events``, the person's in
#: ``app.engine.person_events`` (with their constructors); they are re-exported here.
__all__ = [
    "AskHumanEvent",
    "ConfirmationRequestData",
    "ConfirmationRequestEvent",
    "ConfirmationResultData",
    "ConfirmationResultEvent",
    "Decider",
    "ExpertInfo",
    "ExpertResultData",
    "ExpertResultEvent",
    "ExpertStepData",
    "ExpertStepEvent",
    "LaterCallData",
    "PhaseCompletedData",
    "PhaseCompletedEvent",
    "PhaseFailedData",
    "PhaseFailedEvent",
    "PhaseInfo",
    "PhaseStartedData",
    "PhaseStartedEvent",
    "PhaseStatus",
    "PlanStepData",
    "PlanStepEvent",
    "PlanUpdateData",
    "PlanUpdateEvent",
    "ReplanningData",
    "ReplanningEvent",
    "StepKind",
    "TeamDissolvedData",
    "TeamDissolvedEvent",
    "TeamFormedData",
    "TeamFormedEvent",
    "TeamSynthesisData",
    "TeamSynthesisEvent",
    "ask_human",
    "confirmation_request",
    "confirmation_result",
]

TurnStatus = Literal["completed", "cancelled", "error", "max_steps", "loop_stopped"]

MAX_ERROR_CHARS = 200


# --------------------------------------------------------------------------- text


class TokenEvent(Wire):
    """A piece of the streamed answer."""

    type: Literal["token"] = "token"
    content: str


class ThinkingEvent(Wire):
    """Reasoning text, or the text a step produced before it called tools (a relabel)."""

    type: Literal["thinking"] = "thinking"
    content: str


class FinalAnswerEvent(Wire):
    """The whole final answer of the turn."""

    type: Literal["final_answer"] = "final_answer"
    content: str
    is_final: Literal[True] = True


# --------------------------------------------------------------------------- routing


class SkillMatchData(Wire):
    skill: str
    method: str
    confidence: float


class SkillMatchEvent(Wire):
    """The message was routed to a skill."""

    type: Literal["skill_match"] = "skill_match"
    data: SkillMatchData


class NoticeData(Wire):
    code: str
    message: Redacted


class NoticeEvent(Wire):
    """A small note for the person: a mode fallback, a budget note, a local answer."""

    type: Literal["notice"] = "notice"
    data: NoticeData


# --------------------------------------------------------------------------- tool steps


class ToolCallData(Wire):
    id: str
    name: str
    arguments: dict[str, Any]


class ToolResultData(Wire):
    id: str
    name: str
    output: str
    is_error: bool = False
    duration_ms: int | None = None


class CallStep(Wire):
    event_type: Literal["tool_call"] = "tool_call"
    step: int
    data: ToolCallData


class ResultStep(Wire):
    event_type: Literal["tool_result"] = "tool_result"
    step: int
    data: ToolResultData


class StepEvent(Wire):
    """A tool call the model made, or its result (``data.event_type`` says which)."""

    type: Literal["step"] = "step"
    data: Annotated[CallStep | ResultStep, Field(discriminator="event_type")]


# --------------------------------------------------------------------------- turn end


class ErrorData(Wire):
    message: Redacted = Field(max_length=MAX_ERROR_CHARS)
    #: More about it, where ``message`` must stay a fixed text clients match on.
    detail: Redacted | None = Field(default=None, max_length=MAX_ERROR_CHARS)


class ErrorEvent(Wire):
    """A short error (no stack trace)."""

    type: Literal["error"] = "error"
    data: ErrorData


class ResultData(Wire):
    status: TurnStatus


class ResultEvent(Wire):
    """Ends every turn."""

    type: Literal["result"] = "result"
    data: ResultData


class UsageData(Wire):
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    #: The last request's size and the model's window, in tokens (when known).
    context_tokens: int | None = None
    context_window: int | None = None
    #: What the tokens cost in US dollars, where the model's price is known.
    cost_usd: float | None = None


class UsageEvent(Wire):
    """Tokens used by one model during the turn."""

    type: Literal["usage"] = "usage"
    data: UsageData


Event = Annotated[
    TokenEvent
    | ThinkingEvent
    | FinalAnswerEvent
    | SkillMatchEvent
    | NoticeEvent
    | StepEvent
    | ConfirmationRequestEvent
    | ConfirmationResultEvent
    | AskHumanEvent
    | ErrorEvent
    | ResultEvent
    | UsageEvent
    | PlanUpdateEvent
    | PlanStepEvent
    | PhaseStartedEvent
    | PhaseCompletedEvent
    | PhaseFailedEvent
    | ReplanningEvent
    | TeamFormedEvent
    | ExpertStepEvent
    | ExpertResultEvent
    | TeamSynthesisEvent
    | TeamDissolvedEvent,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

#: Event types written to the session's event log. Tokens and thinking deltas are not:
#: the messages table holds the text (saved at least once a second).
LOGGED_TYPES = frozenset(
    {
        "skill_match",
        "notice",
        "step",
        "confirmation_request",
        "confirmation_result",
        "ask_human",
        "error",
        "result",
        "usage",
        "plan_update",
        "plan_step",
        "phase_started",
        "phase_completed",
        "phase_failed",
        "replanning",
        "team_formed",
        "expert_step",
        "expert_result",
        "team_synthesis",
        "team_dissolved",
    }
)


def to_wire(event: Event) -> dict[str, Any]:
    """The event as the JSON object of the wire protocol (unset optional keys left out)."""
    return event.model_dump(mode="json", exclude_none=True)


def from_wire(data: dict[str, Any]) -> Event:
    """Parse a wire object back into its event model (raises on an unknown shape)."""
    return EVENT_ADAPTER.validate_python(data)


def short_error(message: str, detail: str | None = None) -> ErrorEvent:
    """An error event whose message (and ``detail``, if any) is one line of at most 200
    characters (URL credentials masked before it is cut, so a cut cannot leave half a
    password behind)."""
    line = _one_short_line(message)
    more = _one_short_line(detail) if detail else None
    return ErrorEvent(data=ErrorData(message=line or "unknown error", detail=more or None))


def _one_short_line(text: str) -> str:
    line = " ".join(redact_url_credentials(text).split())
    if len(line) > MAX_ERROR_CHARS:
        line = line[: MAX_ERROR_CHARS - 1] + "…"
    return line


def notice(code: str, message: str) -> NoticeEvent:
    """A ``notice`` event."""
    return NoticeEvent(data=NoticeData(code=code, message=message))


def result(status: TurnStatus) -> ResultEvent:
    """The ``result`` event that ends every turn."""
    return ResultEvent(data=ResultData(status=status))


def skill_match(skill: str, method: str, confidence: float) -> SkillMatchEvent:
    """A ``skill_match`` event: which skill the message was routed to, and how."""
    return SkillMatchEvent(data=SkillMatchData(skill=skill, method=method, confidence=confidence))


def tool_call(step: int, call_id: str, name: str, arguments: dict[str, Any]) -> StepEvent:
    """A ``step`` event announcing a tool call."""
    call = ToolCallData(id=call_id, name=name, arguments=arguments)
    return StepEvent(data=CallStep(step=step, data=call))


def tool_result(
    step: int,
    call_id: str,
    name: str,
    output: str,
    *,
    is_error: bool = False,
    duration_ms: int | None = None,
) -> StepEvent:
    """A ``step`` event carrying a tool call's result."""
    data = ToolResultData(
        id=call_id, name=name, output=output, is_error=is_error, duration_ms=duration_ms
    )
    return StepEvent(data=ResultStep(step=step, data=data))


def usage(
    input_tokens: int,
    output_tokens: int,
    model: str,
    context: tuple[int, int] | None = None,
    cost_usd: float | None = None,
) -> UsageEvent:
    """A ``usage`` event: one model's tokens in the turn (``context``: last request, window;
    ``cost_usd``: their price, when known)."""
    tokens, window = context or (None, None)
    data = {"context_tokens": tokens, "context_window": window, "cost_usd": cost_usd}
    return UsageEvent(
        data=UsageData(input_tokens=input_tokens, output_tokens=output_tokens, model=model, **data)
    )
