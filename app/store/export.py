"""Export a session as Markdown (to read or share) or JSON (to process or archive)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from app.store.models import Event, Message, Session

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
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


#: Terminal escape sequences whole (CSI; OSC, DCS, SOS, PM and APC strings up to their
#: terminator; two-character escapes), then any other C0 or C1 control but tab and newline.
#: A shared cleaner for control and bidi characters is on its way; this one is local and
#: minimal until then.
_TERMINAL_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def without_controls(text: str) -> str:
    """``text`` without terminal escapes or control characters (newline and tab stay), so
    an export printed to a terminal or opened in a viewer cannot drive the terminal."""
    return _TERMINAL_CONTROLS.sub("", text)


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


def _event_md(event: Event) -> str:
    data: dict[str, Any] = event.data
    if event.type == "confirmation_request":
        return f"> **Approval asked** for `{data.get('command', '')}`: {data.get('reason', '')}"
    if event.type == "confirmation_result":
        verdict = "approved" if data.get("approved") else "denied"
        by = f" by {data['decider']}" if data.get("decider") else ""
        return f"> **Approval {verdict}**{by}"
    if event.type == "skill_match":
        return f"> Skill `@{data.get('skill', '')}` matched ({data.get('method', '')})"
    if event.type == "notice":
        return f"> Note: {data.get('message', '')}"
    if event.type == "error":
        return f"> **Error:** {data.get('message', '')}"
    compact = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
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
    for _seq, entry in sorted(entries, key=lambda item: item[0]):
        if isinstance(entry, Message):
            lines += _message_md(entry)
        else:
            lines += [_event_md(entry), ""]
    return without_controls("\n".join(lines)).rstrip() + "\n"
