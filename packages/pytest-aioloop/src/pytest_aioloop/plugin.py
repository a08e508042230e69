"""The pytest11 entry point of pytest-aioloop: thin hooks that wire the modules together.

Hooks appear in the order pytest calls them. The work is done elsewhere: options in
``_config``, pytest-asyncio beside us in ``_coexist``, per-test plans in ``_plan``, loops in
``_loops``/``_choice``/``_runtime``, one test's life in ``_tests``, async fixtures in
``_async_fixtures``, the fixtures themselves in ``_event_loop``, the nets in ``_nets`` and
what they report in ``_reports``.
"""

from __future__ import annotations

import types
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _coexist, _compat, _fixtures, _lazy, _tests, hookspecs
from pytest_aioloop._async_fixtures import make_wrapper
from pytest_aioloop._config import add_options, read_settings
from pytest_aioloop._event_loop import (  # the fixtures: pytest finds them in this module
    _aioloop_factory,  # noqa: F401
    event_loop,  # noqa: F401
    event_loop_policy,  # noqa: F401
    user_event_loop_finalized,
    watch_user_event_loop,
)
from pytest_aioloop._factories import FactoriesError, factories_for, unavailable_reason
from pytest_aioloop._marker import MARKER_LINE
from pytest_aioloop._plan import (
    CONCURRENCY_MARKED,
    OTHER_FRAMEWORK_MARKERS,
    PLAN_KEY,
    async_kind,
    collector_facts,
    plan_item,
    unwrap_test_function,
)
from pytest_aioloop._runtime import RUNTIME_KEY, Runtime

if TYPE_CHECKING:
    import asyncio

#: The markers this plugin registers (the docs' reference reads it).
MARKERS = (MARKER_LINE,)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_asyncio_loop_factories`` hook (unless pytest-asyncio already did)."""
    if not hasattr(pluginmanager.hook, "pytest_asyncio_loop_factories"):
        pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Register pytest-aioloop's options, keeping an installed pytest-asyncio out of the run."""
    add_options(parser, taken=_coexist.keep_out(pluginmanager, parser))


@pytest.hookimpl(tryfirst=True)  # stop before anything else runs if pytest-asyncio got in
def pytest_configure(config: pytest.Config) -> None:
    """Validate options and register the marker."""
    _lazy.refresh()
    _coexist.check(config)
    config.addinivalue_line("markers", MARKER_LINE)
    runtime = config.stash[RUNTIME_KEY] = Runtime(config, read_settings(config))
    config.pluginmanager.register(_Reporter(runtime), "aioloop-reporter")
    if runtime.settings.auto:
        config.pluginmanager.register(_AutoMarker(), "aioloop-auto-marker")
    if runtime.settings.concurrency > 1:
        _run_concurrently(config, runtime)


def _run_concurrently(config: pytest.Config, runtime: Runtime) -> None:
    # Imported here: a run without concurrency never loads it.
    from pytest_aioloop._concurrency import Concurrency

    if not config.pluginmanager.has_plugin(_CONCURRENCY):
        config.pluginmanager.register(Concurrency(runtime, config), _CONCURRENCY)


