"""Lanes: each test of a group sets up, and tears down, in a greenlet of its own.

pytest's setup and teardown are synchronous code; an async fixture's step is a wait in the loop.
A *lane* is a greenlet that runs one test's phase (pytest's own code, every plugin's hooks, the
fixtures) until a fixture step has to wait: the runner then hands the step to :meth:`Lanes.step`,
which switches back to the group (the *main* flow). The group admits more tests or runs the loop,
and switches back into the lane once the step is done, never from inside the loop.

Each lane sees the process as if its test ran alone: switching into it puts its test's entry
back on pytest's setup stack (the others' are set aside), makes its test the current one, and
restores its ``sys.stdout``, ``sys.stderr`` and ``warnings.showwarning``; switching out saves
them, takes the text its phase wrote out of pytest's capture buffer (written back when it
resumes), and restores the main flow's. Without the ``greenlet`` package, :data:`AVAILABLE` is
false and the group runs each phase in the main flow, as before lanes existed.
"""

from __future__ import annotations

import collections
import contextvars
import os
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat import capture, setup_stack
from pytest_aioloop._compat.asyncio_internals import abandon_task
from pytest_aioloop._concurrency.routing import LANE_OF
from pytest_aioloop._loop.manager import GRACE_SECONDS
from pytest_aioloop._run.lane_host import NOT_IN_LANE
from pytest_aioloop._run.stacks import describe_tasks
from pytest_aioloop._run.timeouts import (
    blocked,
    ignored_timeout,
    returned_after_timeout,
    timed_out,
)
from pytest_aioloop._run.watchdog import Blocked
from pytest_aioloop._session import SessionState

try:
    import greenlet  # type: ignore[import-untyped, unused-ignore]
except ImportError:  # pragma: no cover - the extra is not installed
    greenlet = None

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._items.plan import ItemPlan
    from pytest_aioloop._run.owners import Owner
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio

#: Whether lanes can run (the ``greenlet`` package is installed).
AVAILABLE = greenlet is not None


class Lane:
    """One test's phase running in a greenlet, and what it saw when it last paused."""

    __slots__ = ("current", "err", "glet", "item", "out", "stdio", "task", "test", "waiting")

    def __init__(self, item: pytest.Item, glet: Any) -> None:
        self.item = item
        self.glet = glet
        #: The future the lane waits for (``None``: it runs, or has not paused), and the task
        #: of the fixture step behind it.
        self.waiting: asyncio.Future[Any] | None = None
        self.task: asyncio.Task[Any] | None = None
        #: Its ``sys.stdout``, ``sys.stderr``, ``warnings.showwarning`` when it paused.
        self.stdio: tuple[Any, Any, Any] | None = None
        #: Its current item, and ``PYTEST_CURRENT_TEST`` (pytest sets it per phase), when it
        #: paused.
        self.current: pytest.Item | None = None
        self.test: str | None = None
        #: What its phase wrote to pytest's capture buffer before it paused.
        self.out = ""
        self.err = ""

    def runs_now(self) -> bool:
        """Whether the calling code runs in this lane (then pytest's capture is its phase's)."""
        return self.glet is greenlet.getcurrent()


