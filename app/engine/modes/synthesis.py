"""The final answer of a plan or team turn, and the shared "missing" and fallback text.

Both modes keep their phases as ``Phase`` records. What failed or was skipped is listed by
the engine under the answer (``missing_text``), so the answer says it plainly whatever the
model wrote; when the synthesis call itself fails, ``fallback_text`` lists what the phases
produced instead. Each mode words its headings through a ``Wording``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.engine.events import PhaseStatus, TokenEvent, notice
from app.engine.modes.text import one_line
from app.engine.react import stream_step
from app.engine.turn import TurnContext
from app.llm.errors import LLMError
from app.llm.types import ChatMessage, ChatRequest


@dataclass
class Phase:
    """A phase as it runs, in plan or team mode."""

    id: str
    title: str
    goal: str
    status: PhaseStatus = "pending"
    result: str = ""
    error: str = ""

    def label(self) -> str:
        """How the phase is named in the list of what is missing."""
        return f"{self.id} “{self.title}”"

    def summary(self) -> str:
        """The phase's result as the fallback answer lists it."""
        return f"**{self.title}** — {one_line(self.result, 400)}"


@dataclass(frozen=True)
class Wording:
    """How a mode words what is missing and what its fallback answer lists."""

    #: The heading over the failed and skipped phases.
    missing_heading: str
    #: After "was skipped", with ``{why}``.
    skipped: str
    #: The fallback answer when no phase produced a result.
    nothing_done: str
    #: The heading over the results in the fallback answer.
    done_heading: str


def missing_text(phases: Sequence[Phase], wording: Wording) -> str | None:
    """The failed and skipped phases, one line each (None when every phase is done)."""
    lines = []
    for phase in phases:
        if phase.status == "failed":
            lines.append(f"- {phase.label()} failed: {one_line(phase.error, 200)}")
        elif phase.status == "skipped":
            lines.append(f"- {phase.label()} was skipped{wording.skipped.format(why=phase.error)}")
    if not lines:
        return None
    return f"{wording.missing_heading}\n" + "\n".join(lines)


def fallback_text(phases: Sequence[Phase], wording: Wording) -> str:
    """The answer when the synthesis cannot be written: what the finished phases produced."""
    done = [phase for phase in phases if phase.status == "done"]
    if not done:
        return wording.nothing_done
    return f"{wording.done_heading}\n\n" + "\n\n".join(phase.summary() for phase in done)


async def synthesise(
    ctx: TurnContext,
    history: list[ChatMessage],
    *,
    system: str,
    prompt: str,
    phases: Sequence[Phase],
    wording: Wording,
) -> str:
    """Stream the final answer (live tokens, stored on the main thread) and return it.

    What failed or was skipped is added by the engine, so the answer says it plainly whatever
    the model wrote. A failing model call falls back to what the phases produced.
    """
    fallback, missing = fallback_text(phases, wording), missing_text(phases, wording)
    messages = [*history[:-1], ChatMessage(role="user", content=prompt)]
    request = ChatRequest(model=ctx.model, messages=messages, system=system)
    try:
        reply = await stream_step(ctx, request)
    except LLMError as exc:
        await ctx.emit(notice("synthesis_failed", f"The final answer could not be written: {exc}"))
        answer = fallback + (f"\n\n{missing}" if missing else "")
        await ctx.store.append_message(
            ctx.session_id,
            "assistant",
            answer,
            model="local",
            agent_name=ctx.agent_name,
            turn_id=ctx.turn_id,
            thread=ctx.thread,
            allow_closed=True,
        )
        return answer
    answer = reply.text.strip() or fallback
    if not reply.text.strip():
        await ctx.emit(TokenEvent(content=answer))
    if missing:
        await ctx.emit(TokenEvent(content=f"\n\n{missing}"))
        answer = f"{answer}\n\n{missing}"
    await reply.writer.finish("complete", content=answer, usage=reply.writer.usage)
    return answer