_CONCURRENCY = "aioloop-concurrency"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Get ready to run tests together if a module or class asks for it with its marker."""
    config = session.config
    if config.stash.get(CONCURRENCY_MARKED, False):
        _run_concurrently(config, config.stash[RUNTIME_KEY])


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the timeout watchdog thread, if a timeout ever started it."""
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        runtime.watchdog.close()
    _lazy.refresh()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say how pytest-aioloop is configured (and whether pytest-asyncio is kept out)."""
    runtime = config.stash[RUNTIME_KEY]
    settings = runtime.settings
    fixture_scope = settings.default_fixture_loop_scope or "unset (loops follow fixtures)"
    factories = "yes" if runtime.factories_hooked else "no"
    timeout = f"{settings.timeout:g}s" if settings.timeout else "off"
    lines = [
        f"asyncio: pytest-aioloop, mode={settings.mode}, debug={settings.debug}, "
        f"default fixture loop scope={fixture_scope}, "
        f"default test loop scope={settings.default_test_loop_scope}, "
        f"loop factory={settings.loop_factory}, loop factories hook={factories}, "
        f"timeout={timeout}"
    ]
    note = _coexist.header_note()
    if note is not None:
        lines.append(note)
    return lines


class _AutoMarker:
    """In auto mode, give each coroutine test one ``asyncio`` marker (``-m asyncio`` works)."""

    def __init__(self) -> None:
        self.mark = pytest.mark.asyncio  # one Mark object, so parsed specs are shared

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """Mark ``item`` if it is a coroutine test without an ``asyncio`` marker."""
        if not isinstance(item, pytest.Function) or item.get_closest_marker("asyncio"):
            return
        func, _ = unwrap_test_function(item.obj)
        if not any(async_kind(func)):
            return
        if any(item.get_closest_marker(name) for name in OTHER_FRAMEWORK_MARKERS):
            return
        item.add_marker(self.mark)


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
    if facts.policy_overridden:
        _USE_POLICY(target)
    # With loop factories, the test also uses the (parametrized) factory fixture, early in its
    # closure so that fixtures made in another factory's loop are made again.
    if facts.factories_hooked:
        _USE_FACTORY_AND_LOOP(target)
    else:
        # A user's event_loop (or policy) may be parametrized: pytest must see it now.
        _USE_LOOP(target)


def _has_mark(marks: Iterable[pytest.Mark], name: str) -> bool:
    return any(m.name == name for m in marks)


_USE_LOOP = pytest.mark.usefixtures("event_loop")
_USE_POLICY = pytest.mark.usefixtures("event_loop_policy")
_USE_FACTORY_AND_LOOP = pytest.mark.usefixtures("_aioloop_factory", "event_loop")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each asyncio test once per loop factory when the factories hook is implemented."""
    definition = metafunc.definition
    if definition.parent is None or not collector_facts(definition.parent).factories_hooked:
        return
    runtime = metafunc.config.stash[RUNTIME_KEY]
    plan = plan_item(definition, runtime.settings)
    if not plan.is_async_test or plan.error is not None:
        return
    try:
        factories = factories_for(definition)
    except FactoriesError:
        return  # the test's setup fails with the message
    if not factories:
        return
    names = list(factories)
    wanted = list(plan.spec.loop_factories) if plan.spec.loop_factories else names
    if len(wanted) == 1 and wanted[0] in factories:
        return  # one factory adds no id: the test's setup records it
    values = [
        name
        if name in factories
        else pytest.param(name, marks=pytest.mark.skip(reason=unavailable_reason(name, factories)))
        for name in wanted
    ]
    # Session scope groups the tests by factory, and async fixtures that depend on the factory
    # are made again for each one, in a loop of that factory.
    metafunc.parametrize("_aioloop_factory", values, indirect=True, ids=wanted, scope="session")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Function) -> Generator[None, None, None]:
    """Fail, before any fixture runs, a test whose marker or shape pytest-aioloop cannot run."""
    runtime = item.config.stash[RUNTIME_KEY]
    _lazy.check()
    runtime.current_item = item  # fixtures set up from now until the teardown serve this test
    plan = _tests.plan_at_setup(runtime, item)
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
    _tests.begin(runtime, item, plan)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Run a coroutine test in its loop; give a sync test its async fixtures' loop."""
    plan = pyfuncitem.stash.get(PLAN_KEY, None)
    runtime = pyfuncitem.config.stash[RUNTIME_KEY]
    if _tests.MODE_KEY in pyfuncitem.stash:
        return (yield)  # a test running concurrently: the concurrency plugin calls it
    if plan is None or not plan.is_async_test:
        loop = _loop_of_async_fixtures(runtime, pyfuncitem, pyfuncitem.fixturenames)
        if loop is None:
            try:
                return (yield)
            except pytest.fail.Exception as exc:
                if str(exc).startswith(_PYTEST_ASYNC_FAIL):
                    raise pytest.fail.Exception(_NOT_MARKED, pytrace=False) from None
                raise
        saved = _compat.save_current_loop()
        _compat.set_current_loop(loop)
        try:
            return (yield)
        finally:
            _compat.restore_current_loop(saved)
    undo = _tests.wrap_call(runtime, pyfuncitem, plan)
    try:
        return (yield)
    finally:
        undo()