class Lanes:
    """The lanes of one group, and the main flow they switch back to."""

    def __init__(self, state: SessionState, config: pytest.Config) -> None:
        assert greenlet is not None
        self.state = state
        self.config = config
        self.main = greenlet.getcurrent()
        self.live: dict[Any, Lane] = {}
        #: Lanes whose step is done, in that order: resumed by :meth:`resume_ready`.
        self.ready: collections.deque[Lane] = collections.deque()
        #: Called (in the loop) when a lane becomes ready, to stop the group's run of the loop.
        self.on_ready: Callable[[], None] | None = None
        #: Called after each switch back to the main flow (the group refilters log handlers).
        self.after_switch: Callable[[], None] | None = None
        #: The deadlines of the fixture steps the lanes wait for.
        self.steps: set[_StepDeadline] = set()
        #: The loop the lanes' steps run in (the group's), once a step waited.
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- the main flow --------------------------------------------------------------------
    def start(self, item: pytest.Item, func: Callable[[], None]) -> Lane:
        """A new lane that will run ``func`` (one phase of ``item``): :meth:`enter` starts it."""
        glet = greenlet.greenlet(func, parent=self.main)
        context = contextvars.copy_context()
        context.run(LANE_OF.set, item.nodeid)  # what its code logs or warns is its test's
        glet.gr_context = context
        lane = self.live[glet] = Lane(item, glet)
        return lane

    def paused(self) -> bool:
        """Whether some lane has not ended."""
        return bool(self.live)

    def deadlines(self) -> list[float]:
        """The loop times by which the waiting lanes' steps time out (for the watchdog)."""
        return [step.at for step in self.steps]

    def stepping(self) -> str | None:
        """The test whose lane waits for the step the current task runs, if any."""
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no loop runs
            return None
        for lane in self.live.values():
            if lane.task is task and task is not None:
                return lane.item.nodeid
        return None

    def step_of(self, item: pytest.Item) -> asyncio.Task[Any] | None:
        """The task of the fixture step ``item``'s lane waits for, if it waits."""
        for lane in self.live.values():
            if lane.item is item and lane.task is not None:
                return lane.task
        return None

    def waiting_tasks(self) -> list[asyncio.Task[Any]]:
        """The tasks of the fixture steps the lanes wait for (Ctrl-C cancels them)."""
        return [lane.task for lane in self.live.values() if lane.task is not None]

    def resume_ready(self) -> None:
        """Switch into each lane whose step is done, until it pauses again or ends."""
        while self.ready:
            self.enter(self.ready.popleft())

    def enter(self, lane: Lane) -> None:
        """Switch into ``lane`` until it pauses or ends, with the process as it left it."""
        state, config, glet = self.state, self.config, lane.glet
        main_stdio = (sys.stdout, sys.stderr, warnings.showwarning)
        main_current = state.current_item
        main_test = _current_test()
        if lane.stdio is not None:  # it paused before
            setup_stack.put_back(lane.item)
            capture.resume(config, lane.out, lane.err)
            sys.stdout, sys.stderr, warnings.showwarning = lane.stdio
            state.current_item = lane.current
            if lane.test != main_test:
                _set_current_test(lane.test)
            lane.out = lane.err = ""
        try:
            glet.switch()
        finally:
            if glet.dead:
                del self.live[glet]
            else:
                lane.stdio = (sys.stdout, sys.stderr, warnings.showwarning)
                lane.current = state.current_item
                lane.test = _current_test()
                out, err = capture.pause(config)
                lane.out += out
                lane.err += err
            setup_stack.set_aside(lane.item)
            sys.stdout, sys.stderr, warnings.showwarning = main_stdio
            state.current_item = main_current
            if _current_test() != main_test:
                _set_current_test(main_test)
            if self.after_switch is not None:
                self.after_switch()

    # -- in a lane ------------------------------------------------------------------------
    def step(
        self,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[Any],
        *,
        timeout: float | None,
        what: str,
        until: asyncio.Future[Any] | None,
        related: Callable[[], list[asyncio.Task[Any]]],
        owner: Owner | None = None,
    ) -> Any:
        """Wait, in a lane, for a fixture's step; return its result (the runner's ``drive``).

        Returns :data:`NOT_IN_LANE` when not called from a lane of this group. ``owner`` (the
        fixture, at its first step: none of its code ran yet) has its tasks recorded as they
        are created, so that its end need not look through every task of the group's loop.
        """
        lane = self.live.get(greenlet.getcurrent())
        if lane is None or not _is_test_loop(self.state, lane.item, loop):
            # Not in a lane; or a step of a fixture in another loop than the group's (a wider
            # fixture's): the lane runs that loop itself, the group's loop stands still.
            return NOT_IN_LANE
        if owner is not None:
            self.state.nets.track_from_now(owner, loop)
        self.loop = loop
        awaited = task if until is None else until
        deadline = _StepDeadline(loop, task, timeout, related, self.state) if timeout else None
        gate: asyncio.Future[None] = loop.create_future()

        def open_gate(_: object = None) -> None:
            if not gate.done():
                gate.set_result(None)
                self.ready.append(lane)
                if self.on_ready is not None:
                    self.on_ready()

        awaited.add_done_callback(open_gate)
        if deadline is not None:
            deadline.arm(open_gate)
            self.steps.add(deadline)
        lane.waiting, lane.task = awaited, task
        try:
            self.main.switch()
        finally:
            lane.waiting = lane.task = None
            awaited.remove_done_callback(open_gate)
            if deadline is not None:
                deadline.disarm()
                self.steps.discard(deadline)
        if deadline is not None:
            return deadline.result(awaited, what)
        return _result(awaited, what)


