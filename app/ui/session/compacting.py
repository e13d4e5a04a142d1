"""``/compact [focus]``: summarise the open session's older turns for the model.

It runs in the background (a worker): the status line says "Compacting the conversation…"
meanwhile, a toast says how it went, and the transcript is drawn again with the summary's
divider. The messages themselves stay; only what the model is sent changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.engine.events import Event, NoticeEvent

if TYPE_CHECKING:
    from app.ui.app import AgentKitApp

#: Worker group of a running compaction (one at a time; the engine also refuses a second).
GROUP = "compact"


def start_compaction(app: AgentKitApp, focus: str) -> None:
    """Start compacting the open session (a toast when there is none or a turn runs)."""
    session_id = app.conversation.current_id
    if session_id is None or not app.has_service:
        app.notify("Nothing to compact yet: send a message first.", markup=False)
        return
    if app.conversation.state.running:
        app.notify("Wait for the turn to finish, then /compact.", markup=False)
        return
    app.run_worker(compact_open_session(app, session_id, focus), group=GROUP, exclusive=True)


async def compact_open_session(app: AgentKitApp, session_id: str, focus: str) -> None:
    """Compact ``session_id`` with its model, showing progress and the outcome."""
    status = app.status

    async def emit(event: Event) -> None:
        if not isinstance(event, NoticeEvent):
            return
        if event.data.code == "compacting":
            status.state = "compacting"
            return
        failed = event.data.code == "compaction_failed"
        app.notify(event.data.message, severity="error" if failed else "information", markup=False)

    from app.engine.compaction import compact_session  # not on the first frame's path

    model = app.conversation.state.model or None
    try:
        done = await compact_session(app.service, session_id, emit, focus=focus, model=model)
    finally:
        if status.state == "compacting":
            status.state = "idle"
    if done is not None and app.conversation.current_id == session_id and not app.ui_gone:
        await app.conversation.open_session(session_id)
