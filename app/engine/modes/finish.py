"""``finish_phase``: the tool a phase (or an expert's task) ends with an explicit outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from app.tools.base import Tool, ToolArgs, ToolContext, ToolResult

FINISH_TOOL = "finish_phase"


@dataclass
class PhaseReport:
    """What the model said through ``finish_phase`` (nothing yet: ``status`` is None)."""

    status: Literal["done", "failed"] | None = None
    summary: str = ""


class FinishPhaseArgs(ToolArgs):
    """Arguments of finish_phase."""

    status: Literal["done", "failed"] = Field(
        description='"done" when the phase is complete, "failed" when it cannot be done.'
    )
    summary: str = Field(
        min_length=1, description="The phase's result, or why it failed (a few sentences)."
    )


class FinishPhaseTool(Tool[FinishPhaseArgs]):
    """Ends a phase with an explicit outcome (bound to one phase's report)."""

    name = FINISH_TOOL
    description = (
        "End the current phase. Use status 'failed' with the reason when the phase cannot be "
        "done; use 'done' with the result if you prefer it to a plain answer."
    )
    Args = FinishPhaseArgs
    access = "read"

    def __init__(self, report: PhaseReport) -> None:
        self.report = report

    async def run(self, args: FinishPhaseArgs, ctx: ToolContext) -> ToolResult:
        """Record the outcome; the engine ends the phase after this step."""
        self.report.status = args.status
        self.report.summary = args.summary.strip()
        return ToolResult(output=f"Recorded: the phase is {args.status}.")
