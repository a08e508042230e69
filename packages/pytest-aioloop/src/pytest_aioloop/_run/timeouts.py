"""Drive a task on its loop within a timeout, and fail cleanly when it runs out.

On expiry the task is cancelled (its await chains are recorded first). A task that ignores the
cancellation for ``GRACE_SECONDS`` has its loop stopped and closed; synchronous code that
blocks the loop is interrupted by the session's watchdog thread (POSIX).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

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
    related: Callable[[], list[asyncio.Task[Any]]] | None = None,
    watchdog: Watchdog | None = None,
    on_give_up: Callable[[asyncio.AbstractEventLoop], None] | None = None,
) -> T:
    """Run ``task`` to completion on ``loop``; fail if it takes longer than ``timeout`` s.

    ``what`` names the work in the failure; ``related`` lists more tasks whose await chains
    the failure shows; ``on_give_up`` hears of a loop closed because the task would not end.
    """
    if timeout is None:
        try:
            return loop.run_until_complete(task)
        except BaseException as exc:
            # Something interrupted the loop (Ctrl-C, pytest-timeout): say where the task
            # was, then leave the loop healthy.
            _note_interruption(exc, task, related)
            _cancel_and_wait(loop, task)
            raise
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
        message = returned_after_timeout(what, timeout, state["stacks"])
    except Blocked:
        dog.disarm(token)
        _give_up(loop, task, on_give_up)
        message = blocked(what, timeout, dog.stack, loop_closed=True)
    except RuntimeError:
        if not state.get("abandoned"):
            raise
        _give_up(loop, task, on_give_up)
        message = ignored_timeout(what, timeout, state.get("stacks", ""), loop_closed=True)
    except asyncio.CancelledError:
        if "stacks" not in state:
            raise
        message = timed_out(what, timeout, state["stacks"])
    except BaseException as exc:
        _note_interruption(exc, task, related)
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


def _note_interruption(
    exc: BaseException,
    task: asyncio.Task[Any],
    related: Callable[[], list[asyncio.Task[Any]]] | None,
) -> None:
    """On Ctrl-C, add to the KeyboardInterrupt where the task (and its own tasks) waited."""
    if not isinstance(exc, KeyboardInterrupt) or isinstance(exc, Blocked) or task.done():
        return
    stacks = describe_tasks([task, *(related() if related else [])])
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
    on_give_up: Callable[[asyncio.AbstractEventLoop], None] | None,
) -> None:
    """Close a loop whose task will not finish; the session goes on with fresh loops."""
    if loop.is_running():  # pragma: no cover - defensive
        return
    with contextlib.suppress(BaseException):
        if not task.done():
            task.cancel()
    for pending in asyncio.all_tasks(loop):
        abandon_task(pending)
    if on_give_up is not None:
        on_give_up(loop)
    loop.close()
