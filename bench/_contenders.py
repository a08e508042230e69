"""The contenders: what each installs, and how each spells an async test and an async fixture."""

from __future__ import annotations

import dataclasses
import re
from typing import Literal


@dataclasses.dataclass(frozen=True)
class Contender:
    """One plugin (or none) and the source snippets the suites are generated from."""

    name: str
    #: Requirements for ``uv pip install`` besides pytest itself ("local" means the wheels
    #: built from ``packages/``).
    requirements: tuple[str, ...]
    #: Distributions whose versions go into the report.
    dists: tuple[str, ...]
    #: The modules its pytest11 entry points import, for the import-time scenario.
    plugin_modules: tuple[str, ...]
    is_async: bool
    imports: str
    ini: str
    conftest_extra: str
    mark_function: str
    mark_module: str
    fixture_function: str
    fixture_module: str
    #: Scenario 7, the I/O-bound suite: the decorators of its session- and function-scoped async
    #: fixtures, the mark of each module and the decorator of each test ("" where none is needed).
    io_fixture_session: str = ""
    io_fixture_function: str = ""
    io_mark_module: str = ""
    io_mark_test: str = ""
    #: How the I/O suite's fixtures clean up: after their ``yield`` (as users write them), or,
    #: for a plugin that runs async generator fixtures in a loop of their own, in a finalizer.
    io_fixture_style: Literal["yield", "finalizer"] = "yield"
    #: A pytest requirement of its own instead of the run's (None: the run's pytest).
    pytest_spec: str | None = None


AIOKIT = Contender(
    name="pytest-aiokit",
    requirements=("local",),
    dists=("pytest-aioloop", "pytest-ports", "pytest-aiokit"),
    plugin_modules=("pytest_aioloop.plugin",),
    is_async=True,
    imports="import pytest_aioloop",
    ini="asyncio_mode = strict",
    conftest_extra="",
    mark_function="pytest.mark.asyncio",
    mark_module='pytest.mark.asyncio(loop_scope="module")',
    fixture_function="@pytest_aioloop.fixture",
    fixture_module='@pytest_aioloop.fixture(scope="module", loop_scope="module")',
    # As in the how-to: tests that use the session-scoped server run in its (shared) loop.
    io_fixture_session='@pytest_aioloop.fixture(scope="session")',
    io_fixture_function="@pytest_aioloop.fixture",
    io_mark_module="pytest.mark.asyncio",
)

PYTEST_ASYNCIO = Contender(
    name="pytest-asyncio",
    requirements=("pytest-asyncio",),
    dists=("pytest-asyncio",),
    plugin_modules=("pytest_asyncio.plugin",),
    is_async=True,
    imports="import pytest_asyncio",
    # Set explicitly so that versions which warn when it is unset stay quiet.
    ini="asyncio_mode = strict\nasyncio_default_fixture_loop_scope = function",
    conftest_extra="",
    mark_function="pytest.mark.asyncio",
    mark_module='pytest.mark.asyncio(loop_scope="module")',
    fixture_function="@pytest_asyncio.fixture",
    fixture_module='@pytest_asyncio.fixture(scope="module", loop_scope="module")',
    # The server's loop must be running while a test waits for it: everything in the session loop.
    io_fixture_session='@pytest_asyncio.fixture(scope="session", loop_scope="session")',
    io_fixture_function='@pytest_asyncio.fixture(loop_scope="session")',
    io_mark_module='pytest.mark.asyncio(loop_scope="session")',
)

ANYIO = Contender(
    name="anyio",
    requirements=("anyio",),
    dists=("anyio",),
    plugin_modules=("anyio.pytest_plugin",),
    is_async=True,
    imports="",
    ini="",
    # anyio keeps one runner (loop) per backend while a fixture or test holds it; its backend
    # fixture is module-scoped, as anyio's documentation recommends.
    conftest_extra=(
        '@pytest.fixture(scope="module")\ndef anyio_backend() -> str:\n    return "asyncio"\n'
    ),
    mark_function="pytest.mark.anyio",
    mark_module="pytest.mark.anyio",
    fixture_function="@pytest.fixture",
    fixture_module='@pytest.fixture(scope="module")',
)

FLOOR = Contender(
    name="pytest (sync floor)",
    requirements=(),
    dists=(),
    plugin_modules=(),
    is_async=False,
    imports="",
    ini="",
    conftest_extra="",
    mark_function="",
    mark_module="",
    fixture_function="@pytest.fixture",
    fixture_module='@pytest.fixture(scope="module")',
)

