"""Cancellation shared by a whole turn: the model stream, running tools, waiting dialogs.

A :class:`CancellationToken` is cancelled once (by the Stop key, Ctrl-C, or a parent token)
and every await that goes through :func:`cancellable` or :func:`cancellable_iter` stops at
once: the awaited task is cancelled (which closes an HTTP response or kills a shell's
process group) and :class:`TurnCancelled` is raised for the engine to turn into a saved,
marked partial reply and a ``result: cancelled`` event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class TurnCancelled(Exception):
    """The turn was cancelled through its token (not a foreign ``CancelledError``)."""

    def __init__(self, reason: str = "user") -> None:
        super().__init__(reason)
        self.reason = reason


class CancellationToken:
    """A one-shot, idempotent cancel signal, safe to trigger from another thread."""

    def __init__(self, parent: CancellationToken | None = None) -> None:
        self._event = asyncio.Event()
        self._reason: str | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        if parent is not None:
            parent.on_cancel(lambda: self.cancel(parent.reason or "parent"))

    @property
    def cancelled(self) -> bool:
        """Whether the token has been cancelled."""
        return self._event.is_set()

    @property
    def reason(self) -> str | None:
        """Why it was cancelled (``user``, ``shutdown``, ``parent`` …), or ``None``."""
        return self._reason

    def cancel(self, reason: str = "user") -> None:
        """Cancel the token (a second call changes nothing)."""
        loop = self._loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self._cancel_here, reason)
                return
        self._cancel_here(reason)

    def _cancel_here(self, reason: str) -> None:
        if self._event.is_set():
            return
        self._reason = reason
        self._event.set()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when cancelled (at once if already); returns an unregister."""
        if self.cancelled:
            callback()
            return lambda: None
        self._callbacks.append(callback)

        def unregister() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return unregister

    def child(self) -> CancellationToken:
        """A token cancelled with this one, or on its own (one expert, one phase)."""
        return CancellationToken(parent=self)

    async def wait(self) -> None:
        """Wait until the token is cancelled."""
        await self._event.wait()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`TurnCancelled` if the token is cancelled."""
        if self.cancelled:
            raise TurnCancelled(self._reason or "user")


async def cancellable(awaitable: Awaitable[T], token: CancellationToken) -> T:
    """Await ``awaitable`` unless the token fires first; then cancel it and raise."""
    if token.cancelled:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never started: close it so it is not reported as un-awaited
        token.raise_if_cancelled()
    task: asyncio.Future[T] = asyncio.ensure_future(awaitable)
    waiter: asyncio.Future[None] = asyncio.ensure_future(token.wait())
    pending: set[asyncio.Future[Any]] = {task, waiter}
    try:
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
    if task.done() and not token.cancelled:
        waiter.cancel()
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    raise TurnCancelled(token.reason or "user")


async def cancellable_iter(
    iterator: AsyncIterator[T], token: CancellationToken
) -> AsyncIterator[T]:
    """Iterate, stopping at once when the token fires; always closes ``iterator``.

    Cheap per item (a stream yields thousands): no task per item. While this task waits
    inside the iterator, a cancel interrupts that wait directly (the iterator sees
    ``CancelledError`` and closes its HTTP response); between items the token is checked.
    """
    task = asyncio.current_task()
    waiting = False
    interrupted = False

    def interrupt_now() -> None:
        nonlocal interrupted
        if waiting and task is not None and not task.done():
            interrupted = True
            task.cancel()

    def interrupt() -> None:
        # Deferred one loop turn: the cancel may come from inside the iterator itself
        # (running, not waiting), and an item it returns then is dropped below instead.
        asyncio.get_running_loop().call_soon(interrupt_now)

    unregister = token.on_cancel(interrupt)
    try:
        while True:
            token.raise_if_cancelled()
            waiting = True
            try:
                item = await iterator.__anext__()
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if interrupted and task is not None:
                    task.uncancel()
                    raise TurnCancelled(token.reason or "user") from None
                raise
            finally:
                waiting = False
            token.raise_if_cancelled()
            yield item
    finally:
        unregister()
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                await closer()
