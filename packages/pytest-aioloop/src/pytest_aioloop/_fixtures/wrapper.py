"""Run pytest-aioloop's fixtures in their loop: the function pytest calls instead of the user's.

Each set-up fixture is an owner (:mod:`pytest_aioloop._run.owners`): its setup and teardown run
in a context of its own, so the tasks it starts, and the tasks those start, are the fixture's,
also while a test runs. When it has been torn down, the nets look at what it left behind.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.pytest_internals import (
    callspec_param,
    finish_with,
    fixture_name,
    fixturedefs_of_item,
)
from pytest_aioloop._items.plan import PLAN_KEY, factory_of
from pytest_aioloop._loop.kinds import LoopKind
from pytest_aioloop._run.owners import Owner
from pytest_aioloop._run.runner import FixtureRun
from pytest_aioloop._run.stacks import source_location
from pytest_aioloop._session import SessionState
from pytest_aioloop._settings.fixture import options_of, timeout_of
from pytest_aioloop._settings.scopes import RANK

if TYPE_CHECKING:
    import asyncio


def make_wrapper(
    state: SessionState,
    fixturedef: pytest.FixtureDef[Any],
    request: pytest.FixtureRequest,
    original: Callable[..., Any],
) -> Callable[..., Any]:
    """Return a plain function pytest calls instead of the async (or sync) fixture function."""
    func = _bind(original, request)
    runner = state.runner
    fixture = _fixture_run(state, fixturedef, original)

    def acquire() -> asyncio.AbstractEventLoop:
        return _acquire(state, fixturedef, request, fixture.owner)

    if inspect.isasyncgenfunction(original):

        def async_gen_fixture(**kwargs: Any) -> Iterator[Any]:
            # A generator function itself: pytest tells generator fixtures by their function.
            loop = acquire()
            yield from runner.run_asyncgen_fixture(
                loop, func, kwargs, fixture, request.addfinalizer
            )

        return async_gen_fixture

    if inspect.iscoroutinefunction(original):

        def coroutine_fixture(**kwargs: Any) -> Any:
            value, reset = runner.run_fixture(acquire(), func, kwargs, fixture)
            request.addfinalizer(reset)
            return value

        return coroutine_fixture

    if inspect.isgeneratorfunction(original):

        def sync_gen_fixture(**kwargs: Any) -> Iterator[Any]:
            loop = acquire()
            gen = runner.run_sync(loop, lambda: func(**kwargs))
            yield runner.run_sync(loop, lambda: next(gen))
            runner.run_sync(loop, lambda: next(gen, None))

        return sync_gen_fixture

    def sync_fixture(**kwargs: Any) -> Any:
        return runner.run_sync(acquire(), lambda: func(**kwargs))

    return sync_fixture


def _fixture_run(
    state: SessionState, fixturedef: pytest.FixtureDef[Any], original: Callable[..., Any]
) -> FixtureRun:
    """The fixture as the runner sees it: its owner (for the nets), name and timeout."""
    item = state.current_item
    plan = item.stash.get(PLAN_KEY, None) if item is not None else None
    name = fixture_name(fixturedef)
    owner = Owner(
        "fixture",
        name,
        item.nodeid if item is not None else "",
        scope=fixturedef.scope,
        where=source_location(original),
    )
    options = options_of(original)
    return FixtureRun(
        owner, name, timeout_of(options, plan.spec if plan else None, state.settings.timeout)
    )


def _acquire(
    state: SessionState,
    fixturedef: pytest.FixtureDef[Any],
    request: pytest.FixtureRequest,
    owner: Owner,
) -> asyncio.AbstractEventLoop:
    """Take the fixture's loop; register its release and the nets' look at what it left."""
    item = state.current_item
    if item is not None and callspec_param(item, "_aioloop_factory") is not None:
        # Depend on the factory: pytest then tears this fixture down when the factory
        # changes, so a wider-scoped fixture never serves tests of another factory.
        request.getfixturevalue("_aioloop_factory")
        finish_with(request, "_aioloop_factory", fixturedef)
    kind = _fixture_kind(state, fixturedef)
    loop, release = state.loops.acquire(kind, request, *factory_of(request, item))
    key = id(fixturedef)
    state.chooser.live[key] = kind
    state.fixture_loops[key] = loop

    def forget() -> None:
        state.chooser.live.pop(key, None)
        state.fixture_loops.pop(key, None)
        release()

    request.addfinalizer(forget)
    state.nets.begin(owner, loop)
    # Finalizers run last-in first-out: this one runs after the fixture's teardown and
    # before its loop is given back.
    request.addfinalizer(lambda: state.nets.end(owner))
    return loop


def _fixture_kind(state: SessionState, fixturedef: pytest.FixtureDef[Any]) -> LoopKind:
    """The fixture's loop kind; fail it if its loop scope is narrower than its scope."""
    item = state.current_item
    plan = item.stash.get(PLAN_KEY, None) if item is not None else None
    options = options_of(state.func_of(fixturedef))
    if (
        options is not None
        and options.loop_scope is not None
        and RANK[options.loop_scope] < RANK[fixturedef.scope]
    ):
        pytest.fail(
            f"fixture {fixture_name(fixturedef)!r} has scope={fixturedef.scope!r} but "
            f"loop_scope={options.loop_scope!r}: its loop would close while pytest still caches "
            f"its value. Use loop_scope={fixturedef.scope!r} or wider, or a narrower scope.",
            pytrace=False,
        )
    defs = fixturedefs_of_item(item) if item is not None else {}
    return state.chooser.fixture_kind(fixturedef, defs, plan.spec.loop_scope if plan else None)


def _bind(original: Callable[..., Any], request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Bind a fixture method to the test's instance, as pytest does for its own fixtures."""
    instance = request.instance
    if instance is None:
        return original
    bound_to = getattr(original, "__self__", None)
    if bound_to is not None and not isinstance(instance, type(bound_to)):
        return original
    raw = getattr(original, "__func__", original)
    if raw is original and bound_to is None and "self" not in inspect.signature(raw).parameters:
        return original
    return raw.__get__(instance)  # type: ignore[no-any-return]
