"""One test of a group, step by step: setup, start, call, teardown, reports.

The group runs :func:`set_up` and :func:`tear_down` in the test's lane (``.lanes``), where a
fixture step that waits lets the group go on, or in the main flow when there are no lanes. A
test's reports are logged together when its teardown ends, so the terminal never interleaves
two tests. The group's last test in pytest's order carries the teardown of the module or class,
as without concurrency: if it ends while others still run, its own fixtures are torn down at
once, and the rest waits for the others (:func:`release_held`), reported as one teardown.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat import capture, setup_stack
from pytest_aioloop._compat.pytest_internals import extend_report_section, record_warning
from pytest_aioloop._compat.xdist import reporting_for
from pytest_aioloop._concurrency.conflicts import Attempt, first_error
from pytest_aioloop._concurrency.lanes import Lanes
from pytest_aioloop._concurrency.parents import Parents
from pytest_aioloop._concurrency.patches import Patches
from pytest_aioloop._concurrency.phases import Phases, log
from pytest_aioloop._concurrency.routing import Router
from pytest_aioloop._concurrency.running import Running, outcome, stalled
from pytest_aioloop._items import ended
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio


class TestFlow(Parents):
    """The steps of one test of a group (a part of :class:`~.group.Group`)."""

    router: Router
    phases: Phases
    state: SessionState
    lanes: Lanes | None
    host: Any
    setting_up: int
    phase: str | None
    patches: Patches
    reported_at: dict[pytest.Function, int]

    def in_lane(self, running: Running, step: Callable[..., None], *args: Any) -> None:
        """Run ``step(running, *args)``: in a lane of its own, or here (no lanes, or no need)."""
        lanes = self.lanes
        if lanes is None or not running.in_lane:
            step(running, *args)
            return
        lane = lanes.start(running.item, lambda: step(running, *args))
        output = self.router.outputs.get(running.nodeid)
        if output is not None:
            output.lane = lane
        lanes.enter(lane)

    def _last_to_end(self, running: Running) -> bool:
        """Whether no other test of the group runs (the held one is torn down already)."""
        held = self.held
        return all(other is running or other is held for other in self.running.values())

    def done_with(self, running: Running) -> None:
        """``running`` is reported: it leaves the group."""
        item, nodeid = running.item, running.nodeid
        self.running.pop(item, None)
        self.reported_at[item] = len(self.members)
        self.state.active.pop(nodeid, None)
        self.router.discard(nodeid)
        setup_stack.forget_request(item)
        self.state.plans[item].call = None  # its task, coroutine and context go with it

    def use_loop(self, item: pytest.Function) -> asyncio.AbstractEventLoop:
        """The group's loop, made current (see the group)."""
        raise NotImplementedError

    def mark_done(self, running: Running) -> None:
        """Queue ``running`` for its teardown (see the group)."""
        raise NotImplementedError

    def task_done(self, running: Running) -> None:
        """The test's task ended (see the group)."""
        raise NotImplementedError

    def arm(self, running: Running, loop: asyncio.AbstractEventLoop) -> None:
        """Arm the test's timeout (see the group)."""
        raise NotImplementedError

    def set_up(self, running: Running) -> None:
        """pytest's setup phase of the test; then its task starts (or, failed, its teardown)."""
        item, ihook, nodeid = running.item, running.ihook, running.nodeid
        output = self.router.outputs[nodeid]
        self.setting_up += 1
        if not running.in_lane:
            self.phase = nodeid
        try:
            report, _ = self.phases.run(
                item,
                "setup",
                functools.partial(ihook.pytest_runtest_setup, item=item),
                ihook=ihook,
                output=output,
            )
        finally:
            self.setting_up -= 1
            self.phase = None
            if self.exclusive is running:
                self.exclusive = None
            self.state.current_item = None
        running.reports.append((report, None))
        self.patches.defer(item, running.index, self._last_to_end, running)
        if not report.passed:
            output.when = "teardown"
            self.tear_down(running, self.nextitem_of(running, running.nextitem))
            return
        output.when = "call"
        output.lane = None
        if not running.in_lane:
            setup_stack.set_aside(item)
        self._start(running)

    def _start(self, running: Running) -> None:
        """Start the test's task through pytest's call hook, in the group's loop."""
        item = running.item
        loop = self.use_loop(item)
        running.start, running.clock = time.time(), time.perf_counter()
        state = self.state
        if state.ended_fixtures:
            message = ended.failure_of(state, item, started=False)
            if message is not None:
                running.start_error = pytest.fail.Exception(message, pytrace=False)
                self.mark_done(running)
                return
        try:
            running.ihook.pytest_pyfunc_call(pyfuncitem=item)
        except BaseException as exc:  # the call could not start: it fails with that error
            running.start_error = exc
            self.mark_done(running)
        task = running.call.task
        if task is not None:
            task.add_done_callback(lambda _: self.task_done(running))
            self.arm(running, loop)

    def finish(self, running: Running, keeper: pytest.Function | None) -> None:
        """The test's task is done: its call's report, then its teardown (in its lane)."""
        item, ihook = running.item, running.ihook
        output = self.router.outputs[running.nodeid]
        running.call.outcome = self._outcome(running)
        times = (running.start, running.stop or time.time(), running.duration)
        report, call = self.phases.run(
            item,
            "call",
            functools.partial(ihook.pytest_runtest_call, item=item),
            ihook=ihook,
            times=times,
            output=output,
        )
        running.reports.append((report, call))
        output.when = "teardown"
        self.in_lane(running, self.tear_down, self.nextitem_of(running, keeper))

    def _outcome(self, running: Running) -> BaseException | None:
        """What the test's call delivers; the failure of a test stopped by its fixture."""
        state, task = self.state, running.call.task
        if state.ended_fixtures and task is not None and task.cancelled():
            message = ended.failure_of(state, running.item, started=True)
            if message is not None:
                return pytest.fail.Exception(message, pytrace=False)
        return outcome(running)

    def tear_down(self, running: Running, nextitem: pytest.Item | None) -> None:
        """pytest's teardown phase of the test, towards ``nextitem``; then its reports."""
        item, ihook = running.item, running.ihook
        output = self.router.outputs[running.nodeid]
        setup_stack.put_back(item)
        running.towards = nextitem
        if not running.in_lane:
            self.phase = running.nodeid
        try:
            if self.held is running:  # reported once the module's or class's teardown is done
                running.held_call = self._call(item, ihook, nextitem)
                return
            teardown: Callable[[], object] = functools.partial(
                ihook.pytest_runtest_teardown, item=item, nextitem=nextitem
            )
            if running.left:  # the last test of a parent the group left ends it, as pytest would
                teardown = functools.partial(_then_end, teardown, self.ending, running)
            report, call = self.phases.run(item, "teardown", teardown, ihook=ihook, output=output)
        finally:
            self.phase = None
            output.lane = None
        running.reports.append((report, call))
        self.log_reports(running)

    def _call(self, item: pytest.Function, ihook: Any, nextitem: pytest.Item | None) -> Any:
        return pytest.CallInfo.from_call(
            lambda: ihook.pytest_runtest_teardown(item=item, nextitem=nextitem),
            when="teardown",
            reraise=self.phases.reraise,
        )

    def release_held(self) -> None:
        """When the held test is the last one left, end the module or class with its teardown."""
        held = self.held
        if held is None or len(self.running) > 1:
            return
        if self.lanes is not None and self.lanes.paused():
            return
        self.held = None
        self.in_lane(held, self._end_of_parents)

    def _end_of_parents(self, held: Running) -> None:
        item, ihook = held.item, held.ihook
        output = self.router.outputs[held.nodeid]
        first = held.held_call
        assert first is not None
        config = self.state.config
        towards = held.towards = self.keep_for_reruns(held, self.final_next)
        capture.resume(config, "", "")
        try:
            second = pytest.CallInfo.from_call(
                lambda: setup_stack.tear_down_rest(item, towards),
                when="teardown",
                reraise=self.phases.reraise,
            )
        finally:
            out, err = capture.pause(config)
        extend_report_section(item, "teardown", "stdout", out)
        extend_report_section(item, "teardown", "stderr", err)
        errors = [c.excinfo.value for c in (second, first) if c.excinfo is not None]

        def raise_both() -> None:
            setup_stack.raise_teardown_errors(errors)

        output.lane = None
        report, call = self.phases.run(
            item,
            "teardown",
            raise_both,
            ihook=ihook,
            times=(first.start, second.stop, first.duration + second.duration),
            output=output,
        )
        held.reports.append((report, call))
        self.log_reports(held)

    def tear_down_now(self, running: Running) -> None:
        """Ctrl-C (or nothing left to run): tear the test down here, without its reports."""
        item = running.item
        setup_stack.put_back(item)
        self.phase = running.nodeid
        try:
            item.ihook.pytest_runtest_teardown(item=item, nextitem=self.keeper(running))
            setup_stack.end_left(item.session, self.ending(running))
        except Exception as exc:  # pragma: no cover - shown, the others still run
            self.host.say([f"{item.nodeid}: teardown failed: {exc!r}"])
        finally:
            self.phase = None
        self.done_with(running)

    def _rerun_later(self, running: Running) -> bool:
        """Keep a test that failed beside others for a run alone (``conflicts``), if it did.

        Not when its teardown ended its module or class: running it alone would set them up
        a second time.
        """
        conflicts, towards = self.conflicts, running.towards
        if conflicts is None or towards is None:
            return False
        if running.item.parent is self.parent and towards.parent is not self.parent:
            return False
        error = first_error(running.reports)
        beside = self.beside(running) if error is not None else None
        if not beside:
            return False
        if running.stalled is not None:
            error = stalled(running)
        assert error is not None
        output = self.router.outputs.get(running.nodeid)
        warned = list(output.warnings) if output is not None else []
        # If the run ends before it runs again (Ctrl-C), this attempt is reported after all.
        log_first = lambda: _log(running, warned)  # noqa: E731 - kept until it runs again
        conflicts.hold(Attempt(running.item, running.index, beside, error, log_first))
        return True

    def log_reports(self, running: Running) -> None:
        """Log the test's reports together, as pytest's runner logs them; it leaves the group.

        A test that failed beside others is not logged: it runs again alone (``conflicts``).
        """
        if not self._rerun_later(running):
            output = self.router.outputs.get(running.nodeid)
            _log(running, output.warnings if output is not None else ())
        self.done_with(running)


def _then_end(
    teardown: Callable[[], object],
    ending: Callable[[Running], list[Any]],
    running: Running,
) -> None:
    """Run the test's ``teardown``; then end the parents the group left that no other running
    test of theirs needs any more (``ending``).

    Errors of both are raised as pytest raises those of one teardown.
    """
    errors: list[BaseException] = []
    try:
        teardown()
    except setup_stack.CAUGHT as exc:
        errors.append(exc)
    try:
        setup_stack.end_left(running.item.session, ending(running))
    except setup_stack.CAUGHT as exc:
        errors.append(exc)
    setup_stack.raise_teardown_errors(errors[::-1])


def _log(running: Running, warned: Iterable[warnings.WarningMessage]) -> None:
    """Log the test's reports and warnings, as pytest's runner does."""
    item, ihook, nodeid = running.item, running.ihook, running.nodeid
    location = item.location
    with reporting_for(item):
        ihook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        for report, call in running.reports:
            log(item, report, call, ihook=ihook)
        ihook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
    for message in warned:
        record_warning(ihook, message, nodeid)
