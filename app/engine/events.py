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

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from app.textsafe import redact_url_credentials

TurnStatus = Literal["completed", "cancelled", "error", "max_steps", "loop_stopped"]
PhaseStatus = Literal["pending", "running", "done", "failed", "skipped"]
Decider = Literal["user", "policy", "rule", "timeout", "cancelled", "session_rule"]

MAX_ERROR_CHARS = 200


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: An error or a note built from what failed (an exception, a provider's message): the
#: credentials of any URL in it are masked whoever built the event, so no stored, printed
#: or sent event carries them (the last line of defence; the gateway masks its errors too).
Redacted = Annotated[str, BeforeValidator(redact_url_credentials)]


# --------------------------------------------------------------------------- text


class TokenEvent(_Wire):
    """A piece of the streamed answer."""

    type: Literal["token"] = "token"
    content: str


class ThinkingEvent(_Wire):
    """Reasoning text, or the text a step produced before it called tools (a relabel)."""

    type: Literal["thinking"] = "thinking"
    content: str


class FinalAnswerEvent(_Wire):
    """The whole final answer of the turn."""

    type: Literal["final_answer"] = "final_answer"
    content: str
    is_final: Literal[True] = True


# --------------------------------------------------------------------------- routing


class SkillMatchData(_Wire):
    skill: str
    method: str
    confidence: float


class SkillMatchEvent(_Wire):
    """The message was routed to a skill."""

    type: Literal["skill_match"] = "skill_match"
    data: SkillMatchData


class NoticeData(_Wire):
    code: str
    message: Redacted


class NoticeEvent(_Wire):
    """A small note for the person: a mode fallback, a budget note, a local answer."""

    type: Literal["notice"] = "notice"
    data: NoticeData


# --------------------------------------------------------------------------- tool steps


class ToolCallData(_Wire):
    id: str
    name: str
    arguments: dict[str, Any]


class ToolResultData(_Wire):
    id: str
    name: str
    output: str
    is_error: bool = False
    duration_ms: int | None = None


class CallStep(_Wire):
    event_type: Literal["tool_call"] = "tool_call"
    step: int
    data: ToolCallData


class ResultStep(_Wire):
    event_type: Literal["tool_result"] = "tool_result"
    step: int
    data: ToolResultData


class StepEvent(_Wire):
    """A tool call the model made, or its result (``data.event_type`` says which)."""

    type: Literal["step"] = "step"
    data: Annotated[CallStep | ResultStep, Field(discriminator="event_type")]


# --------------------------------------------------------------------------- the person


class LaterCallData(_Wire):
    #: The tool call's id (what a ``Decision.covers`` names).
    id: str
    tool: str
    command: str


class ConfirmationRequestData(_Wire):
    confirmation_id: str
    command: str
    reason: str
    tool: str | None = None
    proposed_rule: str | None = None
    #: Who asks, when an expert of a team (or a plan phase) made the call.
    expert_name: str | None = None
    #: For commands: whether they run in the OS sandbox, in words.
    sandbox: str | None = None
    #: Later calls of the same step the policy will also ask about (left out when none), so
    #: one answer can cover them by call id.
    later_calls: list[LaterCallData] | None = None


class ConfirmationRequestEvent(_Wire):
    """A tool call waits for the person's approval."""

    type: Literal["confirmation_request"] = "confirmation_request"
    data: ConfirmationRequestData


class ConfirmationResultData(_Wire):
    confirmation_id: str
    approved: bool
    decider: Decider | None = None
    rule: str | None = None
    scope: str | None = None
    tool: str | None = None
    command: str | None = None


class ConfirmationResultEvent(_Wire):
    """How an approval was decided, by whom, and by which rule."""

    type: Literal["confirmation_result"] = "confirmation_result"
    data: ConfirmationResultData


class AskHumanEvent(_Wire):
    """The agent asks the person a question and waits for the reply."""

    type: Literal["ask_human"] = "ask_human"
    question: str
    request_id: str


# --------------------------------------------------------------------------- turn end


class ErrorData(_Wire):
    message: Redacted = Field(max_length=MAX_ERROR_CHARS)
    #: More about it, where ``message`` must stay a fixed text clients match on.
    detail: Redacted | None = Field(default=None, max_length=MAX_ERROR_CHARS)


class ErrorEvent(_Wire):
    """A short error (no stack trace)."""

    type: Literal["error"] = "error"
    data: ErrorData


class ResultData(_Wire):
    status: TurnStatus


class ResultEvent(_Wire):
    """Ends every turn."""

    type: Literal["result"] = "result"
    data: ResultData


class UsageData(_Wire):
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""


class UsageEvent(_Wire):
    """Tokens used by one model during the turn."""

    type: Literal["usage"] = "usage"
    data: UsageData


# --------------------------------------------------------------------------- plan


StepKind = Literal["text", "tool_call", "tool_result", "note"]


class PhaseInfo(_Wire):
    id: str
    title: str
    status: PhaseStatus
    #: Team mode: the expert the phase is assigned to (absent in plan mode).
    expert_id: str | None = None


class PlanUpdateData(_Wire):
    plan_phases: list[PhaseInfo]


class PlanUpdateEvent(_Wire):
    """Every phase of the current plan with its status (sent whenever one changes)."""

    type: Literal["plan_update"] = "plan_update"
    data: PlanUpdateData


class PlanStepData(_Wire):
    phase_id: str
    step: int
    content: str
    #: ``text``: a piece of streamed text, appended to the earlier pieces of the same step;
    #: ``tool_call`` / ``tool_result`` / ``note``: one line of its own.
    kind: StepKind | None = None
    #: For ``tool_call`` / ``tool_result``: the id of the call, as in its ``step`` event.
    call_id: str | None = None


class PlanStepEvent(_Wire):
    """Progress inside the running phase (``step`` counts its model calls from 1)."""

    type: Literal["plan_step"] = "plan_step"
    data: PlanStepData


class PhaseStartedData(_Wire):
    phase_id: str
    index: int
    title: str


class PhaseStartedEvent(_Wire):
    """A phase starts; ``index`` is its position (from 0) in the last ``plan_update``."""

    type: Literal["phase_started"] = "phase_started"
    data: PhaseStartedData


class PhaseCompletedData(_Wire):
    phase_id: str
    result: str


class PhaseCompletedEvent(_Wire):
    """A phase finished; ``result`` is a short summary of what it produced."""

    type: Literal["phase_completed"] = "phase_completed"
    data: PhaseCompletedData


class PhaseFailedData(_Wire):
    phase_id: str
    error: Redacted


class PhaseFailedEvent(_Wire):
    """A phase failed (or was stopped), with the reason."""

    type: Literal["phase_failed"] = "phase_failed"
    data: PhaseFailedData


class ReplanningData(_Wire):
    reason: Redacted
    attempt: int


class ReplanningEvent(_Wire):
    """A phase failed and the remaining work is being planned again (``attempt`` from 1)."""

    type: Literal["replanning"] = "replanning"
    data: ReplanningData


# --------------------------------------------------------------------------- team


class ExpertInfo(_Wire):
    id: str
    name: str
    color: str
    role: str


class TeamFormedData(_Wire):
    team_id: str
    status: str
    experts: list[ExpertInfo]
    #: ``{id, title, status, expert_id, depends_on}`` per phase, in plan order.
    plan_phases: list[dict[str, Any]]
    lead_expert: str


class TeamFormedEvent(_Wire):
    """The lead has planned: the experts and the phases assigned to them."""

    type: Literal["team_formed"] = "team_formed"
    data: TeamFormedData


class ExpertStepData(_Wire):
    expert_id: str
    expert_name: str
    expert_color: str
    content: str
    step: int
    #: The phase the expert is working on, and what kind of progress this is (as in plan_step).
    phase_id: str | None = None
    kind: StepKind | None = None
    call_id: str | None = None


class ExpertStepEvent(_Wire):
    """Progress of one expert: streamed text pieces, tool calls and results."""

    type: Literal["expert_step"] = "expert_step"
    data: ExpertStepData


class ExpertResultData(_Wire):
    expert_id: str
    expert_name: str
    expert_color: str
    content: str
    phase_id: str | None = None
    #: ``done``, or ``failed`` (then ``content`` says why).
    status: Literal["done", "failed"] | None = None


class ExpertResultEvent(_Wire):
    """An expert finished a phase: its result in Markdown, or why it failed."""

    type: Literal["expert_result"] = "expert_result"
    data: ExpertResultData


class TeamSynthesisData(_Wire):
    content: str


class TeamSynthesisEvent(_Wire):
    """The lead's synthesis; the same text is the turn's final answer."""

    type: Literal["team_synthesis"] = "team_synthesis"
    data: TeamSynthesisData


class TeamDissolvedData(_Wire):
    team_id: str


class TeamDissolvedEvent(_Wire):
    """The team's work is over (sent after ``team_formed`` whatever ended the turn)."""

    type: Literal["team_dissolved"] = "team_dissolved"
    data: TeamDissolvedData


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
