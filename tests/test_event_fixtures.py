"""Event fixtures hold what the engine stores: every event a test reads the log through
(the approvals review, the export, the scenarios behind the snapshots) parses as its event
model in the shape the store keeps it (the wire object without ``type``, in a ``type`` column).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.clock import FrozenClock
from app.store import SessionStore
from app.store.models import Event
from app.ui.scenarios import SEEDERS, START
from tests.fakes.real_events import (
    APPROVAL_CONFIG,
    APPROVAL_TURNS,
    record_turns,
    validate_as_stored,
)
from tests.store.test_export import EVERYTHING


def _flat(kind: str, **data: object) -> Event:
    return Event(id=1, session_id="s", seq=1, type=kind, data=data, created_at=datetime.now(UTC))


async def test_recorded_approvals_validate_as_stored(tmp_path: Path) -> None:
    recording = await record_turns(tmp_path, APPROVAL_TURNS, approval=APPROVAL_CONFIG)
    kinds = {event.type for event in recording.events}
    assert {"confirmation_request", "confirmation_result", "step", "result"} <= kinds
    for event in recording.events:
        validate_as_stored(event)


async def test_the_export_session_validates_as_stored(tmp_path: Path) -> None:
    recording = await record_turns(tmp_path, EVERYTHING)
    assert recording.events
    for event in recording.events:
        validate_as_stored(event)


@pytest.mark.parametrize("name", sorted(SEEDERS))
async def test_scenario_events_validate_as_stored(name: str, tmp_path: Path) -> None:
    clock = FrozenClock(START)
    async with await SessionStore.open(tmp_path / "scenario.db", clock=clock) as store:
        await SEEDERS[name](store, clock)
        for session in await store.list_sessions():
            for event in await store.get_events(session.id):
                validate_as_stored(event)


def test_the_check_refuses_the_flat_shape_the_engine_never_writes() -> None:
    flat = _flat("confirmation_result", confirmation_id="a1", approved=True, decider="user")
    with pytest.raises(ValueError):
        validate_as_stored(flat)
    with pytest.raises(AssertionError):
        validate_as_stored(_flat("token", content="hi"))  # tokens are not logged
