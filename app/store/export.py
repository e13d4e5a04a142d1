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
    if message.role == "tool":
        error = " — error" if message.is_error else ""
        name = message.tool_name or "tool"
        lines = [f"### Tool result: `{name}` ({message.tool_call_id}){error} · {time}", ""]
        lines.append(fence(message.content, "text"))
        return lines
    heading = {"user": "User", "assistant": "Assistant", "system": "System"}[message.role]
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
        lines += [message.content.rstrip(), ""]
    for call in message.tool_calls:
        arguments = (
            call.raw_arguments
            if call.raw_arguments is not None
            else json.dumps(call.arguments, ensure_ascii=False, indent=2)
        )
        lines += [f"**Tool call** `{call.name}` ({call.id})", "", fence(arguments, "json"), ""]
    return lines


_DECIDED = {
    "user": "by the person",
    "policy": "by the approval mode",
    "timeout": "no answer in time",
    "cancelled": "the turn was stopped",
}


def _payload(event: Event) -> dict[str, Any]:
    """The fields of a logged event: stored as its wire shape without ``type``, so most sit
    under ``data`` (``{"data": {"command": …}}``); a flat payload is read as it is."""
    inner = event.data.get("data")
    return inner if isinstance(inner, dict) else event.data


def _code(text: str) -> str:
    """``text`` as inline code, whatever backticks it holds."""
    flat = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def _call_summary(arguments: Any) -> str:
    """What a tool call does, in one line: its command, path or URL, or its arguments."""
    if isinstance(arguments, dict):
        for key in ("command", "path", "url", "pattern", "query"):
            value = arguments.get(key)
            if isinstance(value, str) and value:
                return value
    return json.dumps(arguments, ensure_ascii=False)


class _EventWriter:
    """Renders logged events; remembers requests and tool calls, so a decision can name
    the tool and the command it was about."""

    def __init__(self) -> None:
        self.requests: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, dict[str, Any]] = {}

    def render(self, event: Event) -> str:
        data = _payload(event)
        if event.type == "step":
            step = data.get("data")
            if data.get("event_type") == "tool_call" and isinstance(step, dict):
                self.calls[str(step.get("id"))] = step
        elif event.type == "confirmation_request":
            self.requests[str(data.get("confirmation_id"))] = data
            tool = data.get("tool") or "tool"
            who = f" ({data['expert_name']})" if data.get("expert_name") else ""
            line = (
                f"> **Approval asked**{who}: {_code(str(tool))} "
                f"{_code(str(data.get('command', '')))} — {data.get('reason', '')}"
            )
            if data.get("proposed_rule"):
                line += f" (proposed rule {_code(str(data['proposed_rule']))})"
            return line
        elif event.type == "confirmation_result":
            return self._decision(data)
        elif event.type == "skill_match":
            return f"> Skill `@{data.get('skill', '')}` matched ({data.get('method', '')})"
        if event.type == "notice":
            return f"> Note: {data.get('message', '')}"
        if event.type == "error":
            return f"> **Error:** {data.get('message', '')}"
        compact = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
        if len(compact) > 300:
            compact = compact[:297] + "..."
        return f"> `{event.type}` {compact}"

    def _decision(self, data: dict[str, Any]) -> str:
        confirmation_id = str(data.get("confirmation_id", ""))
        request = self.requests.get(confirmation_id, {})
        call = self.calls.get(confirmation_id.removeprefix("policy-"), {})
        tool = data.get("tool") or request.get("tool") or call.get("name") or "tool"
        command = data.get("command") or request.get("command")
        if not command and call:
            command = _call_summary(call.get("arguments"))
        verdict = "approved" if data.get("approved") else "denied"
        decider = data.get("decider")
        rule = data.get("rule")
        if decider in ("rule", "session_rule"):
            whose = "a rule of this session" if decider == "session_rule" else "rule"
            by = f"by {whose} {_code(str(rule))}" if rule else f"by {whose}"
        else:
            by = _DECIDED.get(str(decider), f"by {decider}" if decider else "")
            if rule:
                by += f" (rule {_code(str(rule))})"
        line = f"> **Approval {verdict}**: {_code(str(tool))}"
        if command:
            line += f" {_code(str(command))}"
        if by:
            line += f" — {by}"
        if data.get("scope"):
            line += f", kept for {data['scope']}"
        return line


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
    writer = _EventWriter()
    for _seq, entry in sorted(entries, key=lambda item: item[0]):
        if isinstance(entry, Message):
            lines += _message_md(entry)
        else:
            lines += [writer.render(entry), ""]
    return strip_controls("\n".join(lines)).rstrip() + "\n"
