"""A nested run's events, mapped for the turn's stream.

Tool steps, approvals and questions pass through unchanged; streamed text becomes coalesced
progress pieces (``plan_step`` / ``expert_step``); the run's own final answer is not the
turn's answer and is dropped (it comes back as the phase result).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from app.engine.events import Event, StepEvent, StepKind
from app.engine.modes.finish import FINISH_TOOL
from app.engine.modes.text import one_line
from app.engine.turn import Emit

#: Streamed text is handed on as progress at most this often (and at each step's end).
PROGRESS_INTERVAL_SECONDS = 0.25

#: Builds a progress event from its text, step, kind and (for tool lines) the call id.
MakeProgress = Callable[[str, int, StepKind, str | None], Event]


class ProgressMapper:
    """An ``Emit`` for a nested run: passes steps and approvals on, turns text into progress."""

    def __init__(self, emit: Emit, make: MakeProgress) -> None:
        self._emit = emit
        self._make = make
        self._pieces: list[str] = []
        #: The first text of each step goes out at once, so a panel shows work starting.
        self._flushed_at = -PROGRESS_INTERVAL_SECONDS
        #: The model call the run is in (1-based), as in its ``step`` events.
        self.step = 1

    async def __call__(self, event: Event) -> None:
        """Map one event of the nested run."""
        if event.type == "token":
            self._pieces.append(event.content)
            if time.monotonic() - self._flushed_at >= PROGRESS_INTERVAL_SECONDS:
                await self.flush()
            return
        await self.flush()
        if event.type in ("thinking", "final_answer", "usage"):
            # Thinking repeats the text already handed on; the answer is the phase result.
            return
        if event.type == "step":
            await self._tool_step(event)
        elif event.type == "notice":
            await self._emit(self._make(event.data.message, self.step, "note", None))
        else:
            await self._emit(event)  # approvals, questions

    async def _tool_step(self, event: StepEvent) -> None:
        """Pass a tool step on, with a one-line progress piece; ``finish_phase`` stays quiet."""
        step = event.data
        if step.data.name != FINISH_TOOL:
            await self._emit(event)
        if step.event_type == "tool_call":
            if step.data.name != FINISH_TOOL:
                arguments = json.dumps(step.data.arguments, ensure_ascii=False)
                line = f"{step.data.name} {one_line(arguments, 100)}"
                await self._emit(self._make(line, step.step, "tool_call", step.data.id))
            return
        if step.data.name != FINISH_TOOL:
            mark = "error: " if step.data.is_error else ""
            line = f"{step.data.name}: {mark}{one_line(step.data.output, 100)}"
            await self._emit(self._make(line, step.step, "tool_result", step.data.id))
        self.step = step.step + 1
        self._flushed_at = -PROGRESS_INTERVAL_SECONDS

    async def flush(self) -> None:
        """Hand on the text streamed since the last piece."""
        self._flushed_at = time.monotonic()
        if not self._pieces:
            return
        text, self._pieces = "".join(self._pieces), []
        await self._emit(self._make(text, self.step, "text", None))


def quiet(emit: Emit) -> Emit:
    """An ``Emit`` that drops streamed text (planner and lead calls answer in JSON)."""

    async def forward(event: Event) -> None:
        if event.type not in ("token", "thinking", "final_answer"):
            await emit(event)

    return forward


def locked(emit: Emit) -> Emit:
    """An ``Emit`` that hands on one event at a time, so the event log keeps the order the
    caller sees when concurrent experts emit."""
    lock = asyncio.Lock()

    async def forward(event: Event) -> None:
        async with lock:
            await emit(event)

    return forward
