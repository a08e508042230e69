"""A group of tests running at the same time in one loop: admission, waiting, reports.

See :mod:`.plugin` for when tests form a group, and ``docs/concepts/concurrency.md`` for the
design. A group owns what lives as long as it does (its loop, the routing of output and logs,
the slow-callback watching) and tells its host, through :class:`GroupHost`, only what the host
needs to know: lines for the terminal, whether the session is stopping, and that it closed.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from pytest_aioloop._compat import setup_stack
from pytest_aioloop._compat.asyncio_internals import (
    SavedLoop,
    abandon_task,
    restore_current_loop,
    save_current_loop,
    set_current_loop,
)
from pytest_aioloop._compat.pytest_internals import record_warning
from pytest_aioloop._compat.xdist import reporting_for
from pytest_aioloop._concurrency.calls import GroupCall
from pytest_aioloop._concurrency.phases import Phases, log
from pytest_aioloop._concurrency.routing import Router
from pytest_aioloop._concurrency.running import Running, outcome
from pytest_aioloop._items import ended
from pytest_aioloop._items.plan import PLAN_KEY, TestRun
from pytest_aioloop._loop.kinds import LoopKind
from pytest_aioloop._loop.manager import GRACE_SECONDS
from pytest_aioloop._run.owners import pending_tasks
from pytest_aioloop._run.stacks import describe_tasks
from pytest_aioloop._run.watchdog import Blocked
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio


def _run_of(item: pytest.Item) -> TestRun:
    """The loop and owner of a test of the group (set up: its plan has them)."""
    run = item.stash[PLAN_KEY].run
    assert run is not None
    return run


class GroupHost(Protocol):
    """What a group tells the plugin that runs it."""

    def say(self, lines: list[str]) -> None:
        """Write ``lines`` to the terminal."""
        ...

    def stopping(self, item: pytest.Item) -> bool:
        """Whether ``-x``/``--maxfail`` or an interruption asks pytest to stop."""
        ...

    def closed(self, group: Group) -> None:
        """The group is drained or interrupted: nothing of it runs any more."""
        ...


class Group:
    """Tests of one parent (module or class) running at the same time in one loop."""

    def __init__(
        self,
        host: GroupHost,
        state: SessionState,
        phases: Phases,
        router: Router,
        *,
        parent: object,
        kind: LoopKind,
        limit: int,
        own_loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.host = host
        self.state = state
        self.phases = phases
        self.router = router
        self.parent = parent
        self.kind = kind
        self.limit = limit
        #: The group's loop, when its tests would otherwise each get a fresh one.
        self.own_loop = own_loop
        self.loop: asyncio.AbstractEventLoop | None = own_loop
        if own_loop is not None:
            state.nets.record_owners(own_loop)
        self.running: dict[pytest.Function, Running] = {}
        self._saved_loop: SavedLoop | None = None
        #: Tests whose task is done (or given up on), in the order they finished.
        self._finished: list[Running] = []
        self._wakeup: asyncio.Future[None] | None = None
        self._last: pytest.Function | None = None
        #: The ``nextitem`` of the last test a draining group tears down.
        self._final_next: pytest.Item | None = None
        self._closed = False
        self.count = 0
        self.peak = 0
        #: The test whose setup or teardown runs now (its output is pytest's to capture).
        self._phase: str | None = None
        router.start()
        # While the loop runs during a phase, the other tests' tasks run too: their output
        # is routed to them. Code that runs outside the loop is the phase's own.
        state.runner.around = self._phase_routing

    def _phase_routing(self) -> contextlib.AbstractContextManager[None]:
        return self.router.routing(phase=self._phase)

    def accepts(self, item: pytest.Function, kind: LoopKind, limit: int) -> bool:
        """Whether ``item`` can join: same parent, same loop, same limit."""
        return item.parent is self.parent and kind == self.kind and limit == self.limit

    # -- admission ------------------------------------------------------------------------
    def admit(self, item: pytest.Function, nextitem: pytest.Item | None) -> None:
        """Set ``item`` up and start it, once there is room (finishing others meanwhile)."""
        while len(self.running) >= self.limit:
            self.wait(keeper=item)
        if self.host.stopping(item):
            return  # -x / --maxfail: nothing new starts
        state, ihook, nodeid = self.state, item.ihook, item.nodeid
        state.active[nodeid] = item
        self.router.open(nodeid)
        call = item.stash[PLAN_KEY].call = GroupCall(self.own_loop)
        setup_stack.own_function_fixtures(item)
        self._phase = nodeid
        try:
            setup = self.phases.run(
                item, "setup", lambda: ihook.pytest_runtest_setup(item=item), ihook=ihook
            )
        finally:
            self._phase = None
        state.current_item = None
        if not setup.passed:
            self._report_early(item, setup, nextitem, ihook)
            return
        setup_stack.set_aside(item)
        running = Running(item, _run_of(item).owner, setup, nodeid, ihook, call)
        self._start(running)
        self.running[item] = running
        self._last = item
        self.count += 1
        self.peak = max(self.peak, len(self.running))

    def _start(self, running: Running) -> None:
        """Start the test's task through pytest's call hook, in the group's loop."""
        item = running.item
        loop = self._use_loop(item)
        running.start, running.clock = time.time(), time.perf_counter()
        state = self.state
        if state.ended_fixtures:
            message = ended.failure_of(state, item, started=False)
            if message is not None:
                running.start_error = pytest.fail.Exception(message, pytrace=False)
                self._mark_done(running)
                return
        try:
            running.ihook.pytest_pyfunc_call(pyfuncitem=item)
        except BaseException as exc:  # the call could not start: it fails with that error
            running.start_error = exc
            self._mark_done(running)
        task = running.task
        if task is not None:
            task.add_done_callback(lambda _: self._task_done(running))
            self._arm(running, loop)

    def _use_loop(self, item: pytest.Function) -> asyncio.AbstractEventLoop:
        """The group's loop (the first test's, unless the group has its own), made current."""
        if self.loop is None:
            self.loop = _run_of(item).loop
        loop = self.loop
        assert loop is not None
        if self._saved_loop is None:  # the group's first test
            self._saved_loop = save_current_loop()
            self.state.nets.record_owners(loop)
        set_current_loop(loop)  # for sync code of the group's tests and fixtures
        return loop

    def _report_early(
        self,
        item: pytest.Function,
        setup: pytest.TestReport,
        nextitem: pytest.Item | None,
        ihook: Any,
    ) -> None:
        """A test whose setup failed or skipped: report it and tear it down right away."""
        keeper = self._keeper(item) or nextitem
        nodeid, location = item.nodeid, item.location
        with reporting_for(item):
            ihook.pytest_runtest_logstart(nodeid=nodeid, location=location)
            log(item, setup, ihook=ihook)
            self._teardown(item, keeper, ihook)
            ihook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
        self._done_with(item, nodeid)

    # -- timeouts ---------------------------------------------------------------------------
    def _arm(self, running: Running, loop: asyncio.AbstractEventLoop) -> None:
        plan = running.item.stash[PLAN_KEY]
        timeout = plan.spec.timeout_or(self.state.settings.timeout)
        if timeout is None:
            return
        running.timeout = timeout
        running.deadline = loop.time() + timeout
        running.timers.append(loop.call_later(timeout, self._expire, running, loop))

    def _expire(self, running: Running, loop: asyncio.AbstractEventLoop) -> None:
        task = running.task
        if task is None or task.done():
            return
        running.stacks = describe_tasks([task, *pending_tasks(loop, running.owner)])
        task.cancel()
        running.timers.append(loop.call_later(GRACE_SECONDS, self._give_up, running))

    def _give_up(self, running: Running) -> None:
        task = running.task
        if task is None or task.done():
            return
        running.gave_up = True
        abandon_task(task)
        self._mark_done(running)

    def _task_done(self, running: Running) -> None:
        running.stop = time.time()
        running.duration = time.perf_counter() - running.clock
        for timer in running.timers:
            timer.cancel()
        self._mark_done(running)

    def _mark_done(self, running: Running) -> None:
        if running.finished:
            return
        running.finished = True
        self._finished.append(running)
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    # -- waiting and finishing ------------------------------------------------------------------
    def wait(self, *, keeper: pytest.Function | None) -> None:
        """Run the loop until a test finishes; report and tear down every finished one."""
        loop = self.loop
        if loop is None or not self.running:
            return
        if not self._ready(keeper):
            self._run_until_one_finishes(loop)
        for running in self._ready(keeper):
            self._finished.remove(running)
            self.finish(running, keeper=keeper)

    def _run_until_one_finishes(self, loop: asyncio.AbstractEventLoop) -> None:
        dog, token = self.state.watchdog, None
        deadlines = [r.deadline for r in self.running.values() if r.deadline is not None]
        if deadlines:
            token = dog.arm(max(0.0, min(deadlines) - loop.time()) + GRACE_SECONDS + 0.5)
        self._wakeup = wakeup = loop.create_future()
        # Slow callbacks are looked for while the group's tests run (the test of the task that
        # runs at the time is named).
        watch = self.state.nets.watch_blocking(loop, None)
        try:
            with self.router.routing(phase=None):
                loop.run_until_complete(wakeup)
        except Blocked:
            for running in self.running.values():
                task = running.task
                if task is not None and task.done() and isinstance(task.exception(), Blocked):
                    running.blocked = dog.stack or ""
                    self._task_done(running)
        except KeyboardInterrupt:
            self.interrupt()
            raise
        finally:
            if watch is not None:
                watch.stop()
            self._wakeup = None
            if token is not None:
                dog.disarm(token)

    def _ready(self, keeper: pytest.Function | None) -> list[Running]:
        """The finished tests that may be reported now."""
        if keeper is None and len(self.running) > 1:
            # Draining: the test admitted last is reported last, as pytest tears the module or
            # class (and their fixtures) down with the last of their tests.
            return [r for r in self._finished if r.item is not self._last]
        return list(self._finished)

    def drain(self, nextitem: pytest.Item | None) -> None:
        """Finish every running test; the last is torn down towards ``nextitem``. Then close."""
        self._final_next = nextitem
        try:
            while self.running:
                self.wait(keeper=None)
        finally:
            self._final_next = None
            self.close()

    def finish(self, running: Running, *, keeper: pytest.Function | None) -> None:
        """Report a finished test (setup, call, teardown) and tear it down."""
        with reporting_for(running.item):
            self._report(running, keeper)

    def _report(self, running: Running, keeper: pytest.Function | None) -> None:
        item, nodeid, ihook = running.item, running.nodeid, running.ihook
        location = item.location
        del self.running[item]
        output = self.router.close(nodeid)
        for name in ("stdout", "stderr"):
            item.add_report_section("call", name, "".join(getattr(output, name)))
        item.add_report_section("call", "log", "\n".join(output.log))
        ihook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        log(item, running.setup, ihook=ihook)
        running.call.outcome = self._outcome(running)
        times = (running.start, running.stop or time.time(), running.duration)
        self.phases.run(
            item, "call", lambda: ihook.pytest_runtest_call(item=item), ihook=ihook, times=times
        )
        nextitem = self._keeper(item) or keeper or self._final_next
        setup_stack.put_back(item)
        self._teardown(item, nextitem, ihook)
        ihook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
        for message in output.warnings:
            record_warning(ihook, message, nodeid)
        self._done_with(item, nodeid)

    def _teardown(self, item: pytest.Function, nextitem: pytest.Item | None, ihook: Any) -> None:
        self._phase = item.nodeid
        try:
            self.phases.teardown(item, nextitem, ihook=ihook)
        finally:
            self._phase = None

    def _outcome(self, running: Running) -> BaseException | None:
        """What the test's call delivers; the failure of a test stopped by its fixture."""
        state, task = self.state, running.task
        if state.ended_fixtures and task is not None and task.cancelled():
            message = ended.failure_of(state, running.item, started=True)
            if message is not None:
                return pytest.fail.Exception(message, pytrace=False)
        return outcome(running)

    def _done_with(self, item: pytest.Function, nodeid: str) -> None:
        self.state.active.pop(nodeid, None)
        self.router.discard(nodeid)
        setup_stack.forget_request(item)

    def _keeper(self, exclude: pytest.Function) -> pytest.Function | None:
        """Another test of the group: a ``nextitem`` that keeps the shared parents set up."""
        for item in self.running:
            if item is not exclude:
                return item
        return None

    # -- the end --------------------------------------------------------------------------------
    def close(self) -> None:
        """The group is drained or interrupted: stop routing and watching, close its loop."""
        if self._closed:
            return
        self._closed = True
        if self.state.runner.around == self._phase_routing:
            self.state.runner.around = None
        self.router.stop()
        if self._saved_loop is not None:
            restore_current_loop(self._saved_loop)
            self._saved_loop = None
        if self.own_loop is not None:
            self.state.loops.close(self.own_loop, f"the tests run together in {self.parent}")
        self.host.closed(self)

    def interrupt(self) -> None:
        """Ctrl-C: say which tests were running and where, cancel them, tear them down."""
        loop = self.loop
        running = list(self.running.values())
        lines = [f"asyncio: interrupted while {len(running)} test(s) ran together:"]
        for entry in running:
            if entry.task is not None and loop is not None:
                lines.append(f"{entry.item.nodeid} was waiting here:")
                lines.append(describe_tasks([entry.task, *pending_tasks(loop, entry.owner)]))
        self.host.say(lines)
        tasks = [e.task for e in running if e.task is not None and not e.task.done()]
        for task in tasks:
            task.cancel()
        if tasks and loop is not None and not loop.is_closed():
            with contextlib.suppress(BaseException):  # a second Ctrl-C: go on tearing down
                loop.run_until_complete(asyncio.wait(tasks, timeout=GRACE_SECONDS))
        for entry in running:
            item = entry.item
            del self.running[item]
            setup_stack.put_back(item)
            self._phase = entry.nodeid
            try:
                item.ihook.pytest_runtest_teardown(item=item, nextitem=self._keeper(item))
            except Exception as exc:  # pragma: no cover - shown, the others still run
                self.host.say([f"{item.nodeid}: teardown failed: {exc!r}"])
            finally:
                self._phase = None
            self._done_with(item, entry.nodeid)
        self.close()
