"""PLAN_EXEC: plan the task in phases, carry them out in order, replan when one fails.

1. A planner call returns the plan as JSON (validated here; one repair attempt, then a
   clear error): 2–8 phases, each with an id, a title, a goal and what it produces.
2. Each phase is a ReAct run (the agent's tools and approvals, its own stored thread)
   told the overall task, the plan and the results of the earlier phases.
3. A failed phase triggers ``replanning`` and a new plan for the remaining work, at most
   ``[engine] max_replans`` times; after that the remaining phases are skipped.
4. A streamed synthesis writes the final answer from the phase results; what failed or
   was skipped is added to it plainly.

Events: ``plan_update`` (every phase with its status, whenever one changes),
``phase_started``, ``plan_step`` (progress), ``phase_completed``, ``phase_failed``,
``replanning``; then the answer's ``token``s and ``final_answer``.
"""

from __future__ import annotations

import contextlib

from app.engine.cancel import TurnCancelled
from app.engine.events import FinalAnswerEvent, PhaseInfo, StepKind, TurnStatus, notice
from app.engine.mode_events import (
    PlanStepEvent,
    phase_completed,
    phase_failed,
    phase_started,
    plan_step,
    plan_update,
    replanning,
)
from app.engine.modes.errors import ModeError
from app.engine.modes.phase import EXECUTOR_NOTE, SHORT_RESULT_CHARS, child_context, run_phase
from app.engine.modes.plan_prompts import (
    PLANNER_NOTE,
    SYNTHESIS_NOTE,
    WORDING,
    phase_prompt,
    replan_prompt,
    synthesis_prompt,
)
from app.engine.modes.planner import PhaseState, parse_plan, states
from app.engine.modes.progress import ProgressMapper, quiet
from app.engine.modes.replies import (
    MAX_PHASES,
    structured_call,
)
from app.engine.modes.synthesis import synthesise
from app.engine.modes.text import one_line, tools_summary
from app.engine.turn import TurnContext
from app.llm.errors import LLMError
from app.llm.types import ChatMessage

STOPPED = "Stopped: the person stopped the turn during this phase."

# --------------------------------------------------------------------------- the run


class _PlanRun:
    def __init__(self, ctx: TurnContext, history: list[ChatMessage]) -> None:
        self.ctx = ctx
        self.history = history
        self.task = history[-1].content.strip() if history and history[-1].role == "user" else ""
        self.phases: list[PhaseState] = []
        self.planner = child_context(ctx, thread="plan", emit=quiet(ctx.emit))

    async def update(self) -> None:
        phases = [PhaseInfo(id=p.id, title=p.title, status=p.status) for p in self.phases]
        await self.ctx.emit(plan_update(phases))

    def planner_system(self, minimum: int) -> str:
        note = PLANNER_NOTE.format(
            minimum=minimum, maximum=MAX_PHASES, tools=tools_summary(self.ctx, self.ctx.tool_names)
        )
        return f"{self.ctx.system_prompt}\n\n{note}"

    async def run(self) -> TurnStatus:
        ctx = self.ctx
        if not self.task:
            raise ModeError("Say what to plan, for example: /plan add a --verbose flag")
        await ctx.emit(notice("planning", "Planning the task in phases…"))
        plan = await structured_call(
            self.planner,
            system=self.planner_system(2),
            messages=self.history,
            parse=parse_plan,
            what="planner",
        )
        self.phases = states(plan, set(), 0)
        await self.update()
        try:
            await self.execute()
        except TurnCancelled:
            await self.stop()
            raise
        answer = await synthesise(
            ctx,
            self.history,
            system=f"{ctx.system_prompt}\n\n{SYNTHESIS_NOTE}",
            prompt=synthesis_prompt(self.task, self.phases),
            phases=self.phases,
            wording=WORDING,
        )
        await ctx.emit(FinalAnswerEvent(content=answer))
        return "completed"

    async def execute(self) -> None:
        replans = 0
        index = 0
        while index < len(self.phases):
            phase = self.phases[index]
            if phase.status != "pending":
                index += 1
                continue
            if await self.run_one(index, phase):
                index += 1
                continue
            if replans >= self.ctx.settings.engine.max_replans:
                await self.skip_rest("no replans left")
                return
            replans += 1  # counted before the call: a failing replanner uses it up too
            if not await self.replan(index, phase, replans):
                return
            index += 1

    async def replan(self, index: int, phase: PhaseState, attempt: int) -> bool:
        """Plan the work after the failed ``phase`` again; False when the replan failed."""
        reason = f"Phase {phase.id} “{phase.title}” failed: {phase.error}"
        await self.ctx.emit(replanning(one_line(reason, 300), attempt))
        try:
            plan = await structured_call(
                self.planner,
                system=self.planner_system(1),
                messages=[
                    *self.history[:-1],
                    ChatMessage(role="user", content=replan_prompt(self.task, self.phases, phase)),
                ],
                parse=lambda text: parse_plan(text, minimum=1),
                what="replanner",
            )
        except (ModeError, LLMError) as exc:
            await self.ctx.emit(notice("replan_failed", one_line(str(exc), 200)))
            await self.skip_rest("the replan failed")
            return False
        kept = self.phases[: index + 1]
        taken = {p.id for p in self.phases}
        self.phases = kept + states(plan, taken, attempt)
        await self.update()
        return True

    async def run_one(self, index: int, phase: PhaseState) -> bool:
        ctx = self.ctx
        phase.status = "running"
        await ctx.emit(phase_started(phase.id, index, phase.title))
        await self.update()

        def progress(content: str, step: int, kind: StepKind, call_id: str | None) -> PlanStepEvent:
            return plan_step(phase.id, step, content, kind, call_id)

        outcome = await run_phase(
            ctx,
            thread=f"phase:{phase.id}",
            emit=ProgressMapper(ctx.emit, progress),
            system=f"{ctx.system_prompt}\n\n{EXECUTOR_NOTE}",
            prompt=phase_prompt(self.task, self.phases, phase),
            model=ctx.model,
            tool_names=ctx.tool_names,
        )
        if outcome.ok:
            phase.status, phase.result = "done", outcome.result or "(no result text)"
            await ctx.emit(phase_completed(phase.id, one_line(phase.result, SHORT_RESULT_CHARS)))
            await self.update()
            return True
        phase.status, phase.error, phase.result = "failed", outcome.error, outcome.result
        await ctx.emit(phase_failed(phase.id, one_line(outcome.error, 300)))
        await self.update()
        return False

    async def skip_rest(self, why: str) -> None:
        changed = False
        for phase in self.phases:
            if phase.status == "pending":
                phase.status, phase.error, changed = "skipped", why, True
        if changed:
            await self.update()

    async def stop(self) -> None:
        """After a cancel: the running phase failed (stopped), the rest skipped."""
        with contextlib.suppress(Exception):
            for phase in self.phases:
                if phase.status == "running":
                    phase.status, phase.error = "failed", STOPPED
                    await self.ctx.emit(phase_failed(phase.id, STOPPED))
            for phase in self.phases:
                if phase.status == "pending":
                    phase.status = "skipped"
            if self.phases:
                await self.update()


async def run_plan(ctx: TurnContext, history: list[ChatMessage]) -> TurnStatus:
    """Run a PLAN_EXEC turn from ``history`` (its last message is the task)."""
    return await _PlanRun(ctx, history).run()
