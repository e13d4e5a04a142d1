"""Assemble streamed tool calls: collect fragments per slot, parse the arguments once.

Providers stream a call's arguments in fragments keyed by an index (OpenAI style) or a
content block (Anthropic); some omit the index, the id or both, and some put two calls on
one index. The assembler accumulates text per slot and parses it once at the end, so a
big ``write_file`` argument is never re-parsed per fragment and a fragment on its own is
never mistaken for the whole call.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from app.llm.caps import ITEM_COST, CharBudget
from app.llm.types import ToolCall

_ALNUM = string.ascii_letters + string.digits
_ANTHROPIC_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_NINE_ALNUM = re.compile(r"^[A-Za-z0-9]{9}$")


def new_call_id() -> str:
    """A fresh id for a call the provider sent without one: ``call_`` + 9 alphanumerics."""
    return "call_" + "".join(secrets.choice(_ALNUM) for _ in range(9))


def nine_alnum_id(call_id: str) -> str:
    """A deterministic 9-alphanumeric id (what Mistral-like servers accept) for ``call_id``."""
    if _NINE_ALNUM.match(call_id):
        return call_id
    digest = hashlib.sha256(call_id.encode()).digest()
    return "".join(_ALNUM[byte % len(_ALNUM)] for byte in digest[:9])


def anthropic_id(call_id: str) -> str:
    """A deterministic id matching Anthropic's ``^[A-Za-z0-9_-]+$`` for ``call_id``."""
    if _ANTHROPIC_ID.match(call_id):
        return call_id
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", call_id) or "call"
    return f"{cleaned}_{nine_alnum_id(call_id)}"


@dataclass
class _Slot:
    id: str | None = None
    name: str = ""
    parts: list[str] = field(default_factory=list)
    whole: dict[str, Any] | None = None


class ToolCallAssembler:
    """Collect tool-call fragments by slot key, then build complete :class:`ToolCall` objects."""

    def __init__(self, *, max_chars: int | None = None, provider: str = "model") -> None:
        self._slots: list[_Slot] = []
        self._by_key: dict[Any, _Slot] = {}
        #: Characters allowed over all calls of a reply (``[engine] max_reply_chars``):
        #: arguments (streamed or whole), names, and a fixed cost per call.
        self._budget = CharBudget(provider, max_chars, "the tool calls")

    def __bool__(self) -> bool:
        return bool(self._slots)

    def add(
        self,
        key: Any,
        *,
        call_id: str | None = None,
        name: str | None = None,
        fragment: str | None = None,
        whole: dict[str, Any] | None = None,
    ) -> None:
        """Add one fragment; a new id on a known key starts a new call (two calls on one index)."""
        slot = self._by_key.get(key) if key is not None else None
        if slot is None and key is None and call_id is None and self._slots:
            slot = self._slots[-1]  # no index and no id: a continuation of the last call
        if slot is None and call_id is not None and key is None:
            slot = next((s for s in self._slots if s.id == call_id), None)
        if slot is not None and call_id and slot.id and call_id != slot.id:
            slot = None
        if slot is None:
            self._budget.spend(ITEM_COST)
            slot = _Slot()
            self._slots.append(slot)
            if key is not None:
                self._by_key[key] = slot
        if call_id and not slot.id:
            slot.id = call_id
        if name and name != slot.name:
            self._budget.spend(len(name))
            slot.name += name
        if fragment:
            self._budget.spend(len(fragment))
            slot.parts.append(fragment)
        if whole is not None:
            self._budget.spend(len(json.dumps(whole)))
            slot.whole = whole

    def finish(self, *, truncated: bool = False) -> list[ToolCall]:
        """Parse every call once; ``truncated`` marks a reply cut off by the token limit."""
        calls: list[ToolCall] = []
        for slot in self._slots:
            calls.extend(_build(slot, truncated=truncated))
        self._slots.clear()
        self._by_key.clear()
        return calls


def _build(slot: _Slot, *, truncated: bool) -> list[ToolCall]:
    raw = "".join(slot.parts)
    provider_id = slot.id
    call_id = slot.id or new_call_id()
    error: str | None = None
    name = slot.name
    if not name:
        error = "the model sent a tool call without a tool name"
    if not raw.strip():
        arguments = slot.whole if slot.whole is not None else {}
        if truncated and slot.whole is None:
            error = (
                "the reply hit the output token limit before this tool call's arguments were sent"
            )
        return [_call(call_id, name, arguments, None, error, provider_id)]
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        several = _split_objects(raw) if exc.msg == "Extra data" else None
        if several:
            # Two calls streamed on one index ({..}{..}): keep them apart.
            return [
                _call(
                    call_id if n == 0 else new_call_id(),
                    name,
                    args,
                    raw,
                    error,
                    provider_id if n == 0 else None,
                )
                for n, args in enumerate(several)
            ]
        reason = f"invalid JSON in the arguments ({exc.msg} at character {exc.pos})"
        if truncated:
            reason = "the reply hit the output token limit in the middle of this tool call"
        return [_call(call_id, name, {}, raw, error or reason, provider_id)]
    if not isinstance(value, dict):
        return [
            _call(
                call_id, name, {}, raw, error or "the arguments must be a JSON object", provider_id
            )
        ]
    return [_call(call_id, name, value, raw, error, provider_id)]


def _split_objects(raw: str) -> list[dict[str, Any]] | None:
    decoder = json.JSONDecoder()
    objects: list[dict[str, Any]] = []
    position = 0
    while position < len(raw):
        while position < len(raw) and raw[position].isspace():
            position += 1
        if position >= len(raw):
            break
        try:
            value, position = decoder.raw_decode(raw, position)
        except json.JSONDecodeError:
            return None
        if not isinstance(value, dict):
            return None
        objects.append(value)
    return objects if len(objects) > 1 else None


def _call(
    call_id: str,
    name: str,
    arguments: dict[str, Any],
    raw: str | None,
    error: str | None,
    provider_id: str | None,
) -> ToolCall:
    return ToolCall(
        id=call_id,
        name=name,
        arguments=arguments,
        raw_arguments=raw,
        parse_error=error,
        provider_id=provider_id if provider_id != call_id else None,
    )
