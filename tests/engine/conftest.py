"""Engine fixtures: a real store, a gateway pointed at the loopback fake provider, a workspace,
a scripted person, and a harness that runs one turn and collects its events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.engine.cancel import CancellationToken
from app.engine.events import Event
from app.engine.human import ConfirmationRequest, Decision, Question
from app.engine.service import ChatService
from app.engine.skills import ExecutionMode
from app.llm.gateway import Gateway
from app.store import SessionStore
from app.wiring import build_service
from tests.fakes.provider import FakeProvider, Reply
from tests.fakes.scripts import openai_reply, openai_tool_call_events

MODEL = "fake/test-model"


@dataclass
class ScriptedHuman:
    """A person who answers from a script and remembers what was asked."""

    decisions: list[Decision] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    requests: list[ConfirmationRequest] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    #: When set, confirm() waits on this forever (a person who walked away).
    absent: bool = False

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        self.requests.append(request)
        if self.absent or not self.decisions:
            await asyncio.Event().wait()
        return self.decisions.pop(0)

    async def ask(self, question: Question) -> str:
        self.questions.append(question)
        if self.absent or not self.answers:
            await asyncio.Event().wait()
        return self.answers.pop(0)


@dataclass
class Turn:
    """The events of one turn, with helpers to look at them."""

    events: list[Event]

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]

    @property
    def status(self) -> str:
        last = self.events[-1]
        assert last.type == "result", self.types
        return last.data.status

    def of(self, kind: str) -> list[Any]:
        return [event for event in self.events if event.type == kind]

    def tool_results(self) -> list[Any]:
        return [e.data.data for e in self.of("step") if e.data.event_type == "tool_result"]

    @property
    def text(self) -> str:
        return "".join(event.content for event in self.of("token"))


@dataclass
class Harness:
    """A ChatService over real parts, plus ways to script the model and run turns."""

    fake: FakeProvider
    store: SessionStore
    gateway: Gateway
    service: ChatService
    workspace: Path
    settings: Settings
    session_id: str = ""
    #: More loopback providers by name (``extra_fakes=("fa",)`` → models ``fa/…``), so
    #: concurrent experts each get their own scripted queue.
    fakes: dict[str, FakeProvider] = field(default_factory=dict)

    def script(self, *replies: Reply) -> None:
        self.fake.script(*replies)

    def text(self, *parts: str) -> Reply:
        return openai_reply(list(parts), usage=(11, 7))

    def calls(self, *calls: tuple[str, dict[str, Any]], text: str = "") -> Reply:
        specs = [
            (f"call_{index}{name[:3]}", name, [json.dumps(args)])
            for index, (name, args) in enumerate(calls)
        ]
        return Reply(body=list(openai_tool_call_events(specs, text=text)))

    async def turn(
        self,
        text: str,
        *,
        human: ScriptedHuman | None = None,
        cancel: CancellationToken | None = None,
        session_id: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        mode: ExecutionMode | None = None,
        model: str | None = None,
    ) -> Turn:
        events: list[Event] = []
        async for event in self.service.send(
            session_id or self.session_id,
            text,
            human=human or ScriptedHuman(),
            cancel=cancel,
            mode=mode,
            model_override=model,
        ):
            events.append(event)
            if on_event is not None:
                on_event(event)
        return Turn(events)

    def request(self, index: int) -> dict[str, Any]:
        """The JSON body of the index-th model request the fake provider received."""
        bodies = [r for r in self.fake.requests if r.path.endswith("/chat/completions")]
        return bodies[index].json()  # type: ignore[no-any-return]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "README.md").write_text("# Demo project\nHello from the readme.\n")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("print('hi')\n")
    return root


@pytest.fixture
async def make_harness(tmp_path: Path, workspace: Path) -> AsyncIterator[Callable[..., Any]]:
    """Build harnesses (settings overrides as keyword arguments); all closed after the test."""
    made: list[tuple[Gateway, SessionStore, FakeProvider]] = []
    extras: list[FakeProvider] = []

    async def factory(
        extra_fakes: tuple[str, ...] = (),
        fake_options: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Harness:
        """``fake_options``: more ``[providers.fake]`` settings (a context window, …)."""
        fake = await FakeProvider().start()
        fakes = {name: await FakeProvider().start() for name in extra_fakes}
        extras.extend(fakes.values())
        providers = {
            name: {"kind": "openai", "base_url": server.url, "max_retries": 0}
            for name, server in {"fake": fake, **fakes}.items()
        }
        providers["fake"].update(fake_options or {})
        data: dict[str, Any] = {"default_model": MODEL, "providers": providers, **overrides}
        # Engine tests follow process ids of the commands they start, which a sandbox's own
        # pid namespace renumbers; the sandbox has its own tests (tests/tools/test_sandbox.py).
        data.setdefault("tools", {"sandbox": "off"})
        settings = Settings.model_validate(data)
        store = await SessionStore.open(tmp_path / f"agentkit-{len(made)}.db")
        gateway = Gateway(settings, env={}, demo_delay=0)
        made.append((gateway, store, fake))
        service = build_service(
            settings,
            store,
            gateway,
            workspace=workspace,
            user_config_file=tmp_path / "config.toml",
        )
        harness = Harness(fake, store, gateway, service, workspace, settings, fakes=fakes)
        harness.session_id = (await store.create_session("default")).id
        return harness

    yield factory
    for gateway, store, fake in made:
        await gateway.aclose()
        await store.close()
        await fake.stop()
    for extra in extras:
        await extra.stop()


@pytest.fixture
async def harness(make_harness: Callable[..., Any]) -> Harness:
    """A harness with default settings (approval mode ask)."""
    made: Harness = await make_harness()
    return made
