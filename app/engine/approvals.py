"""The person in the loop for one step's calls: the policy's decision, or a question to the
person (with the later calls of the step that will ask too, so one answer may cover them by
call id), remembering "always" answers as rules, and the agent's own questions.

Split from ``tooling.py``, which runs the calls; this module decides whether each may run.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app.engine.cancel import TurnCancelled, cancellable
from app.engine.events import (
    ConfirmationRequestData,
    ConfirmationRequestEvent,
    ConfirmationResultData,
    ConfirmationResultEvent,
    Decider,
    LaterCallData,
    ask_human,
    notice,
)
from app.engine.human import ConfirmationRequest, Decision, LaterCall, Question
from app.engine.turn import TurnContext
from app.llm.types import ToolCall
from app.tools import sandbox
from app.tools.base import Tool, ToolContext, ToolResult
from app.tools.rules import RuleError, RuleKind, save_rule

DENIED = "The person denied this call. It was not run."
TIMED_OUT = (
    "No answer from the person within {minutes}, so this call was not run. This was not the "
    "person's decision. Do not retry it or reach the same result another way; continue "
    "without it or ask the person."
)
POLICY_DENIED = (
    "Blocked by the approval policy ({why}). It was not run; do not try to work around the policy."
)
NO_ANSWER = "The person did not answer within {minutes}."


@dataclass
class Planned:
    call: ToolCall
    tool: Tool[Any] | None = None
    args: BaseModel | None = None
    result: ToolResult | None = None
    task: asyncio.Task[ToolResult] | None = None
    started: float = 0.0
    #: Some part was allowed as known-safe: its git reads run with repository code off.
    known_safe: bool = False
    #: Allowed only as known-safe (nobody approved anything of it): no network either.
    offline: bool = False


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "the time allowed"
    if seconds % 60 == 0:
        count = int(seconds // 60)
        return f"{count} minute{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"


def error_result(text: str) -> ToolResult:
    return ToolResult(output=text, is_error=True)


async def decide(ctx: TurnContext, planned: Planned, step: StepAnswers) -> bool:
    """Policy first, then an answer given ahead for this call, then the person; False when
    the person chose to stop the turn."""
    assert planned.tool is not None and planned.args is not None
    tool, args, call = planned.tool, planned.args, planned.call
    decision = ctx.policy.evaluate(tool, args)
    access = tool.access_for(args)
    if decision.action == "deny":
        if decision.source == "mode":
            planned.result = error_result(decision.reason)  # read-only: say so plainly
        else:
            why = f"rule `{decision.rule}`" if decision.rule else decision.reason
            planned.result = error_result(POLICY_DENIED.format(why=why))
        await _emit_result(
            ctx,
            call,
            False,
            "rule" if decision.rule else "policy",
            decision.rule,
            command=_decided_command(planned),
        )
        return True
    if decision.action == "allow":
        planned.known_safe = decision.known_safe
        planned.offline = decision.known_safe and decision.source == "mode"
        if access not in ("read", "interactive") or decision.rule:  # a question is no action
            decider: Decider = "rule" if decision.rule else "policy"
            await _emit_result(
                ctx, call, True, decider, decision.rule, command=_decided_command(planned)
            )
        return True
    ahead = step.covered.pop(call.id, None)
    if ahead is not None:
        await _apply_ahead(ctx, planned, ahead)
        return True
    return await _ask_person(ctx, planned, decision.reason, step)


@dataclass
class StepAnswers:
    """One step's calls after the one being decided, and the answers the person gave ahead
    for some of them, by call id (they never apply beyond the step)."""

    planned: list[Planned]
    covered: dict[str, Decision] = field(default_factory=dict)

    def later_than(self, planned: Planned) -> list[Planned]:
        """The step's calls after ``planned``."""
        return self.planned[self.planned.index(planned) + 1 :]


async def _apply_ahead(ctx: TurnContext, planned: Planned, answer: Decision) -> None:
    """Decide a call by an answer the person gave ahead for it (logged as theirs)."""
    approved = answer.approved
    await _emit_result(ctx, planned.call, approved, "user", None, command=_decided_command(planned))
    if not approved:
        extra = f" Their reason: {answer.message}" if answer.message else ""
        planned.result = error_result(DENIED + extra)


