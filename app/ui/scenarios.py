"""Deterministic app states shared by the snapshot tests and the screenshot command.

Each scenario seeds a fresh database (frozen clock, offline demo model, a small workspace)
inside the app's own event loop, so ``snap_compare`` and ``python -m app.ui.screenshots``
render exactly the same screens.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.clock import FrozenClock
from app.config import Settings
from app.engine.events import (
    Event,
    ExpertInfo,
    PhaseInfo,
    PlanUpdateEvent,
    StepKind,
    notice,
    result,
    to_wire,
)
from app.engine.mode_events import (
    expert_result,
    expert_step,
    phase_completed,
    phase_failed,
    phase_started,
    plan_step,
    plan_update,
    replanning,
    team_dissolved,
    team_formed,
    team_synthesis,
)
from app.engine.service import ChatService
from app.store import SessionStore
from app.ui.app import AgentKitApp
from app.wiring import open_engine, open_store

START = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


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


async def _seed_conversation(store: SessionStore, clock: FrozenClock) -> None:
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


COMPACT_SUMMARY = (
    "Goals: find why test_parser fails on CI but not locally.\n"
    "Files: tests/test_parser.py read; parser.py unchanged.\n"
    "Commands: pytest tests/test_parser.py -q passed locally.\n"
    "Open: CI runs in UTC; the test assumes local time."
)


async def _seed_compacted(store: SessionStore, clock: FrozenClock) -> None:
    """A session whose first turns were compacted into a summary, then one more turn."""
    clock.now = START
    main = await store.create_session("default")
    for question, answer in (
        ("Why does test_parser fail on CI but not locally?", "Let me look at the test."),
        ("Run it here, please.", "It passes locally: 1 passed in 0.02s."),
        ("What differs on CI?", "CI runs in UTC; the test assumes local time."),
    ):
        clock.advance(seconds=30)
        await store.append_message(main.id, "user", question)
        clock.advance(seconds=3)
        last = await store.append_message(main.id, "assistant", answer, model="demo")
    clock.advance(seconds=30)
    usage = {"input_tokens": 412, "output_tokens": 96, "summarised": 6}  # as the engine writes
    await store.add_summary(main.id, COMPACT_SUMMARY, last.seq, model="demo", usage=usage)
    clock.advance(seconds=30)
    await store.append_message(main.id, "user", "So how do we fix it?")
    clock.advance(seconds=3)
    await store.append_message(
        main.id, "assistant", "Pass an explicit time zone in the test.", model="demo"
    )


async def _seed_nothing(store: SessionStore, clock: FrozenClock) -> None:
    del store, clock


class _Log:
    """Writes a turn's events as the engine logs them, moving the clock between them."""

    def __init__(self, store: SessionStore, clock: FrozenClock, session_id: str) -> None:
        self.store, self.clock, self.session_id = store, clock, session_id
        self.turn_id = "scenario-turn"

    async def __call__(self, event: Event, *, after: float = 0.5) -> None:
        self.clock.advance(seconds=after)
        wire = to_wire(event)
        kind = wire.pop("type")
        await self.store.append_event(self.session_id, kind, wire, turn_id=self.turn_id)


def _phases(*rows: tuple[str, str, str, str | None]) -> PlanUpdateEvent:
    infos = [
        PhaseInfo(id=pid, title=title, status=status, expert_id=expert)
        for pid, title, status, expert in rows
    ]
    return plan_update(infos)


PLAN_TITLES = [
    ("p1", "Read parser.py and its tests"),
    ("p2", "Make parse_date return aware datetimes"),
    ("p3", "Run the tests"),
]


async def _seed_plan(store: SessionStore, clock: FrozenClock, *, finished: bool) -> None:
    await _seed_conversation(store, clock)
    clock.advance(minutes=5)
    session = await store.create_session("default")
    await store.append_message(session.id, "user", "/plan make parse_date timezone-aware")
    log = _Log(store, clock, session.id)
    (p1, t1), (p2, t2), (p3, t3) = PLAN_TITLES
    second = (p2, t2)

    def board(*statuses: str) -> PlanUpdateEvent:
        rows = zip(((p1, t1), second, (p3, t3)), statuses, strict=True)
        return _phases(*((pid, title, status, None) for (pid, title), status in rows))

    await log(notice("planning", "Planning the work…"))
    await log(board("pending", "pending", "pending"))
    await log(phase_started(p1, 0, t1))
    await log(board("running", "pending", "pending"))
    await log(plan_step(p1, 1, "read_file parser.py", "tool_call"), after=1.2)
    await log(phase_completed(p1, "parse_date builds naive datetimes."), after=2.1)
    await log(board("done", "pending", "pending"))
    await log(phase_started(p2, 1, t2))
    await log(board("done", "running", "pending"))
    await log(plan_step(p2, 1, "Editing parser.py so every value carries UTC…", "text"), after=3.0)
    if not finished:
        clock.advance(seconds=9)
        return
    failure = "edit_file: the text to replace was not found in parser.py"
    await log(phase_failed(p2, failure), after=4.0)
    await log(board("done", "failed", "pending"))
    await log(replanning("Phase p2 failed: the edit did not apply", 1))
    second = ("p2b", "Rewrite parse_date with an explicit zone")
    await log(board("done", "pending", "pending"), after=2.0)
    await log(phase_started("p2b", 1, second[1]))
    await log(phase_completed("p2b", "parse_date now returns UTC."), after=5.5)
    await log(phase_started(p3, 2, t3))
    await log(phase_completed(p3, "12 passed."), after=3.2)
    await log(board("done", "done", "done"))
    await store.append_message(
        session.id,
        "assistant",
        "`parse_date` now returns aware datetimes in UTC, and the tests pass (12 passed).\n\n"
        "The first edit did not apply; the plan was revised once.",
        model="demo",
    )
    await log(result("completed"))


