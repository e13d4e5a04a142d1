"""Deterministic app states shared by the snapshot tests and the screenshot command.

Each scenario seeds a fresh database (frozen clock, offline demo model, a small workspace)
inside the app's own event loop, so ``snap_compare`` and ``python -m app.ui.screenshots``
render exactly the same screens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.config import Settings
from app.engine.service import ChatService
from app.engine.skills import BUILTIN_SKILLS_DIR, load_skills
from app.llm.gateway import Gateway
from app.store import SessionStore
from app.ui.app import AgentKitApp

START = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


class ScenarioClock:
    """A clock that moves only when a seeder moves it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


ANSWER = """\
The test fails on CI because `parse_date` builds a **naive** datetime, and the CI machines
run in UTC while your laptop does not.

| where      | TZ            | result |
|------------|---------------|--------|
| laptop     | Europe/Paris  | passes |
| CI runner  | UTC           | fails  |

Make the fixture explicit about its zone:

```python
from datetime import UTC, datetime


def parse_date(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
```

Then run `pytest tests/test_parser.py -q` again.
"""


async def _seed_conversation(store: SessionStore, clock: ScenarioClock) -> None:
    clock.now = START - timedelta(days=9)
    old = await store.create_session("default")
    await store.append_message(old.id, "user", "Draft release notes for 0.2")
    await store.append_message(old.id, "assistant", "Here is a first draft of the notes.")
    clock.now = START - timedelta(days=3)
    week = await store.create_session("default")
    await store.append_message(week.id, "user", "Explain the retry policy of the gateway")
    await store.append_message(week.id, "assistant", "Retries happen only before the first byte.")
    await store.close_session(week.id)
    clock.now = START - timedelta(days=1)
    yesterday = await store.create_session("default")
    await store.append_message(yesterday.id, "user", "@review src/store.py")
    await store.append_message(yesterday.id, "assistant", "Two findings, both minor.")
    clock.now = START
    main = await store.create_session("default")
    await store.append_message(main.id, "user", "Why does test_parser fail on CI but not locally?")
    clock.advance(seconds=2)
    await store.append_message(
        main.id,
        "assistant",
        "Let me read the test first.",
        tool_calls=[
            {"id": "call_1", "name": "read_file", "arguments": {"path": "tests/test_parser.py"}}
        ],
        model="demo",
    )
    await store.append_message(
        main.id,
        "tool",
        "1\tfrom parser import parse_date\n2\t\n3\tdef test_dates():\n"
        "4\t    assert parse_date('2026-11-25T10:00').hour == 10\n",
        tool_call_id="call_1",
        tool_name="read_file",
    )
    clock.advance(seconds=3)
    await store.append_message(main.id, "assistant", ANSWER, model="demo")


async def _seed_nothing(store: SessionStore, clock: ScenarioClock) -> None:
    del store, clock


SEEDERS: dict[str, Callable[[SessionStore, ScenarioClock], Awaitable[None]]] = {
    "welcome": _seed_nothing,
    "conversation": _seed_conversation,
}


def make_workspace(folder: Path) -> Path:
    """A small project for the demo model's tools to look at."""
    workspace = folder / "workspace"
    (workspace / "tests").mkdir(parents=True, exist_ok=True)
    (workspace / "README.md").write_text("# parser\nParses dates.\n")
    (workspace / "parser.py").write_text("from datetime import datetime\n")
    (workspace / "tests" / "test_parser.py").write_text("def test_dates():\n    pass\n")
    return workspace


def scenario_app(name: str, folder: Path) -> AgentKitApp:
    """An app whose database is seeded with scenario ``name`` when it mounts."""
    clock = ScenarioClock()
    settings = Settings.model_validate({"ui": {"theme": "textual-dark", "stream_delay_ms": 0}})
    workspace = make_workspace(folder)

    async def opener() -> tuple[SessionStore, ChatService]:
        store = await SessionStore.open(folder / "agentkit.db", clock=clock)
        await SEEDERS[name](store, clock)
        gateway = Gateway(settings, env={"OLLAMA_HOST": "127.0.0.1:9"}, demo_delay=0)
        service = ChatService(
            settings,
            store,
            gateway,
            workspace=workspace,
            user_config_file=folder / "config.toml",
            skills=load_skills([BUILTIN_SKILLS_DIR]),
        )
        return store, service

    return AgentKitApp(
        settings=settings, opener=opener, clock=clock, default_model="demo", export_dir=folder
    )