def _later_asking(
    ctx: TurnContext, later: list[Planned], covered: dict[str, Decision], tool_ctx: ToolContext
) -> tuple[LaterCall, ...]:
    """The later calls the policy will ask about (as ``decide`` would evaluate them now)."""
    found: list[LaterCall] = []
    for item in later:
        if item.result is not None or item.tool is None or item.args is None:
            continue  # invalid: refused before it could ask
        if item.call.id in covered or ctx.policy.evaluate(item.tool, item.args).action != "ask":
            continue
        try:
            text = item.tool.approval_text(item.args, tool_ctx)
        except Exception:  # its own question shows the full text; a summary will do here
            text = _decided_command(item)
        found.append(LaterCall(call_id=item.call.id, tool=item.call.name, command=text))
    return tuple(found)


async def _emit_result(
    ctx: TurnContext,
    call: ToolCall,
    approved: bool,
    decider: Decider,
    rule: str | None,
    confirmation_id: str | None = None,
    scope: str | None = None,
    *,
    command: str | None = None,
) -> None:
    await ctx.emit(
        ConfirmationResultEvent(
            data=ConfirmationResultData(
                confirmation_id=confirmation_id or f"policy-{call.id}",
                approved=approved,
                decider=decider,
                rule=rule,
                scope=scope,
                tool=call.name,
                command=command,
            )
        )
    )


#: A decision nobody was asked about carries what was decided (the command, or the path), so
#: the approvals review and the export can show it; cut to keep the log small. Built from the
#: call's own arguments only: no diff, which would copy a denied file's content into the log.
DECIDED_COMMAND_CHARS = 300


def _decided_command(planned: Planned) -> str:
    assert planned.args is not None
    args = planned.args.model_dump(mode="json")
    what = args.get("command") or args.get("path") or args.get("url")
    text = what if isinstance(what, str) else json.dumps(args, ensure_ascii=False)
    if len(text) > DECIDED_COMMAND_CHARS:
        text = text[: DECIDED_COMMAND_CHARS - 1] + "…"
    return text


async def _ask_person(ctx: TurnContext, planned: Planned, reason: str, step: StepAnswers) -> bool:
    async with ctx.human_lock:
        # Another expert's question may have held the lock while the turn was stopped.
        ctx.cancel.raise_if_cancelled()
        return await _ask_person_now(ctx, planned, reason, step)


async def _ask_person_now(
    ctx: TurnContext, planned: Planned, reason: str, step: StepAnswers
) -> bool:
    request = _confirmation_request(ctx, planned, reason, step)
    await ctx.emit(
        ConfirmationRequestEvent(
            data=ConfirmationRequestData(
                confirmation_id=request.confirmation_id,
                command=request.command,
                reason=request.reason,
                tool=request.tool,
                proposed_rule=request.proposed_rule,
                expert_name=request.expert_name,
                sandbox=request.sandbox,
                later_calls=[
                    LaterCallData(id=later.call_id, tool=later.tool, command=later.command)
                    for later in request.later_calls
                ]
                or None,
            )
        )
    )
    answer = await _wait_for_answer(ctx, planned, request)
    if answer is None:
        return True
    listed = {later.call_id for later in request.later_calls}
    for call_id in answer.covers:
        if call_id in listed and answer.action != "abort":
            step.covered[call_id] = answer
    return await _apply_answer(ctx, planned, request, answer)


def _confirmation_request(
    ctx: TurnContext, planned: Planned, reason: str, step: StepAnswers
) -> ConfirmationRequest:
    """The question about ``planned``, listing the step's later calls that will ask too."""
    assert planned.tool is not None and planned.args is not None
    tool, args, call = planned.tool, planned.args, planned.call
    tool_ctx = tool_context(ctx)
    return ConfirmationRequest(
        confirmation_id=uuid.uuid4().hex[:12],
        tool=call.name,
        command=tool.approval_text(args, tool_ctx),
        reason=reason,
        access=tool.access_for(args),
        workspace=str(ctx.workspace),
        proposed_rule=ctx.policy.propose_rule(tool, args),
        expert_name=ctx.expert_name,
        sandbox=sandbox_words(ctx) if call.name == "shell" else None,
        call_id=call.id,
        later_calls=_later_asking(ctx, step.later_than(planned), step.covered, tool_ctx),
    )


