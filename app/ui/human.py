"""TuiHuman: the engine's questions become modal dialogs; answers come back as futures."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from app.engine.human import ConfirmationRequest, Decision, Question
from app.ui.dialogs.ask_human import AskDialog
from app.ui.dialogs.confirm import ConfirmDialog

if TYPE_CHECKING:
    from textual.app import App


class TuiHuman:
    """Implements the engine's ``Human`` with dialogs; the engine owns timeouts and cancel."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app

    async def confirm(self, request: ConfirmationRequest) -> Decision:
        """Ask with a ConfirmDialog; a closed dialog without an answer is a denial."""
        answer = await self._ask(ConfirmDialog(request))
        return answer if isinstance(answer, Decision) else Decision(action="deny")

    async def ask(self, question: Question) -> str:
        """Ask with an AskDialog."""
        answer = await self._ask(AskDialog(question.question))
        return answer if isinstance(answer, str) else ""

    async def _ask(self, dialog: Screen[Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def answered(value: Any) -> None:
            if not future.done():
                future.set_result(value)

        self.app.bell()
        self.app.push_screen(dialog, callback=answered)
        try:
            return await future
        except asyncio.CancelledError:
            # Stopped or timed out: close the dialog so the person is not left answering.
            if dialog.is_attached and self.app.screen is dialog:
                dialog.dismiss(None)
            raise
