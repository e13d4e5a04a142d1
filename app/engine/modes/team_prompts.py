"""What the lead and the experts of a team are told: the lead's planning note, each expert's
task, the synthesis; and how the answer words what is missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.engine.modes.replies import MAX_PHASES
from app.engine.modes.roster import Team
from app.engine.modes.synthesis import Wording
from app.engine.modes.team_plan import TeamPhaseState
from app.engine.modes.text import cut

LEAD_NOTE = """You lead a team of experts. Plan the person's task as 1 to {maximum} \
phases and give each phase to one expert. Phases that do not need each other's results run \
at the same time; list in "depends_on" the ids of the phases whose results a phase needs \
(those run first). You do not use tools yourself: your experts do the work.

The experts:
{roster}
Expert ids: {ids}

Reply with only a JSON object, no prose and no code fence:
{{"phases": [{{"id": "p1", "title": "...", "goal": "...", "expert": "{first}", \
"depends_on": []}}]}}"""

EXPERT_NOTE = "You are {name}, one expert in a team led by {lead}. {role}"

SYNTHESIS_NOTE = (
    "You lead a team of experts. Write the final answer for the person from your experts' "
    "results below: combine them into one clear answer, settle disagreements, and say what "
    "the person should do next. Be concise and use Markdown. Say plainly which phases failed "
    "or were skipped and what is therefore missing; never present missing work as done."
)


WORDING = Wording(
    missing_heading="**Missing:**",
    skipped=": {why}.",
    nothing_done="No expert produced a result.",
    done_heading="What the experts produced:",
)


def lead_system(system_prompt: str, team: Team, tools_of: Mapping[str, list[str] | None]) -> str:
    """The lead's system prompt: the roster with each expert's tools, and the reply format."""
    roster = []
    for expert in team.experts:
        tools = tools_of[expert.id]
        names = "all the agent's tools" if tools is None else ", ".join(tools) or "no tools"
        roster.append(f"- {expert.id}: {expert.name} — {expert.role} (tools: {names})")
    note = LEAD_NOTE.format(
        maximum=MAX_PHASES,
        roster="\n".join(roster),
        ids=", ".join(e.id for e in team.experts),
        first=team.experts[0].id,
    )
    lead = team.expert(team.lead)
    persona = f"You are {lead.name}. {lead.role}"
    return f"{system_prompt}\n\n{note}\n\nYour own speciality: {persona}"


def overview(phases: Sequence[TeamPhaseState]) -> str:
    """The team's plan, one line per phase with its status, expert and dependencies."""
    lines = []
    for phase in phases:
        after = f" (after {', '.join(phase.depends_on)})" if phase.depends_on else ""
        lines.append(
            f"- {phase.id} [{phase.status}] {phase.title} — {phase.expert.name}{after}: "
            f"{phase.goal}"
        )
    return "\n".join(lines)


def phase_prompt(
    task: str, phases: Sequence[TeamPhaseState], phase: TeamPhaseState, tools: str
) -> str:
    """An expert's task: the plan, the results it builds on, its phase and its tools."""
    upstream = [p for p in phases if p.id in phase.depends_on and p.status == "done"]
    inputs = "\n\n".join(
        f"## {p.id} — {p.title} (by {p.expert.name})\n{cut(p.result)}" for p in upstream
    )
    return (
        f"Overall task:\n{task}\n\nThe team's plan:\n{overview(phases)}\n\n"
        f"Results you build on:\n{inputs or '(none: your phase does not depend on others)'}"
        f"\n\nYour phase: {phase.id} — {phase.title}\nGoal: {phase.goal}\n\n"
        f"Your tools:\n{tools}"
    )


def synthesis_prompt(task: str, phases: Sequence[TeamPhaseState]) -> str:
    """The lead's synthesis request: every phase with its result, or why it has none."""
    parts = []
    for phase in phases:
        head = f"## {phase.id} — {phase.title} (by {phase.expert.name}, {phase.status})"
        if phase.status == "done":
            parts.append(f"{head}\n{cut(phase.result)}")
        else:
            partial = f"\nPartial result:\n{cut(phase.result)}" if phase.result else ""
            parts.append(f"{head}\n{phase.error}{partial}")
    return f"Task:\n{task}\n\nYour experts' results:\n\n" + "\n\n".join(parts)
