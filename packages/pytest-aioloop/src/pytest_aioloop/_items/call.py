"""A test's call, one test after the other: pytest's call runs the coroutine in the test's loop.

:data:`SERIAL` is the :class:`~pytest_aioloop._items.plan.CallStrategy` of every asyncio test
that does not run in a group of concurrent tests. Also here: what both strategies do when the
call ends (a failure the nets found during it, the explanation of a "different loop" error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.asyncio_internals import set_current_loop
from pytest_aioloop._compat.pytest_internals import funcarg, replace_test_function
from pytest_aioloop._compat.unawaited import origins_back, origins_on
from pytest_aioloop._items import ended
from pytest_aioloop._items.lifecycle import plan_kind
from pytest_aioloop._items.plan import ItemPlan, TestRun, unwrap_test_function
from pytest_aioloop._loop.chooser import DIFFERENT_LOOP, explain_mismatches
from pytest_aioloop._run.stacks import add_note
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._loop.virtual_time import VirtualClock

#: The fixture that reads and moves the virtual clock; a test that asks for it runs in it.
VIRTUAL_CLOCK = "virtual_clock"


class SerialCall:
    """Run the test's coroutine to its end inside pytest's call, in the test's own loop."""

    shared_loop: asyncio.AbstractEventLoop | None = None
    sets_current_loop = True

    def install(
        self, state: SessionState, item: pytest.Function, plan: ItemPlan
    ) -> Callable[[], None]:
        """Make pytest's call of the test run its coroutine in its loop; return the undo."""
        testrun = plan.run
        assert testrun is not None  # set at the test's setup
        loop = _loop_of(state, item, plan, testrun)
        owner = testrun.owner
        original = item.obj
        found, hypothesis = unwrap_test_function(original)
        inner: Callable[..., Any] = found  # type: ignore[assignment]
        runner, nets = state.runner, state.nets
        timeout = plan.spec.timeout_or(state.settings.timeout)
        nets.begin(owner, loop)
        track_origins = state.track_origins
        clock = _virtual_clock(state, item, plan, loop)

        def run_test(*args: object, **kwargs: object) -> None:
            if state.ended_fixtures:
                fail_if_a_fixture_ended(state, item, started=False)
            call_ended = nets.call_started(owner, loop)
            coro = inner(*args, **kwargs)
            depth = origins_on() if track_origins else -1  # where the test creates coroutines
            if clock is not None:
                clock.users += 1
            try:
                runner.run_test(loop, coro, owner=owner, timeout=timeout)
            except Exception as exc:
                explain_different_loop(exc, item, plan)
                raise
            except BaseException:
                if state.ended_fixtures:  # its task was cancelled because a fixture ended
                    fail_if_a_fixture_ended(state, item, started=True)
                raise
            finally:
                if clock is not None:
                    clock.users -= 1
                if depth >= 0:
                    origins_back(depth)
                call_ended()
            fail_on_call_findings(state, item)

        if hypothesis:
            original.hypothesis.inner_test = run_test

            def undo() -> None:
                original.hypothesis.inner_test = inner

            return undo
        return replace_test_function(item, run_test, original)


#: The strategy of tests that run one after the other.
SERIAL = SerialCall()


def wants_virtual_time(state: SessionState, item: pytest.Item, plan: ItemPlan) -> bool:
    """Whether the test's call runs in virtual time: its marker says so, else the ini option
    or its asking for the virtual_clock fixture do."""
    marked = plan.spec.virtual_time
    if marked is not None:
        return marked
    return state.settings.virtual_time or VIRTUAL_CLOCK in getattr(item, "fixturenames", ())


def _virtual_clock(
    state: SessionState, item: pytest.Function, plan: ItemPlan, loop: asyncio.AbstractEventLoop
) -> VirtualClock | None:
    """The clock of the test's loop if the test runs in virtual time; fail it if it cannot."""
    if not wants_virtual_time(state, item, plan):
        return None
    from pytest_aioloop._loop.virtual_time import VirtualTimeError

    try:
        return state.virtual_clock(loop)
    except VirtualTimeError as exc:
        pytest.fail(f"{item.nodeid} asks for virtual time, but {exc}", pytrace=False)


def _loop_of(
    state: SessionState, item: pytest.Function, plan: ItemPlan, testrun: TestRun
) -> asyncio.AbstractEventLoop:
    """The test's loop; a fresh one if a sync fixture closed it before the call."""
    loop = testrun.loop
    if loop is None:
        found: asyncio.AbstractEventLoop = funcarg(item, "event_loop")
        return found
    if loop.is_closed() and testrun.release is not None:
        # A sync fixture closed "the current loop", which was the test's: nothing of the
        # test ran in it yet, so it gets a fresh one (pytest-asyncio makes it only now).
        state.loops.given_up.add(loop)
        testrun.release()
        kind = plan_kind(state, item, plan)
        testrun.loop, testrun.release = state.loops.acquire_for_test(kind, item)
        set_current_loop(testrun.loop)
        return testrun.loop
    return loop


def fail_if_a_fixture_ended(state: SessionState, item: pytest.Item, *, started: bool) -> None:
    """Fail the test if an async fixture it uses ended early (``_items.ended``)."""
    message = ended.failure_of(state, item, started=started)
    if message is not None:
        pytest.fail(message, pytrace=False)


def fail_on_call_findings(state: SessionState, item: pytest.Item) -> None:
    """Fail the call with what the nets found during it and were told to fail on."""
    findings = state.item_findings.get(item)
    if findings is None:  # the common case: nothing found
        return
    failures = findings.take_call_failures(state.nets.actions)
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def explain_different_loop(exc: BaseException, item: pytest.Item, plan: ItemPlan) -> None:
    """Add our explanation to a "different loop" error of a test pinned to another loop."""
    pin = plan.spec.loop_scope
    if not plan.mismatches or pin is None:
        return
    if any(text in str(exc) for text in DIFFERENT_LOOP):
        add_note(exc, explain_mismatches(item, pin, plan.mismatches))
