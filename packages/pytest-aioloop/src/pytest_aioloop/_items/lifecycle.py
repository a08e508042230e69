"""One asyncio test from setup to teardown: its loop, its owner, and what it left behind.

A test that does not request ``event_loop`` gets its loop here, without pytest's fixture
machinery: it is taken before the first fixture is set up (so sync fixtures see it as the
current loop) and given back after the last one is torn down. The test's call runs as a task
the test owns (:mod:`.call`); after its fixtures' teardown the nets look at what it left
pending.
"""

from __future__ import annotations

import pytest

from pytest_aioloop._compat.asyncio_internals import (
    restore_current_loop,
    save_current_loop,
    set_current_loop,
)
from pytest_aioloop._compat.pytest_internals import request_first
from pytest_aioloop._items.plan import ItemPlan, TestRun, unwrap_test_function
from pytest_aioloop._loop.chooser import explain_mismatches
from pytest_aioloop._loop.factories import LoopFactory
from pytest_aioloop._loop.kinds import LoopKind
from pytest_aioloop._loop.policy import factory_for
from pytest_aioloop._nets.findings import deliver
from pytest_aioloop._nets.loop_hygiene import check_current_loop
from pytest_aioloop._run.owners import Owner
from pytest_aioloop._run.stacks import source_location
from pytest_aioloop._session import SessionState


def begin(state: SessionState, item: pytest.Function, plan: ItemPlan) -> None:
    """Make the test's owner; hand it its loop unless ``event_loop`` does that."""
    nodeid = item.nodeid
    testrun = plan.run = TestRun(Owner("test", nodeid, nodeid))
    if "event_loop" in item.fixturenames:
        return
    if not plan.loop_from_setup:
        request_first(item, "event_loop")
        return
    kind = plan_kind(state, item, plan)
    call = plan.call
    if call is not None and call.shared_loop is not None:
        loop = testrun.loop = call.shared_loop
        testrun.release = state.loops.lend_to_test(item, loop)
    else:
        testrun.loop, testrun.release = state.loops.acquire_for_test(kind, item)
    if call is None or call.sets_current_loop:
        testrun.saved = save_current_loop()
        set_current_loop(testrun.loop)


def plan_kind(state: SessionState, item: pytest.Item, plan: ItemPlan) -> LoopKind:
    """Decide the test's loop kind once, at setup; fail it when asked to be strict."""
    if plan.kind is None:
        pin = plan.spec.loop_scope
        plan.kind, plan.mismatches = state.chooser.test_kind(
            item, pin, is_async_test=plan.is_async_test, closure=plan.closure
        )
        if plan.mismatches and pin is not None and state.settings.loop_scope_mismatch == "error":
            pytest.fail(
                explain_mismatches(item, pin, plan.mismatches)
                + "\n(asyncio_loop_scope_mismatch = error)",
                pytrace=False,
            )
    return plan.kind


def end(state: SessionState, plan: ItemPlan) -> None:
    """The test and its function-scoped fixtures are done: look at what the test left."""
    if plan.run is not None:
        state.nets.end(plan.run.owner)


def finish(state: SessionState, item: pytest.Item) -> list[str]:
    """After the teardown: give back the loop, deliver the findings; return what fails it."""
    plan: ItemPlan | None = state.plans.get(item)
    testrun = plan.run if plan is not None else None
    if plan is not None and testrun is not None:
        plan.run = None
        state.nets.end(testrun.owner)
        if testrun.loop is not None and testrun.saved is not None:
            check_current_loop(testrun.loop, testrun.saved, item.nodeid)
            restore_current_loop(testrun.saved)
        if testrun.release is not None:
            testrun.release()  # a loop of its own closes: the nets look at it first, once
    state.nets.flush()  # what the test and its fixtures left in loops that stay open
    findings = state.item_findings.get(item)
    if findings is None or not findings.items:  # the common case: nothing found
        return []
    actions, summary = state.nets.actions, state.summary
    return deliver(item, findings, actions, summary, test_where=location_of(item))


def finish_interrupted(state: SessionState, item: pytest.Item) -> None:
    """Give back the loop of a test whose teardown hooks never ran (``pytest.exit()``, Ctrl-C).

    pytest re-raises ``Exit`` and ``KeyboardInterrupt`` out of the test's call, so its
    ``pytest_runtest_teardown`` (and :func:`finish`) never runs; its fixtures are torn down at
    the session's end. Without this its loop stays open, and the current loop of the process.
    """
    plan: ItemPlan | None = state.plans.get(item)
    if plan is None or plan.run is None:
        return
    testrun = plan.run
    plan.run = None
    state.nets.end(testrun.owner)
    if testrun.saved is not None:
        restore_current_loop(testrun.saved)
    if testrun.release is not None:
        testrun.release()


def location_of(item: pytest.Item) -> tuple[str, int]:
    """Return the file and line of the test's function (where its warnings point)."""
    func, _ = unwrap_test_function(getattr(item, "obj", None))
    return source_location(func) or (str(item.path), 0)


def factory_of(
    request: pytest.FixtureRequest, item: pytest.Item | None, plan: ItemPlan | None
) -> tuple[object, LoopFactory | None]:
    """Return (key, factory) of the loops ``item`` (whose plan is ``plan``) and its fixtures
    create."""
    if item is None or plan is None:
        return factory_for(request, item)
    return factory_for(
        request,
        item,
        factory_name=plan.factory_name,
        factories=plan.factories,
        loop_from_setup=plan.loop_from_setup,
    )
