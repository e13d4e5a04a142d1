"""WorkPanel: the plan panel and the team panel, beside the transcript.

It draws a :class:`~app.ui.work.WorkState` and nothing else: the app folds events into the
state and calls ``show``. Plan mode lists the phases of the current revision (earlier
revisions stay as one line each, with why they were replaced); team mode adds the lead and
the experts, each with its status and latest step in its own area, and their results as
expandable Markdown. Model and tool text is shown as plain text, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Collapsible, Static

from app.ui.widgets.message_views import RenderedMarkdown, clean, one_line
from app.ui.widgets.status_line import window_label
from app.ui.work import ExpertView, PhaseView, WorkState

ICONS = {"pending": "○", "running": "◐", "done": "✓", "failed": "✗", "skipped": "⤼"}
STYLES = {
    "pending": "dim",
    "running": "bold",
    "done": "green",
    "failed": "bold red",
    "skipped": "dim",
}
EXPERT_STATUS = {"idle": "idle", "working": "working…", "done": "done", "failed": "failed"}
MIN_WIDTH, MAX_WIDTH, STEP_WIDTH = 30, 100, 6


def elapsed(phase: PhaseView, now: datetime) -> str:
    """How long the phase ran (or has been running)."""
    if phase.started_at is None:
        return ""
    end = phase.ended_at or now
    seconds = max(0.0, (end - phase.started_at).total_seconds())
    if seconds < 60:
        return f"{seconds:.1f}s" if phase.ended_at else f"{int(seconds)}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def expert_style(color: str) -> Style:
    """The expert's colour (a bad colour name falls back to bold)."""
    try:
        return Style.parse(f"bold {color}") if color else Style(bold=True)
    except Exception:  # rich raises StyleSyntaxError / ColorParseError
        return Style(bold=True)


