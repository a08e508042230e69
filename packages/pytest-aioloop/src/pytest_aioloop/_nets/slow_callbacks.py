"""Slow callbacks: synchronous code that holds a loop longer than ``asyncio_slow_callback``.

No debug mode: while a test's call runs, its loop runs a heartbeat, a timer every quarter of the
threshold (from the watchdog's first look at the call, a quarter of the threshold after it
started). The session's watchdog thread looks at the loop: when the heartbeat is late by more
than the threshold, something synchronous holds the loop, and the thread reads what the main
thread is running at that moment: the line of user code, and the call it is in (also a C
function, such as ``time.sleep``). When the loop runs again, the next heartbeat reports it with
how long the loop was held (to within a quarter of the threshold).
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sysconfig
import time
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytest_aioloop._run.owners import Owner, owner_of

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._run.watchdog import Watchdog
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio

#: Where a finding about the holder goes: ``(owner or None, text)``.
Sink = Callable[[Owner | None, str], None]


class BlockWatch:
    """Finds synchronous code that holds one loop too long while it is watched.

    :meth:`start` and :meth:`stop` bracket the watching (a test's call, a group's run); the
    heartbeat runs in the loop, :meth:`check` in the watchdog thread. A watch costs no timer
    until the watchdog's first look at it, a quarter of the threshold after its start: most
    calls are over by then. At that look the thread asks the loop for the first heartbeat.
    """

    __slots__ = (
        "_beating",
        "_handle",
        "_seen",
        "_stopped",
        "held",
        "last",
        "loop",
        "period",
        "sink",
        "threshold",
        "watchdog",
    )

    def __init__(
        self, loop: asyncio.AbstractEventLoop, threshold: float, watchdog: Watchdog, sink: Sink
    ) -> None:
        self.loop = loop
        self.threshold = threshold
        self.period = threshold / 4
        self.watchdog = watchdog
        self.sink = sink
        #: When the heartbeat last ran, or when the watch started (monotonic seconds).
        self.last = 0.0
        #: What the watchdog saw while the loop was held (set in its thread, taken in the loop).
        self.held: tuple[float, str, asyncio.Task[Any] | None] | None = None
        self._seen = -1.0
        self._handle: asyncio.TimerHandle | None = None
        #: Whether the watchdog asked the loop for the first heartbeat.
        self._beating = False
        self._stopped = False

    def start(self) -> None:
        """Start the watchdog's looking (the heartbeat starts at its first look)."""
        self.last = time.monotonic()
        self.watchdog.watch(self)

    def stop(self) -> None:
        """Stop both; report what was held since the last heartbeat, if anything was."""
        self._stopped = True
        self.watchdog.unwatch(self)
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self.held is not None:
            self._report(time.monotonic())

    def _beat(self) -> None:
        if self._stopped:
            return
        now = time.monotonic()
        self._report(now)
        self.last = now
        self._handle = self.loop.call_later(self.period, self._beat)

    def _report(self, now: float) -> None:
        held, self.held = self.held, None
        if held is None:
            return
        since, where, task = held
        owner = owner_of(task) if task is not None else None
        self.sink(
            owner,
            f"Synchronous code held the event loop for {now - since:.2f} s "
            f"(asyncio_slow_callback = {self.threshold:g} s), at:\n{where}",
        )

    # -- in the watchdog thread ---------------------------------------------------------------
    def next_check(self, now: float) -> float:
        """When the heartbeat is late enough to count (or, once seen, a period from now)."""
        if not self._beating:
            return self.last + self.period
        if self._seen == self.last:
            return now + self.period
        return self.last + self.period + self.threshold

    def check(self, now: float, frame: types.FrameType | None) -> None:
        """If the heartbeat is late by the threshold, note what the main thread runs."""
        if self._stopped:
            return
        if not self._beating:  # the first look: ask for the heartbeat (the start counts as one)
            if now < self.last + self.period:
                return
            self._beating = True
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(self._beat)
            return
        last = self.last
        if self._seen == last or now < last + self.period + self.threshold:
            return
        self._seen = last
        task = asyncio.current_task(self.loop)
        self.held = (last, where_held(frame), task)


def where_held(frame: types.FrameType | None) -> str:
    """Describe the innermost frame of user code, and the library call it is in, if any."""
    user, library = None, None
    while frame is not None:
        if _is_user(frame.f_code.co_filename):
            user = frame
            break
        if library is None:
            library = frame
        frame = frame.f_back
    if user is None:  # pragma: no cover - nothing of the user's on the stack
        return "  (no frame of your code on the stack)"
    lines = [_describe(user)]
    if library is not None:
        name = library.f_code.co_name
        lines.append(f"  in {name}() at {library.f_code.co_filename}:{library.f_lineno}")
    return "\n".join(lines)


def _describe(frame: types.FrameType) -> str:
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    text = f'  File "{filename}", line {lineno}, in {frame.f_code.co_name}'
    source = linecache.getline(filename, lineno).strip()
    return f"{text}\n    {source}" if source else text


def _library_paths() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found = {paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # pytest_aioloop
    return tuple(sorted(os.path.normcase(p) for p in (*found, here) if p))


_LIBRARIES = _library_paths()


def _is_user(filename: str) -> bool:
    """Whether code in ``filename`` is the user's: not the standard library, nor installed."""
    if filename.startswith("<"):
        return False
    return not os.path.normcase(filename).startswith(_LIBRARIES)
