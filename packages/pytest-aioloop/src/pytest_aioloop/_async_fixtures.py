"""Run pytest-aioloop's fixtures in their loop: the function pytest calls instead of the user's.

Each set-up fixture is an owner (:mod:`._owners`): its setup and teardown run in a context of
its own, so the tasks it starts, and the tasks those start, are the fixture's, also while a
test runs. When it has been torn down, the nets look at what it left behind.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _compat, _fixtures
from pytest_aioloop._config import RANK
from pytest_aioloop._loops import LoopKind
from pytest_aioloop._owners import OWNER, Owner
from pytest_aioloop._plan import PLAN_KEY
from pytest_aioloop._runner import run, run_sync
from pytest_aioloop._runtime import Runtime

if TYPE_CHECKING:
    import asyncio


def make_wrapper(
    runtime: Runtime,
    fixturedef: pytest.FixtureDef[Any],
    request: pytest.FixtureRequest,
    original: Callable[..., Any],
) -> Callable[..., Any]:
    """Return a plain function pytest calls instead of the async (or sync) fixture function."""
    func = _bind(original, request)
    name = fixturedef.argname
    timeout = _fixture_timeout(runtime, original)
    setup_what = f"setup of async fixture {name!r}"
    teardown_what = f"teardown of async fixture {name!r}"
    nets = runtime.nets
    item = runtime.current_item
    owner = Owner(
        "fixture",
        name,
        item.nodeid if item is not None else "",
        scope=fixturedef.scope,
        where=_where(original),
    )

    def acquire() -> asyncio.AbstractEventLoop:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "_aioloop_factory" in callspec.params:
            # Depend on the factory: pytest then tears this fixture down when the factory
            # changes, so a wider-scoped fixture never serves tests of another factory.
            request.getfixturevalue("_aioloop_factory")
            _compat.finish_with(request, "_aioloop_factory", fixturedef)
        loop, release, kind = _loop_for_fixture(runtime, fixturedef, request)
        runtime.chooser.live[id(fixturedef)] = kind
        runtime.fixture_loops[id(fixturedef)] = loop

        def forget() -> None:
            runtime.chooser.live.pop(id(fixturedef), None)
            runtime.fixture_loops.pop(id(fixturedef), None)
            release()

        request.addfinalizer(forget)
        nets.begin(owner, loop)
        # Finalizers run last-in first-out: this one runs after the fixture's teardown and
        # before its loop is given back.
        request.addfinalizer(lambda: nets.end(owner))
        return loop

    def context() -> contextvars.Context:
        ctx = contextvars.copy_context()
        ctx.run(OWNER.set, owner)
        return ctx

    def step(
        loop: asyncio.AbstractEventLoop, coro: Any, ctx: contextvars.Context, what: str
    ) -> tuple[Any, Callable[[], None]]:
        if _loop_running():
            # Requested from code running in a loop (request.getfixturevalue() in an async
            # test): no loop can run the step until that code returns. Close it (no "never
            # awaited" warning later) and say what to do instead.
            coro.close()
            pytest.fail(
                f"{what[0].upper()}{what[1:]} cannot run while an event loop is running, as "
                "when async code calls request.getfixturevalue() for the fixture. Request it "
                "as an argument of the test (or with @pytest.mark.usefixtures) instead.",
                pytrace=False,
            )
        return run(
            loop,
            coro,
            owner=owner,
            context=ctx,
            timeout=timeout,
            what=what[0].upper() + what[1:],
            name=what,
            watchdog=runtime.watchdog,
            on_give_up=runtime.loops.given_up.add,
        )

    if inspect.isasyncgenfunction(original):

        def async_gen_fixture(**kwargs: Any) -> Iterator[Any]:
            loop = acquire()
            ctx = context()
            agen = func(**kwargs)
            value, reset = step(loop, agen.__anext__(), ctx, setup_what)
            request.addfinalizer(reset)
            yield value
            try:
                step(loop, agen.__anext__(), ctx, teardown_what)
            except StopAsyncIteration:
                return
            pytest.fail(
                f"async fixture {name!r} yielded more than once: it must yield exactly once.",
                pytrace=False,
            )

        return async_gen_fixture

    if inspect.iscoroutinefunction(original):

        def coroutine_fixture(**kwargs: Any) -> Any:
            loop = acquire()
            ctx = context()
            value, reset = step(loop, func(**kwargs), ctx, setup_what)
            request.addfinalizer(reset)
            return value

        return coroutine_fixture

    if inspect.isgeneratorfunction(original):

        def sync_gen_fixture(**kwargs: Any) -> Iterator[Any]:
            loop = acquire()
            gen = run_sync(loop, lambda: func(**kwargs))
            yield run_sync(loop, lambda: next(gen))
            run_sync(loop, lambda: next(gen, None))

        return sync_gen_fixture

    def sync_fixture(**kwargs: Any) -> Any:
        loop = acquire()
        return run_sync(loop, lambda: func(**kwargs))

    return sync_fixture


def _loop_running() -> bool:
    """Whether a loop is running in this thread (asyncio is loaded: a fixture needs it)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _where(func: Callable[..., Any]) -> tuple[str, int] | None:
    code = getattr(inspect.unwrap(func), "__code__", None)
    if code is None:
        return None
    return code.co_filename, code.co_firstlineno


def _fixture_timeout(runtime: Runtime, original: Callable[..., Any]) -> float | None:
    """The fixture's own timeout, else its test's marker timeout, else ``asyncio_timeout``."""
    options = _fixtures.options_of(original)
    if options is not None and options.has_timeout:
        return options.timeout
    item = runtime.current_item
    plan = item.stash.get(PLAN_KEY, None) if item is not None else None
    if plan is not None and plan.spec.has_timeout:
        return plan.spec.timeout
    return runtime.settings.timeout


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


def _loop_for_fixture(
    runtime: Runtime, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> tuple[asyncio.AbstractEventLoop, Callable[[], None], LoopKind]:
    item = runtime.current_item
    plan = item.stash.get(PLAN_KEY, None) if item is not None else None
    pin = plan.spec.loop_scope if plan is not None else None
    defs = _compat.fixturedefs_of_item(item) if item is not None else {}
    options = _fixtures.options_of(runtime.func_of(fixturedef))

    if (
        options is not None
        and options.loop_scope is not None
        and (RANK[options.loop_scope] < RANK[fixturedef.scope])
    ):
        pytest.fail(
            f"fixture {fixturedef.argname!r} has scope={fixturedef.scope!r} but "
            f"loop_scope={options.loop_scope!r}: its loop would close while pytest still caches "
            f"its value. Use loop_scope={fixturedef.scope!r} or wider, or a narrower scope.",
            pytrace=False,
        )
    kind = runtime.chooser.fixture_kind(fixturedef, defs, pin)
    return (*runtime.acquire(kind, request, item), kind)