#: Runs every test marked ``asyncio_cooperative`` (on the test itself: it reads only the test's
#: own marks) concurrently in one loop, with fixtures of its own; refuses to run beside
#: pytest-asyncio.
COOPERATIVE = Contender(
    name="pytest-asyncio-cooperative",
    requirements=("pytest-asyncio-cooperative==0.40.0",),
    dists=("pytest-asyncio-cooperative",),
    plugin_modules=("pytest_asyncio_cooperative.plugin",),
    is_async=True,
    imports="",
    ini="",
    conftest_extra="",
    mark_function="",
    mark_module="",
    fixture_function="@pytest.fixture",
    fixture_module='@pytest.fixture(scope="module")',
    io_fixture_session='@pytest.fixture(scope="session")',
    io_fixture_function="@pytest.fixture",
    io_mark_test="@pytest.mark.asyncio_cooperative",
)

#: Runs the tests of one ``asyncio_concurrent(group=...)`` group concurrently; a group whose
#: tests have different parents is skipped, so each module is one group (the parent strategy).
CONCURRENT = Contender(
    name="pytest-asyncio-concurrent",
    requirements=("pytest-asyncio-concurrent==0.5.2",),
    dists=("pytest-asyncio-concurrent",),
    plugin_modules=("pytest_asyncio_concurrent.plugin",),
    is_async=True,
    imports="",
    ini="default_group_strategy = parent",
    conftest_extra="",
    mark_function="",
    mark_module="",
    fixture_function="@pytest.fixture",
    fixture_module='@pytest.fixture(scope="module")',
    io_fixture_session='@pytest.fixture(scope="session")',
    io_fixture_function="@pytest.fixture",
    io_mark_module="pytest.mark.asyncio_concurrent",
)

#: The same on the newest pytest 9.0, where its fixture handling still works.
CONCURRENT_PYTEST_90 = dataclasses.replace(
    CONCURRENT, name="pytest-asyncio-concurrent on pytest 9.0", pytest_spec="pytest>=9.0,<9.1"
)
#: The same with fixtures that return their value and clean up in a finalizer: it runs each
#: async generator fixture in a new loop of its own, where the test cannot use its streams.
CONCURRENT_PYTEST_90_FINALIZER = dataclasses.replace(
    CONCURRENT_PYTEST_90,
    name="pytest-asyncio-concurrent on pytest 9.0, fixtures without yield",
    io_fixture_style="finalizer",
)

#: The floor of any async plugin that keeps pytest's protocol: a runner with no feature but
#: running coroutines (a loop per test or per module, async generator fixtures, nothing else).
#: Written only for the instruction-count scenario, to show what is left to gain.
MINIMAL_RUNNER = """\
import inspect

LOOP = pytest.StashKey()
_MODULE_LOOPS = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "minimal_module_loop: one loop per module")


def _loop_of(item):
    if item.get_closest_marker("minimal_module_loop") is None:
        return item.stash[LOOP]
    return _MODULE_LOOPS[item.module.__name__]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker("minimal_module_loop") is None:
        item.stash[LOOP] = asyncio.new_event_loop()
    elif item.module.__name__ not in _MODULE_LOOPS:
        _MODULE_LOOPS[item.module.__name__] = asyncio.new_event_loop()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        if item.get_closest_marker("minimal_module_loop") is None:
            item.stash[LOOP].close()
        elif nextitem is None or nextitem.module is not item.module:
            _MODULE_LOOPS.pop(item.module.__name__).close()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    func = fixturedef.func
    if not inspect.isasyncgenfunction(func):
        return (yield)
    loop = _loop_of(request.node)

    def run(**kwargs):
        agen = func(**kwargs)
        yield loop.run_until_complete(agen.__anext__())
        try:
            loop.run_until_complete(agen.__anext__())
        except StopAsyncIteration:
            pass

    fixturedef.func = run
    try:
        return (yield)
    finally:
        fixturedef.func = func


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    # What pytest's own pytest_pyfunc_call passes.
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    _loop_of(pyfuncitem).run_until_complete(pyfuncitem.obj(**args))
    return True
"""

MINIMAL = Contender(
    name="minimal runner (no features)",
    requirements=(),
    dists=(),
    plugin_modules=(),
    is_async=True,
    imports="",
    ini="",
    conftest_extra=MINIMAL_RUNNER,
    mark_function="",
    mark_module="pytest.mark.minimal_module_loop",
    fixture_function="@pytest.fixture",
    fixture_module='@pytest.fixture(scope="module")',
)

ALL = (AIOKIT, PYTEST_ASYNCIO, ANYIO, FLOOR)
#: The other plugins that run async tests concurrently; only scenario 7 runs them.
PEERS = (COOPERATIVE, CONCURRENT, CONCURRENT_PYTEST_90, CONCURRENT_PYTEST_90_FINALIZER)
BY_NAME = {c.name: c for c in (*ALL, *PEERS, MINIMAL)}


def slug(contender: Contender) -> str:
    """Return a file-system-friendly name for ``contender``."""
    if contender is FLOOR:
        return "floor"
    if contender is MINIMAL:
        return "minimal"
    return re.sub(r"[^\w.]+", "-", contender.name).strip("-")
