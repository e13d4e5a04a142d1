"""The turns running in this process, and the questions they wait on: one hub for every client.

A :class:`LiveHub` starts turns (through ``ChatService.run_turn``), keeps each running turn's
events for a client that joins late, and hands every event, in the engine's order and before
the engine goes on, to the :class:`LiveListener` objects that listen to its session (or to all
sessions). The TUI and the server are such listeners; each batches streamed tokens its own way.

Questions for the person (approvals, the agent's questions) wait here as :class:`Waiting`
entries, oldest first per session, each with the future its answer resolves. Any client may
answer; the first answer counts. The engine owns the timeout and the cancel race: when it
stops waiting, the entry goes and the listeners are told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.config import ApprovalMode
from app.engine.cancel import CancellationToken
from app.engine.events import Event, TokenEvent, TurnStatus, result, short_error
from app.engine.human import ConfirmationRequest, Decision, Human, Question
from app.engine.listener import LiveListener as LiveListener
from app.engine.replay import ReplayBuffer
from app.engine.skills import ExecutionMode

if TYPE_CHECKING:  # the TUI imports this module before the engine is loaded
    from app.engine.service import ChatService

log = logging.getLogger(__name__)

#: Runs a turn's coroutine (an asyncio task, a Textual worker); kept as ``LiveTurn.handle``.
Spawn = Callable[[Coroutine[Any, Any, None], "LiveTurn"], object]


@dataclass(eq=False)
class LiveTurn:
    """A turn in progress: what was asked, how to stop it, and what it emitted so far."""

    session_id: str
    #: This live turn's id (made by the hub).
    id: str
    text: str
    started_at: datetime
    token: CancellationToken
    #: Its events so far (see :attr:`events`).
    replay: ReplayBuffer = field(default_factory=ReplayBuffer)
    #: How it ended (from its ``result`` event); ``None`` while it runs.
    status: TurnStatus | None = None
    #: Whoever answers its questions (the hub's queue unless the caller gave its own).
    human: Human | None = None
    #: What ``spawn`` returned for it (the TUI's worker, the server's task).
    handle: object = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    _followers: list[Callable[[Event | None], None]] = field(default_factory=list)

    @property
    def events(self) -> list[Event]:
        """Every event so far, each run of tokens as one (the replay for a late client)."""
        return self.replay.events()

    @property
    def emitted(self) -> int:
        """How many events the turn has emitted (tokens one by one)."""
        return self.replay.emitted

    @property
    def done(self) -> bool:
        """Whether the turn has ended."""
        return self.finished.is_set()

    def cancel(self, reason: str = "user") -> None:
        """Stop the turn (its partial reply is saved and marked)."""
        self.token.cancel(reason)

    async def wait(self) -> TurnStatus:
        """Wait for the turn to end; how it ended."""
        await self.finished.wait()
        return self.status or "error"


@dataclass(eq=False)
class Waiting:
    """One question waiting for the person: a tool call to approve, or the agent's question."""

    session_id: str
    turn: LiveTurn
    request: ConfirmationRequest | Question
    #: Resolved with a :class:`Decision` (confirmations) or the reply text (questions).
    future: asyncio.Future[Any]

    @property
    def is_confirmation(self) -> bool:
        """An approval (rather than a question from the agent)."""
        return isinstance(self.request, ConfirmationRequest)

    @property
    def key(self) -> str:
        """The confirmation id or the question's request id."""
        request = self.request
        if isinstance(request, ConfirmationRequest):
            return request.confirmation_id
        return request.request_id


class _QueueHuman:
    """The hub's person for one turn: each question waits in the hub until someone answers."""

    def __init__(self, hub: LiveHub, turn: LiveTurn) -> None:
        self.hub = hub
        self.turn = turn

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        """Wait for a decision; anything but a Decision is a denial."""
        answer = await self.hub._wait(self.turn, request)
        return answer if isinstance(answer, Decision) else Decision(action="deny")

    async def ask(self, question: Question) -> str:
        """Wait for a reply ("" when none was given)."""
        answer = await self.hub._wait(self.turn, question)
        return answer if isinstance(answer, str) else ""


