"""The pytest11 entry point of pytest-aioloop: thin hooks that wire the modules together."""

from __future__ import annotations

import contextvars
import inspect
import sys
import types
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _compat, _fixtures, hookspecs
from pytest_aioloop._config import RANK, add_options, read_settings
from pytest_aioloop._fixtures import builtin
from pytest_aioloop._loops import LoopKind, close_loop
from pytest_aioloop._marker import MARKER_LINE
from pytest_aioloop._plan import (
    PLAN_KEY,
    RUNTIME_KEY,
    ItemPlan,
    Runtime,
    async_kind,
    collector_facts,
    plan_item,
    unwrap_test_function,
)
from pytest_aioloop._runner import run, run_sync
from pytest_aioloop._safety import TestGuard

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._lazy import asyncio

_OTHER_ASYNCIO_PLUGINS = ("asyncio", "pytest_asyncio", "pytest_asyncio.plugin")
#: The markers this plugin registers (the docs' reference reads it).
MARKERS = (MARKER_LINE,)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_asyncio_loop_factories`` hook (unless pytest-asyncio already did)."""
    if not hasattr(pluginmanager.hook, "pytest_asyncio_loop_factories"):
        pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register pytest-aioloop's options."""
    add_options(parser)


@pytest.hookimpl(tryfirst=True)  # stop before anything else runs if pytest-asyncio is active too
def pytest_configure(config: pytest.Config) -> None:
    """Validate options, refuse to run beside pytest-asyncio, and register the marker."""
    for name in _OTHER_ASYNCIO_PLUGINS:
        if config.pluginmanager.has_plugin(name):
            raise pytest.UsageError(
                "pytest-aioloop and pytest-asyncio are both active, and both handle "
                "@pytest.mark.asyncio: every async test would run twice or not at all. "
                "Uninstall one, or disable one with '-p no:asyncio' (pytest-asyncio) or "
                "'-p no:aioloop' (pytest-aioloop), on the command line or in addopts."
            )
    config.addinivalue_line("markers", MARKER_LINE)
    config.stash[RUNTIME_KEY] = Runtime(config, read_settings(config))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the timeout watchdog thread, if a timeout ever started it."""
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        runtime.watchdog.close()


def pytest_report_header(config: pytest.Config) -> str:
    """Say how pytest-aioloop is configured."""
    settings = config.stash[RUNTIME_KEY].settings
    fixture_scope = settings.default_fixture_loop_scope or "unset (loops follow fixtures)"
    factories = "hook" if config.stash[RUNTIME_KEY].factories_hooked else "none"
    timeout = f"{settings.timeout:g}s" if settings.timeout else "off"
    return (
        f"asyncio: pytest-aioloop, mode={settings.mode}, debug={settings.debug}, "
        f"default fixture loop scope={fixture_scope}, "
        f"default test loop scope={settings.default_test_loop_scope}, "
        f"loop factories={factories}, timeout={timeout}"
    )


@pytest.hookimpl(tryfirst=True)  # mark the function before pytest's own impl makes items of it
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> None:
    """Make tests use ``event_loop``/``event_loop_policy`` where a user-defined one is visible."""
    facts = collector_facts(collector)
    if not (facts.factories_hooked or facts.overridden):
        return  # the common case: asyncio tests here get their loop from the setup hook
    target = obj.__func__ if type(obj) is staticmethod else obj
    func, _ = unwrap_test_function(target)
    is_coro, _ = async_kind(func)
    if not is_coro:
        # A user-defined event_loop_policy applies to every test in its visibility, as
        # pytest-asyncio's autouse one does (a parametrized policy parametrizes sync tests too).
        if (
            type(func) is types.FunctionType
            and facts.policy_overridden
            and _compat.is_test_function(collector, target, name)
        ):
            _USE_POLICY(target)
        return
    if not callable(target):
        return
    marks = getattr(target, "pytestmark", ())
    runtime = collector.config.stash[RUNTIME_KEY]
    if facts.mark is None and not runtime.settings.auto and not _has_mark(marks, "asyncio"):
        return
    if any(m.name == "usefixtures" and "event_loop" in m.args for m in marks):
        return
    # With loop factories, the test also uses the (parametrized) factory fixture, early in its
    # closure so that fixtures made in another factory's loop are made again.
    if facts.factories_hooked:
        _USE_FACTORY_AND_LOOP(target)
    elif facts.overridden:
        # A user's event_loop (or policy) may be parametrized: pytest must see it now.
        _USE_LOOP(target)
    # Otherwise the test gets its loop from pytest_runtest_setup, without a fixture.


def _has_mark(marks: Iterable[pytest.Mark], name: str) -> bool:
    return any(m.name == name for m in marks)


_USE_LOOP = pytest.mark.usefixtures("event_loop")
_USE_POLICY = pytest.mark.usefixtures("event_loop_policy")
_USE_FACTORY_AND_LOOP = pytest.mark.usefixtures("_aioloop_factory", "event_loop")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each asyncio test once per loop factory when the factories hook is implemented."""
    config = metafunc.config
    runtime = config.stash[RUNTIME_KEY]
    if not runtime.factories_hooked:
        return
    plan = plan_item(metafunc.definition, runtime.settings)
    if not plan.is_async_test:
        return
    factories = config.hook.pytest_asyncio_loop_factories(config=config, item=metafunc.definition)
    if not factories:
        return
    names = list(factories)
    wanted = list(plan.spec.loop_factories) if plan.spec.loop_factories else names
    if len(wanted) == 1 and wanted[0] in factories:
        return  # one factory adds no id: the test's setup records it (_plan_of)
    values = [
        name
        if name in factories
        else pytest.param(
            name,
            marks=pytest.mark.skip(
                reason=f"loop factory {name!r} is not available; available: {', '.join(names)}"
            ),
        )
        for name in wanted
    ]
    # Session scope groups the tests by factory, and async fixtures that depend on the factory
    # (see _make_wrapper) are made again for each one, in a loop of that factory.
    metafunc.parametrize("_aioloop_factory", values, indirect=True, ids=wanted, scope="session")


