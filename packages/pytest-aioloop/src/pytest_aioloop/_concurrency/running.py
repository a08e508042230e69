"""One test of a group, from its setup until it is reported, and the outcome of its call.

:mod:`.group` fills a :class:`Running` in as the test's task runs, times out
or is given up on; :func:`outcome` turns it into what pytest's call of the test raises.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._concurrency.calls import GroupCall
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


@dataclasses.dataclass(eq=False)
class Running:
    """One test of a group, from its setup until it is reported."""

    item: pytest.Function
    owner: Owner
    setup: pytest.TestReport
    #: ``item.nodeid`` and ``item.ihook``, which pytest computes anew at each access.
    nodeid: str
    ihook: Any
    #: The test's call: it holds the task once started.
    call: GroupCall
    #: Done (or given up on): ready to be reported.
    finished: bool = False
    start_error: BaseException | None = None
    start: float = 0.0
    clock: float = 0.0
    stop: float = 0.0
    duration: float = 0.0
    timeout: float | None = None
    deadline: float | None = None
    timers: list[TimerHandle] = dataclasses.field(default_factory=list)
    stacks: str | None = None
    gave_up: bool = False
    blocked: str | None = None

    @property
    def task(self) -> asyncio.Task[Any] | None:
        """The test's task, once started."""
        return self.call.task


def outcome(running: Running) -> BaseException | None:
    """Return what the call of a finished test delivers to pytest: its error, or ``None``."""
    what, timeout = "The test", running.timeout or 0.0
    if running.start_error is not None:
        return running.start_error
    if running.blocked is not None:
        text = blocked(what, timeout, running.blocked, loop_closed=False)
        return pytest.fail.Exception(text, pytrace=False)
    if running.gave_up:
        text = ignored_timeout(what, timeout, running.stacks or "", loop_closed=False)
        return pytest.fail.Exception(text, pytrace=False)
    task = running.task
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
