"""What the TUI benchmarks share: a key-press probe, waiting for a refresh, and reading what
a reply has drawn without rendering anything."""

from __future__ import annotations

import asyncio
import threading
import time

from textual import events

from app.ui.app import AgentKitApp
from app.ui.widgets.composer import Composer
from app.ui.widgets.message_views import AssistantMessage, RenderedMarkdown

#: How often the probe presses a key.
KEY_INTERVAL_S = 0.04


async def refreshed(app: AgentKitApp) -> float:
    """Wait for the next screen refresh; return its time."""
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()
    return time.time()


# Polls look at a few direct children only: a DOM query over the whole reply every
# millisecond would itself slow the app down (it did, by a factor of two, in a first draft).


def last_block_text(message: AssistantMessage) -> str:
    """The text already drawn by the reply's last Markdown widget (its live tail)."""
    drawn = [child for child in message.children if isinstance(child, RenderedMarkdown)]
    return drawn[-1].drawn_text() if drawn else ""


class KeyProbe:
    """Presses letters into the composer while the app works; records latencies.

    The presses come from a thread every ``KEY_INTERVAL_S``, posted to the app's loop with
    ``call_soon_threadsafe`` as Textual's input thread does, so a press is timed from when
    it happens, not from when a busy event loop gets round to it. ``handled``: press → the
    letter is in the composer's text; ``painted`` (with ``track_paint``): → the refresh after.
    """

    def __init__(self, app: AgentKitApp, *, track_paint: bool = True) -> None:
        self.app = app
        self.track_paint = track_paint
        self.pressed: list[float] = []
        self.pressed_at: list[float] = []  # wall clock, to compare with other processes
        self.handled: list[float] = []
        self.painted: list[float] = []
        self.stop = threading.Event()

    def _press(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self.stop.wait(KEY_INTERVAL_S):
            letter = "abcdefghij"[len(self.pressed) % 10]
            key = events.Key(letter, letter)
            key.set_sender(self.app)
            self.pressed_at.append(time.time())
            self.pressed.append(time.perf_counter())
            loop.call_soon_threadsafe(self.app.post_message, key)

    def _painted(self, index: int) -> None:
        self.painted.append(time.perf_counter() - self.pressed[index])

    async def run(self) -> None:
        """Press until stopped; note when each letter reaches the composer's text."""
        composer = self.app.main.query_one(Composer)
        composer.clear()
        presser = threading.Thread(target=self._press, args=(asyncio.get_running_loop(),))
        presser.start()
        try:
            while not self.stop.is_set() or len(self.handled) < len(self.pressed):
                arrived = min(len(composer.text), len(self.pressed))
                while len(self.handled) < arrived:
                    index = len(self.handled)
                    self.handled.append(time.perf_counter() - self.pressed[index])
                    if self.track_paint:
                        self.app.call_after_refresh(self._painted, index)
                await asyncio.sleep(0.001)
            if self.track_paint:
                await refreshed(self.app)
        finally:
            self.stop.set()
            presser.join()
