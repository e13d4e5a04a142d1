"""Export a session as Markdown (to read or share) or JSON (to process or archive).

The Markdown is for people: escape sequences, control characters and direction controls
are stripped from it (a file opened in an editor or a terminal shows text in its real
order). The JSON keeps every character as it was stored, the controls and direction
characters written as ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from app.store.models import Event, Message, Session
from app.textsafe import escape_controls_in_json, strip_controls

ExportFormat = Literal["md", "json"]
EXPORT_FORMAT_NAME = "agentkit.session"
EXPORT_FORMAT_VERSION = 1


def to_json(
    session: Session, messages: Sequence[Message], events: Sequence[Event], exported_at: datetime
) -> str:
    """The whole session as one JSON document (stable keys, UTF-8, indented)."""
    document = {
        "format": EXPORT_FORMAT_NAME,
        "version": EXPORT_FORMAT_VERSION,
        "exported_at": exported_at.isoformat(),
        "session": session.model_dump(mode="json"),
        "messages": [message.model_dump(mode="json") for message in messages],
        "events": [event.model_dump(mode="json") for event in events],
    }
    return escape_controls_in_json(json.dumps(document, ensure_ascii=False, indent=2)) + "\n"


def fence(text: str, info: str = "") -> str:
    """A fenced code block long enough that backticks inside ``text`` cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text.rstrip(chr(10))}\n{ticks}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _status_note(message: Message) -> str:
    return "" if message.status == "complete" else f" _({message.status})_"


def _message_md(message: Message) -> list[str]:
    time = message.created_at.strftime("%H:%M:%S")
    if message.role == "tool" and message.tool_name == "ask_human" and not message.is_error:
        return [f"### Answer to the agent's question · {time}", "", message.content.strip(), ""]
    if message.role == "tool":
        error = " — error" if message.is_error else ""
        name = message.tool_name or "tool"
        lines = [f"### Tool result: `{name}` ({message.tool_call_id}){error} · {time}", ""]
        return [*lines, fence(message.content, "text"), ""]
    heading = {"user": "User", "assistant": "Assistant", "system": "System"}[message.role]
    if message.summary_through is not None:
        heading = "Summary of the conversation so far (sent to the model instead of it)"
    extra = f" · {message.model}" if message.role == "assistant" and message.model else ""
    if message.thread != "main":
        extra += f" · {message.thread}"
    lines = [f"### {heading}{extra} · {time}{_status_note(message)}", ""]
    if message.thinking.strip():
        lines += [
            "<details><summary>Thinking</summary>",
            "",
            message.thinking.strip(),
            "",
            "</details>",
            "",
        ]
    if message.content.strip():
        lines += [_content_md(message.content), ""]
    for call in message.tool_calls:
        lines += [f"**Tool call** `{call.name}` ({call.id})", ""]
        if call.arguments or not (call.raw_arguments or "").strip():
            lines += _arguments_md(call.arguments)
        else:  # arguments that did not parse: as the model sent them
            lines += [fence(call.raw_arguments or "", "text"), ""]
    return lines


def _content_md(content: str) -> str:
    """A message's text; a reply that is one JSON document (a planner's plan) fenced."""
    text = content.rstrip()
    if text.lstrip().startswith(("{", "[")):
        try:
            json.loads(text)
        except ValueError:
            return text
        return fence(text.strip(), "json")
    return text


def _code(text: str) -> str:
    """``text`` on one line as inline code, with a run of backticks it cannot close."""
    line = " ".join(text.split())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", line)), default=0) + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{ticks}{pad}{line}{pad}{ticks}"


#: Who decided an approval, in words (``decider`` of a ``confirmation_result``).
_DECIDERS = {
    "user": "you",
    "rule": "a rule",
    "session_rule": "a session rule",
    "policy": "the approval policy",
    "timeout": "nobody (no answer in time)",
    "cancelled": "nobody (the turn was stopped)",
}


