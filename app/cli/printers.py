"""How ``agentkit run`` shows a turn: the answer on stdout and a short trace of steps on
stderr, or every event as a JSON line.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from app.cli.context import Context
from app.textsafe import escape_controls_in_json, one_line, strip_controls

if TYPE_CHECKING:
    from app.engine.events import Event


class JsonPrinter:
    """Every event as one JSON line on stdout."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def show(self, event: Event) -> None:
        """Print ``event`` in its wire shape, one line, flushed."""
        from app.engine.events import to_wire

        encoded = json.dumps(to_wire(event), ensure_ascii=False)
        self.ctx.out.write(escape_controls_in_json(encoded) + "\n")
        self.ctx.out.flush()

    def close(self) -> None:
        """Nothing is held back: every line is out already."""


class PlainPrinter:
    """The answer on stdout (live on a terminal), a short trace of steps on stderr."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.live = ctx.out.isatty()
        self.streamed = ""
        #: The phase ids of the plan last printed (a replan prints the new plan).
        self.plan_ids: list[str] = []
        #: In team mode tool steps are printed from ``expert_step``, which names the expert.
        self.team = False
        self.experts: dict[str, str] = {}

    def show(self, event: Event) -> None:
        """Print what a person reads of ``event``: answer text on stdout, steps on stderr."""
        err = self.ctx.err
        if self._show_mode_event(event):
            return
        if event.type == "token" and self.live:
            self.streamed += event.content
            self.ctx.out.write(strip_controls(event.content))
            self.ctx.out.flush()
        elif event.type == "thinking" and self.live and self.streamed:
            self.ctx.out.write("\n")
            self.streamed = ""
        elif event.type == "step" and not self.team:
            step = event.data
            name = one_line(step.data.name, 40)
            if step.event_type == "tool_call":
                args = json.dumps(step.data.arguments, ensure_ascii=False)
                err.write(f"→ {name} {one_line(args, 120)}\n")
            else:
                mark = "✗" if step.data.is_error else "✓"
                took = f" ({step.data.duration_ms / 1000:.1f}s)" if step.data.duration_ms else ""
                err.write(f"  {mark} {name}{took}: {one_line(step.data.output, 100)}\n")
        elif event.type == "confirmation_result" and event.data.decider != "user":
            verdict = "allowed" if event.data.approved else "denied"
            by = (
                f" by rule {one_line(event.data.rule, 80)}"
                if event.data.rule
                else f" ({event.data.decider})"
            )
            err.write(f"  {verdict}{by}\n")
        elif event.type == "skill_match":
            err.write(f"skill @{one_line(event.data.skill, 40)}\n")
        elif event.type == "notice":
            err.write(f"note: {one_line(event.data.message.splitlines()[0], 200)}\n")
        elif event.type == "error":
            err.write(f"agentkit: error: {one_line(event.data.message, 200)}\n")
        elif event.type == "final_answer":
            if self.live and self.streamed.strip() == event.content.strip():
                self.ctx.out.write("\n")
            else:
                if self.live and self.streamed:
                    self.ctx.out.write("\n")
                self.ctx.out.write(strip_controls(event.content).rstrip("\n") + "\n")
            self.streamed = ""
        elif event.type == "result" and event.data.status == "cancelled":
            err.write("cancelled: the partial reply was saved\n")

    def _show_mode_event(self, event: Event) -> bool:
        """Plan and team events as a short trace on stderr; False for other events."""
        err = self.ctx.err
        if event.type == "plan_update":
            phases = event.data.plan_phases
            ids = [phase.id for phase in phases]
            if not self.team and ids != self.plan_ids:
                head = "plan:" if not self.plan_ids else "new plan:"
                self.plan_ids = ids
                err.write(f"{head}\n")
                for number, phase in enumerate(phases, start=1):
                    mark = "" if phase.status == "pending" else f" [{phase.status}]"
                    err.write(f"  {number}. {one_line(phase.title, 80)}{mark}\n")
        elif event.type == "phase_started":
            started = event.data
            err.write(f"▶ phase {started.index + 1}: {one_line(started.title, 80)}\n")
        elif event.type == "phase_completed":
            err.write(f"✓ {event.data.phase_id} done: {one_line(event.data.result, 120)}\n")
        elif event.type == "phase_failed":
            err.write(f"✗ {event.data.phase_id} failed: {one_line(event.data.error, 160)}\n")
        elif event.type == "replanning":
            replan = event.data
            err.write(f"↻ replanning (attempt {replan.attempt}): {one_line(replan.reason, 160)}\n")
        elif event.type == "team_formed":
            self.team = True
            formed = event.data
            self.experts = {expert.id: expert.name for expert in formed.experts}
            names = [
                one_line(e.name, 30) + (" (lead)" if e.id == formed.lead_expert else "")
                for e in formed.experts
            ]
            err.write(f"team: {', '.join(names)}\n")
            for item in formed.plan_phases:
                who = self.experts.get(str(item.get("expert_id")), "?")
                after = item.get("depends_on") or []
                later = f" (after {', '.join(map(str, after))})" if after else ""
                title = one_line(str(item.get("title", "")), 80)
                err.write(f"  {item.get('id')} {title} → {one_line(who, 30)}{later}\n")
        elif event.type == "expert_step":
            step = event.data
            who = one_line(step.expert_name, 30)
            if step.kind == "tool_call":
                err.write(f"[{who}] → {one_line(step.content, 120)}\n")
            elif step.kind == "tool_result":
                err.write(f"[{who}]   {one_line(step.content, 120)}\n")
        elif event.type == "expert_result":
            outcome = event.data
            mark = "✗" if outcome.status == "failed" else "✓"
            where = f" {outcome.phase_id}" if outcome.phase_id else ""
            who = one_line(outcome.expert_name, 30)
            err.write(f"[{who}] {mark}{where}: {one_line(outcome.content, 120)}\n")
        elif event.type in ("plan_step", "team_synthesis", "team_dissolved"):
            pass  # progress text is for the panels; the synthesis is the final answer
        else:
            return False
        return True

    def close(self) -> None:
        """Flush the answer."""
        self.ctx.out.flush()
