"""The open conversation: open a session, page its history, send a message, and route each
session's live events (to its state always, to the widgets when it is the open one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.store import Event as StoredEvent
from app.store import Message, Session, StoreError
from app.ui.messages import TurnEvent, TurnFinished, TurnStarted
from app.ui.notify import Notifier
from app.ui.session.live import merged
from app.ui.session.state import SessionState
from app.ui.typed import as_typed, skills_by_turn
from app.ui.widgets.composer import Composer
from app.ui.work import PANEL_TYPES, WorkState, state_from_log

if TYPE_CHECKING:  # the engine's modules: imported where used, after the first frame
    from app.engine.events import Event
    from app.ui.app import AgentKitApp

#: Messages shown per page of history.
PAGE_MESSAGES = 30
#: A session opened at a search hit shows this many newer messages below it, at most.
AFTER_HIT_MESSAGES = 200

WELCOME = """\
# Welcome to AgentKit

Write a message below and press **Enter** (ctrl+j adds a new line).

{model_line}

Things to try:

- `hello` — a direct answer, no tools
- `list the files in the workspace` — a read-only tool call, answered from its output
- ``run `touch notes.txt` `` — a command that asks for your approval first (y / n / a / d)
- ``run `ls -la` `` — known to be safe: it runs at once, allowed by the approval policy
- `ask me a question` — the agent asks and offers answers: press 1–3, or write your own
- `show me a long markdown example` — headings, a table, a code block
- `@review src/app.py` — a skill; `@` lists them

