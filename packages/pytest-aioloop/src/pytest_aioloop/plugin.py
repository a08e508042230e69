"""The pytest11 entry point of pytest-aioloop: thin hooks that hand each event to its part.

The work is done in the parts (``docs/concepts/architecture.md`` maps them): options and the
marker in ``_settings``, pytest-asyncio beside us in ``_coexist``, what collection adds and each
test's plan, life and call in ``_items``, fixtures in ``_fixtures``, loops in ``_loop``, the
runner in ``_run``, the safety nets in ``_nets``, and concurrent tests in ``_concurrency``.
Start-up imports only what configuration and collection need; every other part is imported
when first used. The hooks below come in the order of a session: configuration, collection,
each test's protocol, fixtures, the end; then pytest-aioloop's own fixtures, whose bodies call
into ``_fixtures.builtin``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _coexist, hookspecs
from pytest_aioloop._compat import lazy_asyncio
from pytest_aioloop._compat.pytest_internals import fixture_name
from pytest_aioloop._compat.unawaited import origins_back, origins_on
from pytest_aioloop._items import collection, watches
from pytest_aioloop._items.plan import CONCURRENCY_MARKED, plan_at_setup
from pytest_aioloop._session import STATE_KEY, SessionState
from pytest_aioloop._settings.fixture import builtin
from pytest_aioloop._settings.marker import MARKER_LINE
from pytest_aioloop._settings.options import add_options, read_settings

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._items.plan import CallStrategy, ItemPlan
    from pytest_aioloop._loop.virtual_time import VirtualClock

#: The markers this plugin registers (the docs' reference reads it).
MARKERS = (MARKER_LINE,)
_CONCURRENCY = "aioloop-concurrency"
_CONFLICTS = "aioloop-concurrency-conflicts"


class _Parts:
    """The per-test entry points of the parts that only async tests and fixtures need.

    Imported at their first use (a run without async tests never imports them), then kept on
    the session state, so that each test's hooks reach them with an attribute lookup.
    """

    __slots__ = ("begin", "finish", "fixture_setup", "serial")

    def __init__(self) -> None:
        from pytest_aioloop._fixtures.setup import fixture_setup
        from pytest_aioloop._items.call import SERIAL
        from pytest_aioloop._items.lifecycle import begin, finish

        self.begin = begin
        self.finish = finish
        self.fixture_setup = fixture_setup
        self.serial: CallStrategy = SERIAL


def _parts(state: SessionState) -> _Parts:
    parts: _Parts | None = state.parts
    if parts is None:
        parts = state.parts = _Parts()
    return parts


# -- configuration --------------------------------------------------------------------------------
def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_asyncio_loop_factories`` hook (unless pytest-asyncio already did)."""
    if not hasattr(pluginmanager.hook, "pytest_asyncio_loop_factories"):
        pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Register pytest-aioloop's options, keeping an installed pytest-asyncio out of the run."""
    add_options(parser, taken=_coexist.keep_out(pluginmanager, parser))
    _coexist.keep_looptime_out(pluginmanager, parser)


@pytest.hookimpl(tryfirst=True)  # stop before anything else runs if pytest-asyncio got in
def pytest_configure(config: pytest.Config) -> None:
    """Validate options and register the marker."""
    lazy_asyncio.refresh()
    _coexist.check(config)
    config.addinivalue_line("markers", MARKER_LINE)
    state = config.stash[STATE_KEY] = SessionState(config, read_settings(config))
    watches.configure(config, state)
    if state.settings.auto:
        config.pluginmanager.register(collection.AutoMarker(), "aioloop-auto-marker")
    if _coexist.looptime_installed(config):
        _serve_looptime(config, state)
    if state.settings.concurrency > 1:
        _run_concurrently(config, state)


def _serve_looptime(config: pytest.Config, state: SessionState) -> None:
    # Imported here: only where looptime is installed.
    from pytest_aioloop._items.looptime import MARKER_LINE as LOOPTIME_MARKER
    from pytest_aioloop._items.looptime import LooptimeBridge

    bridge = LooptimeBridge(config)
    config.addinivalue_line("markers", LOOPTIME_MARKER)
    config.pluginmanager.register(bridge, "aioloop-looptime")
    state.loop_made = bridge.loop_made


def _run_concurrently(config: pytest.Config, state: SessionState) -> None:
    # Imported here: a run without concurrency never loads it.
    from pytest_aioloop._concurrency.plugin import Concurrency

    manager = config.pluginmanager
    if manager.has_plugin(_CONCURRENCY):
        return
    concurrency = Concurrency(state, config)
    manager.register(concurrency, _CONCURRENCY)
    controller = _xdist_controller(config)
    if controller:
        from pytest_aioloop._concurrency.conflicts import ControllerSummary

        fail = state.settings.concurrency_conflicts == "fail"
        manager.register(ControllerSummary(fail=fail), _CONFLICTS)
    if state.settings.concurrency_report:
        from pytest_aioloop._concurrency import report

        manager.register(report.Tagging(concurrency.how), "aioloop-concurrency-tagging")
        if not hasattr(config, "workerinput"):
            manager.register(report.Report(), "aioloop-concurrency-report")


