"""Drive a task on its loop within a timeout, and fail cleanly when it runs out.

On expiry the task is cancelled (its await chains are recorded first). A task that ignores the
cancellation for ``GRACE_SECONDS`` has its loop stopped and closed; synchronous code that
blocks the loop is interrupted by the session's watchdog thread (POSIX).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pytest

from pytest_aioloop._compat.asyncio_internals import abandon_task
from pytest_aioloop._loop.manager import GRACE_SECONDS
from pytest_aioloop._run.stacks import add_note, describe_tasks
from pytest_aioloop._run.watchdog import Blocked, Watchdog

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio

T = TypeVar("T")


def drive(
    loop: asyncio.AbstractEventLoop,
    task: asyncio.Task[T],
    timeout: float | None,
    what: str,
    *,
    related: Callable[[], list[asyncio.Task[Any]]],
    watchdog: Watchdog,
    on_give_up: Callable[[asyncio.AbstractEventLoop], None],
    until: asyncio.Future[Any] | None = None,
) -> Any:
    """Run ``task`` to completion on ``loop``; fail if it takes longer than ``timeout`` s.

    ``what`` names the work in the failure; ``related`` lists more tasks whose await chains
    the failure shows; ``on_give_up`` hears of a loop closed because the task would not end.
    With ``until``, the loop runs until that future is done (the task goes on), and its
    result is returned.
    """
    if timeout is None:
        try:
            return loop.run_until_complete(task if until is None else until)
        except BaseException as exc:
            # Something interrupted the loop (Ctrl-C, pytest-timeout): say where the task
            # was, then leave the loop healthy.
            _note_interruption(exc, task, related)
            _cancel_and_wait(loop, task)
            raise
    return _Deadline(loop, task, timeout, related).run(what, watchdog, on_give_up, until)


class _Deadline(Generic[T]):
    """One task's timeout: cancelled at the deadline, given up on after the grace period."""

    __slots__ = (
        "abandoned",
        "finished",
        "grace",
        "loop",
        "related",
        "stacks",
        "task",
        "timeout",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[T],
        timeout: float,
        related: Callable[[], list[asyncio.Task[Any]]],
    ) -> None:
        self.loop, self.task, self.timeout, self.related = loop, task, timeout, related
        #: The await chains recorded at the deadline (``None``: not reached).
        self.stacks: str | None = None
        self.grace: asyncio.TimerHandle | None = None
        self.abandoned = False
        #: The run is over: a late :meth:`expire` does nothing.
        self.finished = False

    def time_up(self) -> None:
        """The deadline, in the watchdog thread: have the loop expire the task."""
        with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile: run over
            self.loop.call_soon_threadsafe(self.expire)

    def expire(self) -> None:
        """The deadline: record where the tasks wait, cancel, and give them the grace period."""
        if self.finished or self.task.done():
            return
        self.stacks = describe_tasks([self.task, *self.related()])
        self.task.cancel()
        self.grace = self.loop.call_later(GRACE_SECONDS, self.abandon)

    def abandon(self) -> None:
        """The task ignored its cancellation: stop the loop (its run then gives up on it)."""
        self.abandoned = True
        self.loop.stop()

    def run(
        self,
        what: str,
        dog: Watchdog,
        on_give_up: Callable[[asyncio.AbstractEventLoop], None],
        until: asyncio.Future[Any] | None = None,
    ) -> Any:
        """Run the task to its end, or fail the step at its timeout with its await chains."""
        loop, task, timeout = self.loop, self.task, self.timeout
        timer = None
        if _real_time_clock(loop):
            # The loop's clock is real time: the watchdog thread keeps it (no timer handle on
            # the loop per step). At the deadline it has the loop cancel the task, and it
            # interrupts code blocking the loop if the task still runs after the grace period.
            token = dog.arm(timeout, self.time_up, grace=GRACE_SECONDS + 0.5)
        else:  # a clock of the loop's own (virtual time, say): the timeout counts it
            timer = loop.call_later(timeout, self.expire)
            token = dog.arm(timeout + GRACE_SECONDS + 0.5)
        try:
            result = loop.run_until_complete(task if until is None else until)
            if self.stacks is None:
                return result
            message = returned_after_timeout(what, timeout, self.stacks)
        except Blocked:
            dog.disarm(token)
            _give_up(loop, task, on_give_up)
            message = blocked(what, timeout, dog.stack, loop_closed=True)
        except RuntimeError:
            if not self.abandoned:
                raise
            _give_up(loop, task, on_give_up)
            message = ignored_timeout(what, timeout, self.stacks or "", loop_closed=True)
        except asyncio.CancelledError:
            if self.stacks is None:
                raise
            message = timed_out(what, timeout, self.stacks)
        except BaseException as exc:
            _note_interruption(exc, task, self.related)
            _cancel_and_wait(loop, task)
            raise
        finally:
            self.finished = True
            if timer is not None:
                timer.cancel()
            if self.grace is not None:
                self.grace.cancel()
            dog.disarm(token)
        pytest.fail(message, pytrace=False)


