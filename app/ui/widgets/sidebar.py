"""SessionSidebar: sessions grouped by recency, type-to-search, a page at a time.

An OptionList renders only the lines on screen, so thousands of sessions stay fast; more
are asked for (``SessionSidebar.MoreWanted``) when the highlight nears the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content, Span
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from app.store import SearchHit, Session
from app.ui.widgets.message_views import one_line


def recency_group(moment: datetime, now: datetime) -> str:
    """Today, Yesterday, This week or Older, in local time."""
    local, today = moment.astimezone(), now.astimezone().date()
    if local.date() == today:
        return "Today"
    if local.date() == today - timedelta(days=1):
        return "Yesterday"
    if local.date() > today - timedelta(days=7):
        return "This week"
    return "Older"


class SessionSidebar(Vertical):
    """The list of sessions; posts what the person picks or searches for."""

    @dataclass
    class SessionSelected(Message):
        """The person picked the session ``session_id``."""

        session_id: str

    @dataclass
    class SearchChanged(Message):
        """The search box now holds ``text``."""

        text: str

    @dataclass
    class MoreWanted(Message):
        """The list nears its end: the page of sessions from ``offset`` is wanted."""

        offset: int

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.sessions: list[Session] = []
        #: The marks of a session ("● " running, "! " waiting for the person): the app's
        #: per-session states own them, the list only draws them.
        self.marks: Callable[[str], str] = lambda _session_id: ""
        self.searching = False
        self.exhausted = False
        self._now = datetime.now

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search sessions…  (/)", id="session-search")
        yield OptionList(id="session-list")
        yield Static("", id="session-count", markup=False)

    def set_clock(self, now: object) -> None:
        """Use another clock for grouping (tests freeze it)."""
        self._now = now  # type: ignore[assignment]

    def _label(self, session: Session) -> Content:
        marks = self.marks(session.id)
        title = one_line(session.title or "New session", 60)
        closed = " · closed" if session.is_closed else ""
        meta = f"\n  {session.agent_name} · {session.message_count} msgs{closed}"
        return Content(marks + title).stylize(
            "bold", len(marks), len(marks) + len(title)
        ) + Content(meta).stylize("dim")

    def show_sessions(
        self,
        sessions: Sequence[Session],
        *,
        append: bool = False,
        exhausted: bool = False,
        selected: str | None = None,
    ) -> None:
        """Show a page of sessions (or add one below the current ones)."""
        self.searching = False
        self.sessions = [*self.sessions, *sessions] if append else list(sessions)
        self.exhausted = exhausted
        self._render_sessions(selected)

    def _render_sessions(self, selected: str | None = None) -> None:
        option_list = self.query_one(OptionList)
        keep = selected or self.highlighted_id
        option_list.clear_options()
        now = self._now()
        group = None
        options: list[Option | None] = []
        for session in self.sessions:
            name = recency_group(session.updated_at, now)
            if name != group:
                group = name
                options.append(Option(Content(name).stylize("bold"), disabled=True))
            options.append(Option(self._label(session), id=session.id))
        option_list.add_options(options)
        if keep:
            self.highlight(keep)
        count = len(self.sessions)
        self.query_one("#session-count", Static).update(
            f"{count} session{'s' if count != 1 else ''}" + ("" if self.exhausted else "+")
        )

    def show_hits(self, hits: Sequence[SearchHit]) -> None:
        """Show search results with the matches highlighted."""
        self.searching = True
        option_list = self.query_one(OptionList)
        option_list.clear_options()
        seen: set[str] = set()
        for hit in hits:
            snippet = " ".join(hit.snippet.split())
            spans = [Span(start, end, "reverse") for start, end in hit.highlights]
            text = (
                Content(snippet, spans=spans)
                if len(snippet) == len(hit.snippet)
                else Content(snippet)
            )
            title = one_line(hit.session_title or "New session", 50)
            label = Content(title + "\n  ").stylize("bold", 0, len(title)) + text
            option_id = hit.session_id if hit.session_id not in seen else None
            seen.add(hit.session_id)
            option_list.add_option(Option(label, id=option_id))
        self.query_one("#session-count", Static).update(
            f"{len(hits)} match{'es' if len(hits) != 1 else ''}"
        )

    @property
    def highlighted_id(self) -> str | None:
        """The id of the highlighted session, if any."""
        option_list = self.query_one(OptionList)
        if option_list.highlighted is None:
            return None
        return option_list.get_option_at_index(option_list.highlighted).id

    def highlight(self, session_id: str) -> None:
        """Move the highlight to a session (if it is listed)."""
        option_list = self.query_one(OptionList)
        try:
            option_list.highlighted = option_list.get_option_index(session_id)
        except Exception:
            return

    def refresh_marks(self) -> None:
        """Redraw running and attention marks."""
        if not self.searching:
            self._render_sessions()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.SessionSelected(event.option.id))

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        self.watch(option_list, "scroll_y", self._scrolled, init=False)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        option_list = self.query_one(OptionList)
        if event.option_index >= option_list.option_count - 5:
            self._want_more()

    def _scrolled(self, _old: float, new: float) -> None:
        """The wheel or the scrollbar reached the last screenful: fetch the next page."""
        option_list = self.query_one(OptionList)
        if new >= option_list.max_scroll_y - option_list.scrollable_content_region.height:
            self._want_more()

    def _want_more(self) -> None:
        if not self.searching and not self.exhausted:
            self.exhausted = True  # until the page arrives
            self.post_message(self.MoreWanted(len(self.sessions)))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.SearchChanged(event.value))
