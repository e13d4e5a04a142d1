"""Text helpers of plan and team mode: one-line summaries, cut results, tool lists."""

from __future__ import annotations

import re

from app.engine.turn import TurnContext
from app.textsafe import cut as shared_cut
from app.textsafe import one_line as shared_one_line

#: Characters of a phase result handed on to later phases and to the synthesis.
RESULT_CHARS = 4_000


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis (the shared helper;
    control characters are cleaned where the text is shown)."""
    return shared_one_line(text, limit, keep_controls=True)


def cut(text: str, limit: int = RESULT_CHARS) -> str:
    """``text`` cut to ``limit`` characters (a phase result by default), saying so."""
    return shared_cut(text, limit)


def tools_summary(ctx: TurnContext, names: list[str] | None) -> str:
    """One line per tool a phase may use: its name and the first sentence it is described by."""
    lines = []
    for spec in ctx.registry.specs(names):
        first = re.split(r"(?<=[.!?])\s", str(spec.get("description", "")).strip(), maxsplit=1)[0]
        lines.append(f"- {spec['name']}: {first}")
    return "\n".join(lines) or "- (no tools)"
