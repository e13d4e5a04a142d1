"""TEAM_COLLAB: a lead plans phases for its experts, who work on them, some at once.

1. The team comes from ``[teams.NAME]`` in the config (a skill may name it) or the
   built-in ``default`` roster (see ``roster``).
2. The lead — with no tools, as crewAI learned the hard way — returns the phases as JSON,
   each assigned to an expert from the closed list of ids and naming the phases it depends
   on. It is validated (``team_plan``; one repair attempt, then a clear error).
3. Experts run their phases as ReAct runs with their own role prompt, tools and model:
   phases whose dependencies are done run concurrently (each expert one phase at a time),
   the others wait; a phase whose dependency failed is skipped. One failing expert never
   stops the others; cancelling the turn stops them all.
4. The lead's synthesis streams as the answer and says what is missing.

Events: ``team_formed``, ``plan_update`` as phases move, ``expert_step`` (progress),
``expert_result`` (per phase: the result, or why it failed), the answer's ``token``s,
``team_synthesis``, ``final_answer``, and ``team_dissolved`` whatever ended the turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from app.engine.cancel import TurnCancelled
from app.engine.events import ExpertInfo, FinalAnswerEvent, PhaseInfo, StepKind, TurnStatus, notice
from app.engine.mode_events import (
    ExpertResultEvent,
    ExpertStepEvent,
    expert_result,
    expert_step,
    plan_update,
    team_dissolved,
    team_formed,
    team_synthesis,
)
from app.engine.modes.errors import ModeError
from app.engine.modes.phase import EXECUTOR_NOTE, PhaseOutcome, child_context, run_phase
from app.engine.modes.progress import ProgressMapper, locked, quiet
from app.engine.modes.replies import structured_call
from app.engine.modes.roster import Expert, Team
from app.engine.modes.synthesis import synthesise
from app.engine.modes.team_plan import TeamPhaseState, parse_team_plan
from app.engine.modes.team_prompts import (
    EXPERT_NOTE,
    SYNTHESIS_NOTE,
    WORDING,
    lead_system,
    phase_prompt,
    synthesis_prompt,
)
from app.engine.modes.text import tools_summary
from app.engine.turn import TurnContext
from app.llm.types import ChatMessage

#: Experts working at the same time.
MAX_CONCURRENT = 4
STOPPED = "Stopped: the person stopped the turn while this expert was working."

# --------------------------------------------------------------------------- the run


@dataclass
class _Member:
    expert: Expert
    model: str
    tools: list[str] | None
    busy: bool = False


@dataclass
class _TeamRun:
    ctx: TurnContext
    history: list[ChatMessage]
    team: Team
    team_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    phases: list[TeamPhaseState] = field(default_factory=list)
    members: dict[str, _Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Concurrent experts emit through one lock: the log keeps the caller's order.
        self.emit = locked(self.ctx.emit)
        last = self.history[-1] if self.history else None
        self.task = last.content.strip() if last is not None and last.role == "user" else ""
        self.lead = self.team.expert(self.team.lead)

    async def run(self) -> TurnStatus:
        if not self.task:
            raise ModeError("Say what the team should do, for example: /team review the parser")
        await self.form_members()
        await self.emit(notice("team_planning", f"{self.lead.name} is planning the team's work…"))
        await self.plan()
        try:
            await self.work()
            answer = await synthesise(
                child_context(self.ctx, thread="main", emit=self.emit),
                self.history,
                system=f"{self.ctx.system_prompt}\n\n{SYNTHESIS_NOTE}",
                prompt=synthesis_prompt(self.task, self.phases),
                phases=self.phases,
                wording=WORDING,
            )
            await self.emit(team_synthesis(answer))
            await self.emit(FinalAnswerEvent(content=answer))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.emit(team_dissolved(self.team_id)))
        return "completed"

    async def plan(self) -> None:
        """Ask the lead for the phases; announce the team with them."""
        lead_ctx = child_context(self.ctx, thread="team:lead", emit=quiet(self.emit))
        plan = await structured_call(
            lead_ctx,
            system=lead_system(self.ctx.system_prompt, self.team, self.tools_of()),
            messages=self.history,
            parse=lambda text: parse_team_plan(text, self.team),
            what="team lead",
        )
        self.phases = [
            TeamPhaseState(
                p.id,
                p.title,
                p.goal,
                expert=self.team.expert(p.expert),
                depends_on=p.depends_on,
            )
            for p in plan.phases
        ]
        experts = [
            ExpertInfo(id=e.id, name=e.name, color=e.color, role=e.role) for e in self.team.experts
        ]
        await self.emit(team_formed(self.team_id, experts, self.phase_dicts(), self.lead.id))

    async def form_members(self) -> None:
        ctx = self.ctx
        for expert in self.team.experts:
            tools = ctx.tool_names if expert.tools is None else expert.tools
            if tools is not None:
                tools = await self.usable_tools(expert, tools)
            model = ctx.model
            if expert.model not in ("", "default"):
                model = (await ctx.gateway.resolve(expert.model)).name
            self.members[expert.id] = _Member(expert, model, tools)

    async def usable_tools(self, expert: Expert, tools: list[str]) -> list[str]:
        """The expert's tools that exist and that this turn's agent or skill may use."""
        ctx = self.ctx
        unknown = [name for name in tools if name not in ctx.registry]
        if unknown:
            await self.emit(
                notice(
                    "unknown_tools",
                    f"{expert.name}: ignoring unknown tools: {', '.join(unknown)}",
                )
            )
        tools = [name for name in tools if name in ctx.registry]
        if ctx.tool_names is not None:
            # An expert never gets tools the agent or skill of this turn does not have.
            tools = [name for name in tools if name in ctx.tool_names]
        return tools

    # ----------------------------------------------------------------- scheduling

    async def work(self) -> None:
        running: dict[asyncio.Task[PhaseOutcome], TeamPhaseState] = {}
        try:
            while True:
                await self.skip_blocked()
                await self.start_ready(running)
                if not running:
                    return
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                stopped = False
                for task in done:
                    phase = running.pop(task)
                    self.members[phase.expert.id].busy = False
                    if task.cancelled() or isinstance(task.exception(), TurnCancelled):
                        stopped = True
                        continue
                    error = task.exception()
                    if error is not None:
                        raise error
                    await self.finished(phase, task.result())
                if stopped:
                    raise TurnCancelled(self.ctx.cancel.reason or "user")
        except TurnCancelled:
            # Stopped: the token reaches every expert, who save what they have and end.
            self.ctx.cancel.cancel("user")
            await asyncio.gather(*running, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.shield(self.stopped())
            raise
        except BaseException:
            # Something broke (or the task itself was cancelled): no expert keeps running.
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.shield(self.stopped())
            raise

    async def start_ready(self, running: dict[asyncio.Task[PhaseOutcome], TeamPhaseState]) -> None:
        """Start the phases that may run now, and add their tasks to ``running``."""
        starting = self.ready(len(running))
        for phase in starting:
            phase.status = "running"
            self.members[phase.expert.id].busy = True
        if starting:
            await self.update()
        for phase in starting:
            running[asyncio.ensure_future(self.run_expert(phase))] = phase

    def ready(self, busy: int) -> list[TeamPhaseState]:
        chosen: list[TeamPhaseState] = []
        done = {p.id for p in self.phases if p.status == "done"}
        for phase in self.phases:
            if busy + len(chosen) >= MAX_CONCURRENT:
                break
            member = self.members[phase.expert.id]
            taken = member.busy or any(c.expert.id == phase.expert.id for c in chosen)
            if phase.status == "pending" and not taken and set(phase.depends_on) <= done:
                chosen.append(phase)
        return chosen

    async def skip_blocked(self) -> None:
        """Skip phases that wait on a failed or skipped phase (repeat until nothing changes)."""
        changed = True
        while changed:
            changed = False
            status = {p.id: p for p in self.phases}
            for phase in self.phases:
                if phase.status != "pending":
                    continue
                blocked = [d for d in phase.depends_on if status[d].status in ("failed", "skipped")]
                if blocked:
                    phase.status = "skipped"
                    phase.error = f"it needs {', '.join(blocked)}, which did not finish"
                    changed = True
                    await self.update()

    async def run_expert(self, phase: TeamPhaseState) -> PhaseOutcome:
        ctx = self.ctx
        member = self.members[phase.expert.id]
        expert = member.expert

        def progress(
            content: str, step: int, kind: StepKind, call_id: str | None
        ) -> ExpertStepEvent:
            return expert_step(expert, content, step, phase_id=phase.id, kind=kind, call_id=call_id)

        persona = EXPERT_NOTE.format(name=expert.name, lead=self.lead.name, role=expert.role)
        return await run_phase(
            ctx,
            thread=f"expert:{expert.id}:{phase.id}",
            emit=ProgressMapper(self.emit, progress),
            system=f"{ctx.system_prompt}\n\n{persona}\n\n{EXECUTOR_NOTE}",
            prompt=phase_prompt(
                self.task, self.phases, phase, tools_summary(self.ctx, member.tools)
            ),
            model=member.model,
            tool_names=member.tools,
            expert_name=expert.name,
        )

    async def finished(self, phase: TeamPhaseState, outcome: PhaseOutcome) -> None:
        phase.tokens = outcome.tokens
        if outcome.ok:
            phase.status, phase.result = "done", outcome.result or "(no result text)"
            content = phase.result
        else:
            phase.status, phase.error, phase.result = "failed", outcome.error, outcome.result
            content = f"Failed: {outcome.error}"
            if outcome.result:
                content += f"\n\nPartial result:\n\n{outcome.result}"
        await self.emit(self.result_event(phase, content))
        await self.update()

    def result_event(self, phase: TeamPhaseState, content: str) -> ExpertResultEvent:
        status: Literal["done", "failed"] = "done" if phase.status == "done" else "failed"
        tokens = phase.tokens or None
        return expert_result(phase.expert, content, phase_id=phase.id, status=status, tokens=tokens)

    async def stopped(self) -> None:
        for phase in self.phases:
            if phase.status == "running":
                phase.status, phase.error = "failed", STOPPED
                await self.emit(self.result_event(phase, f"Failed: {STOPPED}"))
            elif phase.status == "pending":
                phase.status, phase.error = "skipped", "the turn was stopped"
        await self.update()

    async def update(self) -> None:
        phases = [
            PhaseInfo(id=p.id, title=p.title, status=p.status, expert_id=p.expert.id)
            for p in self.phases
        ]
        await self.emit(plan_update(phases))

    def tools_of(self) -> dict[str, list[str] | None]:
        """Each expert's tools by expert id (None: all the agent's tools)."""
        return {expert_id: member.tools for expert_id, member in self.members.items()}

    def phase_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                "id": p.id,
                "title": p.title,
                "status": p.status,
                "expert_id": p.expert.id,
                "depends_on": list(p.depends_on),
            }
            for p in self.phases
        ]

    # ----------------------------------------------------------------- prompts


async def run_team(ctx: TurnContext, history: list[ChatMessage], team: Team) -> TurnStatus:
    """Run a TEAM_COLLAB turn from ``history`` (its last message is the task)."""
    return await _TeamRun(ctx, history, team).run()