def _xdist_controller(config: pytest.Config) -> bool:
    """Whether this is pytest-xdist's controller, which runs no test but shows the summary."""
    return not hasattr(config, "workerinput") and config.getoption("dist", "no") not in (
        "no",
        None,
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say how pytest-aioloop is configured (and whether pytest-asyncio is kept out)."""
    state = config.stash[STATE_KEY]
    settings = state.settings
    fixture_scope = settings.default_fixture_loop_scope or "unset (loops follow fixtures)"
    factories = "yes" if state.factories_hooked else "no"
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


# -- collection ---------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)  # mark the function before pytest's own impl makes items of it
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> None:
    """Make tests use ``event_loop``/``event_loop_policy`` where a user-defined one is visible."""
    state = collector.config.stash[STATE_KEY]
    collection.mark_fixtures_needed(state.settings, collector, name, obj, state.collector_facts)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each asyncio test once per loop factory when the factories hook is implemented."""
    state = metafunc.config.stash[STATE_KEY]
    collection.parametrize_factories(state.settings, metafunc, state.collector_facts)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Get ready to run tests together if a module or class asks for it with its marker."""
    config = session.config
    if config.stash.get(CONCURRENCY_MARKED, False):
        _run_concurrently(config, config.stash[STATE_KEY])


# -- each test ----------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Function) -> Generator[None, None, None]:
    """Fail, before any fixture runs, a test whose marker or shape pytest-aioloop cannot run."""
    state = item.config.stash[STATE_KEY]
    lazy_asyncio.check()
    state.current_item = item  # fixtures set up from now until the teardown serve this test
    plan = plan_at_setup(state, item)
    if plan is None or plan.marked_not_async:
        return (yield)
    if plan.error is not None:
        pytest.fail(plan.error, pytrace=False)
    if plan.wraps_coroutine:
        return (yield)
    if plan.is_async_gen_test:
        pytest.fail(
            f"{item.nodeid} is an async generator function, not a test that pytest-aioloop "
            "can run: a test must not yield. Use 'async def' without 'yield', and move "
            "setup/teardown into an async fixture.",
            pytrace=False,
        )
    (state.parts or _parts(state)).begin(state, item, plan)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Run a coroutine test in its loop; give a sync test its async fixtures' loop."""
    state = pyfuncitem.config.stash[STATE_KEY]
    plan: ItemPlan | None = state.plans.get(pyfuncitem)
    if plan is None or not plan.is_async_test:
        if plan is not None and plan.wraps_coroutine:
            from pytest_aioloop._items.wrapped import calls_run_in_a_loop

            with calls_run_in_a_loop(pyfuncitem):
                return (yield from _sync_call(state, pyfuncitem))
        return (yield from _sync_call(state, pyfuncitem))
    undo = (plan.call or (state.parts or _parts(state)).serial).install(state, pyfuncitem, plan)
    try:
        return (yield)
    finally:
        undo()


def _sync_call(state: SessionState, item: pytest.Function) -> Generator[None, object, object]:
    if state.track_origins:
        depth = origins_on()  # where the test creates coroutines (see _nets.unawaited)
        try:
            return (yield from _sync_call_in_loop(state, item))
        finally:
            origins_back(depth)
    return (yield from _sync_call_in_loop(state, item))


def _sync_call_in_loop(
    state: SessionState, item: pytest.Function
) -> Generator[None, object, object]:
    loop = state.loop_of_async_fixtures(item, item.fixturenames)
    if loop is not None:
        from pytest_aioloop._compat.asyncio_internals import installed

        with installed(loop):
            return (yield)
    try:
        return (yield)
    except pytest.fail.Exception as exc:
        if str(exc).startswith(_PYTEST_ASYNC_FAIL):
            raise pytest.fail.Exception(_NOT_MARKED, pytrace=False) from None
        raise


#: pytest's failure for an ``async def`` test that no plugin runs, and what we say instead.
_PYTEST_ASYNC_FAIL = "async def functions are not natively supported."
_NOT_MARKED = (
    f"{_PYTEST_ASYNC_FAIL}\npytest-aioloop runs this test if it is marked with "
    "@pytest.mark.asyncio (on the test, its class, or in the module's pytestmark), or every "
    "coroutine test with asyncio_mode = auto in the ini file (or --asyncio-mode=auto)."
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    """Give back the test's loop and report what the nets found, after its fixtures' teardown."""
    try:
        result = yield
    finally:
        state = item.config.stash.get(STATE_KEY, None)
        failures: list[str] = []
        if state is not None:
            if state.parts is not None:  # an async test or fixture ran in this session
                failures = state.parts.finish(state, item)
            if state.made("loops"):
                state.loops.close_departed(nextitem)
            if state.stall is not None:
                state.stall.progress()
            if state.unawaited is not None and state.unawaited.to_warn:
                state.unawaited.deliver_warnings(item.config.hook)
            state.current_item = None
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
    return result


# -- fixtures -----------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """Run pytest-aioloop's fixtures in their loop; watch user-defined ``event_loop`` fixtures."""
    state = request.config.stash[STATE_KEY]
    if (
        state.is_handled(fixturedef)
        or state.fixture_loops
        or fixture_name(fixturedef) == "event_loop"
    ):
        parts = state.parts or _parts(state)
        return (yield from parts.fixture_setup(state, fixturedef, request))
    return (yield)  # a plain fixture, and no async fixture is live: nothing to do


# -- the debugger -------------------------------------------------------------------------------
def pytest_enter_pdb(config: pytest.Config) -> None:
    """Pause the timeouts of async tests and fixtures while pytest's debugger is stopped."""
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.debugger_stopped()


def pytest_leave_pdb(config: pytest.Config) -> None:
    """Let the timeouts go on, without the time the debugger was stopped."""
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.debugger_went_on()


# -- the end ------------------------------------------------------------------------------------
def pytest_sessionstart(session: pytest.Session) -> None:
    """Trace hung tests on SIGTERM, blame unawaited coroutines; take xdist workers' findings."""
    watches.start(session)
    manager = session.config.pluginmanager
    if manager.has_plugin("dsession"):
        from pytest_aioloop._nets.reporter import take_workers_findings

        take_workers_findings(manager, session.config.stash[STATE_KEY].summary)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """List what the safety nets found in the run, per test."""
    state = config.stash.get(STATE_KEY, None)
    if state is not None and state.made("summary"):
        from pytest_aioloop._nets.reporter import write_summary

        write_summary(terminalreporter, state.summary, state.settings)


@pytest.hookimpl(trylast=True)  # after pytest has torn down what the run left set up
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Close loops of tests run without ``event_loop`` that an interrupted run left open.

    Also the function loop of the test that ``pytest.exit()`` or Ctrl-C interrupted.
    """
    state = session.config.stash.get(STATE_KEY, None)
    if state is None:
        return
    item = state.current_item
    if item is not None and state.parts is not None:  # its teardown hooks never ran
        from pytest_aioloop._items.lifecycle import finish_interrupted

        state.current_item = None
        finish_interrupted(state, item)
    if state.made("loops"):
        state.loops.close_departed(None)
    watches.stop_unawaited(state)
    if state.unawaited is not None:
        state.unawaited.deliver_warnings(session.config.hook)
    if (
        state.made("summary")
        and state.summary.failing(state.settings.unawaited)
        and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the timeout watchdog thread, if a timeout ever started it."""
    state = config.stash.get(STATE_KEY, None)
    if state is not None and state.made("watchdog"):
        state.watchdog.close()
    lazy_asyncio.refresh()


# -- pytest-aioloop's fixtures ------------------------------------------------------------------
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
    from pytest_aioloop._fixtures.builtin import current_policy

    return current_policy()


@pytest.fixture
@builtin
def event_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """Return the asyncio event loop the test runs in, installed as the current loop.

    Inside a coroutine test this is ``asyncio.get_running_loop()``. A synchronous test can
    request it and drive code with ``event_loop.run_until_complete(...)``. Override it in a
    conftest, module or class (any scope) to run the tests in its visibility in your own loop,
    as with pytest-asyncio 0.21. pytest-aioloop closes its loops when their scope ends: pending
    tasks are cancelled, async generators and the default executor are shut down.
    """
    from pytest_aioloop._fixtures import builtin as fixtures

    yield from fixtures.event_loop(request)


@pytest.fixture
def virtual_clock(request: pytest.FixtureRequest) -> VirtualClock:
    """Return the virtual clock of the test's loop: the test's call runs in virtual time.

    The clock jumps to the loop's next timer whenever nothing else is to be done, so
    ``await asyncio.sleep(3600)`` returns at once. ``virtual_clock.time()`` is the loop's time,
    ``virtual_clock.advance(seconds)`` moves it forward by hand, and
    ``virtual_clock.autojump_threshold`` is how many real seconds the loop looks for I/O before
    it jumps (default 0). With ``@pytest.mark.asyncio(virtual_time=False)`` the clock only moves
    when advanced. Only asyncio's selector event loops can run in virtual time.
    """
    from pytest_aioloop._fixtures.builtin import virtual_clock as clock_of_test

    return clock_of_test(request)
