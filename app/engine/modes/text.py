"""Text helpers of plan and team mode: one-line summaries, cut results, tool lists."""

from __future__ import annotations

import re

from app.engine.turn import TurnContext

#: Characters of a phase result handed on to later phases and to the synthesis.
RESULT_CHARS = 4_000


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def cut(text: str, limit: int = RESULT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying so."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n[… {len(text) - limit:,} characters cut …]"


def tools_summary(ctx: TurnContext, names: list[str] | None) -> str:
    """One line per tool a phase may use: its name and the first sentence it is described by."""
    lines = []
    for spec in ctx.registry.specs(names):
        first = re.split(r"(?<=[.!?])\s", str(spec.get("description", "")).strip(), maxsplit=1)[0]
        lines.append(f"- {spec['name']}: {first}")
    return "\n".join(lines) or "- (no tools)"
