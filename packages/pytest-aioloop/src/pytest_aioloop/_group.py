"""A group of tests running at the same time in one loop: admission, waiting, reports.

See :mod:`pytest_aioloop._concurrency` for when tests form a group, and
``docs/concepts/concurrency.md`` for the design.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _compat, _slow_callbacks, _tests
from pytest_aioloop._compat import concurrent as _shared
from pytest_aioloop._loops import LoopKind
from pytest_aioloop._owners import pending_tasks
from pytest_aioloop._plan import PLAN_KEY
from pytest_aioloop._running import Running, outcome
from pytest_aioloop._stacks import describe_tasks
from pytest_aioloop._tests import MODE_KEY, OUTCOME_KEY, TASK_KEY
from pytest_aioloop._timeouts import (
    GRACE_SECONDS,
)
from pytest_aioloop._watchdog import Blocked

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._concurrency import Concurrency
else:
    from pytest_aioloop._lazy import asyncio

_TASK_NAME = re.compile(r"name='([^']+)'")


class Group:
    """Tests of one parent (module or class) running at the same time in one loop."""

    def __init__(
        self,
        driver: Concurrency,
        parent: object,
        kind: LoopKind,
        limit: int,
        own_loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.driver = driver
        self.runtime = driver.runtime
        self.parent = parent
        self.kind = kind
        self.limit = limit
        #: The group's loop, when its tests would otherwise each get a fresh one.
        self.own_loop = own_loop
        self.loop: asyncio.AbstractEventLoop | None = own_loop
        if own_loop is not None:
            self.runtime.nets.record_owners(own_loop)
        self.running: dict[pytest.Function, Running] = {}
        self._saved_loop: _compat.SavedLoop | None = None
        #: Tests whose task is done (or given up on), in the order they finished.
        self._finished: list[Running] = []
        self._wakeup: asyncio.Future[None] | None = None
        self._last: pytest.Function | None = None
        self.count = 0
        self.peak = 0
        #: Undoes the slow-callback watching of the group's loop (``None``: not watching).
        self._unwatch: Callable[[], None] | None = None

    def accepts(self, item: pytest.Function, kind: LoopKind, limit: int) -> bool:
        """Whether ``item`` can join: same parent, same loop, same limit."""
        return item.parent is self.parent and kind == self.kind and limit == self.limit

    # -- admission ------------------------------------------------------------------------
    def admit(self, item: pytest.Function, nextitem: pytest.Item | None) -> None:
        """Set ``item`` up and start it, once there is room (finishing others meanwhile)."""
        while len(self.running) >= self.limit:
            self.wait(keeper=item)
        if self.driver.stopping(item):
            return  # -x / --maxfail: nothing new starts
        runtime, ihook, nodeid = self.runtime, item.ihook, item.nodeid
        runtime.active[nodeid] = item
        self.driver.router.open(nodeid)
        item.stash[_tests.IN_GROUP_KEY] = True
        if self.own_loop is not None:
            item.stash[_tests.GROUP_LOOP_KEY] = self.own_loop
        _shared.own_function_fixtures(item)
        setup = self.driver.phase(
            item, "setup", lambda: ihook.pytest_runtest_setup(item=item), ihook=ihook
        )
        runtime.current_item = None
        if not setup.passed:
            self._report_early(item, setup, nextitem, ihook)
            return
        _shared.set_aside(item)
        testrun = item.stash[_tests.RUN_KEY]
        if self.loop is None:
            self.loop = testrun.loop
        if self._saved_loop is None:  # the group's first test
            self._saved_loop = _compat.save_current_loop()
            assert self.loop is not None
            runtime.nets.record_owners(self.loop)
        loop = self.loop
        assert loop is not None
        _compat.set_current_loop(loop)  # for sync code of the group's tests and fixtures
        self._watch_slow_callbacks(loop)
        running = Running(item, testrun.owner, setup, nodeid, ihook)
        running.start, running.clock = time.time(), time.perf_counter()
        item.stash[MODE_KEY] = "start"
        try:
            ihook.pytest_pyfunc_call(pyfuncitem=item)
            running.task = item.stash[TASK_KEY]
        except BaseException as exc:  # the call could not start: it fails with that error
            running.start_error = exc
            self._mark_done(running)
        finally:
            del item.stash[MODE_KEY]
            if TASK_KEY in item.stash:
                del item.stash[TASK_KEY]
        if running.task is not None:
            running.task.add_done_callback(lambda _: self._task_done(running))
            self._arm(running, loop)
        self.running[item] = running
        self._last = item
        self.count += 1
        self.peak = max(self.peak, len(self.running))

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
        with _shared.reporting_for(item):
            ihook.pytest_runtest_logstart(nodeid=nodeid, location=location)
            self.driver.log(item, setup, ihook=ihook)
            self.driver.phase(
                item,
                "teardown",
                lambda: ihook.pytest_runtest_teardown(item=item, nextitem=keeper),
                ihook=ihook,
            )
            ihook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
        self._done_with(item, nodeid)

    # -- timeouts ---------------------------------------------------------------------------
    def _arm(self, running: Running, loop: asyncio.AbstractEventLoop) -> None:
        plan = running.item.stash[PLAN_KEY]
        settings = self.runtime.settings
        timeout = plan.spec.timeout if plan.spec.has_timeout else settings.timeout
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
        _compat.abandon_task(task)
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
            dog, token = self.driver.runtime.watchdog, None
            deadlines = [r.deadline for r in self.running.values() if r.deadline is not None]
            if deadlines:
                token = dog.arm(max(0.0, min(deadlines) - loop.time()) + GRACE_SECONDS + 0.5)
            self._wakeup = wakeup = loop.create_future()
            try:
                with self.driver.router.routing(phase=None):
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
                self._wakeup = None
                if token is not None:
                    dog.disarm(token)
        for running in self._ready(keeper):
            self._finished.remove(running)
            self.finish(running, keeper=keeper)

    def _ready(self, keeper: pytest.Function | None) -> list[Running]:
        """The finished tests that may be reported now."""
        if keeper is None and len(self.running) > 1:
            # Draining: the test admitted last is reported last, as pytest tears the module or
            # class (and their fixtures) down with the last of their tests.
            return [r for r in self._finished if r.item is not self._last]
        return list(self._finished)

    def finish(self, running: Running, *, keeper: pytest.Function | None) -> None:
        """Report a finished test (setup, call, teardown) and tear it down."""
        with _shared.reporting_for(running.item):
            self._finish(running, keeper)

    def _finish(self, running: Running, keeper: pytest.Function | None) -> None:
        item, nodeid, ihook, location = (
            running.item,
            running.nodeid,
            running.ihook,
            running.item.location,
        )
        del self.running[item]
        output = self.driver.router.close(nodeid)
        for name in ("stdout", "stderr"):
            item.add_report_section("call", name, "".join(getattr(output, name)))
        item.add_report_section("call", "log", "\n".join(output.log))
        ihook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        self.driver.log(item, running.setup, ihook=ihook)
        item.stash[MODE_KEY] = "deliver"
        item.stash[OUTCOME_KEY] = outcome(running)
        try:
            self.driver.phase(
                item,
                "call",
                lambda: ihook.pytest_runtest_call(item=item),
                ihook=ihook,
                times=(running.start, running.stop or time.time(), running.duration),
            )
        finally:
            del item.stash[MODE_KEY]
            del item.stash[OUTCOME_KEY]
        nextitem = self._next_for_teardown(item, keeper)
        _shared.put_back(item)
        self.driver.phase(
            item,
            "teardown",
            lambda: ihook.pytest_runtest_teardown(item=item, nextitem=nextitem),
            ihook=ihook,
        )
        ihook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
        for message in output.warnings:
            ihook.pytest_warning_recorded.call_historic(
                kwargs={
                    "warning_message": message,
                    "when": "runtest",
                    "nodeid": nodeid,
                    "location": None,
                }
            )
        self._done_with(item, nodeid)

    def _done_with(self, item: pytest.Function, nodeid: str) -> None:
        self.runtime.active.pop(nodeid, None)
        self.driver.router.close(nodeid)
        _shared.forget_request(item)

    def _keeper(self, exclude: pytest.Function) -> pytest.Function | None:
        """Another test of the group: a ``nextitem`` that keeps the shared parents set up."""
        for item in self.running:
            if item is not exclude:
                return item
        return None

    def _next_for_teardown(
        self, item: pytest.Function, keeper: pytest.Function | None
    ) -> pytest.Item | None:
        return self._keeper(item) or keeper or self.driver.final_next

    # -- slow callbacks -----------------------------------------------------------------------
    def _watch_slow_callbacks(self, loop: asyncio.AbstractEventLoop) -> None:
        threshold = self.runtime.settings.slow_callback
        if threshold is None or self._unwatch is not None:
            return
        self._unwatch = _slow_callbacks.watch(loop, threshold, self._slow_callback)

    def _slow_callback(self, line: str) -> None:
        # asyncio names the slow handle; a test's own task carries the test's node id.
        match = _TASK_NAME.search(line)
        item = self.runtime.active.get(match.group(1)) if match else None
        owner = item.stash[_tests.RUN_KEY].owner if item is not None else None
        self.runtime.nets.record_slow(owner, line)

    # -- the end --------------------------------------------------------------------------------
    def close(self) -> None:
        """The group is drained: stop watching, close its own loop."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if self._saved_loop is not None:
            _compat.restore_current_loop(self._saved_loop)
            self._saved_loop = None
        if self.own_loop is not None:
            self.runtime.loops.close(self.own_loop, f"the tests run together in {self.parent}")

    def interrupt(self) -> None:
        """Ctrl-C: say which tests were running and where, cancel them, tear them down."""
        loop = self.loop
        running = list(self.running.values())
        lines = [f"asyncio: interrupted while {len(running)} test(s) ran together:"]
        for entry in running:
            if entry.task is not None and loop is not None:
                lines.append(f"{entry.item.nodeid} was waiting here:")
                lines.append(describe_tasks([entry.task, *pending_tasks(loop, entry.owner)]))
        self.driver.say(lines)
        tasks = [e.task for e in running if e.task is not None and not e.task.done()]
        for task in tasks:
            task.cancel()
        if tasks and loop is not None and not loop.is_closed():
            with contextlib.suppress(BaseException):  # a second Ctrl-C: go on tearing down
                loop.run_until_complete(asyncio.wait(tasks, timeout=GRACE_SECONDS))
        for entry in running:
            item = entry.item
            del self.running[item]
            nextitem = self._keeper(item)
            _shared.put_back(item)
            try:
                item.ihook.pytest_runtest_teardown(item=item, nextitem=nextitem)
            except Exception as exc:  # pragma: no cover - shown, the others still run
                self.driver.say([f"{item.nodeid}: teardown failed: {exc!r}"])
            self._done_with(item, entry.nodeid)
        self.driver.group = None
        self.close()
