"""StatusLine: agent, model, turn state, tokens used in this session (and their cost, where
the price is known), and context use."""

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
    "compacting": "Compacting the conversation…",
}


def window_label(tokens: int) -> str:
    """A window size the short way: ``128k``, ``1M``; sizes in powers of two the way
    people say them (131,072 is ``128k``, 65,536 is ``64k``)."""
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.3g}M"
    unit = 1_024 if tokens % 1_000 and not tokens % 1_024 else 1_000
    return f"{round(tokens / unit)}k" if tokens >= 1_000 else str(tokens)


def cost_label(dollars: float) -> str:
    """A session's cost the short way: ``$0.42``, or ``$0.0035`` while under a cent."""
    return f"${dollars:.2f}" if dollars >= 0.01 else f"${dollars:.4f}"


class StatusLine(Static):
    """One line at the bottom of the conversation."""

    agent: reactive[str] = reactive("default")
    model: reactive[str] = reactive("")
    state: reactive[str] = reactive("idle")
    tokens: reactive[int] = reactive(0)
    #: The last request's size and the model's window, in tokens (0: not known).
    context_tokens: reactive[int] = reactive(0)
    context_window: reactive[int] = reactive(0)
    #: Past this share of the window the context use shows in the warning colour.
    compact_at: reactive[float] = reactive(0.8)
    #: What the session's priced model calls cost in US dollars (0: none priced).
    cost_usd: reactive[float] = reactive(0.0)

    def render(self) -> Content:
        model = "demo — offline" if self.model == "demo" else self.model or "…"  # … starting
        parts = [f"agent {self.agent}", f"model {model}", STATES.get(self.state, self.state)]
        parts.append(f"{self.tokens:,} tokens")
        if self.cost_usd > 0:
            parts.append(cost_label(self.cost_usd))
        line = Content("  ·  ".join(parts))  # model names are text, never markup
        if self.context_window > 0:
            share = self.context_tokens / self.context_window
            text = f"ctx {share:.0%} of {window_label(self.context_window)}"
            style = "$warning" if share > self.compact_at else ""
            line = line + Content("  ·  ") + Content.styled(text, style)
        return line

    def watch_state(self, state: str) -> None:
        self.set_class(state != "idle", "-busy")
        self.set_class(state in ("waiting", "minimised"), "-waiting")
