"""AgentKitApp: starts things (store, engine, main screen, theme, palette) and hands each message
to its part: ``Sessions`` (a state per session), ``Conversation`` (open, page, send, live events),
``ApprovalsDesk`` (questions), ``SessionActions`` (what ``ui/keys.py`` runs), ``Commands``
(``/commands``, completion), ``SessionListing`` (the sidebar's pages, search)."""

from __future__ import annotations

import asyncio
import functools
import importlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import TextArea

from app.config import ConfigError, Settings, save_setting
from app.paths import styles_dir
from app.store import Clock, Session, SessionStore, utc_now
from app.ui.commands import Commands
from app.ui.dialogs.help import HelpDialog
from app.ui.keys import ACTIONS, ACTIONS_BY_ID, bindings, bound_keys, help_rows
from app.ui.mcp_commands import McpCommands
from app.ui.messages import ApprovalsChanged, TurnEvent, TurnFinished, TurnStarted
from app.ui.screens.main import MainScreen
from app.ui.session.actions import SessionActions
from app.ui.session.conversation import Conversation
from app.ui.session.desk import ApprovalsDesk
from app.ui.session.listing import SessionListing
from app.ui.session.live import TurnFeed
from app.ui.session.state import Sessions
from app.ui.startup import resume_collector
from app.ui.theme import apply_configured_theme
from app.ui.widgets.composer import Composer
from app.ui.widgets.sidebar import SessionSidebar
from app.ui.widgets.status_line import StatusLine
from app.ui.widgets.transcript import Transcript
from app.ui.widgets.work_panel import WorkPanel

if TYPE_CHECKING:
    from app.engine.service import ChatService

#: Makes the store and the service inside the app's own event loop (scenarios, snapshots).
Opener = Callable[[], Awaitable[tuple[SessionStore, "ChatService"]]]
#: Starts the engine once the first frame is up: the service and the default model's name.
EngineStarter = Callable[[], Awaitable[tuple["ChatService", str]]]
#: What an EngineStarter and a first send import; loaded in a thread after the first frame.
ENGINE_MODULES = ("app.engine.service", "app.llm.gateway", "app.llm.describe", "httpcore")

STYLE_FILES = ("app.tcss", "main.tcss", "sidebar.tcss", "transcript.tcss", "dialogs.tcss")


