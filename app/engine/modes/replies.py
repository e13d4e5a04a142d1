"""Structured replies: a planner's or a lead's JSON, parsed and validated, repaired once.

A reply may be a bare JSON object, one in a code fence, or one amid a little prose. When it
does not parse or validate, the model is told exactly what is wrong and asked once more;
a second bad reply ends the turn with a clear ``ModeError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.engine.events import notice
from app.engine.modes.errors import ModeError, ReplyInvalid
from app.engine.react import stream_step
from app.engine.turn import TurnContext
from app.llm.types import ChatMessage, ChatRequest

T = TypeVar("T")
PhaseT = TypeVar("PhaseT", bound="PhaseSpec")
ModelT = TypeVar("ModelT", bound=BaseModel)

#: Most phases a planner or a lead may plan.
MAX_PHASES = 8

REPAIR_PROMPT = (
    "That reply could not be used: {errors}\n\n"
    "Reply again with only the corrected JSON object, no prose and no code fence."
)


class PhaseSpec(BaseModel):
    """A phase as a planner or a lead writes it: what plan and team phases share."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    title: str = Field(min_length=1, max_length=120)
    goal: str = Field(min_length=1)


def unique_phase_ids(phases: list[PhaseT]) -> list[PhaseT]:
    """Validator: phase ids must not repeat."""
    ids = [phase.id for phase in phases]
    if len(ids) != len(set(ids)):
        raise ValueError("phase ids must be unique")
    return phases


def parse_phases(text: str, model: type[ModelT]) -> ModelT:
    """A reply's ``{"phases": [...]}`` object (a bare list is taken as the phases), validated."""
    data = extract_json(text)
    if isinstance(data, list):
        data = {"phases": data}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ReplyInvalid(describe_errors(exc)) from None


def extract_json(text: str) -> Any:
    """The JSON object in a model reply: bare, in a code fence, or amid a little prose."""
    stripped = text.strip()
    candidates = [stripped]
    fence = re.search(r"```(?:json|JSON)?\s*(.*?)```", stripped, re.DOTALL)
    if fence:
        candidates.insert(0, fence.group(1).strip())
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    if not stripped:
        raise ReplyInvalid("the reply was empty; a JSON object was expected")
    raise ReplyInvalid("the reply is not a JSON object")


def describe_errors(exc: ValidationError) -> str:
    """Pydantic errors as one line a model (and a person) can act on."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "the object"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems[:8])


async def structured_call(
    ctx: TurnContext,
    *,
    system: str,
    messages: list[ChatMessage],
    parse: Callable[[str], T],
    what: str,
) -> T:
    """Ask for a JSON reply and parse it; one repair attempt, then a clear ModeError."""
    request = ChatRequest(model=ctx.model, messages=messages, system=system)
    text = await _quiet_reply(ctx, request)
    try:
        return parse(text)
    except ReplyInvalid as exc:
        first = str(exc)
    await ctx.emit(
        notice("plan_repair", f"The {what} reply was not valid ({first}); asking again.")
    )
    repair = [
        *messages,
        ChatMessage(role="assistant", content=text or "(empty reply)"),
        ChatMessage(role="user", content=REPAIR_PROMPT.format(errors=first)),
    ]
    text = await _quiet_reply(ctx, request.model_copy(update={"messages": repair}))
    try:
        return parse(text)
    except ReplyInvalid as exc:
        raise ModeError(
            f"The {what} did not return a valid plan, even after one repair attempt: {exc}"
        ) from None


async def _quiet_reply(ctx: TurnContext, request: ChatRequest) -> str:
    """One model call whose text is stored but not streamed to the person."""
    reply = await stream_step(ctx, request, live_tokens=False)
    await reply.writer.finish("complete", usage=reply.writer.usage)
    return reply.text
