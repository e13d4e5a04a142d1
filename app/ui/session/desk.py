"""The approvals desk: which question is on screen, minimising it, telling the person about
questions in other sessions (the bell, the sidebar's "!"), and f7 bringing one back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.engine.events import CallStep, ConfirmationRequestEvent, StepEvent, ToolCallData
from app.engine.human import ConfirmationRequest, Decision
from app.store import StoreError
from app.ui.dialogs.ask_human import AskDialog
from app.ui.dialogs.confirm import ConfirmAnswer, ConfirmDialog, describe_call
from app.ui.human import Pending, PendingQueue, Standing
from app.ui.messages import ApprovalsChanged
from app.ui.session.state import SessionState

if TYPE_CHECKING:
    from app.ui.app import AgentKitApp
    from app.ui.turns import LiveTurn

#: How far back the rule preview of the approval dialog looks.
EARLIER_CALLS_MESSAGES = 1000

Call = tuple[str, dict[str, Any]]


class ApprovalsDesk:
    """Shows the open session's questions one at a time and hands the answers back."""

    def __init__(self, app: AgentKitApp) -> None:
        """Questions of every session, shown on ``app``."""
        self.app = app
        #: Questions turns put to the person (approvals, the agent's questions), per session.
        self.pending = PendingQueue(
            lambda session_id: app.post_message(ApprovalsChanged(session_id))
        )

    def _open_state(self) -> SessionState | None:
        current = self.app.conversation.current_id
        return self.app.sessions.get(current) if current else None

    async def changed(self, session_id: str) -> None:
        """A question was asked or went away: show it, or tell the person where it waits."""
        if self.app.ui_gone:
            return
        showing = self.app.sessions.showing()
        if showing is not None and showing.shown and showing.shown[0] not in self.pending.items:
            self.hide_question()  # the engine stopped waiting (timeout, stop): its dialog goes
        state = self.app.sessions.get(session_id)
        waiting = self.pending.for_session(session_id)
        fresh = [item for item in waiting if item not in state.announced]
        state.announced = {item for item in state.announced if item in self.pending.items}
        state.announced.update(waiting)
        if fresh:
            self.app.bell()
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
        if self.pending.for_session(state.session_id):
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
        if state is not None and self.pending.for_session(state.session_id):
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
        waiting = self.pending.for_session(state.session_id)
        if not waiting or state.minimised:
            return
        item = waiting[0]
        request = item.request
        if not isinstance(request, ConfirmationRequest):
            ask = AskDialog(request.question)
            state.shown = (item, ask)
            await self.app.push_screen(ask, lambda reply: self._question_answered(item, reply))
            return
        step, rest = rest_of_step(state.live, request, self._is_read)
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
            earlier_calls=await self._earlier_calls(state),
            workspace=self.app.service.workspace,
            timeout_seconds=self.app.settings.approval.timeout_seconds,
        )
        state.shown = (item, dialog)
        await self.app.push_screen(
            dialog, lambda answer: self._confirm_answered(item, answer, step, ahead)
        )

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

    def _off_screen(self, item: Pending) -> None:
        state = self.app.sessions.get(item.session_id)
        if state.shown is not None and state.shown[0] is item:
            state.shown = None

    async def _question_answered(self, item: Pending, reply: str | None) -> None:
        self._off_screen(item)
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
        self._off_screen(item)
        if answer is None:
            return  # hidden, not answered: it waits for the person to come back
        if answer.minimised:
            self.app.sessions.get(item.session_id).minimised = True
            self.app.status.state = "minimised"
            self.app.notify("The turn waits for your answer: f7 brings the question back.")
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

    def _is_read(self, call: ToolCallData) -> bool:
        """Whether a call only reads (reads do not ask); an invalid call never asks."""
        try:
            tool = self.app.service.registry.get(call.name)
            return tool.access_for(tool.parse_args(call.arguments)) == "read"
        except Exception:  # an invalid call is refused before it could ask
            return True

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


def rest_of_step(
    live: LiveTurn | None, request: ConfirmationRequest, is_read: Callable[[ToolCallData], bool]
) -> tuple[int, list[Call]]:
    """The step of ``request`` and its later calls that may ask too."""
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
                        asked.tool != "shell" or calls[k].arguments.get("command") == asked.command
                    )
                ),
                position,
            )
    return step, [(c.name, c.arguments) for c in calls[position + 1 :] if not is_read(c)]
