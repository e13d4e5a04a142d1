"""TEAM_COLLAB: a lead plans phases for its experts, who work on them, some at once.

1. The team comes from ``[teams.NAME]`` in the config (a skill may name it) or the
   built-in ``default`` roster: a researcher, an engineer (the lead) and a reviewer.
2. The lead — with no tools, as crewAI learned the hard way — returns the phases as JSON,
   each assigned to an expert from the closed list of ids and naming the phases it depends
   on. It is validated here (one repair attempt, then a clear error).
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
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.config import Settings
from app.engine.cancel import TurnCancelled
from app.engine.events import (
    ExpertInfo,
    ExpertResultData,
    ExpertResultEvent,
    ExpertStepData,
    ExpertStepEvent,
    FinalAnswerEvent,
    PhaseInfo,
    PhaseStatus,
    PlanUpdateData,
    PlanUpdateEvent,
    StepKind,
    TeamDissolvedData,
    TeamDissolvedEvent,
    TeamFormedData,
    TeamFormedEvent,
    TeamSynthesisData,
    TeamSynthesisEvent,
    TurnStatus,
    notice,
)
from app.engine.subrun import (
    EXECUTOR_NOTE,
    MAX_PHASES,
    ModeError,
    PhaseOutcome,
    PhaseSpec,
    ProgressMapper,
    ReplyInvalid,
    child_context,
    cut,
    describe_errors,
    extract_json,
    locked,
    one_line,
    quiet,
    run_phase,
    structured_call,
    synthesise,
    tools_summary,
    unique_phase_ids,
)
from app.engine.turn import TurnContext
from app.llm.types import ChatMessage

#: Experts working at the same time.
MAX_CONCURRENT = 4
PALETTE = ("#4FC1FF", "#73C991", "#C586C0", "#E2C08D", "#F48771", "#9CDCFE", "#D7BA7D")
STOPPED = "Stopped: the person stopped the turn while this expert was working."
READ_TOOLS = ["list_dir", "read_file", "find_files", "search_text"]


@dataclass(frozen=True)
class Expert:
    """One member of a team."""

    id: str
    name: str
    role: str
    color: str
    tools: list[str] | None = None
    model: str = "default"


@dataclass(frozen=True)
class Team:
    """A lead plus experts (the lead is one of them)."""

    name: str
    lead: str
    experts: tuple[Expert, ...]
    description: str = ""

    def expert(self, expert_id: str) -> Expert:
        """The expert with this id."""
        return next(e for e in self.experts if e.id == expert_id)


BUILTIN_TEAM = Team(
    name="default",
    lead="engineer",
    description="A researcher, an engineer (the lead) and a reviewer",
    experts=(
        Expert(
            "researcher",
            "Researcher",
            "You find the relevant files, facts and constraints, and report them precisely "
            "with file names and line numbers. You do not change anything.",
            PALETTE[0],
            READ_TOOLS,
        ),
        Expert(
            "engineer",
            "Engineer",
            "You design and make concrete changes: code, commands, configuration. You read "
            "before you edit and keep changes small.",
            PALETTE[1],
        ),
        Expert(
            "reviewer",
            "Reviewer",
            "You check work for bugs, risks and missing pieces, and say plainly what is "
            "wrong and how to fix it. You do not change anything.",
            PALETTE[2],
            READ_TOOLS,
        ),
    ),
)


def resolve_team(settings: Settings, name: str | None = None) -> Team:
    """The team called ``name`` (default ``default``): from the config, else built in."""
    wanted = name or "default"
    config = settings.teams.get(wanted)
    if config is None:
        if wanted != "default":
            known = ", ".join(sorted({"default", *settings.teams}))
            raise ModeError(f"unknown team '{wanted}' (teams: {known})")
        return BUILTIN_TEAM
    experts = tuple(
        Expert(
            id=item.id,
            name=item.name,
            role=item.role,
            color=item.color or PALETTE[index % len(PALETTE)],
            tools=item.tools,
            model=item.model,
        )
        for index, item in enumerate(config.experts)
    )
    lead = config.lead or experts[0].id
    if lead not in {e.id for e in experts}:
        raise ModeError(f"team '{wanted}': its lead '{lead}' is not one of its experts")
    return Team(wanted, lead, experts, config.description)


# --------------------------------------------------------------------------- the lead's plan


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
    data = extract_json(text)
    if isinstance(data, list):
        data = {"phases": data}
    try:
        plan = TeamPlan.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(describe_errors(exc)) from None
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


# --------------------------------------------------------------------------- the run


@dataclass
class _Phase:
    id: str
    title: str
    goal: str
    expert: Expert
    depends_on: list[str]
    status: PhaseStatus = "pending"
    result: str = ""
    error: str = ""


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
    phases: list[_Phase] = field(default_factory=list)
    members: dict[str, _Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Concurrent experts emit through one lock: the log keeps the caller's order.
        self.emit = locked(self.ctx.emit)
        last = self.history[-1] if self.history else None
        self.task = last.content.strip() if last is not None and last.role == "user" else ""
        self.lead = self.team.expert(self.team.lead)

    async def run(self) -> TurnStatus:
        ctx = self.ctx
        if not self.task:
            raise ModeError("Say what the team should do, for example: /team review the parser")
        await self.form_members()
        await self.emit(notice("team_planning", f"{self.lead.name} is planning the team's work…"))
        lead_ctx = child_context(ctx, thread="team:lead", emit=quiet(self.emit))
        plan = await structured_call(
            lead_ctx,
            system=self.lead_system(),
            messages=self.history,
            parse=lambda text: parse_team_plan(text, self.team),
            what="team lead",
        )
        self.phases = [
            _Phase(p.id, p.title, p.goal, self.team.expert(p.expert), p.depends_on)
            for p in plan.phases
        ]
        await self.emit(
            TeamFormedEvent(
                data=TeamFormedData(
                    team_id=self.team_id,
                    status="active",
                    experts=[
                        ExpertInfo(id=e.id, name=e.name, color=e.color, role=e.role)
                        for e in self.team.experts
                    ],
                    plan_phases=self.phase_dicts(),
                    lead_expert=self.lead.id,
                )
            )
        )
        try:
            await self.work()
            answer = await synthesise(
                child_context(ctx, thread="main", emit=self.emit),
                self.history,
                system=f"{ctx.system_prompt}\n\n{SYNTHESIS_NOTE}",
                prompt=self.synthesis_prompt(),
                fallback=self.fallback(),
                missing=self.missing(),
            )
            await self.emit(TeamSynthesisEvent(data=TeamSynthesisData(content=answer)))
            await self.emit(FinalAnswerEvent(content=answer))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self.emit(TeamDissolvedEvent(data=TeamDissolvedData(team_id=self.team_id)))
                )
        return "completed"

    async def form_members(self) -> None:
        ctx = self.ctx
        for expert in self.team.experts:
            tools = ctx.tool_names if expert.tools is None else expert.tools
            if tools is not None:
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
            model = ctx.model
            if expert.model not in ("", "default"):
                model = (await ctx.gateway.resolve(expert.model)).name
            self.members[expert.id] = _Member(expert, model, tools)

    # ----------------------------------------------------------------- scheduling

    async def work(self) -> None:
        running: dict[asyncio.Task[PhaseOutcome], _Phase] = {}
        try:
            while True:
                await self.skip_blocked()
                starting = self.ready(len(running))
                for phase in starting:
                    phase.status = "running"
                    self.members[phase.expert.id].busy = True
                if starting:
                    await self.update()
                for phase in starting:
                    running[asyncio.ensure_future(self.run_expert(phase))] = phase
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

    def ready(self, busy: int) -> list[_Phase]:
        chosen: list[_Phase] = []
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

    async def run_expert(self, phase: _Phase) -> PhaseOutcome:
        ctx = self.ctx
        member = self.members[phase.expert.id]
        expert = member.expert

        def progress(
            content: str, step: int, kind: StepKind, call_id: str | None
        ) -> ExpertStepEvent:
            return ExpertStepEvent(
                data=ExpertStepData(
                    expert_id=expert.id,
                    expert_name=expert.name,
                    expert_color=expert.color,
                    content=content,
                    step=step,
                    phase_id=phase.id,
                    kind=kind,
                    call_id=call_id,
                )
            )

        persona = EXPERT_NOTE.format(name=expert.name, lead=self.lead.name, role=expert.role)
        return await run_phase(
            ctx,
            thread=f"expert:{expert.id}:{phase.id}",
            emit=ProgressMapper(self.emit, progress),
            system=f"{ctx.system_prompt}\n\n{persona}\n\n{EXECUTOR_NOTE}",
            prompt=self.phase_prompt(phase),
            model=member.model,
            tool_names=member.tools,
            expert_name=expert.name,
        )

    async def finished(self, phase: _Phase, outcome: PhaseOutcome) -> None:
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

    def result_event(self, phase: _Phase, content: str) -> ExpertResultEvent:
        expert = phase.expert
        return ExpertResultEvent(
            data=ExpertResultData(
                expert_id=expert.id,
                expert_name=expert.name,
                expert_color=expert.color,
                content=content,
                phase_id=phase.id,
                status="done" if phase.status == "done" else "failed",
            )
        )

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
        await self.emit(PlanUpdateEvent(data=PlanUpdateData(plan_phases=phases)))

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

    def lead_system(self) -> str:
        roster = []
        for expert in self.team.experts:
            tools = self.members[expert.id].tools
            names = "all the agent's tools" if tools is None else ", ".join(tools) or "no tools"
            roster.append(f"- {expert.id}: {expert.name} — {expert.role} (tools: {names})")
        note = LEAD_NOTE.format(
            maximum=MAX_PHASES,
            roster="\n".join(roster),
            ids=", ".join(e.id for e in self.team.experts),
            first=self.team.experts[0].id,
        )
        persona = f"You are {self.lead.name}. {self.lead.role}"
        return f"{self.ctx.system_prompt}\n\n{note}\n\nYour own speciality: {persona}"

    def overview(self) -> str:
        lines = []
        for phase in self.phases:
            after = f" (after {', '.join(phase.depends_on)})" if phase.depends_on else ""
            lines.append(
                f"- {phase.id} [{phase.status}] {phase.title} — {phase.expert.name}{after}: "
                f"{phase.goal}"
            )
        return "\n".join(lines)

    def phase_prompt(self, phase: _Phase) -> str:
        upstream = [p for p in self.phases if p.id in phase.depends_on and p.status == "done"]
        inputs = "\n\n".join(
            f"## {p.id} — {p.title} (by {p.expert.name})\n{cut(p.result)}" for p in upstream
        )
        tools = tools_summary(self.ctx, self.members[phase.expert.id].tools)
        return (
            f"Overall task:\n{self.task}\n\nThe team's plan:\n{self.overview()}\n\n"
            f"Results you build on:\n{inputs or '(none: your phase does not depend on others)'}"
            f"\n\nYour phase: {phase.id} — {phase.title}\nGoal: {phase.goal}\n\n"
            f"Your tools:\n{tools}"
        )

    def synthesis_prompt(self) -> str:
        parts = []
        for phase in self.phases:
            head = f"## {phase.id} — {phase.title} (by {phase.expert.name}, {phase.status})"
            if phase.status == "done":
                parts.append(f"{head}\n{cut(phase.result)}")
            else:
                partial = f"\nPartial result:\n{cut(phase.result)}" if phase.result else ""
                parts.append(f"{head}\n{phase.error}{partial}")
        return f"Task:\n{self.task}\n\nYour experts' results:\n\n" + "\n\n".join(parts)

    def missing(self) -> str | None:
        lines = []
        for phase in self.phases:
            who = phase.expert.name
            if phase.status == "failed":
                lines.append(
                    f"- {phase.id} “{phase.title}” ({who}) failed: {one_line(phase.error, 200)}"
                )
            elif phase.status == "skipped":
                lines.append(f"- {phase.id} “{phase.title}” ({who}) was skipped: {phase.error}.")
        if not lines:
            return None
        return "**Missing:**\n" + "\n".join(lines)

    def fallback(self) -> str:
        done = [p for p in self.phases if p.status == "done"]
        if not done:
            return "No expert produced a result."
        parts = [f"**{p.expert.name} — {p.title}**\n\n{cut(p.result, 1500)}" for p in done]
        return "What the experts produced:\n\n" + "\n\n".join(parts)


async def run_team(ctx: TurnContext, history: list[ChatMessage], team: Team) -> TurnStatus:
    """Run a TEAM_COLLAB turn from ``history`` (its last message is the task)."""
    return await _TeamRun(ctx, history, team).run()
