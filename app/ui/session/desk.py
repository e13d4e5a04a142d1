"""The approvals desk: which question is on screen, minimising it, telling the person about
questions in other sessions (the bell, the sidebar's "!"), and f7 bringing one back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.store import StoreError
from app.ui.dialogs.ask_human import AskDialog
from app.ui.session.state import SessionState

if TYPE_CHECKING:  # the engine's modules load after the first frame; questions come later
    from app.engine.live import Waiting
    from app.ui.app import AgentKitApp
    from app.ui.dialogs.confirm import ConfirmAnswer

#: How far back the rule preview of the approval dialog looks.
EARLIER_CALLS_MESSAGES = 1000

Call = tuple[str, dict[str, Any]]


class ApprovalsDesk:
    """Shows the open session's questions one at a time and hands the answers back."""

    def __init__(self, app: AgentKitApp) -> None:
        """Questions of every session (kept by the engine's live-turn hub), shown on ``app``."""
        self.app = app

    def waiting(self, session_id: str) -> list[Waiting]:
        """The session's questions waiting for the person, oldest first."""
        return self.app.turns.waiting(session_id)

    def _open_state(self) -> SessionState | None:
        current = self.app.conversation.current_id
        return self.app.sessions.get(current) if current else None

    async def changed(self, session_id: str) -> None:
        """A question was asked or went away: show it, or tell the person where it waits."""
        if self.app.ui_gone:
            return
        showing = self.app.sessions.showing()
        if (
            showing is not None
            and showing.shown
            and showing.shown[0] not in self.waiting(showing.session_id)
        ):
            self.hide_question()  # the engine stopped waiting (timeout, stop): its dialog goes
        state = self.app.sessions.get(session_id)
        waiting = self.waiting(session_id)
        fresh = [item for item in waiting if item not in state.announced]
        state.announced = {item for item in state.announced if item in waiting}
        state.announced.update(waiting)
        if fresh:
            title = self.app.listing.title_of(session_id)
            self.app.conversation.notifier.question_waiting(title)
        if session_id != self.app.conversation.current_id:
            if fresh:
                self._announce_elsewhere(state)
            return
        if not waiting:
            return
        if state.minimised:
            self.app.status.state = "minimised"
            if fresh:
                self.app.notify("Another question is waiting: f7 shows it.", markup=False)
            return
        await self.show_question()

    def _announce_elsewhere(self, state: SessionState) -> None:
        state.attention = True
        self.app.sidebar.refresh_marks()
        title = self.app.listing.title_of(state.session_id) or "Another session"
        self.app.notify(f"“{title}” is waiting for your answer.", markup=False)

    async def session_opened(self, state: SessionState) -> None:
        """The session was opened: show its waiting question (unless minimised)."""
        if self.waiting(state.session_id):
            self.app.status.state = "minimised" if state.minimised else "waiting"
            await self.show_question()

    def leaving_for(self, session_id: str) -> None:
        """Another session opens: a question of the one left goes off screen (it waits)."""
        showing = self.app.sessions.showing()
        if showing is not None and showing.session_id != session_id:
            self.hide_question()

    async def approvals_key(self) -> None:
        """f7: bring back a minimised question; otherwise review the approvals and rules."""
        state = self._open_state()
        if state is not None and self.waiting(state.session_id):
            state.minimised = False
            self.app.status.state = "waiting"
            await self.show_question()
            return
        await self.app.actions.review_approvals()

    async def show_question(self) -> None:
        """Show the open session's oldest waiting question (unless one is on screen)."""
        state = self._open_state()
        if state is None or self.app.sessions.showing() is not None:
            return
        waiting = self.waiting(state.session_id)
        if not waiting or state.minimised:
            return
        from app.engine.human import ConfirmationRequest
        from app.ui.dialogs.confirm import ConfirmDialog

        item = waiting[0]
        request = item.request
        if not isinstance(request, ConfirmationRequest):
            ask = AskDialog(request.question, request.choices)
            state.shown = (item, ask)
            await self.app.push_screen(ask, lambda reply: self._question_answered(item, reply))
            return
        also = [
            f"{other.request.tool}: {' '.join(other.request.command.split())[:100]}"
            for other in waiting[1:]
            if isinstance(other.request, ConfirmationRequest)
        ]
        # The later calls of the same step that will ask too, as the engine decided them.
        also += [
            f"{later.tool}: {' '.join(later.command.split())[:100]}"
            for later in request.later_calls
        ]
        dialog = ConfirmDialog(
            request,
            also=also,
            earlier_calls=await self._earlier_calls(state),
            workspace=self.app.service.workspace,
            timeout_seconds=self.app.settings.approval.timeout_seconds,
        )
        state.shown = (item, dialog)
        await self.app.push_screen(dialog, lambda answer: self._confirm_answered(item, answer))

    def hide_question(self) -> None:
        """Take the question's dialog off the screen; the question keeps waiting."""
        state = self.app.sessions.showing()
        if state is None or state.shown is None:
            return
        _item, dialog = state.shown
        state.shown = None
        if self.app.screen is dialog:
            dialog.dismiss(None)
        elif dialog in self.app.screen_stack:
            # Under another dialog (help, say): it closes itself when uncovered.
            dialog.expired = True

    def _off_screen(self, item: Waiting) -> None:
        state = self.app.sessions.get(item.session_id)
        if state.shown is not None and state.shown[0] is item:
            state.shown = None

    async def _question_answered(self, item: Waiting, reply: str | None) -> None:
        self._off_screen(item)
        if reply is not None and self.app.turns.hub is not None:
            self.app.turns.hub.answer(item, reply)
        await self.show_question()

    async def _confirm_answered(self, item: Waiting, answer: ConfirmAnswer | None) -> None:
        self._off_screen(item)
        if answer is None:
            return  # hidden, not answered: it waits for the person to come back
        if answer.minimised:
            self.app.sessions.get(item.session_id).minimised = True
            self.app.status.state = "minimised"
            self.app.notify("The turn waits for your answer: f7 brings the question back.")
            return
        from app.engine.human import ConfirmationRequest, Decision, answer_covering

        hub = self.app.turns.hub
        assert hub is not None and isinstance(item.request, ConfirmationRequest)
        decision = answer.decision or Decision(action="deny")
        if answer.everything:
            # This call, every other waiting call of the session, and the later calls of the
            # step that the engine listed as asking too (by call id).
            decision = answer_covering(item.request, decision)
            hub.answer(item, decision)
            hub.answer_all(item.session_id, decision)
        else:
            hub.answer(item, decision)
        await self.show_question()

    async def _earlier_calls(self, state: SessionState) -> list[Call]:
        """Tool calls of the session before the running turn (for the rule preview)."""
        try:
            messages = await self.app.store.get_messages(
                state.session_id, last=EARLIER_CALLS_MESSAGES
            )
        except StoreError:
            return []
        if state.live is not None:
            # The running turn began with the newest user message: keep what came before.
            last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=0)
            messages = messages[:last_user]
        return [(call.name, call.arguments) for m in messages for call in m.tool_calls or []]
