"""MainScreen: sidebar, transcript, hint, composer and status line. Display only: the App
does the I/O and calls these methods."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Markdown, Static

from app.ui.keys import bound_keys
from app.ui.widgets.composer import Composer
from app.ui.widgets.key_bar import KeyBar
from app.ui.widgets.sidebar import SearchBox, SessionSidebar
from app.ui.widgets.status_line import StatusLine
from app.ui.widgets.transcript import Transcript
from app.ui.widgets.work_panel import WorkPanel


class MainScreen(Screen[None]):
    """The one screen people live in."""

    #: Below 100 columns the sidebar folds away (ctrl+b brings it back).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012 (Textual API)

    #: Focus the composer from the first frame, so text typed while the app starts lands there
    #: (Textual's default focuses the first focusable widget: the sidebar's search box).
    AUTO_FOCUS = "#composer"

    _completions = ""
    #: Where focus was before it went to the search box (dialogs give it back there).
    _before_search: Widget | None = None

    def __init__(self, width: int = 0) -> None:
        """``width``: the terminal's, so the first frame is styled with its breakpoint class
        already set (added when the first resize came, and ``-no-panel`` on mount, each
        styled the whole screen again: a tenth of start-up's CSS work)."""
        breakpoint = next(
            (name for at, name in sorted(self.HORIZONTAL_BREAKPOINTS, reverse=True) if width >= at),
            "",
        )
        super().__init__(classes=f"-no-panel {breakpoint}".strip())

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield SessionSidebar(id="sidebar")
            with Vertical(id="conversation"):
                yield Static("", id="session-title", markup=False)
                with Horizontal(id="body"):
                    yield Transcript(id="transcript")
                    yield WorkPanel(id="work-panel")
                yield Static("", id="new-output", markup=False)
                yield Static("", id="read-only-note", markup=False)
                yield Static("", id="completions", markup=False)
                yield Composer(id="composer")
                yield StatusLine(id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        search_key, follow_key = self._key("session.search"), self._key("view.follow")
        self.query_one(SearchBox).placeholder = f"Search sessions…  ({search_key})"
        self.query_one("#new-output", Static).update(
            f"↓ new output below — press {follow_key} or click here to follow"
        )
        self.query_one(Composer).focus()

    def _key(self, binding_id: str) -> str:
        """How the key an action is bound to now is shown (after ``[keys]`` remaps)."""
        keys = bound_keys(getattr(self.app, "keymap", {}))[binding_id].split(",")[0]
        return self.app.get_key_display(Binding(keys, ""))

    def focus_search(self) -> None:
        """Jump to the session search box (showing the sidebar if it is folded away)."""
        self.set_class(False, "-no-sidebar")
        self.set_class(self.has_class("-narrow"), "-show-sidebar")
        self.query_one(SearchBox).focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if not isinstance(event.widget, SearchBox):
            self._before_search = event.widget

    def focus_composer(self) -> None:
        """Focus the composer (the transcript when a closed session hides it)."""
        composer = self.query_one(Composer)
        if composer.display and not self.has_class("-read-only"):
            composer.focus()
        else:
            self.query_one(Transcript).focus()

    def on_search_box_left(self, _message: SearchBox.Left) -> None:
        self.focus_composer()

    def on_screen_resume(self) -> None:
        """After a dialog, focus goes back where it was before the search (not to the search
        box, where the next message typed would become a search)."""
        if isinstance(self.focused, SearchBox):
            before = self._before_search
            if before is not None and before.is_attached and before.focusable:
                before.focus()
            else:
                self.focus_composer()

    def on_click(self, event: events.Click) -> None:
        if event.widget is not None and event.widget.id == "new-output":
            self.query_one(Transcript).anchor()

    def toggle_sidebar(self) -> None:
        """Show or hide the session list (on narrow terminals it starts hidden)."""
        self.toggle_class("-show-sidebar" if self.has_class("-narrow") else "-no-sidebar")

    def set_title(self, title: str) -> None:
        """Show the open session's title."""
        self.query_one("#session-title", Static).update(title)

    def set_read_only(self, note: str | None) -> None:
        """Replace the composer with a note for closed sessions (None: writable)."""
        self.set_class(note is not None, "-read-only")
        self.query_one("#read-only-note", Static).update(note or "")

    def show_completions(self, lines: list[str]) -> None:
        """Show what ``@`` or ``/`` can complete to (an empty list hides the hint)."""
        hint = self.query_one("#completions", Static)
        text = "\n".join(lines[:6])
        if text != self._completions:  # typing must not lay the screen out on every key
            self._completions = text
            hint.update(text)
            hint.display = bool(lines)

    def on_transcript_follow_changed(self, event: Transcript.FollowChanged) -> None:
        self.set_class(not event.following, "-scrolled-up")

    async def show_welcome(self, text: str) -> None:
        """A first-run welcome in the transcript (not stored)."""
        transcript = self.query_one(Transcript)
        await transcript.remove_children()
        await transcript.mount(Markdown(text, classes="welcome"))
