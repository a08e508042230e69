"""One asyncio test from setup to teardown: its loop, its call, and what it left behind.

A test that does not request ``event_loop`` gets its loop here, without pytest's fixture
machinery: it is taken before the first fixture is set up (so sync fixtures see it as the
current loop) and given back after the last one is torn down. The test's call runs as a task
the test owns; after its fixtures' teardown the nets look at what it left pending.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _compat
from pytest_aioloop._choice import DIFFERENT_LOOP, explain_mismatches
from pytest_aioloop._factories import FactoriesError, factories_for
from pytest_aioloop._loops import LoopKind, close_loop, nothing
from pytest_aioloop._owners import Owner
from pytest_aioloop._plan import (
    PLAN_KEY,
    ItemPlan,
    collector_facts,
    plan_item,
    unwrap_test_function,
)
from pytest_aioloop._reports import AioloopWarning, deliver, warn
from pytest_aioloop._runner import owned_context, run
from pytest_aioloop._runtime import FINDINGS_KEY, Runtime

if TYPE_CHECKING:
    import asyncio


@dataclasses.dataclass
class TestRun:
    """The loop and owner of one asyncio test, from its setup to its teardown."""

    owner: Owner
    #: The loop pytest-aioloop handed out without a fixture (``None``: ``event_loop`` did).
    loop: asyncio.AbstractEventLoop | None = None
    release: Callable[[], None] | None = None
    saved: _compat.SavedLoop | None = None


RUN_KEY = pytest.StashKey[TestRun]()
#: The loop a test running concurrently shares with its group (instead of a loop of its own).
GROUP_LOOP_KEY = pytest.StashKey["asyncio.AbstractEventLoop"]()
#: Set for a test that runs concurrently: its group, not the test, sets the current loop.
IN_GROUP_KEY = pytest.StashKey[bool]()
#: How pytest's call of a test that runs concurrently is used: "start" or "deliver".
MODE_KEY = pytest.StashKey[str]()
#: The task of a test being started (set by the call's "start" mode).
TASK_KEY = pytest.StashKey["asyncio.Task[Any]"]()
#: The outcome a test's call delivers to pytest ("deliver" mode).
OUTCOME_KEY = pytest.StashKey["BaseException | None"]()


def begin(runtime: Runtime, item: pytest.Function, plan: ItemPlan) -> None:
    """Make the test's owner; hand it its loop unless ``event_loop`` does that."""
    testrun = TestRun(Owner("test", item.nodeid, item.nodeid))
    item.stash[RUN_KEY] = testrun
    if "event_loop" in item.fixturenames:
        return
    if plan.direct:
        kind = plan_kind(runtime, item, plan)
        group_loop = item.stash.get(GROUP_LOOP_KEY, None)
        if group_loop is not None:
            loop, release = group_loop, nothing
        else:
            loop, release = runtime.acquire_direct(kind, item)
        testrun.loop, testrun.release = loop, release
        if IN_GROUP_KEY not in item.stash:
            testrun.saved = _compat.save_current_loop()
            _compat.set_current_loop(loop)
    else:
        item.fixturenames.insert(0, "event_loop")


def plan_kind(runtime: Runtime, item: pytest.Item, plan: ItemPlan) -> LoopKind:
    """Decide the test's loop kind once, at setup; fail it when asked to be strict."""
    if plan.kind is None:
        pin = plan.spec.loop_scope
        plan.kind, plan.mismatches = runtime.chooser.test_kind(
            item, pin, is_async_test=plan.is_async_test
        )
        if plan.mismatches and pin is not None and runtime.settings.loop_scope_mismatch == "error":
            pytest.fail(
                explain_mismatches(item, pin, plan.mismatches)
                + "\n(asyncio_loop_scope_mismatch = error)",
                pytrace=False,
            )
    return plan.kind