def _approval_md(event: Event, asked: dict[str, dict[str, Any]]) -> str:
    """One approval line. The log holds each event's wire object without its ``type``, so
    the fields are under ``data``; a result names its request by ``confirmation_id``."""
    inner = event.data.get("data")
    data: dict[str, Any] = inner if isinstance(inner, dict) else {}
    confirmation_id = str(data.get("confirmation_id", ""))
    if event.type == "confirmation_request":
        asked[confirmation_id] = data
        asked_tool = f" ({_code(str(data['tool']))})" if data.get("tool") else ""
        what = _code(str(data.get("command", "")))
        return f"> **Approval asked**{asked_tool} for {what}: {data.get('reason', '')}"
    request = asked.get(confirmation_id, {})
    verdict = "Approved" if data.get("approved") is True else "Denied"
    tool = request.get("tool") or data.get("tool")
    command = request.get("command") or data.get("command")
    parts = [f"> **{verdict}**"]
    if tool:
        parts.append(_code(str(tool)))
    if command:
        parts.append(_code(str(command)))
    decider = str(data.get("decider") or "")
    line = " ".join(parts)
    if decider:
        line += f" · by {_DECIDERS.get(decider, decider)}"
    if data.get("rule"):
        scope = f", {data['scope']}" if data.get("scope") else ""
        line += f" · rule {_code(str(data['rule']))}{scope}"
    return line


class _EventLines:
    """Readable lines for logged events, in log order. It remembers what earlier events said
    (the approval asked, the plan's phases, the tokens used so far in the turn), and leaves
    out what the messages already show: tool calls and results that have a message, the
    streamed steps of plan phases and experts, and the team's synthesis."""

    def __init__(self, messages: Sequence[Message]) -> None:
        self.asked: dict[str, dict[str, Any]] = {}  # approval requests by confirmation id
        self.shown_calls = {call.id for m in messages for call in m.tool_calls}
        self.shown_calls |= {m.tool_call_id for m in messages if m.tool_call_id}
        self.titles: dict[str, str] = {}  # plan phases by id
        self.plan: list[str] = []  # the phase titles last listed
        self.tokens: dict[str, list[int]] = {}  # the turn's usage so far, by model

    def line(self, event: Event) -> str | None:
        """The event as Markdown, or None when it adds nothing to the messages."""
        inner = event.data.get("data")  # logged as the wire shape without "type"
        data: dict[str, Any] = inner if isinstance(inner, dict) else event.data
        if event.type == "confirmation_result" and data.get("tool") == "ask_human":
            return None  # a question is always allowed; the question's own line follows
        if event.type in ("confirmation_request", "confirmation_result"):
            return _approval_md(event, self.asked)
        if event.type == "step":
            return self._step(data)
        if event.type in ("usage", "result"):
            return self._turn_end(event.type, data)
        if event.type in _PLAN_TYPES:
            return self._plan(event.type, data)
        if event.type in _TEAM_TYPES:
            return _team_md(event.type, data)
        return _simple_md(event.type, data, event.data)

    def _step(self, step: dict[str, Any]) -> str | None:
        data = step.get("data")
        call: dict[str, Any] = data if isinstance(data, dict) else {}
        if call.get("id") in self.shown_calls:
            return None
        name = _code(str(call.get("name", "tool")))
        if step.get("event_type") == "tool_call":
            arguments = call.get("arguments")
            listed = _arguments_md(arguments if isinstance(arguments, dict) else {})
            return "\n".join([f"**Tool call** {name}", "", *listed]).rstrip()
        error = " — error" if call.get("is_error") else ""
        return f"**Tool result** {name}{error}\n\n" + fence(str(call.get("output", "")), "text")

    def _turn_end(self, kind: str, data: dict[str, Any]) -> str | None:
        if kind == "usage":
            counts = self.tokens.setdefault(str(data.get("model") or "model"), [0, 0])
            counts[0] += int(data.get("input_tokens") or 0)
            counts[1] += int(data.get("output_tokens") or 0)
            return None
        used = "; ".join(
            f"{model}: {inputs:,} tokens in, {outputs:,} out"
            for model, (inputs, outputs) in self.tokens.items()
        )
        self.tokens = {}
        status = str(data.get("status", ""))
        if status == "completed" and not used:
            return None
        words = _TURN_ENDS.get(status, f"Turn ended ({status})")
        return f"> _{words}{' · ' + used if used else ''}_"

    def _plan(self, kind: str, data: dict[str, Any]) -> str | None:
        phase = str(data.get("phase_id", ""))
        title = self.titles.get(phase, phase)
        if kind == "plan_update":
            phases = [p for p in data.get("plan_phases") or [] if isinstance(p, dict)]
            self.titles.update({str(p.get("id")): str(p.get("title", "")) for p in phases})
            titles = [str(p.get("title", "")) for p in phases]
            if titles == self.plan:
                return None  # only the phases' statuses moved on: the lines below say how
            self.plan = titles
            listed = "\n".join(f"> {n}. {t}" for n, t in enumerate(titles, start=1))
            return f"> **Plan**\n>\n{listed}"
        if kind == "phase_started":
            self.titles[phase] = str(data.get("title", phase))
            return f"> **Phase {int(data.get('index', 0)) + 1}:** {self.titles[phase]}"
        if kind == "phase_completed":
            return f"> Phase done: {title}"
        if kind == "phase_failed":
            return f"> **Phase failed:** {title}: {data.get('error', '')}"
        if kind == "replanning":
            attempt = data.get("attempt", "?")
            return f"> **Planning again** (attempt {attempt}): {data.get('reason', '')}"
        return None  # plan_step: the phase's messages hold its text and calls


