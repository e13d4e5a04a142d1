"""Shared fixtures: an isolated AGENTKIT_HOME, a real SQLite store in a temp dir, a frozen clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from app.clock import FrozenClock
from app.store import SessionStore

# CI runs the property tests on a fixed set of examples (a red run must be reproducible);
# locally each run explores new ones.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def agentkit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own AGENTKIT_HOME and no AGENTKIT_* or provider variables."""
    for name in list(os.environ):
        if name.startswith("AGENTKIT_"):
            monkeypatch.delenv(name)
    home = tmp_path / "agentkit-home"
    home.mkdir()
    monkeypatch.setenv("AGENTKIT_HOME", str(home))
    yield home


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at a fixed instant."""
    return FrozenClock(datetime(2026, 11, 25, 9, 30, tzinfo=UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database file goes."""
    return tmp_path / "agentkit.db"


@pytest.fixture
async def store(db_path: Path, clock: FrozenClock) -> AsyncIterator[SessionStore]:
    """A real store on a real file, closed after the test."""
    opened = await SessionStore.open(db_path, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
