"""A group's watch over time: each test's timeout, and the stall of the whole group.

A part of :class:`~.group.Group`. Each test of a group has a timer of its own for its
timeout (``asyncio_timeout``, ``timeout=``), in the group's loop. The stall watch is one
timer for the group: when no test ends and no lane can go on for ``asyncio_concurrency_stall``
seconds while the group waits, the tests that wait beside others are cancelled, each named
with where it waited (it then runs again alone, see ``.conflicts``). A fixture step that runs
the loop in the main flow (without lanes) is bounded the same way, through the runner
(:meth:`Watch.stall_of_step`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from pytest_aioloop._compat.asyncio_internals import abandon_task
from pytest_aioloop._concurrency.lanes import Lanes
from pytest_aioloop._concurrency.running import Running
from pytest_aioloop._loop.manager import GRACE_SECONDS
from pytest_aioloop._run.owners import pending_tasks
from pytest_aioloop._run.stacks import describe_tasks
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._items.plan import ItemPlan


class Watch:
    """Timeouts and the stall watch of a group (a part of :class:`~.group.Group`)."""

    state: SessionState
    lanes: Lanes | None
    running: dict[pytest.Function, Running]
    members: list[pytest.Function]
    reported_at: dict[pytest.Function, int]
    _wakeup: asyncio.Future[None] | None

    def mark_done(self, running: Running) -> None:
        """Queue ``running`` for its teardown (see the group)."""
        raise NotImplementedError

    def arm(self, running: Running, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel the test's task at its timeout (a timer per test)."""
        plan: ItemPlan = self.state.plans[running.item]
        timeout = plan.spec.timeout_or(self.state.settings.timeout)
        if timeout is None:
            return
        running.timeout = timeout
        running.deadline = loop.time() + timeout
        running.paused_seen = self.state.debugger_total
        running.timers.append(loop.call_later(timeout, self._expire, running, loop))

    def _expire(self, running: Running, loop: asyncio.AbstractEventLoop) -> None:
        task = running.call.task
        if task is None or task.done():
            return
        more = self.state.timeout_owed(running.paused_seen)
        if more is not None:  # the debugger was stopped meanwhile: that time does not count
            running.paused_seen = self.state.debugger_total
            running.deadline = loop.time() + more
            running.timers.append(loop.call_later(more, self._expire, running, loop))
            return
        running.stacks = describe_tasks([task, *pending_tasks(loop, running.owner)])
        task.cancel()
        running.timers.append(loop.call_later(GRACE_SECONDS, self._give_up, running))

    def beside(self, running: Running) -> list[str]:
        """The names of the tests that ran beside ``running`` (so far), in pytest's order.

        (Names, not node ids: they all belong to the group's module or class.)
        """
        index, reported_at = running.index, self.reported_at
        members = self.members
        before = [item for item in members[:index] if reported_at.get(item, len(members)) > index]
        return [item.name for item in (*before, *members[index + 1 :])]

    # -- the stall watch ------------------------------------------------------------------------
    def init_watch(self, stall: float | None) -> None:
        """Start without a stall timer; ``stall`` is the limit in seconds (``None``: off)."""
        #: Seconds without progress after which the running tests are cancelled.
        self.stall = stall
        #: The loop time of the last progress (a test ended, a lane could go on), and the one
        #: timer that looks for a stall (armed at the group's first wait).
        self._progress = 0.0
        self._stall_timer: asyncio.TimerHandle | None = None
        self._clock: Callable[[], float] | None = None

    def watch_stall(self, loop: asyncio.AbstractEventLoop) -> None:
        """The group waits in ``loop`` now: arm the stall timer if it is not armed.

        One timer for the group, not one per wait: a timer per wait costs more than a stall.
        """
        if not self.stall:
            return
        self._progress = loop.time()
        if self._stall_timer is None:
            self._clock = loop.time
            self._stall_timer = loop.call_later(self.stall, self._look_for_stall, loop)

    def progressed(self) -> None:
        """A test ended, or a lane can go on."""
        clock = self._clock
        if clock is not None:
            self._progress = clock()

    def stop_watch(self) -> None:
        """The group closes: no more stall timer."""
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = self._clock = None

    def stall_of_step(self) -> float | None:
        """How long a fixture step in the main flow may wait: the stall limit, beside others."""
        return self.stall if len(self.running) > 1 else None

    def _look_for_stall(self, loop: asyncio.AbstractEventLoop) -> None:
        """The stall timer: act if nothing happened for the limit while the group waited."""
        stall = self.stall or 0.0
        idle = loop.time() - self._progress
        if idle >= stall * 0.999 and self._wakeup is not None:  # in the group's own wait
            self._stalled(loop)
            self._progress, idle = loop.time(), 0.0
        again = max(stall - idle, stall / 10)
        self._stall_timer = loop.call_later(again, self._look_for_stall, loop)

    def _stalled(self, loop: asyncio.AbstractEventLoop) -> None:
        """Nothing happened for the stall limit: cancel the tests that wait beside others.

        Each is named with where it waited, and fails with that; it then runs again alone
        (``conflicts``). A test that never had another beside it is left to run, as it would
        alone.
        """
        seconds = self.stall or 0.0
        steps = []
        for running in self.running.values():
            if running.finished or not self.beside(running):
                continue
            step = self.lanes.step_of(running.item) if self.lanes is not None else None
            task = running.call.task
            if step is not None:  # its setup or teardown waits for a fixture, in its lane
                running.stalled = seconds
                running.stacks = describe_tasks([step])
                steps.append(step)
            elif task is not None and not task.done():
                running.stalled = seconds
                running.stacks = describe_tasks([task, *pending_tasks(loop, running.owner)])
                task.cancel()
                running.timers.append(loop.call_later(GRACE_SECONDS, self._give_up, running))
        for step in steps:
            step.cancel()

    def _give_up(self, running: Running) -> None:
        task = running.call.task
        if task is None or task.done():
            return
        running.gave_up = True
        abandon_task(task)
        self.mark_done(running)