class AgentKitApp(App[None]):
    """Sessions on the left, the conversation on the right, a composer at the bottom."""

    TITLE = "AgentKit"
    CSS_PATH = [str(styles_dir() / name) for name in STYLE_FILES]  # noqa: RUF012 (Textual's API)
    BINDINGS: ClassVar[list[BindingType]] = list(bindings())
    COMMANDS = App.COMMANDS | {McpCommands}  # the MCP servers and their status

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
        """Give ``store`` and ``service``; or an ``opener`` that makes both on mount; or ``store``
        and an ``engine`` started after the first frame (its imports are a third of start-up)."""
        super().__init__()
        if opener is None and (store is None or (service is None and engine is None)):
            raise ValueError("AgentKitApp needs a store and a service (or engine), or an opener")
        self.settings = settings
        self._opener, self._store, self._service, self._engine = opener, store, service, engine
        #: Set once the service exists (or failed to start: ``engine_error``).
        self.engine_ready = asyncio.Event()
        if service is not None:
            self.engine_ready.set()
        self.engine_error: BaseException | None = None
        self.clock = clock
        self.default_model = default_model
        self.export_dir = export_dir or Path.cwd()
        #: The agent the next new session is made for.
        self.new_agent = settings.default_agent
        #: Where a theme chosen in the app is remembered (None: not remembered, in tests).
        self.config_file = config_file
        #: The ``[keys]`` remaps in force (binding id -> keys).
        self.keymap: dict[str, str] = {}
        self.theme_problem = apply_configured_theme(self, settings.ui)
        #: Starts, stops and follows turns through the engine's live-turn hub.
        self.turns = TurnFeed(self)
        self.sessions = Sessions(self.turns.turn)
        self.conversation = Conversation(self)
        self.desk = ApprovalsDesk(self)
        self.actions = SessionActions(self)
        self.commands = Commands(self)
        self.listing = SessionListing(self)

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
    def has_service(self) -> bool:
        """Whether the engine is up."""
        return self._service is not None

    @property
    def current(self) -> Session | None:
        """The open session (None: a new conversation)."""
        return self.conversation.current

    # ------------------------------------------------------------------ start-up

    async def on_mount(self) -> None:
        if self._opener is not None and self._store is None:
            self._store, self._service = await self._opener()
            self.engine_ready.set()
        if self._service is not None:
            self.turns.attach(self._service)
        if self.settings.keys:
            self.set_keymap(self.settings.keys)  # before the key bar reads the bindings
        await self.push_screen(MainScreen(self.size.width))
        if self.theme_problem:
            self.notify(self.theme_problem, severity="warning", markup=False, timeout=10)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.status.model = self.default_model
        listed = await self.listing.first_page()
        if listed:
            await self.conversation.open_session(listed[0])
        else:
            await self.conversation.show_new_session()
        if self._service is None:
            # After the history's frame is painted: the engine's imports must not delay it.
            self.call_after_refresh(self.call_after_refresh, self._begin_engine)
        else:
            resume_collector()

    def _begin_engine(self) -> None:
        self.run_worker(self._start_engine(), exit_on_error=False)

    async def _start_engine(self) -> None:
        """Import the engine in a thread (keys are still read), then start it; a failure ends
        the app with the error (as before the app ran)."""
        assert self._engine is not None
        try:
            await asyncio.to_thread(lambda: [importlib.import_module(m) for m in ENGINE_MODULES])
            self._service, self.default_model = await self._engine()
            self.turns.attach(self._service)
        except Exception as exc:
            self.engine_error = exc
            self.engine_ready.set()
            self.exit(return_code=1)
            return
        if not self.ui_gone:
            if not self.status.model:
                self.status.model = self.default_model
            if self.current is None:
                # Before ready is set: a message waiting to be sent must not be drawn over.
                await self.main.show_welcome(self.conversation.welcome())
        self.engine_ready.set()
        resume_collector()  # the engine's objects too

    async def engine_started(self) -> bool:
        """Wait until the engine is up (at once, after start-up); False if it failed."""
        await self.engine_ready.wait()
        return self._service is not None

    @property
    def ui_gone(self) -> bool:
        """True once the main screen has gone (closing): late messages must not touch widgets."""
        return len(self.screen_stack) < 2

    @property
    def main(self) -> MainScreen:
        """The main screen (under any dialog)."""
        screen = self.screen_stack[1] if len(self.screen_stack) > 1 else self.screen
        assert isinstance(screen, MainScreen), screen
        return screen

    @property
    def sidebar(self) -> SessionSidebar:
        """The session list."""
        return self.main.query_one(SessionSidebar)

    @property
    def transcript(self) -> Transcript:
        """The open conversation's transcript."""
        return self.main.query_one(Transcript)

    @property
    def status(self) -> StatusLine:
        """The status line."""
        return self.main.query_one(StatusLine)

    @property
    def panel(self) -> WorkPanel:
        """The plan / team panel."""
        return self.main.query_one(WorkPanel)

    # ------------------------------------------------------------------ messages

    async def on_session_sidebar_session_selected(
        self, message: SessionSidebar.SessionSelected
    ) -> None:
        await self.conversation.open_session(message.session_id, at_seq=message.seq)

    async def on_session_sidebar_more_wanted(self, message: SessionSidebar.MoreWanted) -> None:
        await self.listing.more(message.offset)

    def on_session_sidebar_search_changed(self, message: SessionSidebar.SearchChanged) -> None:
        self.listing.search(message.text)

    async def on_transcript_page_wanted(self, message: Transcript.PageWanted) -> None:
        await self.conversation.show_page(message.seq, later=message.later)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if isinstance(event.text_area, Composer):
            self.commands.completions(event.text_area)

    async def on_composer_submitted(self, message: Composer.Submitted) -> None:
        await self.commands.submitted(message.text)

    async def on_turn_started(self, message: TurnStarted) -> None:
        await self.conversation.turn_started(message)

    async def on_turn_event(self, message: TurnEvent) -> None:
        await self.conversation.turn_event(message)

    async def on_turn_finished(self, message: TurnFinished) -> None:
        await self.conversation.turn_finished(message)

    async def on_approvals_changed(self, message: ApprovalsChanged) -> None:
        await self.desk.changed(message.session_id)

    # ------------------------------------------------------------------ actions

    async def action_run(self, action_id: str) -> None:
        """Run an action of the table (``ui/keys.py``) by its binding id: call the handler
        the table names (``part.method``; ``app`` is the App)."""
        part, _, method = ACTIONS_BY_ID[action_id].target.partition(".")
        owner = self if part == "app" else getattr(self, part)
        result = getattr(owner, method)()
        if asyncio.iscoroutine(result):
            await result

    def show_help(self) -> None:
        """Show every key (as bound now, with its binding id) and command, grouped."""
        self.push_screen(HelpDialog(help_rows(self.keymap)))

    def set_keymap(self, keymap: Mapping[str, str]) -> None:
        """Remap keys by binding id (``[keys]``), and remember the remaps for the help."""
        self.keymap = dict(keymap)
        super().set_keymap(self.keymap)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands (themes, quit, …) and every action, with the key bound now."""
        yield from super().get_system_commands(screen)
        bound = bound_keys(self.keymap)
        for action in ACTIONS:
            if action.palette:
                keys = self.get_key_display(Binding(bound[action.id].split(",")[0], ""))
                callback = functools.partial(self.action_run, action.id)
                yield SystemCommand(action.description, f"{action.detail} ({keys})", callback)

    def _remember_theme(self, theme: object) -> None:
        """Keep the theme chosen in the palette for the next start ([ui] theme)."""
        if self.config_file is None or self.theme == self.settings.ui.theme:
            return
        try:
            save_setting(self.config_file, "ui", "theme", self.theme)
        except (ConfigError, OSError) as exc:
            self.notify(f"The theme was not saved: {exc}", severity="warning", markup=False)

    async def on_unmount(self) -> None:
        if self._service is None or self.turns.hub is None:
            return
        await self.turns.hub.shutdown()  # running turns save their partial replies first
        if self._opener is not None:  # what the opener made, the app closes
            await self._service.gateway.aclose()
            await self._service.store.close()
