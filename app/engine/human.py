"""The person in the loop: approvals and questions, behind one small protocol.

The live-turn hub (:mod:`app.engine.live`) implements :class:`Human` as a queue of waiting
questions any client may answer (the TUI's dialogs, the server's sockets); ``agentkit run``
uses a policy or a terminal prompt, REST turns a policy. The engine owns the timeout and the
cancel race; implementations only answer. A question about a tool call lists the later calls
of its step that will ask too, and an answer may cover them by call id.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Literal, Protocol, TextIO

from pydantic import BaseModel, ConfigDict

from app.textsafe import strip_controls
from app.tools.base import AccessKind

DecisionAction = Literal["approve", "deny", "approve_always", "deny_always", "abort"]
RuleScope = Literal["session", "workspace", "user"]


class LaterCall(BaseModel):
    """A later call of the same step that the policy will also ask about."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    tool: str
    #: What it will do, as its own question would show it (command, diff, URL).
    command: str


class ConfirmationRequest(BaseModel):
    """A tool call that needs the person's approval before it runs."""

    model_config = ConfigDict(frozen=True)

    confirmation_id: str
    tool: str
    #: What will happen: the command for ``shell``, a unified diff for edits, the URL.
    command: str
    reason: str
    access: AccessKind
    workspace: str
    #: An editable rule for "always" answers; ``None`` when only once-answers make sense
    #: (interpreters, compound commands).
    proposed_rule: str | None = None
    expert_name: str | None = None
    #: For commands: whether they will run in the OS sandbox, in words.
    sandbox: str | None = None
    #: The id of the tool call asked about.
    call_id: str | None = None
    #: The later calls of the same step that will ask too, in call order: an answer may
    #: cover them by id (:attr:`Decision.covers`).
    later_calls: tuple[LaterCall, ...] = ()


class Decision(BaseModel):
    """The person's answer to a :class:`ConfirmationRequest`."""

    model_config = ConfigDict(frozen=True)

    action: DecisionAction
    #: For ``*_always``: the rule as the person edited it, and where to keep it.
    rule: str | None = None
    scope: RuleScope = "session"
    #: An optional reason to pass to the model with a denial.
    message: str | None = None
    #: Ids of later calls of the same step (from ``later_calls``) this answer also decides:
    #: they run (or are refused) without asking. Never applies beyond the step.
    covers: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        """Whether the call may run."""
        return self.action in ("approve", "approve_always")


class Question(BaseModel):
    """A question the agent asks the person."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    question: str
    #: The team expert (or plan phase) asking, if any.
    expert_name: str | None = None
    #: Answers the agent offers (at most 9); the person may pick one or write their own.
    choices: tuple[str, ...] = ()


class Human(Protocol):
    """Answers approvals and questions for one turn."""

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        """Approve or deny a tool call."""
        ...

    async def ask(self, question: Question) -> str:
        """Answer the agent's question ("" = no answer)."""
        ...


class PolicyHuman:
    """No person present: approve everything, or deny everything (headless, server)."""

    def __init__(self, approve: bool, reason: str = "no interactive user") -> None:
        self.approve = approve
        self.reason = reason

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        """Answer by policy."""
        if self.approve:
            return Decision(action="approve")
        return Decision(action="deny", message=self.reason)

    async def ask(self, question: Question) -> str:
        """Nobody can answer."""
        return ""


class TerminalHuman:
    """Ask on the terminal (``agentkit run --approve ask`` with a TTY)."""

    def __init__(self, stdin: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stderr = stderr or sys.stderr

    async def _prompt(self, text: str) -> str:
        self.stderr.write(text)
        self.stderr.flush()
        return (await self._readline()).strip()

    async def _readline(self) -> str:
        """One line from stdin without a thread, so a timeout or Ctrl-C leaves no reader
        behind to swallow the next answer."""
        loop = asyncio.get_running_loop()
        descriptor = self.stdin.fileno()
        done: asyncio.Future[str] = loop.create_future()
        received = bytearray()

        def readable() -> None:
            chunk = os.read(descriptor, 4096)
            received.extend(chunk)
            if (not chunk or b"\n" in chunk) and not done.done():
                done.set_result(received.decode(errors="replace"))

        loop.add_reader(descriptor, readable)
        try:
            return await done
        finally:
            loop.remove_reader(descriptor)

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        """Show the command and read y (once), a (always, with the proposed rule) or n."""
        options = "[y]es once / [n]o" + (
            f" / [a]lways allow {_plain(request.proposed_rule)} this session"
            if request.proposed_rule
            else ""
        )
        who = f" ({_plain(request.expert_name)})" if request.expert_name else ""
        self.stderr.write(f"\n{_plain(request.tool)}{who} wants to run:\n")
        for line in _plain(request.command).splitlines() or [""]:
            self.stderr.write(f"    {line}\n")
        answer = (await self._prompt(f"{_plain(request.reason)}\nAllow? {options} ")).lower()
        if answer in ("y", "yes"):
            return Decision(action="approve")
        if answer in ("a", "always") and request.proposed_rule:
            return Decision(action="approve_always", rule=request.proposed_rule)
        return Decision(action="deny")

    async def ask(self, question: Question) -> str:
        """Print the question (and its choices, numbered) and read one line: a choice's
        number stands for that choice; anything else is the answer as typed."""
        who = _plain(question.expert_name) if question.expert_name else "The agent"
        listed = "".join(
            f"  {number}. {_plain(choice)}\n"
            for number, choice in enumerate(question.choices, start=1)
        )
        hint = "(a number, or your own answer)\n" if question.choices else ""
        text = f"\n{who} asks: {_plain(question.question)}\n{listed}{hint}> "
        return chosen_answer(await self._prompt(text), question.choices)


def chosen_answer(reply: str, choices: Sequence[str]) -> str:
    """The answer a reply stands for: the choice its number names ("2"), else the reply."""
    number = reply.strip()
    if number.isdigit() and 1 <= int(number) <= len(choices):
        return choices[int(number) - 1]
    return reply


def _plain(text: str) -> str:
    """Text from a model without escape sequences, control characters or direction controls
    (for terminals)."""
    return strip_controls(text)


def answer_covering(request: ConfirmationRequest, decision: Decision) -> Decision:
    """``decision`` also covering every later call of the step listed on ``request``
    ("approve all" / "deny all")."""
    covers = tuple(later.call_id for later in request.later_calls)
    return decision.model_copy(update={"covers": covers})
