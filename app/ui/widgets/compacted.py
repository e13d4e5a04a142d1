"""CompactedBlock: where a compaction summary stands in the transcript — a collapsed divider
("Earlier conversation compacted: N messages → summary") that expands to the summary."""

from __future__ import annotations

from textual.widgets import Collapsible, Static

from app.ui.widgets.message_views import clean


def divider_title(messages: int | None) -> str:
    """The divider's line for a summary standing for ``messages`` messages (None: a summary
    stored before the count was kept)."""
    if not messages:
        return "Earlier conversation compacted → summary"
    return f"Earlier conversation compacted: {messages:,} messages → summary"


class CompactedBlock(Collapsible):
    """A compaction summary behind a divider, collapsed; the messages above stay readable."""

    DEFAULT_CSS = """
    CompactedBlock { border-top: dashed $secondary; margin: 1 0; }
    CompactedBlock .compacted-text { color: $text-muted; }
    """

    def __init__(self, summary: str, messages: int | None) -> None:
        self.summary = clean(summary)
        body = Static(self.summary, markup=False, classes="compacted-text")
        super().__init__(body, title=divider_title(messages), collapsed=True, classes="compacted")