class WorkPanel(VerticalScroll):
    """Plan phases, team members and their results for the open session's last plan."""

    can_focus = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "resize(1)", "Wider", id="panel.wider"),
        Binding("right_square_bracket", "resize(-1)", "Narrower", id="panel.narrower"),
    ]

    def __init__(self, clock: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clock = clock
        self.state: WorkState | None = None
        self._experts: dict[str, Static] = {}
        self._results_shown = 0
        self._drawn: dict[str, Text] = {}
        self._ticker: Any = None

    def clock(self) -> datetime:
        """Now, by the app's clock (a fixed one in tests and snapshots)."""
        if self._clock is not None:
            return self._clock()
        app_clock = getattr(self.app, "clock", None)
        return app_clock() if callable(app_clock) else datetime.now(UTC)

    def compose(self) -> Any:
        yield Static("", id="work-header")
        yield Vertical(id="work-experts")
        yield Static("", id="work-phases")
        yield Vertical(id="work-results")

    # ------------------------------------------------------------------ drawing

    async def show(self, state: WorkState | None) -> None:
        """Draw ``state`` (None: nothing planned in this session)."""
        replaced = state is not self.state
        self.state = state
        if replaced:
            await self.query_one("#work-experts").remove_children()
            await self.query_one("#work-results").remove_children()
            self._experts = {}
            self._drawn = {}
            self._results_shown = 0
        if state is None or not state.has_plan:
            return
        self._draw_header(state)
        await self._draw_experts(state)
        self._draw_phases(state)
        await self._draw_results(state)
        running = not state.finished and any(p.status == "running" for p in state.phases)
        if running and self._ticker is None:
            self._ticker = self.set_interval(1.0, self._tick)
        elif not running and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _tick(self) -> None:
        if self.state is not None:
            self._draw_phases(self.state)

    def _draw_header(self, state: WorkState) -> None:
        header = Text()
        if state.kind == "team":
            header.append("Team", style="bold")
            lead = state.experts.get(state.lead or "")
            if lead is not None:
                header.append(" · lead ")
                header.append(clean(lead.name), style=expert_style(lead.color))
        else:
            header.append("Plan", style="bold")
        done = sum(1 for p in state.phases if p.status == "done")
        header.append(f" · {done}/{len(state.phases)} done", style="dim")
        if len(state.revisions) > 1:
            header.append(f" · revision {len(state.revisions)}", style="yellow")
        if state.finished and state.outcome and state.outcome != "completed":
            header.append(f" · {state.outcome}", style="red")
        self._put("#work-header", header)

    async def _draw_experts(self, state: WorkState) -> None:
        area = self.query_one("#work-experts", Vertical)
        area.display = bool(state.experts)
        new = [e for e in state.experts.values() if e.id not in self._experts]
        for expert in new:
            view = Static("", classes="expert")
            self._experts[expert.id] = view
        if new:
            await area.mount_all([self._experts[e.id] for e in new])
        for expert in state.experts.values():
            view = self._experts[expert.id]
            text = self._expert_text(expert, state)
            if text != self._drawn.get(expert.id):  # unchanged boxes cost no layout
                self._drawn[expert.id] = text
                view.update(text)

    def _expert_text(self, expert: ExpertView, state: WorkState) -> Text:
        text = Text()
        text.append("● ", style=expert_style(expert.color))
        text.append(clean(expert.name), style=expert_style(expert.color))
        if expert.id == state.lead:
            text.append(" (lead)", style="dim")
        status = EXPERT_STATUS.get(expert.status, expert.status)
        text.append(f"  {status}", style="red" if expert.status == "failed" else "dim")
        if expert.latest and expert.status == "working":
            lines = [line for line in clean(expert.latest).splitlines() if line.strip()]
            for line in lines[-2:]:
                text.append("\n  " + one_line(line, 200), style="italic")
        return text

    def _draw_phases(self, state: WorkState) -> None:
        now = self.clock()
        text = Text()
        for revision in state.revisions[:-1]:
            marks = "".join(ICONS.get(p.status, "?") for p in revision.phases)
            text.append(f"rev {revision.number} {marks} replaced\n", style="dim")
        current = state.current
        if current is not None and current.reason:
            text.append("⟳ replanned: ", style="yellow")
            text.append(one_line(current.reason, 160) + "\n", style="dim")
        for index, phase in enumerate(state.phases, 1):
            style = STYLES.get(phase.status, "")
            text.append(f"{ICONS.get(phase.status, '?')} {index}. ", style=style)
            text.append(clean(phase.title), style=style)
            expert = state.experts.get(phase.expert_id or "")
            if expert is not None:
                text.append("  ")
                text.append(clean(expert.name), style=expert_style(expert.color))
            took = elapsed(phase, now)
            if took:
                text.append(f"  {took}", style="dim")
            if phase.status == "running" and phase.latest:
                lines = [line for line in clean(phase.latest).splitlines() if line.strip()]
                if lines and state.kind == "plan":
                    text.append("\n    ↳ " + one_line(lines[-1], 200), style="italic dim")
            if phase.status == "failed" and phase.error:
                text.append("\n    ⚠ " + one_line(phase.error, 300), style="red")
            text.append("\n")
        self._put("#work-phases", text)

    def _put(self, selector: str, text: Text) -> None:
        """Update a Static only when its text changed (each update lays the screen out)."""
        if text != self._drawn.get(selector):
            self._drawn[selector] = text
            self.query_one(selector, Static).update(text)

    async def _draw_results(self, state: WorkState) -> None:
        results = state.results
        if len(results) <= self._results_shown:
            return
        area = self.query_one("#work-results", Vertical)
        views = []
        for expert_id, result in results[self._results_shown :]:
            phase = state.phase(result.phase_id)
            where = f" — {one_line(phase.title, 40)}" if phase is not None else ""
            mark = "✗" if result.status == "failed" else "✓"
            expert = state.experts.get(expert_id)
            name = expert.name if expert is not None else expert_id
            # Tokens before the phase title: a narrow panel cuts the end of the line.
            spent = f" · {window_label(result.tokens)} tokens" if result.tokens else ""
            title = f"{mark} {one_line(name, 30)}{spent}{where}"
            # lazy: a collapsed result is not rendered until it is opened
            body = RenderedMarkdown(clean(result.content), lazy=True, classes="work-result-text")
            view = Collapsible(body, title="", collapsed=True, classes="work-result")
            view.title = Content(title)  # type: ignore[assignment]  # never parsed as markup
            view.set_class(result.status == "failed", "-failed")
            views.append(view)
        self._results_shown = len(results)
        await area.mount_all(views)

    # ------------------------------------------------------------------ size

    def action_resize(self, direction: int) -> None:
        """Make the panel wider (1) or narrower (-1)."""
        width = self.styles.width
        current = int(width.value) if width is not None and width.unit.name == "CELLS" else 44
        self.styles.width = max(MIN_WIDTH, min(MAX_WIDTH, current + direction * STEP_WIDTH))