def _plan_of(item: pytest.Item, runtime: Runtime) -> ItemPlan | None:
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
                f"{item.nodeid} is marked with @pytest.mark.asyncio but is not an async "
                "function: it runs as a normal test. Remove the marker, or make it async def."
            )
        )
        return plan
    hooked = runtime.factories_hooked
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "_aioloop_factory" in callspec.params:
        plan.factory_name = callspec.params["_aioloop_factory"]
    elif hooked and plan.is_async_test:
        config = runtime.config
        factories = config.hook.pytest_asyncio_loop_factories(config=config, item=item)
        wanted = list(plan.spec.loop_factories or factories or ())
        if len(wanted) == 1 and factories and wanted[0] in factories:
            plan.factory_name = wanted[0]
    plan.direct = (
        plan.is_async_test
        and plan.factory_name is None
        and not hooked
        and (item.parent is None or not collector_facts(item.parent).overridden)
    )
    return plan


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Function) -> Generator[None, None, None]:
    """Fail, before any fixture runs, a test whose marker or shape pytest-aioloop cannot run."""
    runtime = item.config.stash[RUNTIME_KEY]
    runtime.current_item = item  # fixtures set up from now until the teardown serve this test
    plan = _plan_of(item, runtime)
    if plan is None or plan.marked_not_async:
        return (yield)
    if plan.error is not None:
        pytest.fail(plan.error, pytrace=False)
    if plan.is_async_gen_test:
        pytest.fail(
            f"{item.nodeid} is an async generator function, not a test that pytest-aioloop "
            "can run: a test must not yield. Use 'async def' without 'yield', and move "
            "setup/teardown into an async fixture.",
            pytrace=False,
        )
    if plan.is_async_test and "event_loop" not in item.fixturenames:
        if plan.direct:
            # What the event_loop fixture would do, without pytest's fixture machinery: the
            # loop is taken before any fixture is set up and given back after the teardown.
            loop, release = runtime.acquire_direct(runtime.plan_setup(item, plan), item)
            saved = _compat.save_current_loop()
            _compat.set_current_loop(loop)
            item.stash[_DIRECT_KEY] = (loop, release, saved)
        else:
            item.fixturenames.insert(0, "event_loop")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    """Give back the loop of a test run without ``event_loop``, after its fixtures' teardown."""
    try:
        return (yield)
    finally:
        direct = item.stash.get(_DIRECT_KEY, None)
        if direct is not None:
            del item.stash[_DIRECT_KEY]
            _, release, saved = direct
            _compat.restore_current_loop(saved)
            release()
        runtime = item.config.stash.get(RUNTIME_KEY, None)
        if runtime is not None:
            runtime.loops.close_departed(nextitem)
            runtime.current_item = None


