"""A live turn's replay buffer: every event so far, each run of tokens kept as its text."""

from __future__ import annotations

from app.engine.events import Event, TokenEvent

#: A run of tokens is joined into one string every this many pieces.
_RUN_JOIN = 64


class ReplayBuffer:
    """What a client joining mid-turn is given: a long reply is kept as its text, not as
    thousands of events; ``emitted`` still counts every event, one by one."""

    __slots__ = ("_kept", "_run", "emitted")

    def __init__(self) -> None:
        self._kept: list[Event] = []
        #: The text of the tokens emitted since the last other event (joined now and then).
        self._run: list[str] = []
        #: How many events were kept (tokens one by one): the place of the next one.
        self.emitted = 0

    def events(self) -> list[Event]:
        """Every event so far, in order, each run of tokens as one."""
        if not self._run:
            return list(self._kept)
        return [*self._kept, TokenEvent(content="".join(self._run))]

    def keep(self, event: Event) -> None:
        """Add ``event`` (a token joins the run of tokens before it)."""
        self.emitted += 1
        run = self._run
        if isinstance(event, TokenEvent):
            run.append(event.content)
            if len(run) >= _RUN_JOIN:
                run[:] = ["".join(run)]
            return
        if run:
            self._kept.append(TokenEvent(content="".join(run)))
            run.clear()
        self._kept.append(event)
