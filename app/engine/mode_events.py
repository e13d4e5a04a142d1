"""The events of plan and team mode (see DESIGN.md "Events on the wire"), and their constructors.

``app.engine.events`` re-exports every name here and puts these models in its ``Event`` union;
modes build their events with the constructors at the end, never by nesting models by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from app.engine.wire import Redacted, Wire

PhaseStatus = Literal["pending", "running", "done", "failed", "skipped"]
#: What a progress line is: streamed text, a tool call or result, or a note.
StepKind = Literal["text", "tool_call", "tool_result", "note"]


class PhaseInfo(Wire):
    id: str
    title: str
    status: PhaseStatus
    #: Team mode: the expert the phase is assigned to (absent in plan mode).
    expert_id: str | None = None


class PlanUpdateData(Wire):
    plan_phases: list[PhaseInfo]


class PlanUpdateEvent(Wire):
    """Every phase of the current plan with its status (sent whenever one changes)."""

    type: Literal["plan_update"] = "plan_update"
    data: PlanUpdateData


class PlanStepData(Wire):
    phase_id: str
    step: int
    content: str
    #: ``text``: a piece of streamed text, appended to the earlier pieces of the same step;
    #: ``tool_call`` / ``tool_result`` / ``note``: one line of its own.
    kind: StepKind | None = None
    #: For ``tool_call`` / ``tool_result``: the id of the call, as in its ``step`` event.
    call_id: str | None = None


class PlanStepEvent(Wire):
    """Progress inside the running phase (``step`` counts its model calls from 1)."""

    type: Literal["plan_step"] = "plan_step"
    data: PlanStepData


class PhaseStartedData(Wire):
    phase_id: str
    index: int
    title: str


class PhaseStartedEvent(Wire):
    """A phase starts; ``index`` is its position (from 0) in the last ``plan_update``."""

    type: Literal["phase_started"] = "phase_started"
    data: PhaseStartedData


class PhaseCompletedData(Wire):
    phase_id: str
    result: str


class PhaseCompletedEvent(Wire):
    """A phase finished; ``result`` is a short summary of what it produced."""

    type: Literal["phase_completed"] = "phase_completed"
    data: PhaseCompletedData


class PhaseFailedData(Wire):
    phase_id: str
    error: Redacted


class PhaseFailedEvent(Wire):
    """A phase failed (or was stopped), with the reason."""

    type: Literal["phase_failed"] = "phase_failed"
    data: PhaseFailedData


class ReplanningData(Wire):
    reason: Redacted
    attempt: int


class ReplanningEvent(Wire):
    """A phase failed and the remaining work is being planned again (``attempt`` from 1)."""

    type: Literal["replanning"] = "replanning"
    data: ReplanningData


# --------------------------------------------------------------------------- team


class ExpertInfo(Wire):
    id: str
    name: str
    color: str
    role: str


class TeamFormedData(Wire):
    team_id: str
    status: str
    experts: list[ExpertInfo]
    #: ``{id, title, status, expert_id, depends_on}`` per phase, in plan order.
    plan_phases: list[dict[str, Any]]
    lead_expert: str


class TeamFormedEvent(Wire):
    """The lead has planned: the experts and the phases assigned to them."""

    type: Literal["team_formed"] = "team_formed"
    data: TeamFormedData


class ExpertStepData(Wire):
    expert_id: str
    expert_name: str
    expert_color: str
    content: str
    step: int
    #: The phase the expert is working on, and what kind of progress this is (as in plan_step).
    phase_id: str | None = None
    kind: StepKind | None = None
    call_id: str | None = None


class ExpertStepEvent(Wire):
    """Progress of one expert: streamed text pieces, tool calls and results."""

    type: Literal["expert_step"] = "expert_step"
    data: ExpertStepData


class ExpertResultData(Wire):
    expert_id: str
    expert_name: str
    expert_color: str
    content: str
    phase_id: str | None = None
    #: ``done``, or ``failed`` (then ``content`` says why).
    status: Literal["done", "failed"] | None = None
    #: Tokens (input and output) the expert's model calls used for it; absent when unknown.
    tokens: int | None = None


class ExpertResultEvent(Wire):
    """An expert finished a phase: its result in Markdown, or why it failed."""

    type: Literal["expert_result"] = "expert_result"
    data: ExpertResultData


class TeamSynthesisData(Wire):
    content: str


class TeamSynthesisEvent(Wire):
    """The lead's synthesis; the same text is the turn's final answer."""

    type: Literal["team_synthesis"] = "team_synthesis"
    data: TeamSynthesisData


class TeamDissolvedData(Wire):
    team_id: str


class TeamDissolvedEvent(Wire):
    """The team's work is over (sent after ``team_formed`` whatever ended the turn)."""

    type: Literal["team_dissolved"] = "team_dissolved"
    data: TeamDissolvedData