@pytest.hookimpl(trylast=True)  # after pytest has torn down what the run left set up
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Close loops of tests run without ``event_loop`` that an interrupted run left open."""
    runtime = session.config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        runtime.loops.close_departed(None)


_DIRECT_KEY = pytest.StashKey[
    tuple["asyncio.AbstractEventLoop", Callable[[], None], _compat.SavedLoop]
]()


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Run a coroutine test to completion in its loop."""
    plan = pyfuncitem.stash.get(PLAN_KEY, None)
    if plan is None or not plan.is_async_test:
        return (yield)
    direct = pyfuncitem.stash.get(_DIRECT_KEY, None)
    loop: asyncio.AbstractEventLoop = (
        direct[0] if direct is not None else pyfuncitem.funcargs["event_loop"]  # type: ignore[assignment]
    )
    original = pyfuncitem.obj
    found, hypothesis = unwrap_test_function(original)
    inner: Callable[..., Any] = found  # type: ignore[assignment]

    runtime = pyfuncitem.config.stash[RUNTIME_KEY]
    settings, watchdog = runtime.settings, runtime.watchdog
    timeout = plan.spec.timeout if plan.spec.has_timeout else settings.timeout
    nodeid = pyfuncitem.nodeid

    def where() -> tuple[str, int]:
        path, lineno, _ = pyfuncitem.reportinfo()  # costly: only when a net reports
        return str(path), (lineno or 0) + 1

    def run_test(*args: object, **kwargs: object) -> None:
        guard = TestGuard(
            loop,
            nodeid,
            where=where,
            leaked_tasks=settings.leaked_tasks,
            unhandled_errors=settings.unhandled_errors,
            slow_callback=settings.slow_callback,
            slow_callback_action=settings.slow_callback_action,
        )
        try:
            with guard.watching():
                run(
                    loop,
                    inner(*args, **kwargs),
                    timeout=timeout,
                    what=nodeid,
                    related=guard.tasks,
                    watchdog=watchdog,
                )
                guard.settle()
        except BaseException:
            guard.failures_are_warnings = True
            guard.finish()
            raise
        guard.finish()
        if guard.failures:
            pytest.fail("\n\n".join(guard.failures), pytrace=False)

    if hypothesis:
        original.hypothesis.inner_test = run_test
    else:
        pyfuncitem.obj = run_test
    try:
        return (yield)
    finally:
        if hypothesis:
            original.hypothesis.inner_test = inner
        else:
            pyfuncitem.obj = original


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """Run pytest-aioloop's fixtures in their loop; watch user-defined ``event_loop`` fixtures."""
    runtime = request.config.stash[RUNTIME_KEY]
    if fixturedef.argname == "event_loop" and not _fixtures.is_builtin(fixturedef.func):
        loop = yield
        _watch_user_event_loop(runtime, fixturedef, loop)
        return loop
    if not runtime.is_handled(fixturedef):
        return (yield)
    original = fixturedef.func
    runtime.originals[id(fixturedef)] = original
    fixturedef.func = _make_wrapper(runtime, fixturedef, request, original)  # type: ignore[misc]
    try:
        return (yield)
    finally:
        fixturedef.func = original  # type: ignore[misc]
        del runtime.originals[id(fixturedef)]


