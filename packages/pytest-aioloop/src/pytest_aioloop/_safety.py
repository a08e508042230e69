"""The safety nets: timeouts, leaked tasks, unhandled errors and slow callbacks."""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from pytest_aioloop import _compat

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._lazy import asyncio

T = TypeVar("T")

#: How long a cancelled task may take to finish before its loop is given up.
GRACE_SECONDS = 1.0
#: Loop iterations a test's remaining tasks get to finish before they count as leaked.
SETTLE_ITERATIONS = 10


async def _one_iteration() -> None:
    await asyncio.sleep(0)


class AioloopWarning(pytest.PytestWarning):
    """Base category of every warning pytest-aioloop emits about a test."""


class LeakedTaskWarning(AioloopWarning):
    """A test left tasks pending; pytest-aioloop cancelled them."""


class UnhandledErrorWarning(AioloopWarning):
    """An exception reached the event loop's exception handler during a test."""


class SlowCallbackWarning(AioloopWarning):
    """A callback or task step held the event loop longer than asyncio_slow_callback."""


class _Blocked(KeyboardInterrupt):
    """Raised in the main thread by the watchdog when sync code blocks the loop past a timeout.

    A KeyboardInterrupt subclass so that asyncio lets it out of the loop at once (it swallows
    ordinary exceptions raised in callbacks); pytest-aioloop catches it before pytest does.
    """


# -- timeouts --------------------------------------------------------------------------------

#: Code of pytest-aioloop's own awaitable wrappers, which hold the user's coroutine in a local
#: named ``coro``: stack reports step through them to the user's code.
TRANSPARENT_CODE: set[types.CodeType] = set()


def await_chain(task: asyncio.Task[Any]) -> list[str]:
    """Describe where ``task`` is suspended: its await chain, outermost call first."""
    frames: list[tuple[types.FrameType, int]] = []
    awaited: object = task.get_coro()
    for _ in range(200):
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        frame = frame or getattr(awaited, "ag_frame", None)
        if frame is None:
            break
        frames.append((frame, frame.f_lineno))
        if frame.f_code in TRANSPARENT_CODE:
            # pytest-aioloop's own context wrapper: continue into the fixture's coroutine.
            frames.pop()
            awaited = frame.f_locals.get("coro")
            continue
        awaited = (
            getattr(awaited, "cr_await", None)
            or getattr(awaited, "gi_yieldfrom", None)
            or getattr(awaited, "ag_await", None)
        )
        if awaited is None:
            break
    lines = traceback.StackSummary.extract(iter(frames)).format()
    return [line.rstrip("\n") for line in lines]


def describe_tasks(tasks: list[asyncio.Task[Any]]) -> str:
    """Format the await chains of ``tasks``."""
    out: list[str] = []
    for task in tasks:
        if task.done():
            continue
        out.append(f"task {task.get_name()!r} was suspended at:")
        chain = await_chain(task)
        out.extend(chain or ["  (no Python frame: it waits on a future or callback)"])
    return "\n".join(out)