# --------------------------------------------------------------------------- constructors


class ExpertLike(Protocol):
    """Who an expert event is about: its id, name and colour."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def color(self) -> str: ...


def plan_update(phases: Sequence[PhaseInfo]) -> PlanUpdateEvent:
    """A ``plan_update`` event listing every phase with its status."""
    return PlanUpdateEvent(data=PlanUpdateData(plan_phases=list(phases)))


def plan_step(
    phase_id: str,
    step: int,
    content: str,
    kind: StepKind | None = None,
    call_id: str | None = None,
) -> PlanStepEvent:
    """A ``plan_step`` event: progress inside a running phase."""
    return PlanStepEvent(
        data=PlanStepData(phase_id=phase_id, step=step, content=content, kind=kind, call_id=call_id)
    )


def phase_started(phase_id: str, index: int, title: str) -> PhaseStartedEvent:
    """A ``phase_started`` event."""
    return PhaseStartedEvent(data=PhaseStartedData(phase_id=phase_id, index=index, title=title))


def phase_completed(phase_id: str, result: str) -> PhaseCompletedEvent:
    """A ``phase_completed`` event with the phase's short result."""
    return PhaseCompletedEvent(data=PhaseCompletedData(phase_id=phase_id, result=result))


def phase_failed(phase_id: str, error: str) -> PhaseFailedEvent:
    """A ``phase_failed`` event with the reason."""
    return PhaseFailedEvent(data=PhaseFailedData(phase_id=phase_id, error=error))


def replanning(reason: str, attempt: int) -> ReplanningEvent:
    """A ``replanning`` event (``attempt`` counts from 1)."""
    return ReplanningEvent(data=ReplanningData(reason=reason, attempt=attempt))


def team_formed(
    team_id: str,
    experts: Sequence[ExpertInfo],
    plan_phases: list[dict[str, Any]],
    lead_expert: str,
    status: str = "active",
) -> TeamFormedEvent:
    """A ``team_formed`` event: the experts and the phases assigned to them."""
    return TeamFormedEvent(
        data=TeamFormedData(
            team_id=team_id,
            status=status,
            experts=list(experts),
            plan_phases=plan_phases,
            lead_expert=lead_expert,
        )
    )


def expert_step(
    expert: ExpertLike,
    content: str,
    step: int,
    *,
    phase_id: str | None = None,
    kind: StepKind | None = None,
    call_id: str | None = None,
) -> ExpertStepEvent:
    """An ``expert_step`` event: one piece of an expert's progress."""
    return ExpertStepEvent(
        data=ExpertStepData(
            expert_id=expert.id,
            expert_name=expert.name,
            expert_color=expert.color,
            content=content,
            step=step,
            phase_id=phase_id,
            kind=kind,
            call_id=call_id,
        )
    )


def expert_result(
    expert: ExpertLike,
    content: str,
    *,
    phase_id: str | None = None,
    status: Literal["done", "failed"] | None = None,
    tokens: int | None = None,
) -> ExpertResultEvent:
    """An ``expert_result`` event: an expert's result for a phase, or why it failed."""
    return ExpertResultEvent(
        data=ExpertResultData(
            expert_id=expert.id,
            expert_name=expert.name,
            expert_color=expert.color,
            content=content,
            phase_id=phase_id,
            status=status,
            tokens=tokens,
        )
    )


def team_synthesis(content: str) -> TeamSynthesisEvent:
    """A ``team_synthesis`` event (the same text is the turn's final answer)."""
    return TeamSynthesisEvent(data=TeamSynthesisData(content=content))


def team_dissolved(team_id: str) -> TeamDissolvedEvent:
    """A ``team_dissolved`` event."""
    return TeamDissolvedEvent(data=TeamDissolvedData(team_id=team_id))
