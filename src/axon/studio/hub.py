"""From training threads to web pages: publishing never waits for a reader.

A training thread calls :meth:`Latest.publish` (the newest frame replaces the one before) or
:meth:`EventLog.append` (every event is kept); each is a lock held for a few assignments and one
``call_soon_threadsafe`` per watching page, so the training step never waits for drawing, for the
network or for a slow browser. Readers are asyncio coroutines, one per WebSocket: a reader that
falls behind on a :class:`Latest` skips the frames it missed and gets the newest one; a reader of
an :class:`EventLog` gets every event from where it is, in order.

Neither class imports the web stack, so they are tested without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any


class _Notifier:
    """Wakes the asyncio readers that wait on this object, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._closed = False

    def _wake(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that reader's loop has closed: nobody to wake
                pass

    @contextlib.contextmanager
    def _waiting(self) -> Iterator[asyncio.Event]:
        """An event this object sets (from any thread) while the calling coroutine reads."""
        event = asyncio.Event()
        key = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(key)
        try:
            yield event
        finally:
            with self._lock:
                self._waiters.discard(key)

    def close(self) -> None:
        """End every reader's iteration (after what it has not read yet)."""
        with self._lock:
            self._closed = True
        self._wake()

    @property
    def readers(self) -> int:
        """How many readers wait on this object now."""
        with self._lock:
            return len(self._waiters)


class Latest(_Notifier):
    """The newest value of something that changes often (a playground frame)."""

    def __init__(self) -> None:
        super().__init__()
        self._value: Any = None
        self._version = 0

    def publish(self, value: Any) -> None:
        """Replace the value; readers that have not taken the previous one skip it."""
        with self._lock:
            self._value = value
            self._version += 1
        self._wake()

    def current(self) -> tuple[int, Any]:
        """``(version, value)`` of the newest value: how many were published, and the last (None before)."""
        with self._lock:
            return self._version, self._value

    async def follow(self, since: int = 0) -> AsyncIterator[Any]:
        """Yield the newest value whenever there is one newer than the last yielded (or ``since``)."""
        with self._waiting() as event:
            while True:
                event.clear()
                with self._lock:
                    version, value, closed = self._version, self._value, self._closed
                if version != since:
                    since = version
                    yield value
                elif closed:
                    return
                else:
                    await event.wait()


class EventLog(_Notifier):
    """An append-only list of events (a training run's epochs); every reader gets all of them."""

    def __init__(self) -> None:
        super().__init__()
        self._events: list[Any] = []

    def append(self, event: Any) -> None:
        """Add one event at the end."""
        with self._lock:
            self._events.append(event)
        self._wake()

    def extend(self, events: list[Any]) -> None:
        """Add several events at the end, in order."""
        if not events:
            return
        with self._lock:
            self._events.extend(events)
        self._wake()

    def snapshot(self) -> list[Any]:
        """A copy of every event so far."""
        with self._lock:
            return list(self._events)

    async def follow(self, start: int = 0) -> AsyncIterator[list[Any]]:
        """Yield lists of new events, from index ``start`` on, as they arrive."""
        with self._waiting() as event:
            while True:
                event.clear()
                with self._lock:
                    new, closed = self._events[start:], self._closed
                if new:
                    start += len(new)
                    yield new
                elif closed:
                    return
                else:
                    await event.wait()
