"""What the person does to a session: new, stop, retry, continue, close, export, rename,
delete, pick a model, copy an answer, and review the approvals and saved rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import TextArea

from app.store import Session, StoreError
from app.ui.clipboard import Clipboard, Copied
from app.ui.dialogs.copy_picker import CopyPicker, copy_choices
from app.ui.dialogs.delete import DeleteDialog
from app.ui.dialogs.model_picker import ModelPicker, add_provider_hint
from app.ui.dialogs.new_session import NewSessionDialog
from app.ui.dialogs.rename import RenameDialog
from app.ui.session.conversation import PAGE_MESSAGES
from app.ui.session.exporting import SessionExporter
from app.ui.typed import as_typed, skills_by_turn

if TYPE_CHECKING:
    from app.engine.service import RuleEntry
    from app.ui.app import AgentKitApp

#: Answers whose code blocks the copy picker (f6) offers.
COPY_ANSWERS = 3


class SessionActions:
    """The handlers of the session actions in the action table."""

    def __init__(self, app: AgentKitApp) -> None:
        """Act on ``app``'s open session."""
        self.app = app
        #: How copies leave the app (made on the first copy, when the terminal is up).
        self.clipboard: Clipboard | None = None

    @property
    def current(self) -> Session | None:
        """The open session."""
        return self.app.conversation.current

    async def _reopen(self, session_id: str) -> None:
        await self.app.conversation.open_session(session_id)

    async def new_session(self) -> None:
        """Start a new conversation (choosing the agent when there are several)."""
        settings = self.app.settings
        agents = [("default", "General assistant with the built-in tools")]
        agents += [(name, config.description) for name, config in settings.agents.items()]
        if len(agents) == 1:
            self.app.new_agent = settings.default_agent
            await self.app.conversation.show_new_session()
            return

        async def chosen(agent: str | None) -> None:
            if agent:
                self.app.new_agent = agent
                await self.app.conversation.show_new_session()

        self.app.push_screen(NewSessionDialog(agents, settings.default_agent), chosen)

    def cancel_turn(self) -> None:
        """Stop the running turn of the open session (its partial reply is kept), or a
        ``/compact`` running (nothing is stored then)."""
        if self.current is not None and self.app.turns.cancel(self.current.id):
            self.app.notify("Stopping the turn…", markup=False)
        elif self.app.status.state == "compacting":
            self.app.workers.cancel_group(self.app, "compact")
            self.app.status.state = "idle"
            self.app.notify("Compaction stopped: nothing was changed.", markup=False)

    def interrupt(self) -> None:
        """ctrl+c: stop the running turn; otherwise copy a selection, or say how to quit."""
        if self.current is not None and self.app.turns.is_running(self.current.id):
            self.cancel_turn()
            return
        focused = self.app.focused
        selected = focused.selected_text if isinstance(focused, TextArea) else ""
        selected = selected or self.app.screen.get_selected_text() or ""
        if selected:  # in the composer, or text selected with the mouse
            copied = self.copy_text(selected)
            self.app.notify(f"Copied the selection {copied.how()}.", markup=False)
            return
        self.app.notify("Press ctrl+q to quit.", markup=False)

    async def retry(self) -> None:
        """Send the last message of the open session again."""
        if self.current is None:
            return
        store, session_id = self.app.store, self.current.id
        messages = await store.get_messages(session_id, last=PAGE_MESSAGES, thread="main")
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        if last_user is None:
            self.app.notify("Nothing to retry yet.", markup=False)
            return
        skills = skills_by_turn(await store.get_events(session_id, types=["skill_match"]))
        await self.app.conversation.send(as_typed(last_user, skills))

    async def continue_session(self) -> None:
        """Start a new session that continues a closed one (it copies only the title)."""
        old = self.current
        if old is None or not old.is_closed:
            self.app.notify("f5 continues a closed session in a new one.", markup=False)
            return
        title = f"Continued: {old.title}" if old.title else ""
        made = await self.app.store.create_session(
            old.agent_name, title=title, metadata={"continued_from": old.id}
        )
        self.app.conversation.current = made
        await self.app.listing.reload()
        await self._reopen(made.id)

    async def close_session(self) -> None:
        """Close the open session: it stays readable and takes no new messages."""
        if self.current is None:
            return
        session_id = self.current.id
        self.app.turns.cancel(session_id)
        await self.app.store.close_session(session_id)
        await self._reopen(session_id)
        await self.app.listing.reload()

    async def export_markdown(self) -> None:
        """Export the open session as Markdown (asks where first)."""
        await self.export("md")

    async def export(self, fmt: str) -> None:
        """Export the open session as Markdown or JSON, into the folder the person picks."""
        await SessionExporter(self.app).export(fmt)

    async def rename(self, title: str) -> None:
        """Rename the open session (``/rename TITLE``)."""
        if self.current is None:
            self.app.notify("Send a first message, then rename the session.", markup=False)
            return
        if not title.strip():
            self.app.notify("Give the new title: /rename NEW TITLE", markup=False)
            return
        try:
            renamed = await self.app.store.rename_session(self.current.id, title)
        except (StoreError, ValueError) as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        self.app.conversation.current = renamed
        self.app.main.set_title(renamed.title)
        await self.app.listing.reload()

    async def rename_in_dialog(self) -> None:
        """Rename the open session in a dialog."""
        if self.current is None:
            self.app.notify("Send a first message, then rename the session.", markup=False)
            return

        async def renamed(title: str | None) -> None:
            if title:
                await self.rename(title)

        self.app.push_screen(RenameDialog(self.current.title), renamed)

    async def delete(self) -> None:
        """Delete the open session (after a confirmation)."""
        session = self.current
        if session is None:
            return

        async def answered(delete: bool | None) -> None:
            if not delete:
                return
            self.app.turns.cancel(session.id)
            await self.app.store.delete_session(session.id)
            self.app.notify(f"Deleted “{session.title or 'New session'}”.", markup=False)
            await self.app.listing.reload()
            await self.app.conversation.show_new_session()

        dialog = DeleteDialog(session.title or "New session", session.message_count)
        self.app.push_screen(dialog, answered)

    def session_model(self) -> str:
        """The model the open session's next message goes to."""
        return self.app.conversation.state.model or self.app.default_model

    async def pick_model(self) -> None:
        """Choose the model for the open session's next messages."""
        picker = ModelPicker(self.session_model())

        def chosen(model: str | None) -> None:
            if model:
                self.app.conversation.state.model = model
                self.app.status.model = model
                self.app.notify(f"Next messages go to {model}.", markup=False)

        self.app.push_screen(picker, chosen)
        self.app.run_worker(
            self._load_models(picker), group="models", exclusive=True, exit_on_error=False
        )

    async def _load_models(self, picker: ModelPicker) -> None:
        """Ask the configured providers what they serve (a worker: the UI stays free)."""
        from app.engine.clients import describe_models

        try:
            report = await describe_models(self.app.settings)
        except Exception as exc:  # shown in the dialog, never a crash
            picker.show_error(f"Could not list models: {exc}")
            return
        models: list[tuple[str, str]] = []
        windows: dict[str, int] = {}
        for provider in report.providers:
            for model in provider.models:
                name = model if provider.kind == "demo" else f"{provider.name}/{model}"
                models.append((name, f"{provider.kind} · {provider.detail}"))
                if model in provider.context_windows:
                    windows[name] = provider.context_windows[model]
        if models:
            picker.show_models(models, windows)
        else:
            picker.show_error("No models found. " + report.default_reason)
        if all(provider.kind == "demo" for provider in report.providers if provider.ready):
            picker.show_hint(add_provider_hint(self.app.config_file))

    def copy_text(self, text: str) -> Copied:
        """Copy ``text`` by the first way that can work here (system clipboard, then OSC 52,
        through tmux or screen when inside one); which way it went."""
        if self.clipboard is None:
            driver = self.app._driver
            headless = driver is None or self.app.is_headless
            self.clipboard = Clipboard(None if headless else driver.write)  # type: ignore[union-attr]
        self.app._clipboard = text  # what Textual's own paste (ctrl+v in an input) uses
        return self.clipboard.copy(text)

    async def copy_answer(self) -> None:
        """Copy the last answer, or one of the recent code blocks, to the clipboard."""
        if self.current is None:
            return
        messages = await self.app.store.get_messages(
            self.current.id, last=PAGE_MESSAGES, thread="main"
        )
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
            self.app.notify("No answer to copy yet.", markup=False)
            return

        def chosen(text: str | None) -> None:
            if text is None:
                return
            copied = self.copy_text(text)
            what = "the last answer" if text == answers[0] else "the code block"
            lines = text.count("\n") + 1
            plural = "s" if lines != 1 else ""
            verb = "Copied" if copied.way != "none" else "Could not copy"
            self.app.notify(
                f"{verb} {what} ({lines} line{plural}) {copied.how()}.",
                severity="information" if copied.way != "none" else "warning",
                markup=False,
            )

        if len(choices) == 1:
            chosen(choices[0].text)  # nothing to choose between
            return
        self.app.push_screen(CopyPicker(choices), chosen)

    async def review_approvals(self) -> None:
        """Review the session's approvals and the saved rules, and remove a saved rule."""
        events = []
        if self.current is not None:
            events = await self.app.store.get_events(
                self.current.id, types=["confirmation_request", "confirmation_result"]
            )
        if not await self.app.engine_started():
            return
        from app.ui.dialogs.approvals import ApprovalsDialog, approval_rows  # engine's events

        self.app.push_screen(
            ApprovalsDialog(approval_rows(events), self._saved_rules()), self._remove_rule
        )

    def _saved_rules(self) -> list[RuleEntry]:
        """The allow and deny rules in force (this run's session rules, then the files'), as
        the engine lists them; files it could not read are named in a warning."""
        listing = self.app.service.saved_rules(self.current.id if self.current else None)
        for problem in listing.problems:
            self.app.notify(problem, severity="warning", markup=False)
        rules = [entry for entry in listing.rules if entry.kind in ("allow", "deny")]
        # An "always" answer saved to a file is also a rule of the session; listed once, as
        # the saved one (removing that removes both).
        saved = {(e.kind, e.rule.strip()) for e in rules if e.scope != "session"}
        return [e for e in rules if e.scope != "session" or (e.kind, e.rule.strip()) not in saved]

    def _remove_rule(self, choice: RuleEntry | None) -> None:
        if choice is None:
            return
        from app.engine.clients import RuleError

        try:
            found = self.app.service.remove_rule(choice)
        except RuleError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        where = {"session": "this session", "workspace": "this workspace"}.get(
            choice.scope, "your config"
        )
        verb = "Removed" if found else "Not found, nothing removed:"
        self.app.notify(f"{verb} {choice.kind} rule {choice.rule} ({where}).", markup=False)