class Watchdog:
    """One thread per session that interrupts the main thread when sync code blocks the loop.

    ``arm`` sets a deadline for the current step (test call, fixture setup or teardown) and
    ``disarm`` clears it: two lock operations, no thread started per step. At the deadline the
    thread records the main thread's stack and, on POSIX, sends it SIGUSR2, whose handler
    raises :class:`_Blocked` (only while that deadline is still armed). Where the signal is
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
            raise _Blocked

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                self._deadline = None
                self._fired = self._token
                frame = sys._current_frames().get(self._main or 0)
                self.stack = _user_stack(frame)
                if self._installed and self._signal is not None:
                    signal.pthread_kill(self._main or 0, self._signal)
                else:  # pragma: no cover - Windows, or the user owns the signal
                    sys.stderr.write(
                        "pytest-aioloop: a test blocks the event loop past its timeout; "
                        "stack:\n" + self.stack
                    )


def _user_stack(frame: types.FrameType | None) -> str:
    """Format the stack of ``frame`` from the first frame asyncio called into."""
    if frame is None:  # pragma: no cover - the main thread is gone
        return "  (the main thread's stack is not available)"
    summary = traceback.extract_stack(frame)
    start = 0
    for index, entry in enumerate(summary):
        parts = entry.filename.replace("\\", "/").split("/")
        if "asyncio" in parts[-2:-1]:
            start = index + 1
    return "".join(traceback.format_list(summary[start:] or summary))


def run_with_timeout(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, T],
    timeout: float | None,
    what: str,
    *,
    related: Callable[[], list[asyncio.Task[Any]]] | None = None,
    watchdog: Watchdog | None = None,
) -> T:
    """Run ``coro`` on ``loop``; fail cleanly if it takes longer than ``timeout`` seconds.

    On expiry the task is cancelled; a task that ignores the cancellation for
    ``GRACE_SECONDS`` has its loop stopped and closed. Sync code that blocks the loop is
    interrupted by a watchdog thread after ``timeout + GRACE_SECONDS`` (POSIX).
    """
    task = loop.create_task(coro, name=what or None)
    if timeout is None:
        return _run_task(loop, task)
    state: dict[str, Any] = {}

    def expire() -> None:
        tasks = [task, *(related() if related else [])]
        state["stacks"] = describe_tasks(tasks)
        task.cancel()
        state["grace"] = loop.call_later(GRACE_SECONDS, abandon)

    def abandon() -> None:
        state["abandoned"] = True
        loop.stop()

    timer = loop.call_later(timeout, expire)
    own_watchdog = watchdog is None
    dog = Watchdog() if watchdog is None else watchdog
    token = dog.arm(timeout + GRACE_SECONDS + 0.5)
    message: str | None = None
    try:
        result = loop.run_until_complete(task)
        if "stacks" not in state:
            return result
        message = (
            f"{what} timed out after {timeout:g} s; it caught the cancellation and returned "
            "instead of letting CancelledError propagate.\n" + state["stacks"]
        )
    except _Blocked:
        dog.disarm(token)
        _give_up(loop, task)
        message = (
            f"{what} timed out after {timeout:g} s: synchronous code blocked the event loop, so "
            "it could not be cancelled; pytest-aioloop interrupted it and closed its loop. "
            f"The blocking call:\n{dog.stack}"
        )
    except RuntimeError:
        if not state.get("abandoned"):
            raise
        _give_up(loop, task)
        message = (
            f"{what} timed out after {timeout:g} s and its task ignored the cancellation for "
            f"{GRACE_SECONDS:g} s more (it caught CancelledError without re-raising it). Its "
            "loop was abandoned and closed.\n" + state.get("stacks", "")
        )
    except asyncio.CancelledError:
        if "stacks" not in state:
            raise
        message = f"{what} timed out after {timeout:g} s.\n{state['stacks']}"
    except BaseException:
        _cancel_and_wait(loop, task)
        raise
    finally:
        timer.cancel()
        grace = state.get("grace")
        if grace is not None:
            grace.cancel()
        dog.disarm(token)
        if own_watchdog:
            dog.close()
    pytest.fail(message, pytrace=False)


def _run_task(loop: asyncio.AbstractEventLoop, task: asyncio.Task[T]) -> T:
    """Run ``task``; if something interrupts the loop (Ctrl-C, pytest-timeout), cancel it."""
    try:
        return loop.run_until_complete(task)
    except BaseException:
        _cancel_and_wait(loop, task)
        raise


def _cancel_and_wait(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
    """Leave the loop healthy after an interruption: cancel the task and let it finish."""
    if task.done() or loop.is_closed() or loop.is_running():
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        loop.run_until_complete(asyncio.wait([task], timeout=GRACE_SECONDS))


def _give_up(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
    """Close a loop whose task will not finish; the session goes on with fresh loops."""
    if loop.is_running():  # pragma: no cover - defensive
        return
    with contextlib.suppress(BaseException):
        if not task.done():
            task.cancel()
    for pending in asyncio.all_tasks(loop):
        _compat.abandon_task(pending)
    loop.close()


# -- leaked tasks, unhandled errors, slow callbacks ------------------------------------------


class TestGuard:
    """Watches one test's call on its loop and reports what it left behind."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        nodeid: str,
        *,
        where: Callable[[], tuple[str, int]] = lambda: ("?", 0),
        leaked_tasks: str,
        unhandled_errors: str,
        slow_callback: float | None,
        slow_callback_action: str,
    ) -> None:
        self.loop = loop
        self.nodeid = nodeid
        self.where = where
        self.leaked_tasks = leaked_tasks
        self.unhandled_errors = unhandled_errors
        self.slow_callback = slow_callback
        self.slow_callback_action = slow_callback_action
        #: Tasks the test made, not counting its own (the first one made while watching).
        self.created: list[asyncio.Task[Any]] = []
        self.main: asyncio.Task[Any] | None = None
        self.errors: list[dict[str, Any]] = []
        self.slow: list[str] = []
        self.failures: list[str] = []
        #: When the test already failed, report everything as warnings (never mask it).
        self.failures_are_warnings = False

    def tasks(self) -> list[asyncio.Task[Any]]:
        """Tasks the test created that are still pending."""
        return [task for task in self.created if not task.done()]

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Install the nets around the test's call, then report."""
        loop = self.loop
        previous_factory = loop.get_task_factory()
        previous_handler = loop.get_exception_handler()
        created = self.created
        guard = self

        def factory(
            loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any
        ) -> asyncio.Future[Any]:
            if previous_factory is not None:
                task = previous_factory(loop, coro, **kwargs)
            else:
                task = asyncio.Task(coro, loop=loop, **kwargs)
            if isinstance(task, asyncio.Task):
                if guard.main is None:
                    guard.main = task
                else:
                    created.append(task)
            return task

        loop.set_task_factory(factory)
        if self.unhandled_errors != "ignore" and previous_handler is None:
            loop.set_exception_handler(self._on_error)
        debug = loop.get_debug()
        duration = getattr(loop, "slow_callback_duration", 0.1)
        handler: logging.Handler | None = None
        if self.slow_callback is not None:
            loop.set_debug(True)
            loop.slow_callback_duration = self.slow_callback
            handler = _SlowCallbackRecorder(self.slow)
            logging.getLogger("asyncio").addHandler(handler)
        try:
            yield
        finally:
            loop.set_task_factory(previous_factory)
            if loop.get_exception_handler() == self._on_error:
                loop.set_exception_handler(previous_handler)
            if handler is not None:
                logging.getLogger("asyncio").removeHandler(handler)
                loop.set_debug(debug)
                loop.slow_callback_duration = duration

    def settle(self) -> None:
        """Give the test's remaining tasks a few loop iterations to finish on their own.

        A server's handler task for a connection the test just closed, or a callback chain
        the test set off, usually ends within an iteration or two: that is not a leak.
        """
        loop = self.loop
        for _ in range(SETTLE_ITERATIONS):
            if not self.tasks() or loop.is_closed():
                return
            loop.run_until_complete(_one_iteration())

    def _on_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(context)

    def finish(self) -> None:
        """Cancel leaked tasks, then warn or record failures for everything seen."""
        pending = self.tasks()
        if pending and not self.loop.is_closed():
            report = _describe_leaks(pending)
            for task in pending:
                task.cancel()
            with contextlib.suppress(BaseException):
                self.loop.run_until_complete(asyncio.wait(pending, timeout=GRACE_SECONDS))
            self._act(
                self.leaked_tasks,
                LeakedTaskWarning,
                f"{self.nodeid} left {len(pending)} task(s) pending; pytest-aioloop cancelled "
                f"them. Await or cancel them in the test (or a fixture's teardown):\n{report}",
            )
        for task in self.created:
            exc = _compat.unretrieved_exception(task)
            if exc is not None:
                self.errors.append(
                    {
                        "message": f"Task exception was never retrieved ({task.get_name()})",
                        "exception": exc,
                    }
                )
        for context in self.errors:
            self._act(
                self.unhandled_errors,
                UnhandledErrorWarning,
                f"{self.nodeid}: an exception reached the event loop's exception handler: "
                f"{_format_error(context)}",
            )
        for line in self.slow:
            self._act(
                self.slow_callback_action,
                SlowCallbackWarning,
                f"{self.nodeid}: {line} (asyncio_slow_callback = {self.slow_callback:g} s)",
            )

    def _act(self, action: str, category: type[Warning], message: str) -> None:
        if action == "ignore":
            return
        if action == "error" and not self.failures_are_warnings:
            self.failures.append(message)
            return
        import warnings

        # Point the warning at the test, not at this line.
        filename, lineno = self.where()
        warnings.warn_explicit(category(message), category, filename, lineno)


