"""The sidebar's sessions: the first page, the next pages, and search as the person types."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.ui.app import AgentKitApp

#: Sessions fetched per page.
PAGE_SESSIONS = 60


class SessionListing:
    """Feeds the sidebar from the store (it reads each session's marks from the states)."""

    def __init__(self, app: AgentKitApp) -> None:
        """Feed ``app``'s sidebar."""
        self.app = app

    async def first_page(self) -> list[str]:
        """Show the newest sessions at start-up; their ids, newest first."""
        sidebar = self.app.sidebar
        sidebar.marks = self.app.sessions.marks
        sidebar.set_clock(self.app.clock)
        sessions = await self.app.store.list_sessions(limit=PAGE_SESSIONS)
        sidebar.show_sessions(sessions, exhausted=len(sessions) < PAGE_SESSIONS)
        return [session.id for session in sessions]

    async def reload(self) -> None:
        """Fetch the first page of sessions again (after a change)."""
        if self.app.ui_gone:
            return
        sessions = await self.app.store.list_sessions(
            limit=max(PAGE_SESSIONS, len(self.app.sidebar.sessions))
        )
        if self.app.ui_gone:
            return
        self.app.sidebar.show_sessions(
            sessions,
            exhausted=len(sessions) < PAGE_SESSIONS,
            selected=self.app.conversation.current_id,
        )

    async def more(self, offset: int) -> None:
        """Add the page of sessions that starts at ``offset``."""
        page = await self.app.store.list_sessions(limit=PAGE_SESSIONS, offset=offset)
        self.app.sidebar.show_sessions(page, append=True, exhausted=len(page) < PAGE_SESSIONS)

    def search(self, text: str) -> None:
        """Search as the person types (a newer search replaces an older one)."""
        self.app.run_worker(self._search(text), group="search", exclusive=True, exit_on_error=False)

    async def _search(self, text: str) -> None:
        if not text.strip():
            await self.reload()
            return
        hits = await self.app.store.search(text, limit=100)
        self.app.sidebar.show_hits(hits)

    def title_of(self, session_id: str) -> str:
        """The listed title of a session ("" when it is not listed or has none)."""
        return next((s.title for s in self.app.sidebar.sessions if s.id == session_id), "")
