"""The watchdog thread: it interrupts code blocking a loop past a timeout, and finds slow steps.

One thread per session, started at the first use. It does two jobs, both without asyncio's debug
mode: at a step's timeout it interrupts synchronous code that keeps the loop from cancelling
the step (:meth:`Watchdog.arm`); and it looks at the main thread when a watched loop has not
run its heartbeat for too long (:meth:`Watchdog.watch`, see ``_nets.slow_callbacks``).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any, Protocol

from pytest_aioloop._compat.frames import thread_frame
from pytest_aioloop._run.stacks import user_stack


class Blocked(KeyboardInterrupt):
    """Raised in the main thread by the watchdog when sync code blocks the loop past a timeout.

    A KeyboardInterrupt subclass so that asyncio lets it out of the loop at once (it swallows
    ordinary exceptions raised in callbacks); pytest-aioloop catches it before pytest does.
    """


class Watched(Protocol):
    """A loop the watchdog looks at while it runs (see ``_nets.slow_callbacks``)."""

    def next_check(self, now: float) -> float:
        """When the watchdog should look next (monotonic seconds)."""
        ...

    def check(self, now: float, frame: types.FrameType | None) -> None:
        """Look: ``frame`` is what the main thread runs now (called in the watchdog thread)."""
        ...


class Watchdog:
    """One thread per session that interrupts the main thread when sync code blocks the loop.

    ``arm`` sets a deadline for the current step (test call, fixture setup or teardown) and
    ``disarm`` clears it: two lock operations, no thread started per step, and the thread is
    woken only when the new deadline comes before the time it sleeps until (a disarmed
    deadline just wakes it once for nothing). At the step's time it calls the step's
    ``time_up`` (which asks the loop to cancel the step); if the step is still armed after the
    grace period, it records the main thread's stack and, on POSIX, sends it SIGUSR2, whose
    handler raises :class:`Blocked`. Where the signal is unavailable or the user handles it,
    the stack is only printed.
    """

    def __init__(self) -> None:
        self.stack: str | None = None
        self._cond = threading.Condition()
        #: When to interrupt the main thread (``None``: nothing armed).
        self._deadline: float | None = None
        #: When to call ``_time_up`` (``None``: not armed, or called already).
        self._soft: float | None = None
        self._time_up: Callable[[], None] | None = None
        #: When the thread wakes by itself (``None``: it waits to be notified).
        self._wake_at: float | None = None
        self._token = 0
        self._fired = -1
        self._closed = False
        self._thread: threading.Thread | None = None
        self._main = threading.main_thread().ident
        self._signal = getattr(signal, "SIGUSR2", None)
        self._installed = False
        self._previous: Any = None
        #: The loops the thread looks at while they run.
        self._watched: list[Watched] = []
        #: Since when the clock is paused (a debugger is stopped in the main thread).
        self._paused_at: float | None = None
        #: How often the thread looks at the watched loops at the least (``None``: only when
        #: they ask). With it, :meth:`watch` does not wake the thread (see :meth:`look_every`).
        self._period: float | None = None

    def arm(
        self, seconds: float, time_up: Callable[[], None] | None = None, grace: float = 0.0
    ) -> int:
        """Start the clock for one step; return the token that disarms it.

        After ``seconds`` the thread calls ``time_up`` (if given; it must not block); after
        ``grace`` more it interrupts the main thread.
        """
        if self._thread is None:
            self._start()
        with self._cond:
            self._token += 1
            now = time.monotonic()
            self._deadline = now + seconds + grace
            first = self._deadline
            if time_up is not None:
                self._soft = first = now + seconds
                self._time_up = time_up
            self.stack = None
            if self._wake_at is None or first < self._wake_at:
                self._cond.notify()
            return self._token

    def disarm(self, token: int) -> None:
        """Stop the clock of step ``token`` (a late signal for it is then ignored)."""
        with self._cond:
            if self._token == token:
                self._deadline = self._soft = self._time_up = None
                self._token += 1

    def pause(self) -> None:
        """Stop the clock: a debugger is stopped in the main thread (nothing fires meanwhile)."""
        with self._cond:
            if self._paused_at is None:
                self._paused_at = time.monotonic()

    def resume(self) -> None:
        """Start the clock again: the armed deadlines move by the time it was paused."""
        with self._cond:
            paused_at, self._paused_at = self._paused_at, None
            if paused_at is None:
                return
            paused = time.monotonic() - paused_at
            if self._deadline is not None:
                self._deadline += paused
            if self._soft is not None:
                self._soft += paused
            self._cond.notify()

    def look_every(self, seconds: float) -> None:
        """Look at the watched loops at least every ``seconds``, watched or not.

        A watch that starts then (each test's call, with slow callbacks watched) only joins the
        list: the thread, which looks that often anyway, is not woken for it. Its first look
        comes at most ``seconds`` later than the watch asked.
        """
        with self._cond:
            self._period = seconds if self._period is None else min(self._period, seconds)
        if self._thread is None:
            self._start()

    def watch(self, watched: Watched) -> None:
        """Look at ``watched`` until :meth:`unwatch`."""
        if self._thread is None:
            self._start()
        if self._period is not None:
            # The thread looks again within the period: no lock, no wake-up (the thread reads
            # a copy of the list, and appending to a list is atomic).
            self._watched.append(watched)
            return
        with self._cond:
            self._watched.append(watched)
            if self._wake_at is None or watched.next_check(time.monotonic()) < self._wake_at:
                self._cond.notify()

    def unwatch(self, watched: Watched) -> None:
        """Stop looking at ``watched``."""
        watching = self._watched
        if watched in watching:  # only this thread removes: no race between the two steps
            watching.remove(watched)  # atomic, as appending

    def close(self) -> None:
        """Stop the thread and give the signal back (at the end of the session)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._installed and self._signal is not None:
            signal.signal(self._signal, self._previous)
            self._installed = False

    def _start(self) -> None:
        if (
            self._signal is not None
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(self._signal) in (signal.SIG_DFL, None)
        ):
            self._previous = signal.signal(self._signal, self._on_signal)
            self._installed = True
        self._thread = threading.Thread(
            target=self._run, name="pytest-aioloop watchdog", daemon=True
        )
        self._thread.start()

    def _on_signal(self, signum: int, frame: types.FrameType | None) -> None:
        if self._fired == self._token and self._deadline is None:
            self._fired = -1
            raise Blocked

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._paused_at is not None:  # a debugger is stopped: wait for resume()
                    self._wake_at = None
                    self._cond.wait()
                    continue
                now = time.monotonic()
                watching = list(self._watched)
                wake = [w.next_check(now) for w in watching]
                if self._deadline is not None:
                    wake.append(self._deadline)
                if self._soft is not None:
                    wake.append(self._soft)
                if self._period is not None:
                    wake.append(now + self._period)
                if not wake:
                    self._wake_at = None
                    self._cond.wait()
                    continue
                self._wake_at = min(wake)
                remaining = self._wake_at - now
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                if self._soft is not None and now >= self._soft:
                    time_up, self._soft, self._time_up = self._time_up, None, None
                    if time_up is not None:
                        time_up()
                if self._deadline is not None and now >= self._deadline:
                    self._interrupt()
                if watching:
                    frame = thread_frame(self._main or 0)
                    for watched in watching:
                        watched.check(now, frame)

    def _interrupt(self) -> None:
        """A step's deadline passed: record the main thread's stack and interrupt it."""
        self._deadline = None
        self._fired = self._token
        frame = thread_frame(self._main or 0)
        self.stack = user_stack(frame)
        if self._installed and self._signal is not None:
            signal.pthread_kill(self._main or 0, self._signal)
        else:  # pragma: no cover - Windows, or the user owns the signal
            sys.stderr.write(
                "pytest-aioloop: a test blocks the event loop past its timeout; "
                "stack:\n" + self.stack
            )
