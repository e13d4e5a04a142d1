"""MainScreen: sidebar, transcript, hint, composer and status line. Display only: the App
does the I/O and calls these methods."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Markdown, Static

from app.ui.widgets.composer import Composer
from app.ui.widgets.key_bar import KeyBar
from app.ui.widgets.sidebar import SessionSidebar
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

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield SessionSidebar(id="sidebar")
            with Vertical(id="conversation"):
                yield Static("", id="session-title", markup=False)
                with Horizontal(id="body"):
                    yield Transcript(id="transcript")
                    yield WorkPanel(id="work-panel")
                yield Static("↓ new output below — press End to follow", id="new-output")
                yield Static("", id="read-only-note", markup=False)
                yield Static("", id="completions", markup=False)
                yield Composer(id="composer")
                yield StatusLine(id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.add_class("-no-panel")  # until a session with a plan is shown
        self.query_one(Composer).focus()

    def focus_search(self) -> None:
        """Jump to the session search box (showing the sidebar if it is folded away)."""
        self.set_class(False, "-no-sidebar")
        self.set_class(self.has_class("-narrow"), "-show-sidebar")
        self.query_one(SessionSidebar).query_one("#session-search").focus()

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