def _is_test_loop(state: SessionState, item: pytest.Item, loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` is the loop of ``item``, a test of the group (the group's loop)."""
    plan: ItemPlan | None = state.plans.get(item)
    run = plan.run if plan is not None else None
    return run is not None and run.loop is loop


#: The environment variable pytest sets to the test and phase that run (see pytest's docs).
_CURRENT_TEST = "PYTEST_CURRENT_TEST"


def _current_test() -> str | None:
    return os.environ.get(_CURRENT_TEST)


def _set_current_test(value: str | None) -> None:
    if value is None:
        os.environ.pop(_CURRENT_TEST, None)
    else:
        os.environ[_CURRENT_TEST] = value


def _result(awaited: asyncio.Future[Any], what: str) -> Any:
    error = awaited.exception() if not awaited.cancelled() else None
    if isinstance(error, Blocked):
        pytest.fail(blocked(what, 0, None, loop_closed=False), pytrace=False)
    return awaited.result()


class _StepDeadline:
    """A fixture step's timeout in a lane: cancel at the deadline, give up after the grace."""

    __slots__ = (
        "at",
        "gave_up",
        "loop",
        "paused_seen",
        "related",
        "stacks",
        "state",
        "task",
        "timeout",
        "timers",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        task: asyncio.Task[Any],
        timeout: float,
        related: Callable[[], list[asyncio.Task[Any]]],
        state: SessionState,
    ) -> None:
        self.loop, self.task, self.timeout, self.related = loop, task, timeout, related
        self.state = state
        #: The debugger's stopped time when armed (``SessionState.timeout_owed``).
        self.paused_seen = state.debugger_total
        self.stacks: str | None = None
        self.gave_up = False
        self.timers: list[asyncio.TimerHandle] = []
        #: The loop time of the deadline.
        self.at = loop.time() + timeout

    def arm(self, wake: Callable[[], None]) -> None:
        def expire() -> None:
            if self.task.done():
                return
            more = self.state.timeout_owed(self.paused_seen)
            if more is not None:  # the debugger was stopped meanwhile: that does not count
                self.paused_seen = self.state.debugger_total
                self.at = self.loop.time() + more
                self.timers.append(self.loop.call_later(more, expire))
                return
            self.stacks = describe_tasks([self.task, *self.related()])
            self.task.cancel()
            self.timers.append(self.loop.call_later(GRACE_SECONDS, give_up))

        def give_up() -> None:
            if self.task.done():
                return
            self.gave_up = True
            abandon_task(self.task)
            wake()

        self.timers.append(self.loop.call_later(self.timeout, expire))

    def disarm(self) -> None:
        for timer in self.timers:
            timer.cancel()

    def result(self, awaited: asyncio.Future[Any], what: str) -> Any:
        if self.gave_up:
            text = ignored_timeout(what, self.timeout, self.stacks or "", loop_closed=False)
            pytest.fail(text, pytrace=False)
        if self.stacks is None:
            return _result(awaited, what)
        if awaited.cancelled():
            pytest.fail(timed_out(what, self.timeout, self.stacks), pytrace=False)
        if awaited.exception() is None:
            pytest.fail(returned_after_timeout(what, self.timeout, self.stacks), pytrace=False)
        return _result(awaited, what)