async def _wait_for_answer(
    ctx: TurnContext, planned: Planned, request: ConfirmationRequest
) -> Decision | None:
    """The person's answer; ``None`` when none came in time (the call is then not run)."""
    timeout = ctx.confirm_timeout
    try:
        answer: Decision = await cancellable(
            asyncio.wait_for(ctx.human.confirm(request), timeout), ctx.cancel
        )
    except TimeoutError:
        planned.result = error_result(TIMED_OUT.format(minutes=minutes(timeout)))
        await _emit_result(ctx, planned.call, False, "timeout", None, request.confirmation_id)
        return None
    except TurnCancelled:
        await _emit_result(ctx, planned.call, False, "cancelled", None, request.confirmation_id)
        raise
    return answer


async def _apply_answer(
    ctx: TurnContext, planned: Planned, request: ConfirmationRequest, answer: Decision
) -> bool:
    """Remember an "always" answer as a rule, log the decision, and refuse a denied call;
    False when the person stopped the turn."""
    call = planned.call
    rule = answer.rule or request.proposed_rule
    if answer.action in ("approve_always", "deny_always") and rule:
        kind: RuleKind = "allow" if answer.action == "approve_always" else "deny"
        try:
            ctx.policy.add_session_rule(rule, kind)
            if answer.scope != "session":
                save_rule(rule, kind, answer.scope, ctx.user_config_file, ctx.workspace)
        except RuleError as exc:
            # The answer still counts for this call; only remembering it failed.
            await ctx.emit(notice("rule_not_saved", f"The rule {rule!r} was not saved: {exc}"))
            rule = None
    remembered = answer.action.endswith("always") and rule is not None
    await _emit_result(
        ctx,
        call,
        answer.approved,
        "user",
        rule if remembered else None,
        request.confirmation_id,
        answer.scope if remembered else None,
    )
    if answer.action == "abort":
        planned.result = error_result(DENIED + " The person stopped the turn.")
        return False
    if not answer.approved:
        extra = f" Their reason: {answer.message}" if answer.message else ""
        planned.result = error_result(DENIED + extra)
    return True


def tool_context(ctx: TurnContext) -> ToolContext:
    async def ask(question: str, choices: Sequence[str] = ()) -> str:
        try:
            return await ask_person(ctx, question, choices)
        except TurnCancelled:
            # Inside a tool task: end the task as cancelled, so the turn's own clean-up
            # records "stopped" rather than a tool failure.
            raise asyncio.CancelledError from None

    return ToolContext(
        workspace=ctx.workspace,
        timeout=ctx.settings.engine.tool_timeout_seconds,
        max_output_chars=ctx.settings.engine.max_tool_output_chars,
        ask=ask,
        sandbox=ctx.settings.tools.sandbox,
    )


def sandbox_words(ctx: TurnContext) -> str:
    """How a command would run here, for the approval dialog."""
    try:
        return sandbox.state(ctx.settings.tools.sandbox).description
    except sandbox.SandboxUnavailable as exc:
        return f"nowhere: {exc} (it will not run)"


async def ask_person(ctx: TurnContext, question: str, choices: Sequence[str] = ()) -> str:
    """Put the agent's question (and the answers it offers) to the person (engine-side
    timeout and cancel race)."""
    async with ctx.human_lock:
        ctx.cancel.raise_if_cancelled()
        return await _ask_now(ctx, question, tuple(choices))


async def _ask_now(ctx: TurnContext, question: str, choices: tuple[str, ...]) -> str:
    request = Question(
        request_id=uuid.uuid4().hex[:12],
        question=question,
        expert_name=ctx.expert_name,
        choices=choices,
    )
    await ctx.emit(ask_human(question, request.request_id, choices))
    timeout = ctx.confirm_timeout
    try:
        answer = await cancellable(asyncio.wait_for(ctx.human.ask(request), timeout), ctx.cancel)
    except TimeoutError:
        return NO_ANSWER.format(minutes=minutes(timeout))
    return answer.strip() or "The person gave no answer."