def wrap_call(runtime: Runtime, item: pytest.Function, plan: ItemPlan) -> Callable[[], None]:
    """Make pytest's call of the test run its coroutine in its loop; return the undo."""
    testrun = item.stash[RUN_KEY]
    if testrun.loop is not None and testrun.loop.is_closed() and testrun.release is not None:
        # A sync fixture closed "the current loop", which was the test's: nothing of the
        # test ran in it yet, so it gets a fresh one (pytest-asyncio makes it only now).
        runtime.loops.given_up.add(testrun.loop)
        testrun.release()
        testrun.loop, testrun.release = runtime.acquire_direct(plan_kind(runtime, item, plan), item)
        _compat.set_current_loop(testrun.loop)
    loop: asyncio.AbstractEventLoop = (
        testrun.loop if testrun.loop is not None else item.funcargs["event_loop"]  # type: ignore[assignment]
    )
    owner = testrun.owner
    original = item.obj
    found, hypothesis = unwrap_test_function(original)
    inner: Callable[..., Any] = found  # type: ignore[assignment]
    settings, nets = runtime.settings, runtime.nets
    timeout = plan.spec.timeout if plan.spec.has_timeout else settings.timeout
    nets.begin(owner, loop)

    def run_test(*args: object, **kwargs: object) -> None:
        with nets.watching_call(owner, loop):
            try:
                run(
                    loop,
                    inner(*args, **kwargs),
                    owner=owner,
                    timeout=timeout,
                    what="The test",
                    name=owner.name,
                    watchdog=runtime.watchdog,
                    on_give_up=runtime.loops.given_up.add,
                )
            except Exception as exc:
                if plan.mismatches and plan.spec.loop_scope is not None:
                    _explain(exc, explain_mismatches(item, plan.spec.loop_scope, plan.mismatches))
                raise
        findings = item.stash.get(FINDINGS_KEY, None)
        failures = findings.take_call_failures(nets.actions) if findings is not None else []
        if failures:
            pytest.fail("\n\n".join(failures), pytrace=False)

    if hypothesis:
        original.hypothesis.inner_test = run_test

        def undo() -> None:
            original.hypothesis.inner_test = inner

        return undo
    item.obj = run_test

    def restore() -> None:
        item.obj = original

    return restore


def start_call(
    runtime: Runtime,
    item: pytest.Function,
    plan: ItemPlan,
    started: Callable[[asyncio.Task[Any]], None],
) -> Callable[[], None]:
    """Make pytest's call of the test start its coroutine as a task and return at once.

    For tests that run concurrently: ``started`` gets the task; the call's outcome is handed
    to pytest later, by :func:`deliver_call`.
    """
    testrun = item.stash[RUN_KEY]
    loop = testrun.loop
    assert loop is not None  # concurrent tests always get their loop without a fixture
    owner = testrun.owner
    original = item.obj
    inner: Callable[..., Any] = unwrap_test_function(original)[0]  # type: ignore[assignment]
    runtime.nets.begin(owner, loop)
    runtime.nets.running.add(owner)

    def start(*args: object, **kwargs: object) -> None:
        coro = inner(*args, **kwargs)
        try:
            task = owned_context(owner).run(loop.create_task, coro, name=owner.name)
        except BaseException:
            coro.close()
            raise
        started(task)

    item.obj = start

    def restore() -> None:
        item.obj = original

    return restore


def deliver_call(
    runtime: Runtime, item: pytest.Function, plan: ItemPlan, outcome: BaseException | None
) -> Callable[[], None]:
    """Make pytest's call of a test that ran concurrently raise its outcome (or return)."""
    owner = item.stash[RUN_KEY].owner
    original = item.obj

    def deliver(*args: object, **kwargs: object) -> None:
        runtime.nets.running.discard(owner)
        if outcome is not None:
            if plan.mismatches and plan.spec.loop_scope is not None:
                _explain(outcome, explain_mismatches(item, plan.spec.loop_scope, plan.mismatches))
            raise outcome
        findings = item.stash.get(FINDINGS_KEY, None)
        failures = findings.take_call_failures(runtime.nets.actions) if findings else []
        if failures:
            pytest.fail("\n\n".join(failures), pytrace=False)

    item.obj = deliver

    def restore() -> None:
        item.obj = original

    return restore


def _explain(exc: BaseException, explanation: str) -> None:
    """Add our explanation to a "different loop" error, shown under its traceback."""
    if not any(text in str(exc) for text in DIFFERENT_LOOP):
        return
    if sys.version_info >= (3, 11):
        exc.add_note(explanation)
    else:  # pragma: no cover - Python 3.10: pytest shows __notes__ as well
        exc.__notes__ = [*getattr(exc, "__notes__", []), explanation]  # type: ignore[attr-defined]