#: pytest's failure for an ``async def`` test that no plugin runs, and what we say instead.
_PYTEST_ASYNC_FAIL = "async def functions are not natively supported."
_NOT_MARKED = (
    f"{_PYTEST_ASYNC_FAIL}\npytest-aioloop runs this test if it is marked with "
    "@pytest.mark.asyncio (on the test, its class, or in the module's pytestmark), or every "
    "coroutine test with asyncio_mode = auto in the ini file (or --asyncio-mode=auto)."
)


def _loop_of_async_fixtures(
    runtime: Runtime, item: pytest.Item, names: Iterable[str]
) -> asyncio.AbstractEventLoop | None:
    """Return the loop of the widest live async fixture among ``names``, if any."""
    if not runtime.fixture_loops:
        return None
    defs = _compat.fixturedefs_of_item(item)
    found = None
    rank = -1
    for name in names:
        name_defs = defs.get(name)
        if not name_defs:
            continue
        key = id(name_defs[-1])
        loop = runtime.fixture_loops.get(key)
        kind = runtime.chooser.live.get(key)
        if loop is not None and kind is not None and kind.rank > rank and not loop.is_closed():
            found, rank = loop, kind.rank
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    """Give back the test's loop and report what the nets found, after its fixtures' teardown."""
    try:
        result = yield
    finally:
        runtime = item.config.stash.get(RUNTIME_KEY, None)
        failures: list[str] = []
        if runtime is not None:
            failures = _tests.finish(runtime, item)
            runtime.loops.close_departed(nextitem)
            runtime.current_item = None
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
    return result


class _Reporter:
    """Collects the nets' findings from teardown reports (also xdist workers') and lists them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take the findings a teardown report carries."""
        if report.when == "teardown" and report.user_properties:
            self.runtime.summary.collect(report)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """List the leaked tasks, unhandled errors and slow callbacks of the run, per test."""
        lines = self.runtime.summary.lines(self.runtime.nets.actions)
        if not lines:
            return
        terminalreporter.write_sep("=", "asyncio safety nets (pytest-aioloop)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.hookimpl(trylast=True)  # after pytest has torn down what the run left set up
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Close loops of tests run without ``event_loop`` that an interrupted run left open."""
    runtime = session.config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        runtime.loops.close_departed(None)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """Run pytest-aioloop's fixtures in their loop; watch user-defined ``event_loop`` fixtures."""
    runtime = request.config.stash[RUNTIME_KEY]
    if fixturedef.argname == "event_loop" and not _fixtures.is_builtin(fixturedef.func):
        loop = yield
        watch_user_event_loop(runtime, fixturedef, loop)
        return loop
    if not runtime.chooser.is_handled(fixturedef):
        # A plain sync fixture that uses async fixtures sees their loop as the current loop.
        item = runtime.current_item
        loop = (
            _loop_of_async_fixtures(runtime, item, fixturedef.argnames)
            if item is not None
            else None
        )
        if loop is None:
            return (yield)
        saved = _compat.save_current_loop()
        _compat.set_current_loop(loop)
        try:
            return (yield)
        finally:
            _compat.restore_current_loop(saved)
    original = fixturedef.func
    runtime.originals[id(fixturedef)] = original
    fixturedef.func = make_wrapper(runtime, fixturedef, request, original)  # type: ignore[misc]
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
    if runtime is not None:
        user_event_loop_finalized(runtime, fixturedef)
