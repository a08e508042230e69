"""Run pytest-aioloop's fixtures in their loop: the function pytest calls instead of the user's.

Each set-up fixture is an owner (:mod:`pytest_aioloop._run.owners`): its setup and teardown run
in a context of its own, so the tasks it starts, and the tasks those start, are the fixture's,
also while a test runs. When it has been torn down, the nets look at what it left behind.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.pytest_internals import callspec_param, finish_with, fixture_name
from pytest_aioloop._items import ended
from pytest_aioloop._items.lifecycle import factory_of
from pytest_aioloop._run.owners import Owner
from pytest_aioloop._run.runner import FixtureRun
from pytest_aioloop._run.stacks import source_location
from pytest_aioloop._session import SessionState
from pytest_aioloop._settings import RANK
from pytest_aioloop._settings.fixture import options_of, timeout_of

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._items.plan import ItemPlan


def make_wrapper(
    state: SessionState,
    fixturedef: pytest.FixtureDef[Any],
    request: pytest.FixtureRequest,
    original: Callable[..., Any],
) -> Callable[..., Any]:
    """Return a plain function pytest calls instead of the async (or sync) fixture function."""
    facts = _facts_of(state, fixturedef, original)
    func = _bind(original, request) if request.instance is not None else original
    runner = state.runner
    fixture = _fixture_run(state, fixturedef, facts)

    def acquire() -> tuple[asyncio.AbstractEventLoop, list[Callable[[], None]]]:
        _check_loop_scope(fixturedef, facts.loop_scope)
        return _acquire(state, fixturedef, request, fixture.owner)

    if facts.shape == "asyncgen":

        def async_gen_fixture(**kwargs: Any) -> Iterator[Any]:
            # A generator function itself: pytest tells generator fixtures by their function.
            loop, resets = acquire()
            yield from runner.run_asyncgen_fixture(loop, func, kwargs, fixture, resets.append)

        return async_gen_fixture

    if facts.shape == "coroutine":

        def coroutine_fixture(**kwargs: Any) -> Any:
            loop, resets = acquire()
            value, reset = runner.run_fixture(loop, func, kwargs, fixture)
            resets.append(reset)
            return value

        return coroutine_fixture

    if facts.shape == "generator":

        def sync_gen_fixture(**kwargs: Any) -> Iterator[Any]:
            loop, _ = acquire()
            gen = runner.run_sync(loop, lambda: func(**kwargs))
            yield runner.run_sync(loop, lambda: next(gen))
            runner.run_sync(loop, lambda: next(gen, None))

        return sync_gen_fixture

    def sync_fixture(**kwargs: Any) -> Any:
        loop, _ = acquire()
        return runner.run_sync(loop, lambda: func(**kwargs))

    return sync_fixture


class _Facts:
    """What is the same at every setup of one fixture function (worked out once)."""

    __slots__ = ("loop_scope", "options", "shape", "where")

    def __init__(self, original: Callable[..., Any]) -> None:
        self.options = options_of(original)
        self.loop_scope = self.options.loop_scope if self.options is not None else None
        self.where = source_location(original)
        if inspect.isasyncgenfunction(original):
            self.shape = "asyncgen"
        elif inspect.iscoroutinefunction(original):
            self.shape = "coroutine"
        elif inspect.isgeneratorfunction(original):
            self.shape = "generator"
        else:
            self.shape = "function"


def _facts_of(
    state: SessionState, fixturedef: pytest.FixtureDef[Any], original: Callable[..., Any]
) -> _Facts:
    facts: _Facts | None = state.fixture_facts.get(original)
    if facts is None:
        facts = state.fixture_facts[original] = _Facts(original)
    return facts


def _check_loop_scope(fixturedef: pytest.FixtureDef[Any], loop_scope: str | None) -> None:
    """Fail a fixture whose loop would close while pytest still caches its value."""
    if loop_scope is not None and RANK[loop_scope] < RANK[fixturedef.scope]:
        pytest.fail(
            f"fixture {fixture_name(fixturedef)!r} has scope={fixturedef.scope!r} but "
            f"loop_scope={loop_scope!r}: its loop would close while pytest still caches "
            f"its value. Use loop_scope={fixturedef.scope!r} or wider, or a narrower scope.",
            pytrace=False,
        )


def _fixture_run(
    state: SessionState, fixturedef: pytest.FixtureDef[Any], facts: _Facts
) -> FixtureRun:
    """The fixture as the runner sees it: its owner (for the nets), name and timeout."""
    item = state.current_item
    plan: ItemPlan | None = state.plans.get(item) if item is not None else None
    name = fixture_name(fixturedef)
    owner = Owner(
        "fixture", name, item.nodeid if item is not None else "", fixturedef.scope, facts.where
    )
    timeout = timeout_of(facts.options, plan.spec if plan else None, state.settings.timeout)
    # A partial, not a closure over the FixtureRun: no reference cycle to collect per fixture.
    return FixtureRun(owner, name, timeout, functools.partial(ended.ended_early, state, fixturedef))


def _acquire(
    state: SessionState,
    fixturedef: pytest.FixtureDef[Any],
    request: pytest.FixtureRequest,
    owner: Owner,
) -> tuple[asyncio.AbstractEventLoop, list[Callable[[], None]]]:
    """Take the fixture's loop; at its end, reset its context, look at what it left, release.

    Return the loop, and the list where the runner puts what resets the context variables the
    fixture set (run by the same finalizer).
    """
    item = state.current_item
    if item is not None and callspec_param(item, "_aioloop_factory") is not None:
        # Depend on the factory: pytest then tears this fixture down when the factory
        # changes, so a wider-scoped fixture never serves tests of another factory.
        request.getfixturevalue("_aioloop_factory")
        finish_with(request, "_aioloop_factory", fixturedef)
    plan: ItemPlan | None = state.plans.get(item) if item is not None else None
    pin = plan.spec.loop_scope if plan is not None else None
    chooser = state.chooser
    kind = (
        chooser.kind_of_fixture(item, fixturedef, pin, plan.closure if plan else None)
        if item is not None
        else chooser.fixture_kind(fixturedef, {}, pin)
    )
    loop, release = state.loops.acquire(kind, request, *factory_of(request, item, plan))
    chooser.went_live(fixturedef, kind)
    state.fixture_loops[id(fixturedef)] = loop
    state.nets.begin(owner, loop)
    resets: list[Callable[[], None]] = []

    def done() -> None:
        # After the fixture's own teardown (finalizers run last-in first-out).
        for reset in resets:
            reset()
        state.nets.end(owner)
        if state.ended_fixtures:
            ended.forget(state, fixturedef)
        chooser.ended(fixturedef)
        state.fixture_loops.pop(id(fixturedef), None)
        release()

    request.addfinalizer(done)
    return loop, resets


def _bind(original: Callable[..., Any], request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Bind a fixture method to the test's instance, as pytest does for its own fixtures."""
    instance = request.instance
    bound_to = getattr(original, "__self__", None)
    if bound_to is not None and not isinstance(instance, type(bound_to)):
        return original
    raw = getattr(original, "__func__", original)
    if raw is original and bound_to is None and "self" not in inspect.signature(raw).parameters:
        return original
    return raw.__get__(instance)  # type: ignore[no-any-return]
