"""Make a canonical history safe to send: every tool call answered exactly once, in order.

Providers reject a history where an assistant tool call has no result (a turn that was
cancelled or crashed mid-tool), where a result answers no call, or where a call is
answered twice. Each adapter converts :func:`repaired` history, so a session that was
interrupted can always continue, on any provider.
"""

from __future__ import annotations

import logging

from app.llm.types import ChatMessage, ChatRequest

log = logging.getLogger(__name__)

MISSING_RESULT = (
    "No result was recorded for this tool call (the turn was interrupted before it finished)."
)


def system_text(request: ChatRequest) -> str:
    """The request's system prompt plus any system messages of the history, joined."""
    parts = [request.system] if request.system else []
    parts.extend(m.content for m in request.messages if m.role == "system" and m.content)
    return "\n\n".join(parts)


def repaired(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Non-system messages with each tool call followed by exactly one result, in call order."""
    out: list[ChatMessage] = []
    index = 0
    items = [m for m in messages if m.role != "system"]
    while index < len(items):
        message = items[index]
        index += 1
        if message.role == "tool":
            log.warning(
                "dropping a tool result that answers no tool call (%s)", message.tool_call_id
            )
            continue
        out.append(message)
        if message.role != "assistant" or not message.tool_calls:
            continue
        results: dict[str, ChatMessage] = {}
        while index < len(items) and items[index].role == "tool":
            result = items[index]
            index += 1
            call_id = result.tool_call_id or ""
            if call_id in results:
                log.warning("dropping a second result for tool call %s", call_id)
            elif not any(call.id == call_id for call in message.tool_calls):
                log.warning("dropping a tool result that answers no tool call (%s)", call_id)
            else:
                results[call_id] = result
        for call in message.tool_calls:
            found = results.get(call.id)
            if found is None:
                found = ChatMessage(
                    role="tool",
                    content=MISSING_RESULT,
                    tool_call_id=call.id,
                    tool_name=call.name,
                    is_error=True,
                )
            elif found.tool_name is None:
                found = found.model_copy(update={"tool_name": call.name})
            out.append(found)
    return out