class LiveHub:
    """The one registry of running turns and waiting questions, shared by every client."""

    def __init__(self, service: ChatService, *, spawn: Spawn | None = None) -> None:
        """``spawn`` runs each turn's coroutine (default: an asyncio task the hub keeps)."""
        self.service = service
        self._spawn = spawn or self._spawn_task
        self._tasks: set[asyncio.Future[None]] = set()
        self._live: dict[str, list[LiveTurn]] = {}
        self._waiting: dict[str, list[Waiting]] = {}
        #: Answer futures of questions announced by an event, by (session, key): a reply may
        #: come as soon as the event is out, before the entry is listed.
        self._futures: dict[tuple[str, str], tuple[LiveTurn, asyncio.Future[Any]]] = {}
        self._everyone: list[LiveListener] = []
        self._listeners: dict[str, list[LiveListener]] = {}
        self._closing = False

    # ------------------------------------------------------------------ turns

    @property
    def closing(self) -> bool:
        """Whether :meth:`shutdown` began (turns started now are stopped at once)."""
        return self._closing

    def start(
        self,
        session_id: str,
        text: str,
        *,
        model: str | None = None,
        mode: ExecutionMode | None = None,
        approval: ApprovalMode | None = None,
        human: Human | None = None,
        started_at: datetime | None = None,
    ) -> LiveTurn:
        """Start a turn (run by ``spawn``); listeners hear ``turn_started`` before this returns.

        ``human`` answers its questions instead of the hub's queue (a policy, for REST).
        """
        token = CancellationToken()
        if self._closing:
            token.cancel("shutdown")
        turn = LiveTurn(
            session_id, uuid.uuid4().hex[:16], text, started_at or datetime.now(UTC), token
        )
        turn.human = human or _QueueHuman(self, turn)
        self._live.setdefault(session_id, []).append(turn)
        self._tell(session_id, lambda listener: listener.turn_started(turn))
        turn.handle = self._spawn(self._run(turn, model, mode, approval), turn)
        return turn

    async def stream(
        self,
        session_id: str,
        text: str,
        *,
        model: str | None = None,
        mode: ExecutionMode | None = None,
        approval: ApprovalMode | None = None,
        human: Human | None = None,
    ) -> AsyncIterator[Event]:
        """Start a turn and yield its events; leaving early stops it and waits for it to save."""
        turn = self.start(session_id, text, model=model, mode=mode, approval=approval, human=human)
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        stop = self.follow(turn, queue.put_nowait)
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            stop()
            if not turn.done:
                turn.cancel("closed")
                with contextlib.suppress(BaseException):
                    await asyncio.shield(turn.wait())

    def follow(
        self, turn: LiveTurn, callback: Callable[[Event | None], None]
    ) -> Callable[[], None]:
        """Call ``callback`` with the turn's events so far, then each new one, then ``None``
        when it ends; returns the function that stops following."""
        for event in list(turn.events):
            callback(event)
        if turn.done:
            callback(None)
            return lambda: None
        turn._followers.append(callback)
        return lambda: turn._followers.remove(callback) if callback in turn._followers else None

    def live(self, session_id: str) -> list[LiveTurn]:
        """The session's running turns, oldest first."""
        return list(self._live.get(session_id, ()))

    def running(self, session_id: str) -> bool:
        """Whether a turn is running in the session."""
        return bool(self._live.get(session_id))

    def cancel(self, session_id: str, reason: str = "user") -> bool:
        """Stop the session's running turns; False if none runs."""
        turns = self.live(session_id)
        for turn in turns:
            turn.cancel(reason)
        return bool(turns)

    def sessions_in_use(self) -> set[str]:
        """Sessions with a running turn or a waiting question (for leak checks)."""
        return {*self._live, *self._waiting, *(key[0] for key in self._futures)}

    async def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Refuse new turns, stop the running ones, wait (``grace_seconds`` at most) for their
        partial replies to be saved, then shut the service down."""
        self._closing = True
        turns = [turn for each in self._live.values() for turn in each]
        for turn in turns:
            turn.cancel("shutdown")
        await self.service.shutdown(grace_seconds)
        waits = [asyncio.ensure_future(turn.finished.wait()) for turn in turns]
        if waits:
            _done, pending = await asyncio.wait(waits, timeout=grace_seconds)
            for each in pending:
                each.cancel()

    def _spawn_task(self, coroutine: Coroutine[Any, Any, None], turn: LiveTurn) -> object:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(
        self,
        turn: LiveTurn,
        model: str | None,
        mode: ExecutionMode | None,
        approval: ApprovalMode | None,
    ) -> None:
        assert turn.human is not None
        try:
            await self.service.run_turn(
                turn.session_id,
                turn.text,
                emit=lambda event: self._emit(turn, event),
                human=turn.human,
                model_override=model,
                cancel=turn.token,
                mode=mode,
                approval=approval,
            )
        except Exception as exc:  # the engine ends turns itself; this is a last resort
            log.exception("turn in session %s failed outside the engine", turn.session_id)
            if turn.status is None:
                await self._emit(turn, short_error(f"internal error: {type(exc).__name__}"))
                await self._emit(turn, result("error"))
        finally:
            self._finish(turn)

    async def _emit(self, turn: LiveTurn, event: Event) -> None:
        """Keep the event for replay, hand it to every listener before the engine goes on."""
        turn.replay.keep(event)
        if event.__class__ is not TokenEvent:
            self._note(turn, event)
        if turn._followers:
            for follower in tuple(turn._followers):
                follower(event)
        for listener in self._audience(turn.session_id):
            try:
                listener.turn_event(turn, event)
            except Exception:  # one broken client must not stop a turn or the others
                log.exception("a live-turn listener failed")

    def _note(self, turn: LiveTurn, event: Event) -> None:
        """What an event changes for the hub: how the turn ended, the questions it waits on."""
        if event.type == "result":
            turn.status = event.data.status
        elif isinstance(turn.human, _QueueHuman) and event.type == "confirmation_request":
            self._future_for(turn, event.data.confirmation_id)
        elif isinstance(turn.human, _QueueHuman) and event.type == "ask_human":
            self._future_for(turn, event.request_id)
        elif event.type == "confirmation_result":
            # Decided (by anyone, or timed out): a late reply finds nothing to answer.
            self._drop_future(turn.session_id, event.data.confirmation_id)

    def _finish(self, turn: LiveTurn) -> None:
        if turn.status is None:
            turn.status = "cancelled" if turn.token.cancelled else "error"
        turns = self._live.get(turn.session_id, [])
        if turn in turns:
            turns.remove(turn)
        if not turns:
            self._live.pop(turn.session_id, None)
        for key, (owner, _future) in list(self._futures.items()):
            if owner is turn:
                self._drop_future(*key)
        left = [item for item in self._waiting.get(turn.session_id, []) if item.turn is turn]
        for item in left:
            self._unlist(item)
        turn.finished.set()
        for follower in list(turn._followers):
            follower(None)
        turn._followers.clear()
        self._tell(turn.session_id, lambda listener: listener.turn_finished(turn))

    # ------------------------------------------------------------------ listeners

    def listen(
        self, listener: LiveListener, session_id: str | None = None, *, replay: bool = False
    ) -> None:
        """Tell ``listener`` about one session's turns (or every session's, with ``None``);
        ``replay`` first gives it the running turns' ``turn_started`` and events so far."""
        if session_id is None:
            self._everyone.append(listener)
        else:
            self._listeners.setdefault(session_id, []).append(listener)
        if replay:
            sessions = [session_id] if session_id is not None else list(self._live)
            for each in sessions:
                for turn in self.live(each):
                    listener.turn_started(turn)
                    for event in list(turn.events):
                        listener.turn_event(turn, event)

    def unlisten(self, listener: LiveListener, session_id: str | None = None) -> None:
        """Stop telling ``listener`` (as registered with the same ``session_id``)."""
        group = self._everyone if session_id is None else self._listeners.get(session_id, [])
        if listener in group:
            group.remove(listener)
        if session_id is not None and not group:
            self._listeners.pop(session_id, None)

    def _audience(self, session_id: str) -> tuple[LiveListener, ...]:
        mine = self._listeners.get(session_id)
        return (*mine, *self._everyone) if mine else tuple(self._everyone)

    def _tell(self, session_id: str, call: Callable[[LiveListener], None]) -> None:
        for listener in self._audience(session_id):
            try:
                call(listener)
            except Exception:  # one broken client must not stop a turn or the others
                log.exception("a live-turn listener failed")

    # ------------------------------------------------------------------ questions

    def waiting(self, session_id: str) -> list[Waiting]:
        """The session's questions waiting for the person, oldest first."""
        return list(self._waiting.get(session_id, ()))

    def waiting_sessions(self) -> set[str]:
        """Sessions with a question waiting for the person."""
        return set(self._waiting)

    def answer(self, entry: Waiting, value: Decision | str) -> bool:
        """Answer a waiting question (a Decision, or reply text); False when it was already
        answered or the engine stopped waiting (the first answer wins)."""
        if entry.future.done():
            return False
        entry.future.set_result(value)
        self._unlist(entry)
        return True

    def answer_confirmation(
        self, session_id: str, confirmation_id: str, decision: Decision
    ) -> bool:
        """Answer the session's confirmation ``confirmation_id``; False if none waits."""
        return self._answer_key(session_id, confirmation_id, decision)

    def answer_question(self, session_id: str, request_id: str, reply: str) -> bool:
        """Answer the agent's question ``request_id``; False if none waits."""
        return self._answer_key(session_id, request_id, reply)

    def answer_all(self, session_id: str, decision: Decision) -> int:
        """Give every confirmation waiting in the session the same decision; how many."""
        entries = [item for item in self.waiting(session_id) if item.is_confirmation]
        return sum(self.answer(item, decision) for item in entries)

    def _answer_key(self, session_id: str, key: str, value: Decision | str) -> bool:
        held = self._futures.get((session_id, key))
        if held is None or held[1].done():
            return False
        entry = next((i for i in self.waiting(session_id) if i.future is held[1]), None)
        if entry is not None:
            return self.answer(entry, value)
        held[1].set_result(value)  # announced, not listed yet: its wait returns at once
        return True

    def _future_for(self, turn: LiveTurn, key: str) -> asyncio.Future[Any]:
        held = self._futures.get((turn.session_id, key))
        if held is None:
            held = (turn, asyncio.get_running_loop().create_future())
            self._futures[(turn.session_id, key)] = held
        return held[1]

    def _drop_future(self, session_id: str, key: str) -> None:
        held = self._futures.pop((session_id, key), None)
        if held is not None and not held[1].done():
            held[1].cancel()

    async def _wait(self, turn: LiveTurn, request: ConfirmationRequest | Question) -> object:
        """List the question, wait for its answer; unlisted however the wait ends."""
        key = (
            request.confirmation_id
            if isinstance(request, ConfirmationRequest)
            else request.request_id
        )
        entry = Waiting(turn.session_id, turn, request, self._future_for(turn, key))
        if not entry.future.done():
            self._waiting.setdefault(turn.session_id, []).append(entry)
            self._tell(turn.session_id, lambda listener: listener.waiting_changed(turn.session_id))
        try:
            return await entry.future
        finally:
            self._unlist(entry)
            self._futures.pop((turn.session_id, entry.key), None)

    def _unlist(self, entry: Waiting) -> None:
        entries = self._waiting.get(entry.session_id)
        if entries is None or entry not in entries:
            return
        entries.remove(entry)
        if not entries:
            del self._waiting[entry.session_id]
        if not entry.future.done():
            entry.future.cancel()
        self._tell(entry.session_id, lambda listener: listener.waiting_changed(entry.session_id))
