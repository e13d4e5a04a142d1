"""StatusLine: agent, model, turn state and tokens used in this session."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

STATES = {
    "idle": "idle",
    "thinking": "thinking…",
    "streaming": "writing…",
    "tool": "running a tool…",
    "waiting": "waiting for you",
    "minimised": "waiting for you — f7 shows the question",
}


class StatusLine(Static):
    """One line at the bottom of the conversation."""

    agent: reactive[str] = reactive("default")
    model: reactive[str] = reactive("")
    state: reactive[str] = reactive("idle")
    tokens: reactive[int] = reactive(0)

    def render(self) -> Content:
        model = "demo — offline" if self.model == "demo" else self.model or "…"  # … starting
        parts = [f"agent {self.agent}", f"model {model}", STATES.get(self.state, self.state)]
        parts.append(f"{self.tokens:,} tokens")
        return Content("  ·  ".join(parts))  # model names are text, never markup

    def watch_state(self, state: str) -> None:
        self.set_class(state != "idle", "-busy")
        self.set_class(state in ("waiting", "minimised"), "-waiting")
