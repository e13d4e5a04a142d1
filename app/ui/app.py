"""AgentKitApp: the full-screen app. It owns the I/O (store, turns) and routes turn events
to the screen; widgets only show state and post what the person wants."""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import TextArea

from app.config import ConfigError, Settings, save_setting
from app.engine.events import (
    CallStep,
    ConfirmationRequestEvent,
    ConfirmationResultEvent,
    Event,
    StepEvent,
    ToolCallData,
    UsageEvent,
)
from app.engine.human import ConfirmationRequest, Decision
from app.llm.demo import DEMO_NOTICE
from app.paths import styles_dir, workspace_config_file
from app.store import Session, SessionStore, StoreError
from app.store.base import Clock, utc_now
from app.tools.rules import RuleError, read_rules_file, remove_rule
from app.ui.dialogs.approvals import ApprovalsDialog, SavedRule, approval_rows
from app.ui.dialogs.ask_human import AskDialog
from app.ui.dialogs.confirm import ConfirmAnswer, ConfirmDialog, describe_call
from app.ui.dialogs.copy_picker import CopyPicker, copy_choices
from app.ui.dialogs.delete import DeleteDialog
from app.ui.dialogs.help import HelpDialog
from app.ui.dialogs.model_picker import ModelPicker
from app.ui.dialogs.new_session import NewSessionDialog
from app.ui.dialogs.rename import RenameDialog
from app.ui.human import Pending, PendingQueue, SessionHuman, Standing
from app.ui.messages import ApprovalsChanged, TurnEvent, TurnFinished, TurnStarted
from app.ui.screens.main import MainScreen
from app.ui.turns import TurnRunner
from app.ui.typed import as_typed, skills_by_turn
from app.ui.widgets.composer import Composer
from app.ui.widgets.sidebar import SessionSidebar
from app.ui.widgets.status_line import StatusLine
from app.ui.widgets.transcript import Transcript
from app.ui.widgets.work_panel import WorkPanel
from app.ui.work import PANEL_TYPES, WorkState, state_from_log

if TYPE_CHECKING:
    from app.engine.service import ChatService

#: Makes the store and the service inside the app's own event loop (scenarios, snapshots).
Opener = Callable[[], Awaitable[tuple[SessionStore, "ChatService"]]]
#: Starts the engine once the first frame is up: the service and the default model's name.
EngineStarter = Callable[[], Awaitable[tuple["ChatService", str]]]
#: What an EngineStarter imports; loaded in a thread while the first frame is drawn.
ENGINE_MODULES = ("app.engine.service", "app.llm.gateway", "app.llm.describe")

#: Commands the composer understands (``/plan`` and ``/team`` go to the engine's router).
COMMANDS: dict[str, str] = {
    "/new": "start a new session",
    "/model": "choose the model for this session",
    "/plan": "plan the task in phases, then carry them out",
    "/team": "work on the task with a team of experts",
    "/export": "export this session: /export md or /export json",
    "/rename": "rename this session: /rename NEW TITLE",
    "/close": "close this session (it stays readable)",
    "/retry": "send the last message again",
    "/help": "every key and command",
}

PAGE_SESSIONS = 60
PAGE_MESSAGES = 30
#: Answers whose code blocks the copy picker (f6) offers.
COPY_ANSWERS = 3
#: How far back the rule preview of the approval dialog looks.
EARLIER_CALLS_MESSAGES = 1000
STYLE_FILES = ("app.tcss", "main.tcss", "sidebar.tcss", "transcript.tcss", "dialogs.tcss")

#: Keys of widgets and dialogs (the app's own come from BINDINGS), for the help dialog.
EXTRA_KEYS: list[tuple[str, str, str]] = [
    ("Composer", "enter", "send the message"),
    ("Composer", "ctrl+j / alt+enter", "new line"),
    ("Composer", "up / down", "earlier messages you sent"),
    ("Composer", "tab", "complete an @skill or a /command"),
    ("Approval dialog", "y", "approve once"),
    ("Approval dialog", "n / esc", "deny"),
    ("Approval dialog", "a / d", "always approve / always deny (edit the rule first)"),
    ("Approval dialog", "Y / N", "approve / deny every call listed as waiting"),
    ("Approval dialog", "m", "minimise (f7 brings it back)"),
    ("Plan / team panel", "[ / ]", "wider / narrower (when the panel has focus)"),
    ("Copy picker", "1-9", "copy that entry at once"),
    ("App", "ctrl+p", "every command"),
    ("App", "ctrl+q", "quit"),
]

WELCOME = """\
# Welcome to AgentKit

Write a message below and press **Enter** (ctrl+j adds a new line).

{model_line}

Things to try:

- `hello` — a direct answer, no tools
- `list the files in the workspace` — a read-only tool call, answered from its output
- ``run `ls -la` `` — a command that asks for your approval first (y / n / a / d)
- `ask me a question` — the agent asks, you answer in a dialog
- `show me a long markdown example` — headings, a table, a code block
- `@review src/app.py` — a skill; `@` lists them

Keys: **ctrl+n** new session · **ctrl+f** search · **esc** stop a turn · **ctrl+b** sidebar ·
**ctrl+p** every command.
"""


