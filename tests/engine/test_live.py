"""The live-turn hub: events in engine order to every listener, questions waiting as entries
any client may answer (first answer wins), replay for late joiners, a clean shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from app.engine.events import Event, TokenEvent
from app.engine.human import Decision, answer_covering
from app.engine.live import LiveHub, LiveListener, LiveTurn
from tests.engine.conftest import Harness
from tests.fakes.provider import Gate, Reply
from tests.fakes.scripts import openai_chunk

WITHIN = 10.0


class Recorder(LiveListener):
    """Writes down everything it hears, and what the hub looked like at that moment."""

    def __init__(self, hub: LiveHub) -> None:
        self.hub = hub
        self.log: list[tuple[str, Any]] = []
        self.events: list[Event] = []
        #: For each event: how many events its turn had emitted when it arrived (1, 2, …).
        self.seen_at: list[int] = []
        self.waiting_counts: list[int] = []
        self.changed = asyncio.Event()
        self.finished: list[LiveTurn] = []

    def turn_started(self, turn: LiveTurn) -> None:
        self.log.append(("started", turn.id))

    def turn_event(self, turn: LiveTurn, event: Event) -> None:
        self.events.append(event)
        self.seen_at.append(turn.emitted)
        self.log.append(("event", event.type, len(self.hub.waiting(turn.session_id))))

    def waiting_changed(self, session_id: str) -> None:
        count = len(self.hub.waiting(session_id))
        self.waiting_counts.append(count)
        self.log.append(("waiting", count))
        self.changed.set()

    def turn_finished(self, turn: LiveTurn) -> None:
        self.finished.append(turn)
        self.log.append(("finished", turn.status))

    async def until_waiting(self, session_id: str) -> None:
        async with asyncio.timeout(WITHIN):
            while not self.hub.waiting(session_id):
                self.changed.clear()
                await self.changed.wait()


def _joined(events: list[Event]) -> list[Event]:
    """``events`` with each run of tokens as one (how the hub's replay buffer keeps them)."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, TokenEvent) and out and isinstance(out[-1], TokenEvent):
            out[-1] = TokenEvent(content=out[-1].content + event.content)
        else:
            out.append(event)
    return out


def _touch(harness: Harness, name: str) -> None:
    # Many small tokens arrive together: a listener fed through a queue would lag behind them.
    words = [f"word{index} " for index in range(40)]
    harness.script(harness.calls(("shell", {"command": f"touch {name}"})), harness.text(*words))


async def test_events_reach_listeners_in_engine_order_before_the_question_waits(
    harness: Harness,
) -> None:
    hub = LiveHub(harness.service)
    everyone, mine, other = Recorder(hub), Recorder(hub), Recorder(hub)
    hub.listen(everyone)
    hub.listen(mine, harness.session_id)
    hub.listen(other, "another-session")
    _touch(harness, "made.txt")
    turn = hub.start(harness.session_id, "make it")
    assert hub.running(harness.session_id) and hub.live(harness.session_id) == [turn]
    assert everyone.log == [("started", turn.id)]  # told before start() returned
    await everyone.until_waiting(harness.session_id)
    entry = hub.waiting(harness.session_id)[0]
    # The request came first, while nothing waited yet; then the entry was listed.
    assert everyone.log[-2:] == [("event", "confirmation_request", 0), ("waiting", 1)]
    assert entry.key == everyone.events[-1].data.confirmation_id  # type: ignore[union-attr]
    assert entry.is_confirmation and entry.request.call_id == "call_0she"  # type: ignore[union-attr]
    assert hub.answer(entry, Decision(action="approve"))
    assert await asyncio.wait_for(turn.wait(), WITHIN) == "completed"
    assert (harness.workspace / "made.txt").exists()
    # Every event, in order, each handed on before the engine emitted the next one; the
    # replay buffer holds the same text and the same order of kinds.
    for recorder in (everyone, mine):
        assert _joined(recorder.events) == turn.events
        assert recorder.seen_at == list(range(1, turn.emitted + 1))
        assert recorder.log[-1] == ("finished", "completed")
    assert other.log == []
    assert everyone.waiting_counts == [1, 0]
    assert not hub.running(harness.session_id) and hub.sessions_in_use() == set()


async def test_the_first_answer_wins(harness: Harness) -> None:
    hub = LiveHub(harness.service)
    recorder = Recorder(hub)
    hub.listen(recorder)
    _touch(harness, "kept.txt")
    turn = hub.start(harness.session_id, "make it")
    await recorder.until_waiting(harness.session_id)
    entry = hub.waiting(harness.session_id)[0]
    assert hub.answer_confirmation(harness.session_id, entry.key, Decision(action="deny"))
    assert not hub.answer(entry, Decision(action="approve"))  # too late
    assert not hub.answer_confirmation(harness.session_id, entry.key, Decision(action="approve"))
    assert hub.waiting(harness.session_id) == []
    assert await asyncio.wait_for(turn.wait(), WITHIN) == "completed"
    assert not (harness.workspace / "kept.txt").exists()
    decided = [e for e in turn.events if e.type == "confirmation_result"]
    assert not decided[0].data.approved  # type: ignore[union-attr]


async def test_a_timeout_removes_the_entry_and_tells_listeners(
    make_harness: Callable[..., Any],
) -> None:
    harness: Harness = await make_harness(approval={"timeout_seconds": 0.3})
    hub = LiveHub(harness.service)
    recorder = Recorder(hub)
    hub.listen(recorder, harness.session_id)
    _touch(harness, "late.txt")
    turn = hub.start(harness.session_id, "make it")
    await recorder.until_waiting(harness.session_id)
    assert await asyncio.wait_for(turn.wait(), WITHIN) == "completed"
    assert recorder.waiting_counts == [1, 0] and hub.waiting(harness.session_id) == []
    position = recorder.log.index(("waiting", 0))
    assert recorder.log[position + 1][:2] == ("event", "confirmation_result")
    decided = next(e for e in turn.events if e.type == "confirmation_result")
    assert decided.data.decider == "timeout"  # type: ignore[union-attr]
    assert hub.sessions_in_use() == set()


async def test_cancelling_removes_the_entry_and_tells_listeners(harness: Harness) -> None:
    hub = LiveHub(harness.service)
    recorder = Recorder(hub)
    hub.listen(recorder)
    _touch(harness, "never.txt")
    turn = hub.start(harness.session_id, "make it")
    await recorder.until_waiting(harness.session_id)
    entry = hub.waiting(harness.session_id)[0]
    assert hub.cancel(harness.session_id)
    assert await asyncio.wait_for(turn.wait(), WITHIN) == "cancelled"
    assert recorder.waiting_counts == [1, 0] and hub.waiting(harness.session_id) == []
    assert entry.future.cancelled() and not hub.answer(entry, Decision(action="approve"))
    assert not (harness.workspace / "never.txt").exists()
    assert recorder.finished == [turn] and hub.sessions_in_use() == set()


async def test_a_question_from_the_agent_waits_and_is_answered_by_id(harness: Harness) -> None:
    hub = LiveHub(harness.service)
    recorder = Recorder(hub)
    hub.listen(recorder)
    harness.script(
        harness.calls(("ask_human", {"question": "Which colour?"})), harness.text("Blue it is.")
    )
    turn = hub.start(harness.session_id, "paint")
    await recorder.until_waiting(harness.session_id)
    entry = hub.waiting(harness.session_id)[0]
    assert not entry.is_confirmation
    assert recorder.log[-2] == ("event", "ask_human", 0)
    assert hub.answer_question(harness.session_id, entry.key, "blue")
    assert await asyncio.wait_for(turn.wait(), WITHIN) == "completed"
    told = harness.request(1)["messages"][-1]
    assert told["role"] == "tool" and told["content"] == "blue"


async def test_answer_all_and_covering_answer_every_call_of_the_step(harness: Harness) -> None:
    hub = LiveHub(harness.service)
    recorder = Recorder(hub)
    hub.listen(recorder)
    harness.script(
        harness.calls(("shell", {"command": "touch p"}), ("shell", {"command": "touch q"})),
        harness.text("ok"),
    )
    turn = hub.start(harness.session_id, "go")
    await recorder.until_waiting(harness.session_id)
    entry = hub.waiting(harness.session_id)[0]
    assert entry.is_confirmation
    covering = answer_covering(entry.request, Decision(action="approve"))  # type: ignore[arg-type]
    assert covering.covers == ("call_1she",)
    assert hub.answer_all(harness.session_id, covering) == 1
    assert await asyncio.wait_for(turn.wait(), WITHIN) == "completed"
    assert recorder.waiting_counts == [1, 0]  # the second call never asked
    assert (harness.workspace / "p").exists() and (harness.workspace / "q").exists()


async def test_a_listener_joining_mid_turn_gets_the_replay_then_the_rest(
    harness: Harness,
) -> None:
    hub = LiveHub(harness.service)
    early = Recorder(hub)
    hub.listen(early)
    _touch(harness, "joined.txt")
    turn = hub.start(harness.session_id, "make it")
    await early.until_waiting(harness.session_id)
    late = Recorder(hub)
    hub.listen(late, harness.session_id, replay=True)
    assert late.log[0] == ("started", turn.id) and late.events == turn.events
    followed: list[Event | None] = []
    hub.follow(turn, followed.append)
    assert followed == turn.events
    hub.answer(hub.waiting(harness.session_id)[0], Decision(action="approve"))
    await asyncio.wait_for(turn.wait(), WITHIN)
    assert _joined(late.events) == _joined(early.events) == turn.events
    assert followed[-1] is None and _joined(followed[:-1]) == turn.events  # type: ignore[arg-type]
    hub.unlisten(late, harness.session_id)
    hub.unlisten(early)


def _gated_reply(gate: Gate) -> Reply:
    return Reply(
        body=[
            openai_chunk({"role": "assistant", "content": ""}),
            openai_chunk({"content": "The first half"}),
            gate,
            openai_chunk({"content": " and the rest."}),
            openai_chunk({}, "stop"),
            b"data: [DONE]\n\n",
        ]
    )


async def test_shutdown_stops_turns_and_saves_their_partial_replies(harness: Harness) -> None:
    hub = LiveHub(harness.service)
    gate = Gate()
    harness.script(_gated_reply(gate))
    events: list[Event] = []
    first_token = asyncio.Event()

    async def consume() -> None:
        async for event in hub.stream(harness.session_id, "tell me"):
            events.append(event)
            if event.type == "token":
                first_token.set()

    consumer = asyncio.ensure_future(consume())
    await asyncio.wait_for(first_token.wait(), WITHIN)
    await asyncio.wait_for(hub.shutdown(grace_seconds=WITHIN), WITHIN)
    await asyncio.wait_for(consumer, WITHIN)
    gate.open()
    assert events[-1].type == "result" and events[-1].data.status == "cancelled"
    stored = await harness.store.get_messages(harness.session_id)
    assert [(m.role, m.content, m.status) for m in stored] == [
        ("user", "tell me", "complete"),
        ("assistant", "The first half", "cancelled"),
    ]
    assert hub.closing and hub.sessions_in_use() == set()
    late = hub.start(harness.session_id, "too late")  # refused: stopped at once
    assert await asyncio.wait_for(late.wait(), WITHIN) == "cancelled"


async def test_leaving_a_stream_early_stops_its_turn(harness: Harness) -> None:
    hub = LiveHub(harness.service)
    gate = Gate()
    harness.script(_gated_reply(gate))
    stream = hub.stream(harness.session_id, "tell me")
    async for event in stream:
        if event.type == "token":
            break
    await stream.aclose()
    gate.open()
    assert not hub.running(harness.session_id)
    stored = await harness.store.get_messages(harness.session_id)
    assert stored[-1].status == "cancelled"


async def test_turns_run_where_spawn_puts_them(harness: Harness) -> None:
    spawned: list[tuple[str, asyncio.Task[None]]] = []

    def spawn(coroutine: Coroutine[Any, Any, None], turn: LiveTurn) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=f"turn:{turn.session_id}")
        spawned.append((turn.id, task))
        return task

    hub = LiveHub(harness.service, spawn=spawn)
    harness.script(harness.text("Hello."))
    turn = hub.start(harness.session_id, "hi")
    assert spawned == [(turn.id, turn.handle)]
    await asyncio.wait_for(spawned[0][1], WITHIN)
    assert turn.done and turn.status == "completed"
