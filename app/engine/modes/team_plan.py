"""The lead's plan in TEAM_COLLAB mode: phases assigned to experts, with dependencies.

The lead replies in JSON; it is checked here: each phase goes to a known expert (by id or
name, in any case) and depends only on known phases, without cycles. ``TeamPhaseState`` is
a phase of that plan as it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from app.engine.modes.errors import ReplyInvalid
from app.engine.modes.replies import MAX_PHASES, PhaseSpec, parse_phases, unique_phase_ids
from app.engine.modes.roster import Expert, Team
from app.engine.modes.synthesis import Phase
from app.engine.modes.text import cut


class TeamPhase(PhaseSpec):
    """One phase as the lead wrote it."""

    expert: str = Field(
        min_length=1, validation_alias=AliasChoices("expert", "assignee", "expert_id")
    )
    depends_on: list[str] = Field(default_factory=list)


class TeamPlan(BaseModel):
    """The lead's reply."""

    model_config = ConfigDict(extra="ignore")

    phases: list[TeamPhase] = Field(min_length=1, max_length=MAX_PHASES)

    _unique = field_validator("phases")(unique_phase_ids)


def parse_team_plan(text: str, team: Team) -> TeamPlan:
    """Validate the lead's reply: known experts (id or name, any case), known acyclic deps."""
    plan = parse_phases(text, TeamPlan)
    by_key = {e.id.lower(): e.id for e in team.experts}
    by_key.update({e.name.lower(): e.id for e in team.experts})
    ids = {phase.id for phase in plan.phases}
    problems = []
    fixed = []
    for phase in plan.phases:
        expert = by_key.get(phase.expert.lower())
        if expert is None:
            known = ", ".join(e.id for e in team.experts)
            problems.append(f"{phase.id}: unknown expert '{phase.expert}' (experts: {known})")
            expert = phase.expert
        deps = list(dict.fromkeys(phase.depends_on))
        for dep in deps:
            if dep == phase.id:
                problems.append(f"{phase.id}: a phase cannot depend on itself")
            elif dep not in ids:
                problems.append(f"{phase.id}: depends on unknown phase '{dep}'")
        fixed.append(phase.model_copy(update={"expert": expert, "depends_on": deps}))
    if not problems:
        cycle = _cycle(fixed)
        if cycle:
            problems.append(f"the dependencies form a cycle: {' → '.join(cycle)}")
    if problems:
        raise ReplyInvalid("; ".join(problems))
    return TeamPlan(phases=fixed)


def _cycle(phases: list[TeamPhase]) -> list[str]:
    deps = {phase.id: phase.depends_on for phase in phases}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for dep in deps.get(node, []):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for phase in phases:
        if phase.id not in state:
            found = visit(phase.id)
            if found:
                return found
    return []


@dataclass(kw_only=True)
class TeamPhaseState(Phase):
    """A phase of the lead's plan as it runs, with the expert it is assigned to."""

    expert: Expert
    depends_on: list[str]
    #: Tokens the expert's model calls used for this phase.
    tokens: int = 0

    def label(self) -> str:
        """The phase and who works on it."""
        return f"{self.id} “{self.title}” ({self.expert.name})"

    def summary(self) -> str:
        """The expert's result, under its name."""
        return f"**{self.expert.name} — {self.title}**\n\n{cut(self.result, 1500)}"