def _real_time_clock(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether a timeout on ``loop`` is kept in real time, by the watchdog thread.

    It is where the loop's clock is asyncio's own (also under pytest-aioloop's virtual clock,
    which is set on the loop object, not its class), and under looptime's: its tests are
    bounded in loop time by its own ``end=``, and a timeout stays a net against hung tests.
    A loop class with a clock of its own otherwise has its timeouts counted on that clock.
    """
    clock = type(loop).time
    if clock is asyncio.BaseEventLoop.time:
        return True
    return str(getattr(clock, "__module__", "")).startswith("looptime.")


def _note_interruption(
    exc: BaseException,
    task: asyncio.Task[Any],
    related: Callable[[], list[asyncio.Task[Any]]],
) -> None:
    """On Ctrl-C, add to the KeyboardInterrupt where the task (and its own tasks) waited."""
    if not isinstance(exc, KeyboardInterrupt) or isinstance(exc, Blocked) or task.done():
        return
    stacks = describe_tasks([task, *related()])
    add_note(exc, f"Interrupted while {task.get_name()} was waiting:\n{stacks}")


def timed_out(what: str, timeout: float, stacks: str) -> str:
    """The failure of a step cancelled at its timeout."""
    return f"{what} timed out after {timeout:g} s.\n{stacks}"


def returned_after_timeout(what: str, timeout: float, stacks: str) -> str:
    """The failure of a step that caught its timeout's cancellation and returned."""
    return (
        f"{what} timed out after {timeout:g} s; it caught the cancellation and returned "
        "instead of letting CancelledError propagate.\n" + stacks
    )


def ignored_timeout(what: str, timeout: float, stacks: str, *, loop_closed: bool) -> str:
    """The failure of a step whose task ignored its timeout's cancellation."""
    fate = (
        "Its loop was abandoned and closed."
        if loop_closed
        else "It was given up on; the loop goes on for the other tests."
    )
    return (
        f"{what} timed out after {timeout:g} s and its task ignored the cancellation for "
        f"{GRACE_SECONDS:g} s more (it caught CancelledError without re-raising it). {fate}\n"
        + stacks
    )


def blocked(what: str, timeout: float, stack: str | None, *, loop_closed: bool) -> str:
    """The failure of a step whose synchronous code blocked the loop past its timeout."""
    fate = " and closed its loop" if loop_closed else ""
    return (
        f"{what} timed out after {timeout:g} s: synchronous code blocked the event loop, so "
        f"it could not be cancelled; pytest-aioloop interrupted it{fate}. The blocking call:\n"
        f"{stack or '  (not recorded)'}"
    )


def _cancel_and_wait(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
    """Leave the loop healthy after an interruption: cancel the task and let it finish."""
    if task.done() or loop.is_closed() or loop.is_running():
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        loop.run_until_complete(asyncio.wait([task], timeout=GRACE_SECONDS))


def _give_up(
    loop: asyncio.AbstractEventLoop,
    task: asyncio.Task[Any],
    on_give_up: Callable[[asyncio.AbstractEventLoop], None],
) -> None:
    """Close a loop whose task will not finish; the session goes on with fresh loops."""
    if loop.is_running():  # pragma: no cover - defensive
        return
    with contextlib.suppress(BaseException):
        if not task.done():
            task.cancel()
    for pending in asyncio.all_tasks(loop):
        abandon_task(pending)
    on_give_up(loop)
    loop.close()
