"""Virtual time: a loop's clock that jumps to its next timer when nothing else is to be done.

A test in virtual time awaits ``asyncio.sleep(3600)`` at once, and everything still happens in
the order real time would give. The clock of a loop is real time (the loop's own
``time()``) plus an offset that only grows, so each test sees time moving forward, also in a
loop that tests share. While a virtual-time test's call runs (:meth:`VirtualClock.running`),
the loop's wait for I/O is replaced: when the loop would wait for its next timer,

- it first looks for I/O for up to ``autojump_threshold`` real seconds (default 0: it only
  looks), and returns what it found;
- while a call of ``run_in_executor`` (``asyncio.to_thread``) is pending, it waits for it in
  real time: threads do not run faster;
- otherwise it jumps the clock to that timer, which then runs.

Only a loop of asyncio's selector kind has a wait that can be replaced (see
``_compat.asyncio_internals.selector_of``); uvloop and Windows' proactor loop cannot run in
virtual time, and a test asking for it there fails with that said. pytest-aioloop's own
timeouts are kept by its watchdog thread in real time.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytest_aioloop._compat.asyncio_internals import selector_of

if TYPE_CHECKING:
    import asyncio


class VirtualTimeError(Exception):
    """The loop cannot run in virtual time (it has no selector whose wait can be replaced)."""


class VirtualClock:
    """The virtual clock of one event loop: what the ``virtual_clock`` fixture returns.

    ``time()`` is the loop's time; ``advance(seconds)`` moves it forward by hand. While a test's
    call runs in virtual time, the clock jumps to the loop's next timer whenever nothing else
    is to be done, after looking for I/O for ``autojump_threshold`` real seconds.
    """

    __slots__ = (
        "__weakref__",
        "_executor_futures",
        "_loop",
        "_loop_time",
        "_run_in",
        "_selector",
        "_selector_select",
        "autojump_threshold",
        "jumps",
        "offset",
        "users",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, selector: Any) -> None:
        #: Seconds the clock is ahead of real time (it only grows).
        self.offset = 0.0
        #: How many times the clock jumped.
        self.jumps = 0
        #: Real seconds to look for I/O before a jump; with 0 the loop looks once, without waiting.
        self.autojump_threshold = 0.0
        #: How many calls in virtual time run in the loop now; with none, the clock does not jump.
        self.users = 0
        # Only weak references to the loop and its selector, and their classes' functions: the
        # loop refers to the clock (its replaced methods), and a clock that referred back would
        # keep every loop alive as long as the session keeps its clock.
        self._loop = weakref.ref(loop)
        self._selector = weakref.ref(selector)
        self._loop_time: Callable[[Any], float] = type(loop).time
        self._run_in: Callable[..., Any] = type(loop).run_in_executor
        self._selector_select: Callable[[Any, float | None], Any] = type(selector).select
        #: The loop's calls of ``run_in_executor`` (made at the first).
        self._executor_futures: weakref.WeakSet[Any] | None = None
        # The loop's methods are replaced on this loop object only (not its class).
        loop.time = self.time  # type: ignore[method-assign]
        loop.run_in_executor = self._run_in_executor  # type: ignore[method-assign,assignment]
        selector.select = self._select

    def time(self) -> float:
        """The loop's time: its real clock plus what this clock jumped."""
        return self._loop_time(self._loop()) + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward (timers now due run at the loop's next turn)."""
        if not seconds >= 0:
            raise ValueError(f"the virtual clock only moves forward, not by {seconds!r} s")
        self.offset += seconds

    def _run_in_executor(self, executor: Any, func: Any, *args: Any) -> Any:
        future = self._run_in(self._loop(), executor, func, *args)
        if self._executor_futures is None:
            self._executor_futures = weakref.WeakSet()
        self._executor_futures.add(future)
        return future

    def _select(self, timeout: float | None) -> Any:
        selector = self._selector()
        if not self.users or timeout is None or timeout <= 0:
            return self._selector_select(selector, timeout)
        futures = self._executor_futures
        if futures and any(not future.done() for future in futures):
            # A thread is working: wait for it in real time.
            return self._selector_select(selector, timeout)
        looked = min(self.autojump_threshold, timeout)
        events = self._selector_select(selector, looked)
        if events:
            return events
        self.offset += timeout - looked
        self.jumps += 1
        return events


def clock_of(
    clocks: weakref.WeakKeyDictionary[Any, VirtualClock], loop: asyncio.AbstractEventLoop
) -> VirtualClock:
    """Return ``loop``'s virtual clock, made at the first ask; raise :class:`VirtualTimeError`."""
    clock = clocks.get(loop)
    if clock is None:
        selector = selector_of(loop)
        if selector is None:
            raise VirtualTimeError(
                f"{type(loop).__module__}.{type(loop).__qualname__} cannot run in virtual "
                "time: only asyncio's selector event loops can (not uvloop, nor the proactor "
                "loop on Windows). Run this test on asyncio's default loop, or without "
                "virtual time."
            )
        clock = clocks[loop] = VirtualClock(loop, selector)
    return clock
