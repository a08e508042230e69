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
    ``disarm`` clears it: two lock operations, no thread started per step. At the deadline the
    thread records the main thread's stack and, on POSIX, sends it SIGUSR2, whose handler
    raises :class:`Blocked` (only while that deadline is still armed). Where the signal is
    unavailable or the user handles it, the stack is only printed.
    """

    def __init__(self) -> None:
        self.stack: str | None = None
        self._cond = threading.Condition()
        self._deadline: float | None = None
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

    def arm(self, seconds: float) -> int:
        """Start the clock for one step; return the token that disarms it."""
        if self._thread is None:
            self._start()
        with self._cond:
            self._token += 1
            self._deadline = time.monotonic() + seconds
            self.stack = None
            self._cond.notify()
            return self._token

    def disarm(self, token: int) -> None:
        """Stop the clock of step ``token`` (a late signal for it is then ignored)."""
        with self._cond:
            if self._token == token:
                self._deadline = None
                self._token += 1

    def watch(self, watched: Watched) -> None:
        """Look at ``watched`` until :meth:`unwatch`."""
        if self._thread is None:
            self._start()
        with self._cond:
            self._watched.append(watched)
            self._cond.notify()

    def unwatch(self, watched: Watched) -> None:
        """Stop looking at ``watched``."""
        with self._cond:
            if watched in self._watched:
                self._watched.remove(watched)

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
                now = time.monotonic()
                wake = [w.next_check(now) for w in self._watched]
                if self._deadline is not None:
                    wake.append(self._deadline)
                if not wake:
                    self._cond.wait()
                    continue
                remaining = min(wake) - now
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                if self._deadline is not None and now >= self._deadline:
                    self._interrupt()
                if self._watched:
                    frame = thread_frame(self._main or 0)
                    for watched in list(self._watched):
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
