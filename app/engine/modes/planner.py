"""The planner's reply in PLAN_EXEC mode, validated, and the plan's phases as they run."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.engine.modes.errors import ReplyInvalid
from app.engine.modes.replies import MAX_PHASES, PhaseSpec, parse_phases, unique_phase_ids
from app.engine.modes.synthesis import Phase


class PlannedPhase(PhaseSpec):
    """One phase as the planner wrote it."""

    produces: str = Field(min_length=1)


class Plan(BaseModel):
    """The planner's reply."""

    model_config = ConfigDict(extra="ignore")

    phases: list[PlannedPhase] = Field(min_length=1, max_length=MAX_PHASES)

    _unique = field_validator("phases")(unique_phase_ids)


def parse_plan(text: str, minimum: int = 2) -> Plan:
    """Validate a planner reply into a Plan with at least ``minimum`` phases."""
    plan = parse_phases(text, Plan)
    if len(plan.phases) < minimum:
        raise ReplyInvalid(f"phases: the plan needs {minimum} to {MAX_PHASES} phases")
    return plan


@dataclass
class PhaseState(Phase):
    """A phase of the plan as it runs."""

    produces: str = ""


def states(plan: Plan, taken: set[str], attempt: int) -> list[PhaseState]:
    """The planned phases as they will run; an id already taken gets a suffix."""
    made = []
    for phase in plan.phases:
        phase_id = phase.id
        while phase_id in taken:
            phase_id = f"{phase_id}-r{attempt}"
        taken.add(phase_id)
        made.append(PhaseState(phase_id, phase.title, phase.goal, produces=phase.produces))
    return made
