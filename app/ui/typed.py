"""The person's messages as they typed them.

A message routed to a skill is stored without its ``@skill`` prefix (as the reference
service stores it); the turn's logged ``skill_match`` event keeps the skill's name. Retry
(ctrl+r) and the composer's history (up / down) put the prefix back, so sending the message
again uses the same skill.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.store import Event, Message


def skills_by_turn(events: Iterable[Event]) -> dict[str, str]:
    """The skill each turn was routed to, from the logged ``skill_match`` events."""
    found: dict[str, str] = {}
    for event in events:
        if event.type != "skill_match" or event.turn_id is None:
            continue
        payload = event.data.get("data", event.data)  # stored as on the wire
        skill = payload.get("skill") if isinstance(payload, dict) else None
        if isinstance(skill, str) and skill:
            found[event.turn_id] = skill
    return found


def as_typed(message: Message, skills: dict[str, str]) -> str:
    """``message``'s text with the ``@skill`` prefix it was sent with."""
    skill = skills.get(message.turn_id or "")
    if skill and not message.content.startswith(f"@{skill}"):
        return f"@{skill} {message.content}"
    return message.content