class AgentKitApp(App[None]):
    """Sessions on the left, the conversation on the right, a composer at the bottom."""

    TITLE = "AgentKit"
    CSS_PATH = [str(styles_dir() / name) for name in STYLE_FILES]  # noqa: RUF012 (Textual's API)
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: these work while the composer (a TextArea with its own ctrl keys) has focus.
        Binding("ctrl+n", "new_session", "New", id="session.new", priority=True),
        Binding("escape", "cancel_turn", "Stop", id="turn.cancel"),
        Binding("ctrl+c", "interrupt", "Stop", show=False, id="turn.interrupt", priority=True),
        Binding("ctrl+f", "focus_search", "Search", id="session.search", priority=True),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", id="view.sidebar", priority=True),
        Binding("ctrl+r", "retry", "Retry", id="turn.retry", priority=True),
        Binding("ctrl+s", "export", "Export", id="session.export", priority=True),
        Binding("f4", "close_session", "Close", id="session.close"),
        Binding("f5", "continue_session", "Continue", show=False, id="session.continue"),
        Binding("end", "follow", "Follow", show=False, id="view.follow"),
        Binding("f1", "help", "Help", id="app.help"),
        Binding("f2", "rename", "Rename", id="session.rename"),
        Binding("f3", "pick_model", "Model", id="session.model"),
        Binding("f6", "copy_answer", "Copy", id="turn.copy", priority=True),
        Binding("f7", "approvals", "Approvals", id="session.approvals", priority=True),
        Binding("f8", "delete", "Delete", id="session.delete"),
        Binding("f9", "toggle_panel", "Plan panel", id="view.panel", priority=True),
    ]

    def __init__(
        self,
        *,
        settings: Settings,
        store: SessionStore | None = None,
        service: ChatService | None = None,
        opener: Opener | None = None,
        engine: EngineStarter | None = None,
        clock: Clock = utc_now,
        default_model: str = "",
        export_dir: Path | None = None,
        config_file: Path | None = None,
    ) -> None:
        """Give ``store`` and ``service``; or an ``opener`` that makes both on mount; or
        ``store`` and an ``engine`` that starts the service after the first frame (the
        engine's imports are a third of start-up, and browsing history does not need it)."""
        super().__init__()
        if opener is None and (store is None or (service is None and engine is None)):
            raise ValueError("AgentKitApp needs a store and a service (or engine), or an opener")
        self.settings = settings
        self._opener = opener
        self._store = store
        self._service = service
        self._engine = engine
        #: Set once the service exists (or failed to start: ``engine_error``).
        self._engine_ready = asyncio.Event()
        if service is not None:
            self._engine_ready.set()
        self.engine_error: BaseException | None = None
        self.clock = clock
        self.default_model = default_model
        self.export_dir = export_dir or Path.cwd()
        #: Questions turns put to the person (approvals, the agent's questions), per session.
        self.pending = PendingQueue(
            lambda session_id: self.post_message(ApprovalsChanged(session_id))
        )
        #: The pending entry whose dialog is on screen, and that dialog.
        self._shown: tuple[Pending, ConfirmDialog | AskDialog] | None = None
        self._announced: set[Pending] = set()
        #: Sessions whose question the person minimised (f7 brings it back).
        self.minimised: set[str] = set()
        #: The plan / team of each session's last planned turn (live ones kept up to date).
        self.work: dict[str, WorkState | None] = {}
        self.panel_hidden = False
        self._runner: TurnRunner | None = None
        self.current: Session | None = None
        #: Model chosen per session with the picker ("" = the session not made yet).
        self.models_by_session: dict[str, str] = {}
        #: The agent the next new session is made for.
        self.new_agent = settings.default_agent
        #: Where a theme chosen in the app is remembered (None: not remembered, in tests).
        self.config_file = config_file
        self.theme = settings.ui.theme

    @property
    def store(self) -> SessionStore:
        """The session store (open once the app is mounted)."""
        assert self._store is not None, "the store opens when the app mounts"
        return self._store

    @property
    def service(self) -> ChatService:
        """The chat service that runs turns."""
        assert self._service is not None, "the service starts when the app mounts"
        return self._service

    @property
    def runner(self) -> TurnRunner:
        """Starts and stops turns."""
        if self._runner is None:
            self._runner = TurnRunner(
                self,
                lambda: self.service,
                lambda session_id: SessionHuman(self.pending, session_id),
            )
        return self._runner

    # ------------------------------------------------------------------ start-up

    async def on_mount(self) -> None:
        if self._opener is not None and self._store is None:
            self._store, self._service = await self._opener()
            self._engine_ready.set()
        await self.push_screen(MainScreen())
        if self.settings.keys:
            self.set_keymap(self.settings.keys)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.sidebar.set_clock(self.clock)
        self.status.model = self.default_model
        sessions = await self.store.list_sessions(limit=PAGE_SESSIONS)
        self.sidebar.show_sessions(sessions, exhausted=len(sessions) < PAGE_SESSIONS)
        if sessions:
            await self.open_session(sessions[0].id)
        else:
            await self.show_new_session()
        if self._service is None:
            # After the frame that shows the history has been painted (two refreshes on),
            # so the engine's imports do not compete with drawing it.
            self.call_after_refresh(self.call_after_refresh, self._begin_engine)
        else:
            self._freeze()

    def _freeze(self) -> None:
        # What start-up built lives as long as the app: keep it out of the collector's full
        # passes (they paused the screen for 100-150 ms during busy turns).
        gc.freeze()

    def _begin_engine(self) -> None:
        self.run_worker(self._start_engine(), exit_on_error=False)

    async def _start_engine(self) -> None:
        """After the first frame: import the engine (in a thread, so keys are still read),
        then start it here. A failure ends the app with the error (as before the app ran)."""
        assert self._engine is not None
        try:
            await asyncio.to_thread(lambda: [importlib.import_module(m) for m in ENGINE_MODULES])
            self._service, self.default_model = await self._engine()
        except Exception as exc:
            self.engine_error = exc
            self._engine_ready.set()
            self.exit(return_code=1)
            return
        if not self.ui_gone:
            if not self.status.model:
                self.status.model = self.default_model
            if self.current is None:
                # Before ready is set: a message waiting to be sent must not be drawn over.
                await self.main.show_welcome(self._welcome())
        self._engine_ready.set()
        self._freeze()

    async def _send_when_started(self, text: str) -> None:
        self.status.state = "thinking"
        if await self.engine_started() and not self.ui_gone:
            await self.send(text)

    async def engine_started(self) -> bool:
        """Wait until the engine is up (at once, after start-up); False if it failed."""
        await self._engine_ready.wait()
        return self._service is not None

    @property
    def ui_gone(self) -> bool:
        """True once the main screen has gone (the app is closing): late turn messages
        may still arrive then, and must not touch widgets."""
        return len(self.screen_stack) < 2

    @property
    def main(self) -> MainScreen:
        """The main screen (under any dialog)."""
        screen = self.screen_stack[1] if len(self.screen_stack) > 1 else self.screen
        assert isinstance(screen, MainScreen), screen
        return screen

    @property
    def sidebar(self) -> SessionSidebar:
        return self.main.query_one(SessionSidebar)

    @property
    def transcript(self) -> Transcript:
        return self.main.query_one(Transcript)

    @property
    def status(self) -> StatusLine:
        return self.main.query_one(StatusLine)

    @property
    def panel(self) -> WorkPanel:
        return self.main.query_one(WorkPanel)

    async def show_panel(self, state: WorkState | None) -> None:
        """Draw the open session's plan / team (hidden when there is none, or by f9)."""
        planned = state is not None and state.has_plan
        self.main.set_class(not planned or self.panel_hidden, "-no-panel")
        await self.panel.show(state if planned else None)

    def action_toggle_panel(self) -> None:
        """Show or hide the plan / team panel."""
        state = self.work.get(self.current.id) if self.current else None
        if state is None or not state.has_plan:
            self.notify("No plan in this session yet: /plan or /team starts one.", markup=False)
            return
        self.panel_hidden = not self.panel_hidden
        self.main.set_class(self.panel_hidden, "-no-panel")

    def _fold_work(self, session_id: str, event: Event) -> WorkState | None:
        """Fold a live event into the session's panel state; the state when it changed."""
        if event.type not in PANEL_TYPES:
            return None
        state = self.work.get(session_id)
        fresh_plan = event.type == "plan_update" and (state is None or state.finished)
        if event.type == "team_formed" or fresh_plan:
            state = WorkState()
            self.work[session_id] = state
        if state is None or (state.finished and event.type == "result"):
            return None
        return state if state.apply(event, self.clock()) else None

    # ------------------------------------------------------------------ sessions

    async def show_new_session(self) -> None:
        """An empty conversation; the session is made when the first message is sent."""
        self._hide_question()
        self.current = None
        await self.show_panel(None)
        self.main.set_title("New session")
        self.main.set_read_only(None)
        self.status.state = "idle"
        self.status.tokens = 0
        await self.main.show_welcome(self._welcome())
        self.main.query_one(Composer).focus()

    def _welcome(self) -> str:
        if self.default_model in ("", "demo"):
            model_line = DEMO_NOTICE if self.default_model else "Starting…"
        else:
            model_line = f"You are talking to **{self.default_model}**."
        return WELCOME.format(model_line=model_line)

    async def open_session(self, session_id: str) -> None:
        """Show a session: its latest messages, its events, and a live turn if one runs."""
        try:
            session = await self.store.get_session(session_id)
            messages = await self.store.get_messages(session_id, last=PAGE_MESSAGES, thread="main")
            first = messages[0].seq if messages else 0
            events = await self.store.get_events(session_id, after_seq=max(0, first - 1))
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if self._shown is not None and self._shown[0].session_id != session_id:
            self._hide_question()
        self.current = session
        live = self.runner.live.get(session_id)
        if live is not None:
            started = live.started_at
            messages = [m for m in messages if m.created_at < started]
            events = [e for e in events if e.created_at < started]
        await self.transcript.show_history(messages, events, has_earlier=first > 1)
        if live is not None:
            await self.transcript.add_user(live.text)
            for event in live.events:
                await self.transcript.handle(event)
        if session_id not in self.work:
            try:
                logged = await self.store.get_events(session_id, types=list(PANEL_TYPES))
            except StoreError:
                logged = []
            self.work[session_id] = state_from_log(logged)
        await self.show_panel(self.work[session_id])
        self.main.set_title(session.title or "New session")
        self.main.set_read_only(
            "This session is closed: it can be read, not continued. "
            "f5 continues it in a new session; ctrl+n starts an empty one."
            if session.is_closed
            else None
        )
        self.sidebar.attention.discard(session_id)
        composer = self.main.query_one(Composer)
        skills = skills_by_turn(events)
        composer.prompt_history = [as_typed(m, skills) for m in messages if m.role == "user"]
        self.status.agent = session.agent_name
        self.status.state = "thinking" if live else "idle"
        usage = await self.store.get_events(session_id, types=["usage"])
        self.status.tokens = sum(
            int(e.data.get("input_tokens", 0)) + int(e.data.get("output_tokens", 0)) for e in usage
        )
        if not session.is_closed:
            self.main.query_one(Composer).focus()
        if self.pending.for_session(session_id):
            self.status.state = "minimised" if session_id in self.minimised else "waiting"
            await self.show_question()

    async def reload_sidebar(self) -> None:
        """Fetch the first page of sessions again (after a change)."""
        if self.ui_gone:
            return
        sessions = await self.store.list_sessions(
            limit=max(PAGE_SESSIONS, len(self.sidebar.sessions))
        )
        if self.ui_gone:
            return
        self.sidebar.show_sessions(
            sessions,
            exhausted=len(sessions) < PAGE_SESSIONS,
            selected=self.current.id if self.current else None,
        )

    async def on_session_sidebar_session_selected(
        self, message: SessionSidebar.SessionSelected
    ) -> None:
        await self.open_session(message.session_id)

    async def on_session_sidebar_more_wanted(self, message: SessionSidebar.MoreWanted) -> None:
        page = await self.store.list_sessions(limit=PAGE_SESSIONS, offset=message.offset)
        self.sidebar.show_sessions(page, append=True, exhausted=len(page) < PAGE_SESSIONS)

    def on_session_sidebar_search_changed(self, message: SessionSidebar.SearchChanged) -> None:
        self._search(message.text)

    @work(exclusive=True, group="search", exit_on_error=False)
    async def _search(self, text: str) -> None:
        """Search as the person types (a newer search replaces an older one)."""
        if not text.strip():
            await self.reload_sidebar()
            return
        hits = await self.store.search(text, limit=100)
        self.sidebar.show_hits(hits)

    async def on_transcript_earlier_wanted(self, message: Transcript.EarlierWanted) -> None:
        if self.current is None:
            return
        messages = await self.store.get_messages(
            self.current.id, last=PAGE_MESSAGES, before_seq=message.before_seq, thread="main"
        )
        first = messages[0].seq if messages else 0
        events = [
            e
            for e in await self.store.get_events(self.current.id, after_seq=max(0, first - 1))
            if e.seq < message.before_seq
        ]
        await self.transcript.show_earlier(messages, events, has_earlier=first > 1)

    # ------------------------------------------------------------------ turns

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Offer completions while the first word is an ``@skill`` or a ``/command``."""
        if not isinstance(event.text_area, Composer):
            return
        composer = event.text_area
        text = composer.text
        match = re.fullmatch(r"([@/])([\w-]*)", text)
        lines: list[str] = []
        composer.completion = None
        if match:
            sigil, typed = match.groups()
            if sigil == "@":
                known = self._service.skills.skills if self._service is not None else {}
                skills = sorted(known.values(), key=lambda s: s.name)
                found = [(f"@{s.name}", s.description) for s in skills if s.name.startswith(typed)]
            else:
                found = [(c, d) for c, d in COMMANDS.items() if c[1:].startswith(typed)]
            lines = [f"{name:<12} {description}" for name, description in found]
            if found:
                composer.completion = found[0][0]
                lines[0] += "   (tab completes)"
        self.main.show_completions(lines)

    async def on_composer_submitted(self, message: Composer.Submitted) -> None:
        self.main.show_completions([])
        text = message.text.strip()
        command, _, argument = text.partition(" ")
        if text.startswith("/") and command in COMMANDS and command not in ("/plan", "/team"):
            await self.run_command(command, argument.strip())
            return
        if text.startswith("/") and re.fullmatch(r"/[\w-]+", command) and command not in COMMANDS:
            names = ", ".join(COMMANDS)
            self.notify(f"Unknown command {command}. Commands: {names}", markup=False)
            return
        await self.send(message.text)

    async def run_command(self, command: str, argument: str) -> None:
        """Do what a ``/command`` typed in the composer asks."""
        if command == "/new":
            await self.action_new_session()
        elif command == "/retry":
            await self.action_retry()
        elif command == "/close":
            await self.action_close_session()
        elif command == "/export":
            await self.export(argument or "md")
        elif command == "/rename":
            if argument:
                await self.rename(argument)
            else:
                await self.action_rename()
        elif command == "/model":
            await self.action_pick_model()
        elif command == "/help":
            self.action_help()

    async def send(self, text: str) -> None:
        """Send the person's message in the open session (making the session if needed)."""
        if not self._engine_ready.is_set():
            # Sent in the first moments, before the engine is up: it goes when it is.
            self.run_worker(self._send_when_started(text), group="early-sends")
            return
        if self._service is None:
            return  # the engine failed to start: the app is closing with its error
        if self.current is None:
            try:
                self.current = await self.store.create_session(self.new_agent)
                if "" in self.models_by_session:
                    self.models_by_session[self.current.id] = self.models_by_session.pop("")
            except StoreError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            await self.transcript.show_history([], [], has_earlier=False)
        session_id = self.current.id
        if self.current.is_closed:
            self.notify("This session is closed. ctrl+n starts a new one.", markup=False)
            return
        if self.runner.is_running(session_id):
            self.notify("A turn is still running here: esc stops it.", markup=False)
            return
        await self.transcript.add_user(text)
        self.status.state = "thinking"
        model = self.models_by_session.get(session_id)
        self.runner.start(session_id, text, started_at=self.clock(), model=model)

    async def on_turn_started(self, message: TurnStarted) -> None:
        if self.ui_gone:
            return
        self.sidebar.running.add(message.session_id)
        await self.reload_sidebar()

    async def on_turn_event(self, message: TurnEvent) -> None:
        try:
            await self._turn_event(message)
        finally:
            if message.shown is not None:
                if self.current is not None and message.session_id == self.current.id:
                    self.call_after_refresh(message.shown)
                else:
                    message.shown()

    async def _turn_event(self, message: TurnEvent) -> None:
        event = message.event
        changed = self._fold_work(message.session_id, event)
        if self.ui_gone:
            return
        current = self.current.id if self.current is not None else None
        if changed is not None and message.session_id == current:
            await self.show_panel(changed)
        if isinstance(event, StepEvent) and isinstance(event.data, CallStep):
            self.pending.step_started(message.session_id, event.data.step)
        if self.current is None or message.session_id != self.current.id:
            if event.type in ("confirmation_request", "ask_human"):
                self.sidebar.attention.add(message.session_id)
                self.sidebar.refresh_marks()
            return
        await self.transcript.handle(event)
        states = {
            "token": "streaming",
            "thinking": "thinking",
            "confirmation_request": "waiting",
            "ask_human": "waiting",
            "confirmation_result": "tool",
        }
        if isinstance(event, ConfirmationResultEvent) and event.data.decider == "timeout":
            self.notify(
                "No answer in time: the call was denied, and the agent was told so.",
                severity="warning",
                markup=False,
            )
        if event.type in states:
            self.status.state = states[event.type]
        elif isinstance(event, StepEvent):
            self.status.state = "tool" if isinstance(event.data, CallStep) else "thinking"
        elif isinstance(event, UsageEvent):
            self.status.tokens += event.data.input_tokens + event.data.output_tokens
            self.status.model = event.data.model

    async def on_turn_finished(self, message: TurnFinished) -> None:
        self.pending.turn_ended(message.session_id)
        self.minimised.discard(message.session_id)
        if self.ui_gone:
            return
        self.sidebar.running.discard(message.session_id)
        if self.current is not None and self.current.id == message.session_id:
            self.status.state = "idle"
            self.current = await self.store.get_session(message.session_id)
            if self.ui_gone:
                return
            self.main.set_title(self.current.title or "New session")
        await self.reload_sidebar()

    # ------------------------------------------------------------------ questions

    async def on_approvals_changed(self, message: ApprovalsChanged) -> None:
        """A question was asked or went away: show it, or tell the person where it waits."""
        if self.ui_gone:
            return
        session_id = message.session_id
        shown = self._shown
        if shown is not None and shown[0] not in self.pending.items:
            # The engine stopped waiting (timeout, stop): its dialog goes too.
            self._hide_question()
        waiting = self.pending.for_session(session_id)
        fresh = [item for item in waiting if item not in self._announced]
        self._announced = {item for item in self._announced if item in self.pending.items}
        self._announced.update(waiting)
        if fresh:
            self.bell()
        if self.current is None or session_id != self.current.id:
            if fresh:
                self.sidebar.attention.add(session_id)
                self.sidebar.refresh_marks()
                title = (
                    next((s.title for s in self.sidebar.sessions if s.id == session_id), "")
                    or "Another session"
                )
                self.notify(f"“{title}” is waiting for your answer.", markup=False)
            return
        if not waiting:
            return
        if session_id in self.minimised:
            self.status.state = "minimised"
            if fresh:
                self.notify("Another question is waiting: f7 shows it.", markup=False)
            return
        await self.show_question()

    async def show_question(self) -> None:
        """Show the open session's oldest waiting question (unless one is on screen)."""
        if self.current is None or self._shown is not None:
            return
        session_id = self.current.id
        waiting = self.pending.for_session(session_id)
        if not waiting or session_id in self.minimised:
            return
        item = waiting[0]
        request = item.request
        if not isinstance(request, ConfirmationRequest):
            ask = AskDialog(request.question)
            self._shown = (item, ask)
            await self.push_screen(ask, lambda reply: self._question_answered(item, reply))
            return
        step, rest = self._rest_of_step(session_id, request)
        also = [
            f"{other.request.tool}: {' '.join(other.request.command.split())[:100]}"
            for other in waiting[1:]
            if isinstance(other.request, ConfirmationRequest)
        ]
        also += [describe_call(name, args) for name, args in rest]
        ahead = [
            (name, str(args.get("command")) if name == "shell" else None) for name, args in rest
        ]
        dialog = ConfirmDialog(
            request,
            also=also,
            earlier_calls=await self._earlier_calls(session_id),
            workspace=self.service.workspace,
            timeout_seconds=self.settings.approval.timeout_seconds,
        )
        self._shown = (item, dialog)
        await self.push_screen(
            dialog, lambda answer: self._confirm_answered(item, answer, step, ahead)
        )

    def _hide_question(self) -> None:
        """Take the question's dialog off the screen; the question keeps waiting."""
        if self._shown is None:
            return
        _item, dialog = self._shown
        self._shown = None
        if self.screen is dialog:
            dialog.dismiss(None)
        elif dialog in self.screen_stack:
            # Under another dialog (help, say): it closes itself when uncovered.
            dialog.expired = True

    async def _question_answered(self, item: Pending, reply: str | None) -> None:
        if self._shown is not None and self._shown[0] is item:
            self._shown = None
        if reply is not None:
            self.pending.answer(item, reply)
        await self.show_question()

    async def _confirm_answered(
        self,
        item: Pending,
        answer: ConfirmAnswer | None,
        step: int,
        ahead: list[tuple[str, str | None]],
    ) -> None:
        if self._shown is not None and self._shown[0] is item:
            self._shown = None
        if answer is None:
            return  # hidden, not answered: it waits for the person to come back
        if answer.minimised:
            self.minimised.add(item.session_id)
            self.status.state = "minimised"
            self.notify("The turn waits for your answer: f7 brings the question back.")
            return
        decision = answer.decision or Decision(action="deny")
        self.pending.answer(item, decision)
        if answer.everything:
            for other in self.pending.for_session(item.session_id):
                if other.is_confirmation:
                    self.pending.answer(other, decision)
            if ahead:
                self.pending.answer_ahead(item.session_id, Standing(step, decision, ahead))
        await self.show_question()

    def _rest_of_step(
        self, session_id: str, request: ConfirmationRequest
    ) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
        """The step of ``request`` and its later calls that may ask too."""
        live = self.runner.live.get(session_id)
        if live is None:
            return 0, []
        step, start = 0, 0
        calls: list[ToolCallData] = []
        for index, event in enumerate(live.events):
            if isinstance(event, StepEvent) and isinstance(event.data, CallStep):
                if event.data.step != step or not calls:
                    step, calls, start = event.data.step, [], index
                calls.append(event.data.data)
        position = -1
        for event in live.events[start:]:
            if isinstance(event, ConfirmationRequestEvent):
                asked = event.data
                position = next(
                    (
                        k
                        for k in range(position + 1, len(calls))
                        if calls[k].name == asked.tool
                        and (
                            asked.tool != "shell"
                            or calls[k].arguments.get("command") == asked.command
                        )
                    ),
                    position,
                )
        rest: list[tuple[str, dict[str, Any]]] = []
        for call in calls[position + 1 :]:
            try:
                tool = self.service.registry.get(call.name)
                if tool.access_for(tool.parse_args(call.arguments)) == "read":
                    continue  # reads do not ask
            except Exception:  # an invalid call is refused before it could ask
                continue
            rest.append((call.name, call.arguments))
        return step, rest

    async def _earlier_calls(self, session_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Tool calls of the session before the running turn (for the rule preview)."""
        live = self.runner.live.get(session_id)
        try:
            messages = await self.store.get_messages(session_id, last=EARLIER_CALLS_MESSAGES)
        except StoreError:
            return []
        if live is not None:
            # The running turn began with the newest user message: keep what came before.
            last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=0)
            messages = messages[:last_user]
        return [(call.name, call.arguments) for m in messages for call in m.tool_calls or []]

    # ------------------------------------------------------------------ actions

    async def action_new_session(self) -> None:
        """Start a new conversation (choosing the agent when there are several)."""
        agents = [("default", "General assistant with the built-in tools")]
        agents += [(name, config.description) for name, config in self.settings.agents.items()]
        if len(agents) == 1:
            self.new_agent = self.settings.default_agent
            await self.show_new_session()
            return

        async def chosen(agent: str | None) -> None:
            if agent:
                self.new_agent = agent
                await self.show_new_session()

        self.push_screen(NewSessionDialog(agents, self.settings.default_agent), chosen)

    def action_cancel_turn(self) -> None:
        """Stop the running turn of the open session (its partial reply is kept)."""
        if self.current is not None and self.runner.cancel(self.current.id):
            self.notify("Stopping the turn…", markup=False)

    def action_interrupt(self) -> None:
        """ctrl+c: stop the running turn; otherwise copy a selection, or say how to quit."""
        if self.current is not None and self.runner.is_running(self.current.id):
            self.action_cancel_turn()
            return
        focused = self.focused
        if isinstance(focused, TextArea) and focused.selected_text:
            self.copy_to_clipboard(focused.selected_text)
            return
        self.notify("Press ctrl+q to quit.", markup=False)

    def action_focus_search(self) -> None:
        """Jump to the session search box."""
        self.main.set_class(False, "-no-sidebar")
        self.main.set_class(self.main.has_class("-narrow"), "-show-sidebar")
        self.sidebar.query_one("#session-search").focus()

    def action_toggle_sidebar(self) -> None:
        """Show or hide the session list (on narrow terminals it starts hidden)."""
        self.main.toggle_class("-show-sidebar" if self.main.has_class("-narrow") else "-no-sidebar")

    def action_follow(self) -> None:
        """Scroll to the end and follow new output again."""
        self.transcript.anchor()

    async def action_retry(self) -> None:
        """Send the last message of the open session again."""
        if self.current is None:
            return
        messages = await self.store.get_messages(self.current.id, last=PAGE_MESSAGES, thread="main")
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        if last_user is None:
            self.notify("Nothing to retry yet.", markup=False)
            return
        skills = skills_by_turn(await self.store.get_events(self.current.id, types=["skill_match"]))
        await self.send(as_typed(last_user, skills))

    async def action_continue_session(self) -> None:
        """Start a new session that continues a closed one (it copies only the title)."""
        if self.current is None or not self.current.is_closed:
            self.notify("f5 continues a closed session in a new one.", markup=False)
            return
        old = self.current
        title = f"Continued: {old.title}" if old.title else ""
        self.current = await self.store.create_session(
            old.agent_name, title=title, metadata={"continued_from": old.id}
        )
        await self.reload_sidebar()
        await self.open_session(self.current.id)

    async def action_close_session(self) -> None:
        """Close the open session: it stays readable and takes no new messages."""
        if self.current is None:
            return
        self.runner.cancel(self.current.id)
        await self.store.close_session(self.current.id)
        await self.open_session(self.current.id)
        await self.reload_sidebar()

    async def action_export(self) -> None:
        """Write the open session as Markdown into the workspace."""
        await self.export("md")

    async def export(self, fmt: str) -> None:
        """Write the open session as Markdown or JSON; a notification gives the path."""
        if self.current is None:
            self.notify("Nothing to export yet.", markup=False)
            return
        if fmt not in ("md", "json"):
            self.notify("Export as md or json: /export md, /export json", markup=False)
            return
        text = await self.store.export_session(self.current.id, fmt)  # type: ignore[arg-type]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.export_dir / f"agentkit-{self.current.id[:8]}-{stamp}.{fmt}"
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"Export failed: {exc}", severity="error", markup=False)
            return
        self.notify(f"Exported to {path}", markup=False)

    async def rename(self, title: str) -> None:
        """Rename the open session (``/rename TITLE``)."""
        if self.current is None:
            self.notify("Send a first message, then rename the session.", markup=False)
            return
        if not title.strip():
            self.notify("Give the new title: /rename NEW TITLE", markup=False)
            return
        try:
            self.current = await self.store.rename_session(self.current.id, title)
        except (StoreError, ValueError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.main.set_title(self.current.title)
        await self.reload_sidebar()

    async def action_rename(self) -> None:
        """Rename the open session in a dialog."""
        if self.current is None:
            self.notify("Send a first message, then rename the session.", markup=False)
            return

        async def renamed(title: str | None) -> None:
            if title:
                await self.rename(title)

        self.push_screen(RenameDialog(self.current.title), renamed)

    async def action_delete(self) -> None:
        """Delete the open session (after a confirmation)."""
        if self.current is None:
            return
        session = self.current

        async def answered(delete: bool | None) -> None:
            if not delete:
                return
            self.runner.cancel(session.id)
            await self.store.delete_session(session.id)
            self.notify(f"Deleted “{session.title or 'New session'}”.", markup=False)
            await self.reload_sidebar()
            await self.show_new_session()

        dialog = DeleteDialog(session.title or "New session", session.message_count)
        self.push_screen(dialog, answered)

    async def action_pick_model(self) -> None:
        """Choose the model for the open session's next messages."""
        picker = ModelPicker(self.session_model())

        def chosen(model: str | None) -> None:
            if model:
                self.models_by_session[self.current.id if self.current else ""] = model
                self.status.model = model
                self.notify(f"Next messages go to {model}.", markup=False)

        self.push_screen(picker, chosen)
        self._load_models(picker)

    @work(exclusive=True, group="models", exit_on_error=False)
    async def _load_models(self, picker: ModelPicker) -> None:
        """Ask the configured providers what they serve (a worker: the UI stays free)."""
        from app.llm.describe import describe_models  # loaded with the engine, after start-up

        try:
            report = await describe_models(self.settings)
        except Exception as exc:  # shown in the dialog, never a crash
            picker.show_error(f"Could not list models: {exc}")
            return
        models: list[tuple[str, str]] = []
        for provider in report.providers:
            for model in provider.models:
                name = model if provider.kind == "demo" else f"{provider.name}/{model}"
                models.append((name, f"{provider.kind} · {provider.detail}"))
        if models:
            picker.show_models(models)
        else:
            picker.show_error("No models found. " + report.default_reason)

    def session_model(self) -> str:
        """The model the open session's next message goes to."""
        key = self.current.id if self.current else ""
        return self.models_by_session.get(key) or self.default_model

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands (themes, quit, …) and every action of the app, with its key."""
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                keys = self.get_key_display(binding)
                method = getattr(self, f"action_{binding.action}", None)
                doc = (getattr(method, "__doc__", None) or "").strip().split("\n")[0]
                yield SystemCommand(
                    binding.description,
                    f"{doc} ({keys})" if doc else keys,
                    functools.partial(self.run_action, binding.action),
                )

    def action_help(self) -> None:
        """Show every key and command, grouped."""
        rows = [
            ("App", binding.key, binding.description)
            for binding in self.BINDINGS
            if isinstance(binding, Binding) and binding.description
        ]
        rows += EXTRA_KEYS
        rows += [("Commands", name, text) for name, text in COMMANDS.items()]
        self.push_screen(HelpDialog(rows))

    def _remember_theme(self, theme: object) -> None:
        """Keep the theme chosen in the palette for the next start ([ui] theme)."""
        if self.config_file is None or self.theme == self.settings.ui.theme:
            return
        try:
            save_setting(self.config_file, "ui", "theme", self.theme)
        except (ConfigError, OSError) as exc:
            self.notify(f"The theme was not saved: {exc}", severity="warning", markup=False)

    async def action_approvals(self) -> None:
        """Bring back a minimised question; otherwise review the session's approvals and the
        saved rules, and remove a saved rule."""
        if self.current is not None and self.pending.for_session(self.current.id):
            self.minimised.discard(self.current.id)
            self.status.state = "waiting"
            await self.show_question()
            return
        events = []
        if self.current is not None:
            events = await self.store.get_events(
                self.current.id, types=["confirmation_request", "confirmation_result"]
            )
        if not await self.engine_started():
            return
        workspace = self.service.workspace
        saved: list[SavedRule] = []
        try:
            for scope, path in (
                ("workspace", workspace_config_file(workspace)),
                ("user", self.service.user_config_file),
            ):
                rules = read_rules_file(path)
                for kind in ("allow", "deny"):
                    saved += [SavedRule(rule=r, kind=kind, scope=scope) for r in rules[kind]]
        except RuleError as exc:
            self.notify(str(exc), severity="warning", markup=False)

        def removed(choice: SavedRule | None) -> None:
            if choice is None:
                return
            try:
                found = remove_rule(
                    choice.rule, choice.kind, choice.scope, self.service.user_config_file, workspace
                )
            except RuleError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.service.forget_rule(choice.rule, choice.kind)
            where = "this workspace" if choice.scope == "workspace" else "your config"
            verb = "Removed" if found else "Not found, nothing removed:"
            self.notify(f"{verb} {choice.kind} rule {choice.rule} ({where}).", markup=False)

        self.push_screen(ApprovalsDialog(approval_rows(events), saved), removed)

    async def action_copy_answer(self) -> None:
        """Copy the last answer, or one of the recent code blocks, to the clipboard (OSC 52)."""
        if self.current is None:
            return
        messages = await self.store.get_messages(self.current.id, last=PAGE_MESSAGES, thread="main")
        answers = [
            m.content
            for m in reversed(messages)
            if m.role == "assistant"
            and m.thread == "main"
            and not m.tool_calls
            and m.content.strip()
        ][:COPY_ANSWERS]
        choices = copy_choices(answers)
        if not choices:
            self.notify("No answer to copy yet.", markup=False)
            return

        def chosen(text: str | None) -> None:
            if text is None:
                return
            self.copy_to_clipboard(text)
            what = "the last answer" if text == answers[0] else "the code block"
            lines = text.count("\n") + 1
            self.notify(f"Copied {what} ({lines} line{'s' if lines != 1 else ''}).", markup=False)

        if len(choices) == 1:
            chosen(choices[0].text)  # nothing to choose between
            return
        self.push_screen(CopyPicker(choices), chosen)

    async def on_unmount(self) -> None:
        if self._service is not None:
            # Running turns save their partial replies before anything is closed.
            await self._service.shutdown()
        if self._opener is not None and self._service is not None:
            # What the opener made, the app closes.
            await self._service.gateway.aclose()
            await self._service.store.close()
