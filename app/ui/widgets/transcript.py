"""Transcript: a session's messages and events, and the live turn as it streams.

It follows the end with ``anchor()`` unless the person scrolled up (then a hint says new
output is below). History is mounted a page at a time; scrolling to the top asks for the
page before (``Transcript.PageWanted``), and below a page around a search hit, to the bottom,
the page after. It does no I/O: the screen feeds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.message import Message as TextualMessage
from textual.widget import Widget

from app.store import Event as StoredEvent
from app.store import Message
from app.ui.widgets.compacted import CompactedBlock
from app.ui.widgets.message_views import (
    AssistantMessage,
    ErrorLine,
    Note,
    ThinkingBlock,
    ToolStep,
    UserMessage,
    one_line,
)

if TYPE_CHECKING:
    from app.engine.events import Event, StepEvent


def event_note(kind: str, data: dict[str, Any]) -> Widget | None:
    """The transcript line for a logged event (approvals, notes, errors), if it has one."""
    if kind == "confirmation_request":
        return Note(f"⚑ approval asked: {one_line(str(data.get('command', '')), 100)}", "approval")
    if kind == "confirmation_result":
        verdict = "approved" if data.get("approved") else "denied"
        decider = data.get("decider") or "user"
        who = {
            "user": "by you",
            "rule": f"by rule {data.get('rule', '')}",
            "policy": "by the approval policy",
            "timeout": "— no answer in time",
            "cancelled": "— the turn was stopped",
        }.get(str(decider), f"by {decider}")
        if decider == "user" and data.get("rule"):
            who += f", and remembered as {data['rule']} ({data.get('scope', 'session')})"
        return Note(f"{'✓' if data.get('approved') else '✗'} {verdict} {who}", "approval")
    if kind == "ask_human":
        offered = " · ".join(one_line(str(choice), 40) for choice in data.get("choices") or [])
        choices = f" ({offered})" if offered else ""
        question = one_line(str(data.get("question", "")), 120)
        return Note(f"? the agent asked: {question}{choices}", "ask")
    if kind == "skill_match":
        return Note(f"@{data.get('skill', '')} skill", "skill")
    if kind == "notice":
        lines = str(data.get("message", "")).strip().splitlines()
        return Note(lines[0], "notice") if lines else None
    if kind == "error":
        detail = f" ({data['detail']})" if data.get("detail") else ""
        return ErrorLine(f"⚠ {data.get('message', '')}{detail} — press ctrl+r to retry")
    return None


class Transcript(VerticalScroll):
    """The conversation of one session."""

    @dataclass
    class PageWanted(TextualMessage):
        """The person scrolled to the top: show the messages before ``seq``; or (``later``)
        to the bottom of a page around a search hit: show those after ``seq``."""

        seq: int
        later: bool = False

    @dataclass
    class FollowChanged(TextualMessage):
        """The view stopped (or resumed) following new output."""

        following: bool

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.first_seq: int | None = None
        self.has_earlier = False
        self._steps: dict[str, ToolStep] = {}
        self._assistant: AssistantMessage | None = None
        self._thinking: ThinkingBlock | None = None
        self._asked_earlier = False
        self._following = True
        #: A page around a search hit is shown: newer messages exist below it, not loaded.
        self.has_later = False
        #: The newest message shown (the next page down starts after it).
        self.last_seq: int | None = None
        self._asked_later = False
        self._more: Note | None = None
        #: The person scrolled away from the end (the view does not follow new output).
        self._scrolled_away = False
        #: The first view of each message or logged event shown, by its seq.
        self._by_seq: dict[int, Widget] = {}

    # ------------------------------------------------------------------ history

    def _views(self, messages: Sequence[Message], events: Sequence[StoredEvent]) -> list[Widget]:
        entries: list[tuple[int, Message | StoredEvent]] = [(m.seq, m) for m in messages]
        entries += [(e.seq, e) for e in events]
        views: list[Widget] = []
        for seq, entry in sorted(entries, key=lambda item: item[0]):
            if isinstance(entry, Message):
                shown = self._message_views(entry)
                step = self._steps.get(entry.tool_call_id or "") if entry.role == "tool" else None
                first = shown[0] if shown else step
                if first is not None:
                    self._by_seq[seq] = first
                views += shown
            else:
                payload = entry.data.get("data", entry.data)  # stored as on the wire
                note = event_note(entry.type, payload if isinstance(payload, dict) else {})
                if note is not None:
                    self._by_seq[seq] = note
                    views.append(note)
        return views

    def _message_views(self, message: Message) -> list[Widget]:
        if message.role == "user":
            return [UserMessage(message.content)]
        if message.role == "tool":
            step = self._steps.get(message.tool_call_id or "")
            if step is not None:
                step.set_result(message.content, message.is_error, None)
            return []
        if message.summary_through is not None and message.thread == "main":
            count = (message.usage or {}).get("summarised")
            return [CompactedBlock(message.content, count if isinstance(count, int) else None)]
        if message.role == "system" or message.thread != "main":
            return []
        views: list[Widget] = []
        if message.thinking.strip():
            views.append(ThinkingBlock(message.thinking))
        if message.tool_calls:
            if message.content.strip():
                views.append(ThinkingBlock(message.content))
            for call in message.tool_calls:
                step = ToolStep(call.id, call.name, call.arguments)
                self._steps[call.id] = step
                views.append(step)
        elif message.content.strip() or message.status != "complete":
            views.append(
                AssistantMessage(
                    message.content, model=message.model, status=message.status, live=False
                )
            )
        return views

    async def show_history(
        self,
        messages: Sequence[Message],
        events: Sequence[StoredEvent],
        *,
        has_earlier: bool,
    ) -> None:
        """Replace everything with a page of history (newest last)."""
        await self.remove_children()
        self._steps.clear()
        self._by_seq.clear()
        self.has_later = self._asked_later = False
        self._more = None
        self._assistant = None
        self._thinking = None
        self.first_seq = messages[0].seq if messages else None
        self.last_seq = messages[-1].seq if messages else None
        self.has_earlier = has_earlier
        self._asked_earlier = False
        views = self._views(messages, events)
        if views:
            await self.mount_all(views)
        self.anchor()

    async def show_earlier(
        self, messages: Sequence[Message], events: Sequence[StoredEvent], *, has_earlier: bool
    ) -> None:
        """Put an earlier page above what is shown, keeping the view where it was."""
        if not messages:
            self.has_earlier = False
            return
        views = self._views(messages, events)
        height_before = self.virtual_size.height
        first = self.children[0] if self.children else None
        if views:
            await self.mount_all(views, before=first) if first else await self.mount_all(views)
        self.first_seq = messages[0].seq
        self.has_earlier = has_earlier
        self._asked_earlier = False
        self.call_after_refresh(self._keep_position, height_before)

    async def show_more_below(self) -> None:
        """Say that newer messages exist below the page shown (a page around a search hit)."""
        self.has_later = True
        more = "… newer messages follow: scroll down for more, End for the newest"
        self._more = Note(more, "more")
        await self.mount(self._more)

    async def show_later(
        self, messages: Sequence[Message], events: Sequence[StoredEvent], *, has_later: bool
    ) -> None:
        """Put the next page below a page around a search hit, the view staying where it is."""
        if self._more is not None:
            await self._more.remove()
            self._more = None
        views = self._views(messages, events)
        if views:
            await self.mount_all(views)
        if messages:
            self.last_seq = messages[-1].seq
        self.has_later = self._asked_later = False
        if has_later and messages:
            await self.show_more_below()
        self.call_after_refresh(self._want_pages)

    def show_hit(self, seq: int) -> bool:
        """Mark the shown message (or event) ``seq`` as the search hit and bring it into
        view; False when it is not on the page (not in the main conversation)."""
        for view in self.query(".-hit"):
            view.remove_class("-hit")
        found = self._by_seq.get(seq)
        if found is None:
            before = [s for s in self._by_seq if s <= seq]  # the nearest view before it
            found = self._by_seq[max(before)] if before else None
            if found is None:
                return False
        found.add_class("-hit")
        self.release_anchor()
        self.call_after_refresh(self._scroll_to_hit, found)
        return found is self._by_seq.get(seq)

    def _scroll_to_hit(self, view: Widget) -> None:
        if view.is_attached:
            self.scroll_to_center(view, animate=False, immediate=True)
            self._update_following()
            self.call_after_refresh(self._want_pages)  # a page that fits asks at once

    def _keep_position(self, height_before: int) -> None:
        grown = self.virtual_size.height - height_before
        self.scroll_to(y=self.scroll_y + grown, animate=False, immediate=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Ask for earlier messages at the top; tell the screen whether we follow the end."""
        super().watch_scroll_y(old, new)
        if self.is_vertical_scroll_end:
            self._scrolled_away = False  # back at the end: Textual anchors again too
        self._want_pages()
        self._update_following()

    def _want_pages(self) -> None:
        """At the top ask for the page before; at the bottom of a page around a search hit
        (or when it all fits) ask for the page after."""
        if self.scroll_y <= 0 and self.has_earlier and not self._asked_earlier and self.first_seq:
            self._asked_earlier = True
            self.post_message(self.PageWanted(self.first_seq))
        at_end = self.scroll_y >= self.max_scroll_y
        if at_end and self.has_later and not self._asked_later and self.last_seq:
            self._asked_later = True
            self.post_message(self.PageWanted(self.last_seq, later=True))

    @property
    def following(self) -> bool:
        """Whether the view follows new output: the person did not scroll away from the end.
        A view that merely changed size (the plan panel opened beside it) still follows."""
        return not self._scrolled_away or self.is_vertical_scroll_end or self.max_scroll_y == 0

    def anchor(self, anchor: bool = True) -> None:
        """Follow the end again (``anchor=False``: stop following)."""
        super().anchor(anchor)
        self._scrolled_away = not anchor
        self._update_following()

    def release_anchor(self) -> None:
        """Stop following: Textual calls this when the person scrolls (wheel, bar, keys), and
        a search hit does when it brings an earlier message into view."""
        super().release_anchor()
        self._scrolled_away = True

    def on_resize(self) -> None:
        self._update_following()

    def _update_following(self) -> None:
        following = self.following
        if following != self._following:
            self._following = following
            self.post_message(self.FollowChanged(following))

    # ------------------------------------------------------------------ live

    async def add_user(self, text: str) -> None:
        """Show the person's message at once."""
        await self.mount(UserMessage(text))
        self._assistant = None
        self._thinking = None
        self.anchor()

    async def handle(self, event: Event) -> None:
        """Show one live engine event."""
        # Imported here: the first frame (history) is drawn before the engine's modules load.
        from app.engine.events import (
            FinalAnswerEvent,
            ResultEvent,
            StepEvent,
            ThinkingEvent,
            TokenEvent,
        )

        if isinstance(event, TokenEvent):
            if self._assistant is None:
                self._assistant = AssistantMessage(status="streaming")
                await self.mount(self._assistant)
            self._assistant.write(event.content)
        elif isinstance(event, ThinkingEvent):
            await self._thinking_event(event.content)
        elif isinstance(event, StepEvent):
            await self._step(event)
        elif isinstance(event, FinalAnswerEvent):
            if self._assistant is None:
                self._assistant = AssistantMessage()
                await self.mount(self._assistant)
            await self._assistant.finish(event.content)
            self._assistant = None
            self._thinking = None
        elif isinstance(event, ResultEvent):
            if event.data.status != "completed" and self._assistant is not None:
                await self._assistant.finish(status=event.data.status)
                self._assistant = None
        else:
            data = event.model_dump(mode="json", exclude_none=True)
            payload = data.get("data", data)
            note = event_note(event.type, payload if isinstance(payload, dict) else {})
            if note is not None:
                await self.mount(note)

    async def _thinking_event(self, text: str) -> None:
        if self._assistant is not None:
            # The relabel rule: text streamed as answer turned out to precede tool calls.
            streamed, self._assistant = self._assistant, None
            block = ThinkingBlock(text)
            await self.mount(block, before=streamed)
            await streamed.remove()
            self._thinking = None
            return
        if self._thinking is None:
            self._thinking = ThinkingBlock()
            await self.mount(self._thinking)
        self._thinking.append(text)

    async def _step(self, event: StepEvent) -> None:
        from app.engine.events import CallStep

        step = event.data
        if isinstance(step, CallStep):
            self._thinking = None
            view = ToolStep(step.data.id, step.data.name, step.data.arguments)
            self._steps[step.data.id] = view
            await self.mount(view)
        else:
            found = self._steps.get(step.data.id)
            if found is not None:
                found.set_result(step.data.output, step.data.is_error, step.data.duration_ms)