Keys: **ctrl+n** new session · **ctrl+f** search · **esc** stop a turn · **ctrl+b** sidebar ·
**ctrl+p** every command.
"""

#: The status line's state after a live event of each type.
STATUS_BY_EVENT = {
    "token": "streaming",
    "thinking": "thinking",
    "confirmation_request": "waiting",
    "ask_human": "waiting",
    "confirmation_result": "tool",
}

CLOSED_NOTE = (
    "This session is closed: it can be read, not continued. "
    "f5 continues it in a new session; ctrl+n starts an empty one."
)


class Conversation:
    """What the transcript, the panel and the status line show, and sending into it."""

    def __init__(self, app: AgentKitApp) -> None:
        """Work on ``app``'s main screen."""
        self.app = app
        #: The open session (None: a new conversation, made when the first message goes).
        self.current: Session | None = None
        #: f9 hid the plan / team panel.
        self.panel_hidden = False
        #: The bell and desktop notifications while the terminal is not focused.
        self.notifier = Notifier(app)

    @property
    def current_id(self) -> str | None:
        """The open session's id (None for a new conversation)."""
        return self.current.id if self.current is not None else None

    @property
    def state(self) -> SessionState:
        """The open session's state (the draft's for a new conversation)."""
        current = self.current_id
        return self.app.sessions.get(current) if current else self.app.sessions.draft

    # ------------------------------------------------------------------ panel

    async def show_panel(self, state: WorkState | None) -> None:
        """Draw the open session's plan / team (hidden when there is none, or by f9)."""
        planned = state is not None and state.has_plan
        self.app.main.set_class(not planned or self.panel_hidden, "-no-panel")
        await self.app.panel.show(state if planned else None)

    def toggle_panel(self) -> None:
        """Show or hide the plan / team panel."""
        state = self.state.work if self.current is not None else None
        if state is None or not state.has_plan:
            self.app.notify("No plan in this session yet: /plan or /team starts one.", markup=False)
            return
        self.panel_hidden = not self.panel_hidden
        self.app.main.set_class(self.panel_hidden, "-no-panel")

    async def follow(self) -> None:
        """Scroll to the end and follow new output again (a session opened at a search hit
        whose newest messages are not shown is opened at its end)."""
        if self.app.transcript.has_later and self.current is not None:
            await self.open_session(self.current.id)
        self.app.transcript.anchor()

    # ------------------------------------------------------------------ opening

    async def show_new_session(self) -> None:
        """An empty conversation; the session is made when the first message is sent."""
        self.app.desk.hide_question()
        self.current = None
        await self.show_panel(None)
        main = self.app.main
        main.set_title("New session")
        main.set_read_only(None)
        self.app.status.state = "idle"
        self.app.status.tokens = self.app.status.context_window = 0
        self.app.status.cost_usd = 0.0
        await main.show_welcome(self.welcome())
        main.query_one(Composer).focus()

    def welcome(self) -> str:
        """The welcome text, naming the default model once it is known."""
        model = self.app.default_model
        if model == "demo":
            from app.engine.clients import DEMO_NOTICE

            model_line = DEMO_NOTICE
        elif not model:
            model_line = "Starting…"
        else:
            model_line = f"You are talking to **{model}**."
        return WELCOME.format(model_line=model_line)

    async def open_session(self, session_id: str, *, at_seq: int | None = None) -> None:
        """Show a session: its latest messages, its events, and a live turn if one runs; with
        ``at_seq`` (a search hit), the page around that message instead, the message marked."""
        store = self.app.store
        try:
            session = await store.get_session(session_id)
            if at_seq is None or self.app.sessions.get(session_id).live is not None:
                messages = await store.get_messages(session_id, last=PAGE_MESSAGES, thread="main")
                has_later = False
            else:
                messages, has_later = await self._page_around(session_id, at_seq)
            first = messages[0].seq if messages else 0
            events = await store.get_events(session_id, after_seq=max(0, first - 1))
        except StoreError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        if has_later and messages:
            events = [e for e in events if e.seq < messages[-1].seq]
        self.app.desk.leaving_for(session_id)
        self.current = session
        state = self.app.sessions.get(session_id)
        await self._show_history(state, messages, events, has_earlier=first > 1)
        transcript = self.app.transcript
        if has_later:
            await transcript.show_more_below()
        if at_seq is not None:
            transcript.show_hit(at_seq)
        await self.show_panel(await self._work_of(state))
        self.app.main.set_title(session.title or "New session")
        self.app.main.set_read_only(CLOSED_NOTE if session.is_closed else None)
        state.attention = False
        composer = self.app.main.query_one(Composer)
        skills = skills_by_turn(events)
        composer.prompt_history = [as_typed(m, skills) for m in messages if m.role == "user"]
        status = self.app.status
        status.agent = session.agent_name
        status.state = "thinking" if state.live else "idle"
        usage = await store.get_events(session_id, types=["usage"])
        status.tokens = sum(
            int(e.data.get("input_tokens", 0)) + int(e.data.get("output_tokens", 0)) for e in usage
        )
        logged = [e.data.get("data", e.data) for e in usage]  # stored as on the wire
        status.cost_usd = sum(float(d.get("cost_usd") or 0) for d in logged)
        last: dict[str, Any] = next((d for d in reversed(logged) if d.get("context_window")), {})
        status.context_tokens = int(last.get("context_tokens") or 0)
        status.context_window = int(last.get("context_window") or 0)
        status.compact_at = self.app.settings.engine.compact_at
        if not session.is_closed and at_seq is None:
            composer.focus()  # a hit leaves focus in the list: the next hit is a key away
        await self.app.desk.session_opened(state)

    async def _page_around(self, session_id: str, seq: int) -> tuple[list[Message], bool]:
        """The messages around ``seq``: a few before it, it, and up to AFTER_HIT_MESSAGES
        after it (True: more come later than the page shows; scrolling down loads them)."""
        store = self.app.store
        before = await store.get_messages(
            session_id, last=PAGE_MESSAGES // 2, before_seq=seq + 1, thread="main"
        )
        after, has_later = await self._page_after(
            session_id, before[-1].seq if before else seq, AFTER_HIT_MESSAGES
        )
        return before + after, has_later

    async def _page_after(
        self, session_id: str, seq: int, count: int
    ) -> tuple[list[Message], bool]:
        """Up to ``count`` messages after ``seq``, and whether more follow them."""
        after = await self.app.store.get_messages(
            session_id, limit=count + 1, after_seq=seq, thread="main"
        )
        return after[:count], len(after) > count

    async def _show_history(
        self,
        state: SessionState,
        messages: Sequence[Message],
        events: Sequence[StoredEvent],
        *,
        has_earlier: bool,
    ) -> None:
        """The page of history, then the live turn's events so far (when one runs)."""
        live = state.live
        if live is not None:
            messages = [m for m in messages if m.created_at < live.started_at]
            events = [e for e in events if e.created_at < live.started_at]
        transcript = self.app.transcript
        await transcript.show_history(messages, events, has_earlier=has_earlier)
        if live is not None:
            await transcript.add_user(live.text)
            # Messages for these events may still be on their way: they are skipped.
            replay = list(live.events)
            state.replayed_upto = live.emitted  # (the buffer joins runs of tokens)
            for event in merged(replay):
                await transcript.handle(event)

    async def _work_of(self, state: SessionState) -> WorkState | None:
        """The session's panel state, rebuilt from its log the first time."""
        if not state.work_loaded:
            try:
                logged = await self.app.store.get_events(state.session_id, types=list(PANEL_TYPES))
            except StoreError:
                logged = []
            state.work, state.work_loaded = state_from_log(logged), True
        return state.work

    async def show_page(self, seq: int, *, later: bool) -> None:
        """The page before ``seq`` above what is shown, or (``later``) the one after it below."""
        if later:
            await self.show_later(seq)
        else:
            await self.show_earlier(seq)

    async def show_later(self, after_seq: int) -> None:
        """Put the page after ``after_seq`` below a page around a search hit."""
        if self.current is None:
            return
        store, session_id = self.app.store, self.current.id
        try:
            messages, has_later = await self._page_after(session_id, after_seq, PAGE_MESSAGES)
            events = await store.get_events(session_id, after_seq=after_seq)
        except StoreError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        if has_later and messages:
            events = [e for e in events if e.seq < messages[-1].seq]
        await self.app.transcript.show_later(messages, events, has_later=has_later)

    async def show_earlier(self, before_seq: int) -> None:
        """Put the page before ``before_seq`` above what is shown."""
        if self.current is None:
            return
        store, session_id = self.app.store, self.current.id
        messages = await store.get_messages(
            session_id, last=PAGE_MESSAGES, before_seq=before_seq, thread="main"
        )
        first = messages[0].seq if messages else 0
        events = [
            e
            for e in await store.get_events(session_id, after_seq=max(0, first - 1))
            if e.seq < before_seq
        ]
        await self.app.transcript.show_earlier(messages, events, has_earlier=first > 1)

    # ------------------------------------------------------------------ sending

    async def send(self, text: str) -> None:
        """Send the person's message in the open session (making the session if needed)."""
        app = self.app
        if not app.engine_ready.is_set():
            # Sent in the first moments, before the engine is up: it goes when it is.
            app.run_worker(self._send_when_started(text), group="early-sends")
            return
        if not app.has_service:
            return  # the engine failed to start: the app is closing with its error
        if self.current is None:
            try:
                self.current = await app.store.create_session(app.new_agent)
            except StoreError as exc:
                app.notify(str(exc), severity="error", markup=False)
                return
            app.sessions.adopt(self.current.id)
            await app.transcript.show_history([], [], has_earlier=False)
        state = app.sessions.get(self.current.id)
        if self.current.is_closed:
            app.notify("This session is closed. ctrl+n starts a new one.", markup=False)
            return
        if state.live is not None:
            app.notify("A turn is still running here: esc stops it.", markup=False)
            return
        if app.transcript.has_later:  # opened at a search hit: show the end first
            await self.open_session(state.session_id)
        # The turn starts first: its request goes out while the message is drawn (the events
        # it posts wait until this handler is done, so they still come after the message).
        app.turns.start(state.session_id, text, started_at=app.clock(), model=state.model)
        await app.transcript.add_user(text)
        app.status.state = "thinking"

    async def _send_when_started(self, text: str) -> None:
        self.app.status.state = "thinking"
        if await self.app.engine_started() and not self.app.ui_gone:
            await self.send(text)

    # ------------------------------------------------------------------ live events

    async def turn_started(self, message: TurnStarted) -> None:
        """Mark the session as running in the sidebar."""
        if self.app.ui_gone:
            return
        state = self.app.sessions.get(message.session_id)
        state.running = True
        state.replayed_upto = 0
        await self.app.listing.reload()

    async def turn_event(self, message: TurnEvent) -> None:
        """Fold a live event into its session's state; show it when that session is open."""
        event = message.event
        state = self.app.sessions.get(message.session_id)
        changed = state.fold(event, self.app.clock())
        if self.app.ui_gone:
            return
        is_open = message.session_id == self.current_id
        if changed is not None and is_open:
            await self.show_panel(changed)
        if not is_open:
            if event.type in ("confirmation_request", "ask_human"):
                state.attention = True
                self.app.sidebar.refresh_marks()
            return
        if 0 <= message.index < state.replayed_upto:
            return  # drawn already, by the replay when the session was opened
        await self.app.transcript.handle(event)
        self._show_status(event)

    def _show_status(self, event: Event) -> None:
        from app.engine.events import (
            CallStep,
            ConfirmationResultEvent,
            NoticeEvent,
            StepEvent,
            UsageEvent,
        )

        status = self.app.status
        if isinstance(event, ConfirmationResultEvent) and event.data.decider == "timeout":
            self.app.notify(
                "No answer in time: the call was denied, and the agent was told so.",
                severity="warning",
                markup=False,
            )
        if event.type in STATUS_BY_EVENT:
            status.state = STATUS_BY_EVENT[event.type]
        elif isinstance(event, StepEvent):
            status.state = "tool" if isinstance(event.data, CallStep) else "thinking"
        elif isinstance(event, NoticeEvent) and event.data.code == "compacting":
            status.state = "compacting"
        elif isinstance(event, NoticeEvent) and event.data.code.startswith("compact"):
            status.state = "thinking"
        elif isinstance(event, UsageEvent):
            status.tokens += event.data.input_tokens + event.data.output_tokens
            status.cost_usd += event.data.cost_usd or 0.0
            status.model = event.data.model
            if event.data.context_window:
                status.context_tokens = event.data.context_tokens or 0
                status.context_window = event.data.context_window

    async def turn_finished(self, message: TurnFinished) -> None:
        """The turn ended: unmark it, refresh the title."""
        state = self.app.sessions.get(message.session_id)
        state.minimised = False
        state.replayed_upto = 0
        if self.app.ui_gone:
            return
        state.running = False
        if message.session_id == self.current_id:
            self.app.status.state = "idle"
            self.current = await self.app.store.get_session(message.session_id)
            if self.app.ui_gone:
                return
            self.app.main.set_title(self.current.title or "New session")
        await self.app.listing.reload()
        if self.app.ui_gone:  # the app closed while the list reloaded
            return
        self.notifier.turn_ended(self.app.listing.title_of(message.session_id), message.status)
