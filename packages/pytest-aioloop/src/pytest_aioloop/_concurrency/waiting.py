"""A group's waiting: it runs its loop until a test finishes or a lane can go on, then goes on.

A part of :class:`~.group.Group`. Between two runs of the loop the group takes its steps in
the main flow (it resumes a lane, reports and tears a finished test down), one at a time; every
few steps that start tasks it lets the loop run briefly (:data:`RUN_THE_LOOP_EVERY`), so that
the tasks begin their waiting while it goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from pytest_aioloop._compat.unawaited import origins_back, origins_on
from pytest_aioloop._concurrency.lanes import Lanes
from pytest_aioloop._concurrency.routing import Router
from pytest_aioloop._concurrency.running import Running
from pytest_aioloop._loop.manager import GRACE_SECONDS
from pytest_aioloop._run.watchdog import Blocked
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio

#: How many steps the group takes in its main flow (a test admitted and set up, a lane resumed,
#: a finished test reported and torn down) before it lets the loop run once, even when it
#: could go on: a step usually starts a task (a fixture's setup, a test's body, a teardown),
#: and a task's waiting begins only when the loop runs it. Without this, a hundred tests
#: admitted in a row would start their waiting only once the last one is set up.
RUN_THE_LOOP_EVERY = 8


class Waiting:
    """How a group waits (a part of :class:`~.group.Group`)."""

    state: SessionState
    lanes: Lanes | None
    router: Router
    running: dict[pytest.Function, Running]
    finished: list[Running]
    loop: asyncio.AbstractEventLoop | None
    _wakeup: asyncio.Future[None] | None
    _steps_since_run: int
    #: While set, finished tests wait for their teardown (``finish_paused_teardowns``).
    holding: bool
    # What the group's other parts do (see the group).
    release_held: Callable[[], None]
    tear_down_now: Callable[[Running], None]
    finish: Callable[[Running, pytest.Function | None], None]
    watch_stall: Callable[[asyncio.AbstractEventLoop], None]
    progressed: Callable[[], None]
    interrupt: Callable[[], None]

    def task_done(self, running: Running) -> None:
        """The test's task ended: it can be reported and torn down."""
        running.stop = time.time()
        running.duration = time.perf_counter() - running.clock
        for timer in running.timers:
            timer.cancel()
        self.mark_done(running)

    def mark_done(self, running: Running) -> None:
        """Queue ``running`` for its teardown, and stop the group's run of the loop."""
        if running.finished:
            return
        running.finished = True
        self.finished.append(running)
        self.wake()

    def wake(self) -> None:
        """Stop the group's run of the loop (a test finished, a lane can go on)."""
        self.progressed()
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    # -- waiting ----------------------------------------------------------------------------
    def wait(self, *, keeper: pytest.Function | None, briefly: bool = False) -> None:
        """Run the loop until a test finishes or a lane can go on; then go on with each.

        ``briefly``: run the loop only for what is ready to run now (see
        :data:`RUN_THE_LOOP_EVERY`), then go on with what can.
        """
        self.release_held()  # the last test's end of the module or class, if it is time
        loop = self.loop
        if loop is None and self.lanes is not None:
            loop = self.lanes.loop  # no test started yet: their setups wait in this loop
        if loop is None or not self.running:
            self._steps_since_run = 0
            return
        if briefly:
            self._run_until_something_happens(loop, briefly=True)
        elif not self._can_go_on():
            if not self._pending():  # nothing runs that could end: tear down what is left
                for running in list(self.running.values()):
                    self.tear_down_now(running)
                return
            self._run_until_something_happens(loop)
        lanes = self.lanes
        while self._can_go_on():
            # One step at a time, letting the loop run every few that start tasks (a lane's
            # next fixture step, or the test's body, or a teardown in a lane).
            if lanes is not None and lanes.ready:
                lanes.enter(lanes.ready.popleft())
                self._steps_since_run += 1
            elif self.finished and not self.holding:
                running = self.finished.pop(0)
                self.finish(running, keeper)
                self._steps_since_run += running.in_lane
            if self._steps_since_run >= RUN_THE_LOOP_EVERY:
                self._run_until_something_happens(loop, briefly=True)
        self.release_held()

    def _pending(self) -> bool:
        """Whether a test's task runs, or a lane waits for a fixture step."""
        if self.lanes is not None and self.lanes.paused():
            return True
        return any(r.task is not None and not r.finished for r in self.running.values())

    def _can_go_on(self) -> bool:
        if self.finished and not self.holding:
            return True
        return self.lanes is not None and bool(self.lanes.ready)

    def finish_paused_teardowns(self) -> None:
        """Let the teardowns that wait in their lanes end; start no other teardown meanwhile.

        A teardown goes towards a ``nextitem`` chosen when it began, which keeps its parents
        set up: it must end before the group moves on to the next module (``Parents.move_on``).
        The tests that finish meanwhile are torn down afterwards.
        """
        lanes = self.lanes
        if lanes is None or not lanes.live:
            return
        outputs = self.router.outputs

        def paused() -> bool:
            for lane in lanes.live.values():
                output = outputs.get(lane.item.nodeid)
                if output is not None and output.when == "teardown":
                    return True
            return False

        self.holding = True
        try:
            while paused():
                self.wait(keeper=None)
        finally:
            self.holding = False

    def _run_until_something_happens(
        self, loop: asyncio.AbstractEventLoop, *, briefly: bool = False
    ) -> None:
        self._steps_since_run = 0
        dog, token = self.state.watchdog, None
        deadlines = [r.deadline for r in self.running.values() if r.deadline is not None]
        if self.lanes is not None:
            deadlines += self.lanes.deadlines()
        if deadlines:
            token = dog.arm(max(0.0, min(deadlines) - loop.time()) + GRACE_SECONDS + 0.5)
        self.watch_stall(loop)
        self._wakeup = wakeup = loop.create_future()
        if briefly:  # after what is ready now, and the callbacks it schedules, have run
            loop.call_soon(_wake_up, wakeup)
        # Slow callbacks are looked for while the group's tests run (the test of the task that
        # runs at the time is named).
        watch = self.state.nets.watch_blocking(loop, None)
        # Where the tests' code creates coroutines (the unawaited net), as in a test's call.
        depth = origins_on() if self.state.track_origins else -1
        try:
            with self.router.routing(phase=None):
                loop.run_until_complete(wakeup)
        except Blocked:
            for running in self.running.values():
                task = running.call.task
                if task is not None and task.done() and isinstance(task.exception(), Blocked):
                    running.blocked = dog.stack or ""
                    self.task_done(running)
        except KeyboardInterrupt:
            self.interrupt()
            raise
        finally:
            if depth >= 0:
                origins_back(depth)
            if watch is not None:
                watch.stop()
            self._wakeup = None
            if token is not None:
                dog.disarm(token)


def _wake_up(wakeup: asyncio.Future[None]) -> None:
    if not wakeup.done():
        wakeup.set_result(None)
