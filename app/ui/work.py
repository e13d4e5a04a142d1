"""WorkState: what the plan and team panels show, folded from a turn's plan and team events.

Pure data, no widgets: the app keeps one per session, feeds it live events as they arrive
(whichever session is on screen) and rebuilds it from the stored event log when a past
session is opened, so a panel looks the same live, after switching away and back, and in
review. Times come with each event (its ``created_at`` in review), never from polling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from app.store import Event as StoredEvent

if TYPE_CHECKING:  # imported where events are folded in: the engine loads after the first frame
    from app.engine.events import Event, ExpertStepEvent, PlanUpdateEvent

#: Event types that change a panel (all of them are kept in the session's event log).
PANEL_TYPES = frozenset(
    {
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
        "result",
    }
)
#: How much of a streamed step the panel keeps (it shows the end of it).
STEP_CHARS = 400

ExpertStatus = Literal["idle", "working", "done", "failed"]


@dataclass
class PhaseView:
    """One phase of a plan revision."""

    id: str
    title: str
    status: str = "pending"
    expert_id: str | None = None
    depends_on: list[str] = field(default_factory=list)
    latest: str = ""
    result: str = ""
    error: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class Revision:
    """One version of the plan: the first, or a replan after a failure."""

    number: int
    reason: str = ""
    phases: list[PhaseView] = field(default_factory=list)


@dataclass
class ExpertResult:
    """What an expert handed in for a phase."""

    phase_id: str | None
    content: str
    status: str
    #: Tokens the expert's model calls used for it (None: not known).
    tokens: int | None = None


@dataclass
class ExpertView:
    """One member of the team."""

    id: str
    name: str
    color: str
    role: str
    status: ExpertStatus = "idle"
    latest: str = ""
    results: list[ExpertResult] = field(default_factory=list)


@dataclass
class WorkState:
    """The plan (and team) of one turn."""

    kind: Literal["plan", "team"] = "plan"
    revisions: list[Revision] = field(default_factory=list)
    experts: dict[str, ExpertView] = field(default_factory=dict)
    lead: str | None = None
    synthesis: str = ""
    #: Expert results in the order they came in: (expert id, result).
    results: list[tuple[str, ExpertResult]] = field(default_factory=list)
    finished: bool = False
    #: How the turn ended (``result`` status), once it has.
    outcome: str = ""
    _replan: tuple[str, int] | None = None
    _streams: dict[str, tuple[tuple[str | None, int], str]] = field(default_factory=dict)

    @property
    def current(self) -> Revision | None:
        """The latest plan revision."""
        return self.revisions[-1] if self.revisions else None

    @property
    def phases(self) -> list[PhaseView]:
        """The phases of the latest revision."""
        return self.current.phases if self.current else []

    @property
    def has_plan(self) -> bool:
        """Whether there is anything to show."""
        return bool(self.revisions)

    def phase(self, phase_id: str | None) -> PhaseView | None:
        """A phase of the latest revision by id."""
        return next((p for p in self.phases if p.id == phase_id), None)

    def apply(self, event: Event, at: datetime) -> bool:
        """Fold one event in; True when something visible changed."""
        from app.engine.events import PlanUpdateEvent, ReplanningEvent, ResultEvent, TeamFormedEvent

        if isinstance(event, TeamFormedEvent):
            formed = event.data
            self.kind = "team"
            self.lead = formed.lead_expert
            self.experts = {e.id: ExpertView(e.id, e.name, e.color, e.role) for e in formed.experts}
            self.revisions = [Revision(1, phases=[_phase(raw) for raw in formed.plan_phases])]
            return True
        if isinstance(event, PlanUpdateEvent):
            self._update(event, at)
            return True
        if isinstance(event, ReplanningEvent):
            self._replan = (event.data.reason, event.data.attempt)
            return True
        if isinstance(event, ResultEvent):
            self.finished, self.outcome = True, event.data.status
            for phase in self.phases:
                if phase.status == "running" and phase.ended_at is None:
                    phase.ended_at = at
            return True
        return self._apply_phase(event, at) or self._apply_team(event, at)

    def _apply_phase(self, event: Event, at: datetime) -> bool:
        """A phase started, streamed a step, finished or failed."""
        from app.engine.events import (
            PhaseCompletedEvent,
            PhaseFailedEvent,
            PhaseStartedEvent,
            PlanStepEvent,
        )

        if isinstance(event, PhaseStartedEvent):
            found = self.phase(event.data.phase_id)
            if found is not None:
                found.status, found.started_at, found.ended_at = "running", at, None
            return found is not None
        if isinstance(event, PlanStepEvent):
            data = event.data
            found = self.phase(data.phase_id)
            if found is not None:
                found.latest = self._stream(
                    (data.phase_id, None, data.step), data.kind, data.content
                )
            return found is not None
        if isinstance(event, PhaseCompletedEvent):
            found = self.phase(event.data.phase_id)
            if found is not None:
                found.status, found.result, found.ended_at = "done", event.data.result, at
            return found is not None
        if isinstance(event, PhaseFailedEvent):
            found = self.phase(event.data.phase_id)
            if found is not None:
                found.status, found.error, found.ended_at = "failed", event.data.error, at
            return found is not None
        return False

    def _apply_team(self, event: Event, at: datetime) -> bool:
        """An expert worked, handed a result in; the lead wrote the synthesis; the team ended."""
        from app.engine.events import (
            ExpertResultEvent,
            ExpertStepEvent,
            TeamDissolvedEvent,
            TeamSynthesisEvent,
        )

        if isinstance(event, ExpertStepEvent):
            return self._expert_step(event, at)
        if isinstance(event, ExpertResultEvent):
            handed = event.data
            expert = self.experts.get(handed.expert_id)
            result = ExpertResult(
                handed.phase_id, handed.content, handed.status or "done", handed.tokens
            )
            self.results.append((handed.expert_id, result))
            if expert is not None:
                expert.status = "failed" if handed.status == "failed" else "done"
                expert.results.append(result)
            found = self.phase(handed.phase_id)
            if found is not None and not found.result and handed.status != "failed":
                found.result = handed.content
            return True
        if isinstance(event, TeamSynthesisEvent):
            self.synthesis = event.data.content
            return True
        if isinstance(event, TeamDissolvedEvent):
            for expert in self.experts.values():
                if expert.status == "working":
                    expert.status = "idle"
            return True
        return False

    def _update(self, event: PlanUpdateEvent, at: datetime) -> None:
        known = {p.id: p for p in self.phases}
        if self._replan is not None or not self.revisions:
            reason, attempt = self._replan or ("", 0)
            self._replan = None
            # A new revision keeps what the earlier one finished (same ids), nothing else.
            known = {i: p for i, p in known.items() if p.status == "done"}
            self.revisions.append(Revision(attempt + 1 if reason else 1, reason))
        revision = self.revisions[-1]
        phases: list[PhaseView] = []
        for info in event.data.plan_phases:
            view = known.get(info.id) or PhaseView(info.id, info.title)
            view.title = info.title
            if info.expert_id is not None:
                view.expert_id = info.expert_id
            if info.status == "running" and view.started_at is None:
                view.started_at = at
            if info.status in ("done", "failed", "skipped") and view.ended_at is None:
                view.ended_at = at
            view.status = info.status
            phases.append(view)
        revision.phases = phases
        if self.kind == "team":
            for expert in self.experts.values():
                mine = [p for p in phases if p.expert_id == expert.id]
                if any(p.status == "running" for p in mine):
                    expert.status = "working"

    def _expert_step(self, event: ExpertStepEvent, at: datetime) -> bool:
        data = event.data
        expert = self.experts.get(data.expert_id)
        if expert is None:
            expert = ExpertView(data.expert_id, data.expert_name, data.expert_color, "")
            self.experts[data.expert_id] = expert
        expert.status = "working"
        key = (data.expert_id, data.phase_id, data.step)
        expert.latest = self._stream(key, data.kind, data.content)
        found = self.phase(data.phase_id)
        if found is not None:
            found.latest = expert.latest
            if found.started_at is None:
                found.started_at = at
        return True

    def _stream(self, key: tuple[str, str | None, int], kind: str | None, content: str) -> str:
        """Streamed text pieces of one step add up; a tool line stands on its own. Each
        stream (an expert, or a phase in plan mode) keeps only its latest step."""
        owner, rest = key[0], key[1:]
        if kind in (None, "text"):
            earlier = self._streams.get(owner)
            text = earlier[1] if earlier is not None and earlier[0] == rest else ""
            text = (text + content)[-STEP_CHARS:]
            self._streams[owner] = (rest, text)
            return text
        self._streams.pop(owner, None)
        return content


def _phase(raw: dict[str, Any]) -> PhaseView:
    depends = raw.get("depends_on") or []
    return PhaseView(
        id=str(raw.get("id", "")),
        title=str(raw.get("title", "")),
        status=str(raw.get("status", "pending")),
        expert_id=raw.get("expert_id"),
        depends_on=[str(d) for d in depends] if isinstance(depends, list) else [],
    )


def state_from_log(events: list[StoredEvent]) -> WorkState | None:
    """The panel state of the last turn in ``events`` that planned (None if none did)."""
    turns: dict[str | None, list[StoredEvent]] = {}
    for stored in events:
        turns.setdefault(stored.turn_id, []).append(stored)
    planned = [
        turn
        for turn in turns.values()
        if any(e.type in ("plan_update", "team_formed") for e in turn)
    ]
    if not planned:
        return None
    from app.engine.events import from_wire

    state = WorkState()
    for stored in planned[-1]:
        try:
            event = from_wire({"type": stored.type, **stored.data})
        except ValueError:
            continue  # an event of an older shape: skip it rather than fail the review
        state.apply(event, stored.created_at)
    return state