_PLAN_TYPES = frozenset(
    {"plan_update", "plan_step", "phase_started", "phase_completed", "phase_failed", "replanning"}
)
_TEAM_TYPES = frozenset(
    {"team_formed", "expert_step", "expert_result", "team_synthesis", "team_dissolved"}
)

#: How a turn ended, in words (``status`` of its ``result``).
_TURN_ENDS = {
    "completed": "Turn completed",
    "cancelled": "Turn stopped",
    "error": "Turn ended with an error",
    "max_steps": "Turn reached its step limit",
    "loop_stopped": "Turn stopped: the model repeated the same calls",
}


def _team_md(kind: str, data: dict[str, Any]) -> str | None:
    """A team event as a line (expert steps and the synthesis are in the messages)."""
    if kind == "team_formed":
        experts = [e for e in data.get("experts") or [] if isinstance(e, dict)]
        who = ", ".join(str(e.get("name", "")) for e in experts)
        return f"> **Team formed:** {who} (lead: {data.get('lead_expert', '')})"
    if kind == "expert_result":
        failed = " — failed" if data.get("status") == "failed" else ""
        return f"> {data.get('expert_name', 'An expert')} finished{failed}"
    if kind == "team_dissolved":
        return "> Team dissolved"
    return None


def _simple_md(kind: str, data: dict[str, Any], whole: dict[str, Any]) -> str | None:
    """Skill matches, notes, errors and the agent's questions; other kinds by name only."""
    if kind == "skill_match":
        return f"> Skill `@{data.get('skill', '')}` matched ({data.get('method', '')})"
    if kind == "notice":
        return f"> Note: {data.get('message', '')}"
    if kind == "error":
        detail = f" ({data['detail']})" if data.get("detail") else ""
        return f"> **Error:** {data.get('message', '')}{detail}"
    if kind == "ask_human":
        question = " ".join(str(whole.get("question", "")).split())
        choices = [str(choice) for choice in whole.get("choices") or []]
        offered = " · ".join(f"{n}. {c}" for n, c in enumerate(choices, start=1))
        return f"> **The agent asked:** {question}" + (
            f"\n>\n> Choices: {offered}" if offered else ""
        )
    return f"> ({kind})"


def _arguments_md(arguments: dict[str, Any]) -> list[str]:
    """A tool call's arguments as a list: short text inline, long or multi-line text fenced."""
    lines: list[str] = []
    for key, value in arguments.items():
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            lines.append(f"- {key}: " + ", ".join(_code(item) for item in value))
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if "\n" in text or len(text) > 100:
            lines += [f"- {key}:", "", fence(text), ""]
        else:
            lines.append(f"- {key}: {_code(text) if text else '(empty)'}")
    return [*lines, ""] if lines and lines[-1] else lines


def to_markdown(session: Session, messages: Sequence[Message], events: Sequence[Event]) -> str:
    """The session as Markdown: a header, then messages and events in the order they happened."""
    lines = [
        f"# {session.title or 'Untitled session'}",
        "",
        f"- Session: `{session.id}`",
        f"- Agent: {session.agent_name}",
        f"- Status: {session.status}",
        f"- Created: {_when(session.created_at)}",
        f"- Updated: {_when(session.updated_at)}",
        f"- Messages: {len(messages)}",
        "",
        "---",
        "",
    ]
    entries: list[tuple[int, Message | Event]] = [(m.seq, m) for m in messages]
    entries += [(e.seq, e) for e in events]
    said = _EventLines(messages)
    for _seq, entry in sorted(entries, key=lambda item: item[0]):
        if isinstance(entry, Message):
            lines += _message_md(entry)
        else:
            line = said.line(entry)
            if line is not None:
                lines += [line, ""]
    return strip_controls("\n".join(lines)).rstrip() + "\n"