def end(runtime: Runtime, item: pytest.Item) -> None:
    """The test and its function-scoped fixtures are done: look at what the test left."""
    testrun = item.stash.get(RUN_KEY, None)
    if testrun is not None:
        runtime.nets.end(testrun.owner)


def finish(runtime: Runtime, item: pytest.Item) -> list[str]:
    """After the teardown: give back the loop, deliver the findings; return what fails it."""
    testrun = item.stash.get(RUN_KEY, None)
    if testrun is not None:
        del item.stash[RUN_KEY]
        runtime.nets.end(testrun.owner)
        if testrun.loop is not None and testrun.release is not None:
            if testrun.saved is not None:
                check_current_loop(testrun.loop, testrun.saved, item.nodeid)
                _compat.restore_current_loop(testrun.saved)
            testrun.release()
    findings = item.stash.get(FINDINGS_KEY, None)
    if findings is None or not findings.items:
        return []
    return deliver(item, findings, runtime.nets.actions, test_where=location_of(item))


def location_of(item: pytest.Item) -> tuple[str, int]:
    """Return the file and line of the test's function (where its warnings point)."""
    obj = getattr(item, "obj", None)
    func, _ = unwrap_test_function(obj)
    raw: Any = getattr(func, "__func__", func)
    code = getattr(inspect.unwrap(raw) if callable(raw) else raw, "__code__", None)
    if code is not None:
        return code.co_filename, code.co_firstlineno
    return str(item.path), 0


def check_current_loop(
    ours: asyncio.AbstractEventLoop, saved: _compat.SavedLoop | None, what: str
) -> None:
    """Warn about, and close, a loop that the test installed and left open."""
    current = _compat.current_loop()
    before = saved[1] if saved is not None else None
    if current is None or current is ours or current is before or current.is_closed():
        return
    close_loop(current)
    warn(
        AioloopWarning(
            f"pytest-aioloop detected an unclosed event loop when tearing down {what}: the test "
            f"or a fixture made {current!r} the current loop with asyncio.set_event_loop() and "
            "did not close it; pytest-aioloop closed it. Close loops you create, or use "
            "asyncio.run() or asyncio.Runner for a loop of your own."
        )
    )


def plan_at_setup(runtime: Runtime, item: pytest.Item) -> ItemPlan | None:
    """Decide, once per test and at its setup, whether and how pytest-aioloop runs it.

    Deciding at setup rather than at collection spares ``--collect-only``, deselected tests and
    xdist workers (which each collect the whole suite) the work, and sees markers that other
    plugins add in ``pytest_collection_modifyitems``.
    """
    plan = item.stash.get(PLAN_KEY, None)
    if plan is not None:
        return plan
    plan = plan_item(item, runtime.settings, runtime.marker_specs)
    if not (plan.is_async_test or plan.is_async_gen_test or plan.marked_not_async):
        return None
    item.stash[PLAN_KEY] = plan
    if plan.marked_not_async:
        item.warn(
            pytest.PytestWarning(
                f"The test {item} is marked with '@pytest.mark.asyncio' but it is not an async "
                "function. It runs as a normal test: remove the marker (check the module's or "
                "class's pytestmark too), or make the test 'async def'."
            )
        )
        return plan
    facts = collector_facts(item.parent) if item.parent is not None else None
    hooked = facts.factories_hooked if facts is not None else False
    callspec = getattr(item, "callspec", None)
    if plan.error is None and plan.spec.loop_factories and not hooked:
        plan.error = (
            f"{item.nodeid}: mark.asyncio 'loop_factories' requires at least one "
            "pytest_asyncio_loop_factories hook implementation.\nImplement the hook in a "
            "conftest.py or plugin, returning a mapping of names to loop factories."
        )
    if callspec is not None and "_aioloop_factory" in callspec.params:
        plan.factory_name = callspec.params["_aioloop_factory"]
    elif hooked and plan.is_async_test and plan.error is None:
        try:
            factories = plan.factories = factories_for(item)
        except FactoriesError as exc:
            plan.error = str(exc)
        else:
            wanted = list(plan.spec.loop_factories or factories or ())
            if len(wanted) == 1 and factories and wanted[0] in factories:
                plan.factory_name = wanted[0]
    plan.direct = (
        plan.is_async_test
        and plan.factory_name is None
        and not hooked
        and (facts is None or not facts.overridden)
    )
    return plan
