"""The events of the person in the loop: approvals asked and decided, the agent's questions.

Re-exported by :mod:`app.engine.events`, which holds the union of every event; import them
from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from app.engine.wire import Wire

Decider = Literal["user", "policy", "rule", "timeout", "cancelled", "session_rule"]


class LaterCallData(Wire):
    #: The tool call's id (what a ``Decision.covers`` names).
    id: str
    tool: str
    command: str


class ConfirmationRequestData(Wire):
    confirmation_id: str
    command: str
    reason: str
    tool: str | None = None
    proposed_rule: str | None = None
    #: Who asks, when an expert of a team (or a plan phase) made the call.
    expert_name: str | None = None
    #: For commands: whether they run in the OS sandbox, in words.
    sandbox: str | None = None
    #: Later calls of the same step the policy will also ask about (left out when none), so
    #: one answer can cover them by call id.
    later_calls: list[LaterCallData] | None = None


class ConfirmationRequestEvent(Wire):
    """A tool call waits for the person's approval."""

    type: Literal["confirmation_request"] = "confirmation_request"
    data: ConfirmationRequestData


class ConfirmationResultData(Wire):
    confirmation_id: str
    approved: bool
    decider: Decider | None = None
    rule: str | None = None
    scope: str | None = None
    tool: str | None = None
    command: str | None = None


class ConfirmationResultEvent(Wire):
    """How an approval was decided, by whom, and by which rule."""

    type: Literal["confirmation_result"] = "confirmation_result"
    data: ConfirmationResultData


class AskHumanEvent(Wire):
    """The agent asks the person a question and waits for the reply."""

    type: Literal["ask_human"] = "ask_human"
    question: str
    request_id: str
    #: Answers the agent offers (1 to 9), left out when it offered none; the reply is free
    #: text either way, so a client that ignores them still works.
    choices: list[str] | None = None


def confirmation_request(
    confirmation_id: str,
    command: str,
    reason: str,
    *,
    tool: str | None = None,
    proposed_rule: str | None = None,
    expert_name: str | None = None,
    sandbox: str | None = None,
    later_calls: list[LaterCallData] | None = None,
) -> ConfirmationRequestEvent:
    """A ``confirmation_request`` event: a call waits for the person's approval."""
    data = ConfirmationRequestData(
        confirmation_id=confirmation_id,
        command=command,
        reason=reason,
        tool=tool,
        proposed_rule=proposed_rule,
        expert_name=expert_name,
        sandbox=sandbox,
        later_calls=later_calls,
    )
    return ConfirmationRequestEvent(data=data)


def confirmation_result(
    confirmation_id: str,
    approved: bool,
    *,
    decider: Decider | None = None,
    rule: str | None = None,
    scope: str | None = None,
    tool: str | None = None,
    command: str | None = None,
) -> ConfirmationResultEvent:
    """A ``confirmation_result`` event: how an approval was decided, and by whom."""
    data = ConfirmationResultData(
        confirmation_id=confirmation_id,
        approved=approved,
        decider=decider,
        rule=rule,
        scope=scope,
        tool=tool,
        command=command,
    )
    return ConfirmationResultEvent(data=data)


def ask_human(question: str, request_id: str, choices: Sequence[str] = ()) -> AskHumanEvent:
    """An ``ask_human`` event: the agent's question, with the answers it offers (if any)."""
    return AskHumanEvent(question=question, request_id=request_id, choices=list(choices) or None)
