"""The ask_human tool: put a question to the person through ``ToolContext.ask``."""

from __future__ import annotations

from pydantic import Field, field_validator

from app.tools.base import Tool, ToolArgs, ToolContext, ToolResult

#: At most this many choices (the dialog's keys are 1 to 9), each at most this long.
MAX_CHOICES = 9
MAX_CHOICE_CHARS = 80

NO_USER = "No user is available to answer; proceed with your best judgement or stop."
NO_ANSWER = (
    "The user did not answer in time. This was not a decision; continue without the answer "
    "or stop and say what you need."
)


class AskHumanArgs(ToolArgs):
    """Arguments of ask_human."""

    question: str = Field(min_length=1, description="One clear question for the user.")
    choices: list[str] | None = Field(
        default=None,
        description=(
            f"Optional: 1 to {MAX_CHOICES} short answers to offer (each one line, at most "
            f"{MAX_CHOICE_CHARS} characters). The user may pick one or write their own."
        ),
    )

    @field_validator("choices")
    @classmethod
    def _short_distinct_lines(cls, choices: list[str] | None) -> list[str] | None:
        """Each choice one short line; 1 to 9 of them, no two the same."""
        if choices is None:
            return None
        cleaned = [" ".join(choice.split()) for choice in choices]
        if not 1 <= len(cleaned) <= MAX_CHOICES:
            raise ValueError(f"give 1 to {MAX_CHOICES} choices, not {len(cleaned)}")
        for choice in cleaned:
            if not choice:
                raise ValueError("a choice is empty")
            if len(choice) > MAX_CHOICE_CHARS:
                raise ValueError(f"a choice is longer than {MAX_CHOICE_CHARS} characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("two choices are the same")
        return cleaned


class AskHumanTool(Tool[AskHumanArgs]):
    """Ask the user a question and return the answer."""

    name = "ask_human"
    description = (
        "Ask the user a question and wait for the answer. Use it when you need a decision "
        "or information only the user has; do not use it for things you can find out. "
        "When the answer is one of a few options, list them as choices."
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
            answer = await ctx.ask(args.question, tuple(args.choices or ()))
        except TimeoutError:
            return ToolResult(output=NO_ANSWER, is_error=True, metadata={"answered": False})
        if not answer.strip():
            return ToolResult(output="The user gave an empty answer.", metadata={"answered": True})
        return ToolResult(output=answer, metadata={"answered": True})
