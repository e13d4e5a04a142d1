"""What the planner and each phase of a plan are told, and how the answer words what is
missing."""

from __future__ import annotations

from collections.abc import Sequence

from app.engine.modes.planner import PhaseState
from app.engine.modes.replies import MAX_PHASES
from app.engine.modes.synthesis import Wording
from app.engine.modes.text import cut

PLANNER_NOTE = """You are the planner. Break the person's task into {minimum} to {maximum} \
phases that will be carried out in order, each by an assistant that can use these tools:
{tools}

Each phase needs:
- "id": a short unique id, such as "p1"
- "title": a few words
- "goal": what to do, specific enough to act on
- "produces": what the phase hands on to the next ones (a finding, a file, a decision)

Reply with only a JSON object, no prose and no code fence:
{{"phases": [{{"id": "p1", "title": "...", "goal": "...", "produces": "..."}}]}}"""

REPLAN_PROMPT = """The plan for this task ran into a failure. Plan the remaining work again.

Task:
{task}

The phases so far:
{phases}

{failure}

Plan only the work that is still to do, in 1 to {maximum} phases with new ids (not {ids}). \
Do not repeat finished phases; take another approach to what failed if there is one."""

SYNTHESIS_NOTE = (
    "Write the final answer for the person from the results of the phases below: what was "
    "done, what was found or produced, and what the person should do next. Be concise and "
    "use Markdown. Say plainly which phases failed or were skipped and what is therefore "
    "missing; never present failed work as done."
)


WORDING = Wording(
    missing_heading="**Not done:**",
    skipped=" ({why}).",
    nothing_done="No phase of the plan produced a result.",
    done_heading="What the phases produced:",
)


def overview(phases: Sequence[PhaseState], current: PhaseState | None = None) -> str:
    """The plan, one numbered line per phase with its status (or "current")."""
    lines = []
    for number, phase in enumerate(phases, start=1):
        mark = "current" if phase is current else phase.status
        lines.append(f"{number}. [{mark}] {phase.id} — {phase.title}: {phase.goal}")
    return "\n".join(lines)


def results(phases: Sequence[PhaseState], *, everything: bool = False) -> str:
    """The results of the finished phases (``everything``: and why the others have none)."""
    parts = []
    for phase in phases:
        if phase.status == "done":
            parts.append(f"## {phase.id} — {phase.title} (done)\n{cut(phase.result)}")
        elif everything and phase.status == "failed":
            partial = f"\nPartial result:\n{cut(phase.result)}" if phase.result else ""
            parts.append(f"## {phase.id} — {phase.title} (failed)\n{phase.error}{partial}")
        elif everything and phase.status == "skipped":
            parts.append(f"## {phase.id} — {phase.title} (skipped)\n{phase.error}")
    return "\n\n".join(parts)


def phase_prompt(task: str, phases: Sequence[PhaseState], phase: PhaseState) -> str:
    """A phase's task: the plan, the earlier results, its goal and what it produces."""
    earlier = results(phases) or "(none yet)"
    return (
        f"Overall task:\n{task}\n\nThe plan:\n{overview(phases, phase)}\n\n"
        f"Results of the earlier phases:\n{earlier}\n\n"
        f"Your phase: {phase.id} — {phase.title}\nGoal: {phase.goal}\n"
        f"It should produce: {phase.produces}"
    )


def replan_prompt(task: str, phases: Sequence[PhaseState], failed: PhaseState) -> str:
    """The replanner's request: the plan so far, its results and what failed."""
    done = results(phases, everything=True) or "(no results yet)"
    failure = f"Phase {failed.id} “{failed.title}” failed: {failed.error}"
    return REPLAN_PROMPT.format(
        task=task,
        phases=f"{overview(phases)}\n\n{done}",
        failure=failure,
        maximum=MAX_PHASES,
        ids=", ".join(p.id for p in phases),
    )


def synthesis_prompt(task: str, phases: Sequence[PhaseState]) -> str:
    """The synthesis request: the plan, how each phase went, and the results."""
    return (
        f"Task:\n{task}\n\nThe plan and how each phase went:\n{overview(phases)}\n\n"
        f"Results:\n{results(phases, everything=True) or '(no phase produced a result)'}"
    )