TEAM = [
    ExpertInfo(id="researcher", name="Researcher", color="#4FC1FF", role="Finds facts."),
    ExpertInfo(id="engineer", name="Engineer", color="#73C991", role="Writes code."),
    ExpertInfo(id="reviewer", name="Reviewer", color="#C586C0", role="Reviews changes."),
]

#: The team scenario's phases: id, title, expert, and the phases each depends on.
TEAM_PHASES: list[tuple[str, str, str, list[str]]] = [
    ("p1", "Find where options are parsed", "researcher", []),
    ("p2", "Add the --strict flag", "engineer", []),
    ("p3", "Review the change", "reviewer", ["p1", "p2"]),
]


async def _seed_team(store: SessionStore, clock: FrozenClock, *, finished: bool) -> None:
    await _seed_conversation(store, clock)
    clock.advance(minutes=7)
    session = await store.create_session("default")
    await store.append_message(session.id, "user", "/team add a --strict flag to the parser CLI")
    log = _Log(store, clock, session.id)
    rows = TEAM_PHASES
    phases = [
        {"id": pid, "title": title, "status": "pending", "expert_id": who, "depends_on": deps}
        for pid, title, who, deps in rows
    ]

    def board(**statuses: str) -> PlanUpdateEvent:
        return _phases(
            *((pid, title, statuses.get(pid, "pending"), who) for pid, title, who, _ in rows)
        )

    def step(who: int, phase: str, content: str, kind: StepKind, number: int = 1) -> Event:
        return expert_step(TEAM[who], content, number, phase_id=phase, kind=kind)

    def done(who: int, phase: str, content: str) -> Event:
        spent = 1_200 + 350 * len(content) // 10  # tokens, as the engine reports them
        return expert_result(TEAM[who], content, phase_id=phase, status="done", tokens=spent)

    await log(notice("team_planning", "Engineer is planning the team's work…"))
    await log(team_formed("t1", TEAM, phases, "engineer"))
    await log(board(p1="running", p2="running"))
    await log(step(0, "p1", "search_text --strict|argparse", "tool_call"), after=0.8)
    await log(step(1, "p2", "I will add the flag next to --format in cli.py and thread it", "text"))
    await log(
        step(0, "p1", "Options are parsed in cli.py:12-40 with argparse.", "text", 2), after=1.5
    )
    found = (
        "Options are parsed in `cli.py` lines 12–40 (argparse); `--format` is the closest sibling."
    )
    await log(done(0, "p1", found), after=1.0)
    await log(board(p1="done", p2="running"))
    await log(step(1, "p2", "edit_file cli.py", "tool_call", 2), after=2.0)
    if not finished:
        clock.advance(seconds=6)
        return
    added = (
        "Added `--strict` (default off) in `cli.py`; "
        "`parse_date` raises on naive input when it is set."
    )
    await log(done(1, "p2", added), after=3.0)
    await log(board(p1="done", p2="done", p3="running"))
    await log(step(2, "p3", "The change is small and covered by a new test.", "text"), after=1.0)
    await log(
        done(2, "p3", "Looks good: one new test, no behaviour change without the flag."),
        after=2.0,
    )
    await log(board(p1="done", p2="done", p3="done"))
    synthesis = (
        "`--strict` is in: it is parsed next to `--format` in `cli.py`, makes `parse_date` "
        "refuse naive input, and is covered by a new test. The reviewer found nothing to change."
    )
    await log(team_synthesis(synthesis))
    await store.append_message(session.id, "assistant", synthesis, model="demo")
    await log(team_dissolved("t1"))
    await log(result("completed"))


SEEDERS: dict[str, Callable[[SessionStore, FrozenClock], Awaitable[None]]] = {
    "welcome": _seed_nothing,
    "conversation": _seed_conversation,
    "compacted": _seed_compacted,
    "plan_running": functools.partial(_seed_plan, finished=False),
    "plan_finished": functools.partial(_seed_plan, finished=True),
    "team_running": functools.partial(_seed_team, finished=False),
    "team_finished": functools.partial(_seed_team, finished=True),
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
    clock = FrozenClock(START)
    settings = Settings.model_validate({"ui": {"theme": "textual-dark", "stream_delay_ms": 0}})
    workspace = make_workspace(folder)

    async def opener() -> tuple[SessionStore, ChatService]:
        store = await open_store(folder / "agentkit.db", clock=clock)
        await SEEDERS[name](store, clock)
        engine = await open_engine(
            settings,
            store=store,
            workspace=workspace,
            user_config_file=folder / "config.toml",
            gateway_env={"OLLAMA_HOST": "127.0.0.1:9"},
            demo_delay=0,
        )
        return engine.store, engine.service

    return AgentKitApp(
        settings=settings, opener=opener, clock=clock, default_model="demo", export_dir=folder
    )
