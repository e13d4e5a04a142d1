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
        lines += [message.content.rstrip(), ""]
    for call in message.tool_calls:
        arguments = (
            call.raw_arguments
            if call.raw_arguments is not None
            else json.dumps(call.arguments, ensure_ascii=False, indent=2)
        )
        lines += [f"**Tool call** `{call.name}` ({call.id})", "", fence(arguments, "json"), ""]
    return lines


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


def _event_md(event: Event, asked: dict[str, dict[str, Any]]) -> str:
    inner = event.data.get("data")  # logged as the wire shape without "type"
    data: dict[str, Any] = inner if isinstance(inner, dict) else event.data
    if event.type in ("confirmation_request", "confirmation_result"):
        return _approval_md(event, asked)
    if event.type == "skill_match":
        return f"> Skill `@{data.get('skill', '')}` matched ({data.get('method', '')})"
    if event.type == "notice":
        return f"> Note: {data.get('message', '')}"
    if event.type == "error":
        return f"> **Error:** {data.get('message', '')}"
    compact = json.dumps(event.data, ensure_ascii=False, separators=(", ", ": "))
    if len(compact) > 300:
        compact = compact[:297] + "..."
    return f"> `{event.type}` {compact}"


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
    asked: dict[str, dict[str, Any]] = {}  # approval requests by confirmation id
    for _seq, entry in sorted(entries, key=lambda item: item[0]):
        if isinstance(entry, Message):
            lines += _message_md(entry)
        else:
            lines += [_event_md(entry, asked), ""]
    return strip_controls("\n".join(lines)).rstrip() + "\n"
