"""One test of a group, from its setup until it is reported, and the outcome of its call.

:mod:`.group` fills a :class:`Running` in as the test's task runs, times out
or is given up on; :func:`outcome` turns it into what pytest's call of the test raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._concurrency.calls import GroupCall
from pytest_aioloop._items.plan import ItemPlan
from pytest_aioloop._run.outcomes import unwrap
from pytest_aioloop._run.owners import Owner
from pytest_aioloop._run.timeouts import (
    blocked,
    ignored_timeout,
    returned_after_timeout,
    timed_out,
)

if TYPE_CHECKING:
    import asyncio
    from asyncio import TimerHandle
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio


class Running:
    """One test of a group, from its admission until it is reported."""

    __slots__ = (
        "blocked",
        "call",
        "clock",
        "deadline",
        "duration",
        "finished",
        "gave_up",
        "held_call",
        "ihook",
        "in_lane",
        "index",
        "item",
        "left",
        "nextitem",
        "nodeid",
        "paused_seen",
        "plan",
        "reports",
        "stacks",
        "stalled",
        "start",
        "start_error",
        "stop",
        "timeout",
        "timers",
        "towards",
    )

    def __init__(
        self, item: pytest.Function, nodeid: str, ihook: Any, plan: ItemPlan, call: GroupCall
    ) -> None:
        self.item = item
        #: ``item.nodeid`` and ``item.ihook``, which pytest computes anew at each access.
        self.nodeid = nodeid
        self.ihook = ihook
        #: The test's plan (``_items.plan``).
        self.plan = plan
        #: The test's call: it holds the task once started.
        self.call = call
        #: The test pytest handed over after it (what a failed setup's teardown keeps).
        self.nextitem: pytest.Item | None = None
        #: Its phases' reports (with their call info), logged together when it is torn down.
        self.reports: list[tuple[pytest.TestReport, pytest.CallInfo[Any] | None]] = []
        #: Done (or given up on): ready to be reported.
        self.finished = False
        self.start_error: BaseException | None = None
        self.start = self.clock = self.stop = self.duration = 0.0
        self.timeout: float | None = None
        self.deadline: float | None = None
        #: The debugger's stopped time when its timeout was armed (``_run.debugger``).
        self.paused_seen = 0.0
        self.timers: list[TimerHandle] = []
        self.stacks: str | None = None
        self.gave_up = False
        self.blocked: str | None = None
        #: Its own teardown's call info, while its end of the module or class waits (``flow``).
        self.held_call: pytest.CallInfo[Any] | None = None
        #: Sets up and tears down in a lane of its own (``lanes``), not in the main flow.
        self.in_lane = False
        #: Its position among the group's tests (who ran beside it: ``Group.beside``).
        self.index = 0
        #: The ``nextitem`` its teardown went towards (what stayed set up after it).
        self.towards: pytest.Item | None = None
        #: Cancelled because its group made no progress for the stall limit (seconds).
        self.stalled: float | None = None
        #: Its parents that the group left for the next module or class while it ran (deepest
        #: first): the last of their tests to be torn down ends them (``Group.move_on``).
        self.left: tuple[Any, ...] = ()

    @property
    def owner(self) -> Owner:
        """The test's owner (made at its setup)."""
        run = self.plan.run
        assert run is not None
        return run.owner

    @property
    def task(self) -> asyncio.Task[Any] | None:
        """The test's task, once started."""
        return self.call.task


def stalled(running: Running) -> str:
    """The failure of a test cancelled because its group made no progress."""
    return (
        f"No test of its group made progress for {running.stalled or 0:g} s while this test "
        "ran beside others (asyncio_concurrency_stall), so it was cancelled. It was waiting "
        f"here:\n{running.stacks or '  (not recorded)'}"
    )


def outcome(running: Running) -> BaseException | None:
    """Return what the call of a finished test delivers to pytest: its error, or ``None``."""
    what, timeout = "The test", running.timeout or 0.0
    if running.start_error is not None:
        return running.start_error
    if running.blocked is not None:
        text = blocked(what, timeout, running.blocked, loop_closed=False)
        return pytest.fail.Exception(text, pytrace=False)
    task = running.call.task
    if running.stalled is not None:  # it fails so, unless it raised an error of its own
        done = task is not None and task.done() and not task.cancelled()
        exc = task.exception() if done and task is not None and not running.gave_up else None
        if exc is not None:
            return unwrap(exc)
        return pytest.fail.Exception(stalled(running), pytrace=False)
    if running.gave_up:
        text = ignored_timeout(what, timeout, running.stacks or "", loop_closed=False)
        return pytest.fail.Exception(text, pytrace=False)
    assert task is not None
    if task.cancelled():
        if running.stacks is not None:
            return pytest.fail.Exception(timed_out(what, timeout, running.stacks), pytrace=False)
        return asyncio.CancelledError("the test's task was cancelled")
    exc = task.exception()
    if exc is not None:
        return unwrap(exc)  # pytest.skip() and the like inside a task group
    if running.stacks is not None:
        return pytest.fail.Exception(
            returned_after_timeout(what, timeout, running.stacks), pytrace=False
        )
    return None