def pytest_fixture_post_finalizer(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> None:
    """Warn about, and close, a loop that a user-defined ``event_loop`` fixture left open."""
    if fixturedef.argname != "event_loop" or _fixtures.is_builtin(fixturedef.func):
        return
    runtime = request.config.stash.get(RUNTIME_KEY, None)
    if runtime is None:
        return
    entry = runtime.user_event_loops.pop(id(fixturedef), None)
    if entry is None:
        return
    where, loop, saved = entry
    _compat.restore_current_loop(saved)
    if loop.is_closed():
        return
    warnings.warn(
        pytest.PytestWarning(
            f"the event_loop fixture {where} did not close its loop; pytest-aioloop closed it. "
            "Call loop.close() after 'yield loop' in the fixture."
        ),
        stacklevel=1,
    )
    close_loop(loop)


def _describe(fixturedef: pytest.FixtureDef[Any]) -> str:
    func = fixturedef.func
    try:
        path = inspect.getsourcefile(func) or "?"
        line = inspect.getsourcelines(func)[1]
        where = f"{path}:{line}"
    except (OSError, TypeError):
        where = fixturedef.baseid or "?"
    return (
        f"{getattr(func, '__qualname__', fixturedef.argname)} ({fixturedef.scope} scope, {where})"
    )


def _watch_user_event_loop(
    runtime: Runtime, fixturedef: pytest.FixtureDef[Any], loop: object
) -> None:
    if not isinstance(loop, asyncio.AbstractEventLoop):
        return
    me = _describe(fixturedef)
    for key, (other, other_loop, _) in list(runtime.user_event_loops.items()):
        if key != id(fixturedef) and not other_loop.is_closed() and other_loop is not loop:
            warnings.warn(
                pytest.PytestWarning(
                    f"the event_loop fixture {me} replaced the loop of the event_loop fixture "
                    f"{other}, which is still open: their scopes overlap. Tests may now mix two "
                    "loops. Check where each is set up with 'pytest --setup-show', and give "
                    "them scopes that do not overlap."
                ),
                stacklevel=1,
            )
    runtime.user_event_loops[id(fixturedef)] = (me, loop, _compat.save_current_loop())
    _compat.set_current_loop(loop)


def _make_wrapper(
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

    def acquire() -> asyncio.AbstractEventLoop:
        item = runtime.current_item
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "_aioloop_factory" in callspec.params:
            # Depend on the factory: pytest then tears this fixture down when the factory
            # changes, so a wider-scoped fixture never serves tests of another factory.
            request.getfixturevalue("_aioloop_factory")
            _compat.finish_with(request, "_aioloop_factory", fixturedef)
        loop, release, kind = _loop_for_fixture(runtime, fixturedef, request)
        runtime.fixture_kinds[id(fixturedef)] = kind

        def forget() -> None:
            runtime.fixture_kinds.pop(id(fixturedef), None)
            release()

        request.addfinalizer(forget)
        return loop

    if inspect.isasyncgenfunction(original):

        def async_gen_fixture(**kwargs: Any) -> Iterator[Any]:
            loop = acquire()
            agen = func(**kwargs)
            ctx = contextvars.copy_context()
            value, reset = run(
                loop,
                agen.__anext__(),
                context=ctx,
                timeout=timeout,
                what=setup_what,
                watchdog=runtime.watchdog,
            )
            request.addfinalizer(reset)
            yield value
            try:
                run(
                    loop,
                    agen.__anext__(),
                    context=ctx,
                    timeout=timeout,
                    what=teardown_what,
                    watchdog=runtime.watchdog,
                )
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
            value, reset = run(
                loop,
                func(**kwargs),
                context=contextvars.copy_context(),
                timeout=timeout,
                what=setup_what,
                watchdog=runtime.watchdog,
            )
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
    kind = runtime.fixture_kind(fixturedef, defs, pin)
    return (*runtime.acquire(kind, request, item), kind)


@pytest.fixture(scope="session")
def _aioloop_factory(request: pytest.FixtureRequest) -> object:
    """Name of the loop factory this test runs with (internal)."""
    return getattr(request, "param", None)


@pytest.fixture(scope="session")
@builtin
def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    """Return the event loop policy that creates the loops of the tests in its visibility.

    Override it (at any scope, parametrized if you like) to run tests with another policy, for
    example uvloop's; pytest-aioloop restores the previous policy afterwards. On Python 3.14+,
    where asyncio deprecates policies, prefer the ``pytest_asyncio_loop_factories`` hook.
    """
    return _compat.get_policy()


@pytest.fixture
@builtin
def event_loop(
    request: pytest.FixtureRequest, event_loop_policy: asyncio.AbstractEventLoopPolicy
) -> Iterator[asyncio.AbstractEventLoop]:
    """Return the asyncio event loop the test runs in, installed as the current loop.

    Inside a coroutine test this is ``asyncio.get_running_loop()``. A synchronous test can
    request it and drive code with ``event_loop.run_until_complete(...)``. Override it in a
    conftest, module or class (any scope) to run the tests in its visibility in your own loop,
    as with pytest-asyncio 0.21. pytest-aioloop closes its loops when their scope ends: pending
    tasks are cancelled, async generators and the default executor are shut down.
    """
    runtime = request.config.stash[RUNTIME_KEY]
    item = request.node
    plan = item.stash.get(PLAN_KEY, None)
    if plan is None:
        plan = ItemPlan()
        item.stash[PLAN_KEY] = plan
    kind = runtime.plan_setup(item, plan)
    if kind.kind == "event_loop":  # a user's event_loop built on top of this one
        kind = LoopKind("scoped", "function")
    loop, release = runtime.acquire(kind, request, item)
    policy = _compat.get_policy()
    if event_loop_policy is not policy:
        _compat.set_policy(event_loop_policy)
        if sys.version_info >= (3, 14):  # pragma: no cover - Python 3.14+
            warnings.warn(
                DeprecationWarning(
                    "overriding the event_loop_policy fixture relies on asyncio policies, which "
                    "Python 3.14 deprecates: implement the pytest_asyncio_loop_factories hook "
                    "instead."
                ),
                stacklevel=1,
            )
    saved = _compat.save_current_loop()
    _compat.set_current_loop(loop)
    try:
        yield loop
    finally:
        _compat.restore_current_loop(saved)
        if event_loop_policy is not policy:
            _compat.set_policy(policy)
        release()