def _describe_leaks(tasks: list[asyncio.Task[Any]]) -> str:
    lines = []
    for task in tasks:
        coro = task.get_coro()
        name = getattr(coro, "__qualname__", repr(coro))
        site = _compat.creation_site(task)
        where = (
            f", created at {site}"
            if site
            else " (run with --asyncio-debug to see where it was created)"
        )
        lines.append(f"  task {task.get_name()!r} running {name}(){where}")
    return "\n".join(lines)


def _format_error(context: dict[str, Any]) -> str:
    message = context.get("message", "unhandled error")
    exc = context.get("exception")
    if exc is None:
        return str(message)
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{message}\n{tb}"


#: asyncio names the task factory as a task's creator; that frame is ours, not the user's.
_OUR_FRAME = re.compile(r" created at \S*pytest_aioloop[/\\]_safety\.py:\d+")


class _SlowCallbackRecorder(logging.Handler):
    """Collects asyncio's debug-mode 'Executing ... took N seconds' records."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("Executing"):
            args = record.args if isinstance(record.args, tuple) else ()
            if len(args) == 2:
                handle = _OUR_FRAME.sub("", str(args[0]))
                self.sink.append(f"{handle} held the event loop for {float(str(args[1])):.3f} s")
            else:  # pragma: no cover - asyncio changed its message
                self.sink.append(record.getMessage())
