"""The ask_human tool: put a question to the person through ``ToolContext.ask``."""

from __future__ import annotations

from pydantic import Field

from app.tools.base import Tool, ToolArgs, ToolContext, ToolResult

NO_USER = "No user is available to answer; proceed with your best judgement or stop."
NO_ANSWER = (
    "The user did not answer in time. This was not a decision; continue without the answer "
    "or stop and say what you need."
)


class AskHumanArgs(ToolArgs):
    """Arguments of ask_human."""

    question: str = Field(min_length=1, description="One clear question for the user.")


class AskHumanTool(Tool[AskHumanArgs]):
    """Ask the user a question and return the answer."""

    name = "ask_human"
    description = (
        "Ask the user a question and wait for the answer. Use it when you need a decision "
        "or information only the user has; do not use it for things you can find out."
    )
    Args = AskHumanArgs
    access = "interactive"

    def approval_text(self, args: AskHumanArgs, ctx: ToolContext) -> str:
        """The question."""
        return args.question

    def timeout_for(self, args: AskHumanArgs, ctx: ToolContext) -> float | None:
        """No limit here: the engine's ``ask`` owns the wait for the person (and its timeout)."""
        return None

    async def run(self, args: AskHumanArgs, ctx: ToolContext) -> ToolResult:
        """Return the person's answer, or say that nobody can answer."""
        if ctx.ask is None:
            return ToolResult(output=NO_USER, metadata={"answered": False})
        try:
            answer = await ctx.ask(args.question)
        except TimeoutError:
            return ToolResult(output=NO_ANSWER, is_error=True, metadata={"answered": False})
        if not answer.strip():
            return ToolResult(output="The user gave an empty answer.", metadata={"answered": True})
        return ToolResult(output=answer, metadata={"answered": True})
