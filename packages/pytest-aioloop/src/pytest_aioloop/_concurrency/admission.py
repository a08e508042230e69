"""Which tests may run concurrently, how many at once, and why others must run alone."""

from __future__ import annotations

import dataclasses
import inspect
import sys

import pytest

from pytest_aioloop._compat.pytest_internals import fixturedefs_of_item, pytest_option
from pytest_aioloop._items.call import wants_virtual_time
from pytest_aioloop._items.plan import (
    CollectorFacts,
    ItemPlan,
    collector_facts,
    unwrap_test_function,
)
from pytest_aioloop._loop.policy import overrides_builtin
from pytest_aioloop._session import SessionState
from pytest_aioloop._settings.fixture import options_of
from pytest_aioloop._settings.marker import concurrency_of

#: What keeps a test that asks for ``monkeypatch`` itself alone. (A test that gets it only
#: through its fixtures runs with others: they patch at setup, and the undo waits for the
#: group's other tests, see ``.patches``.)
MONKEYPATCH_IN_TEST = (
    "it uses monkeypatch in its body (process-wide attributes and environment; monkeypatch in "
    "its fixtures only would let it run with others)"
)
#: Fixtures that change process-wide state, and why that keeps their tests alone.
PROCESS_WIDE = {
    "capsys": "it uses capsys (it replaces sys.stdout and sys.stderr)",
    "capsysbinary": "it uses capsysbinary (it replaces sys.stdout and sys.stderr)",
    "capfd": "it uses capfd (it captures file descriptors 1 and 2)",
    "capfdbinary": "it uses capfdbinary (it captures file descriptors 1 and 2)",
    "caplog": "it uses caplog (the root logger's level and handlers)",
    "recwarn": "it uses recwarn (warning filters and records are process-wide)",
    "event_loop": "it uses the event_loop fixture (a loop of its own)",
    # Other plugins' fixtures that patch the whole process for one test:
    "mocker": "it uses mocker (pytest-mock patches attributes for the whole process)",
    "respx_mock": "it uses respx_mock (respx routes every httpx request of the process)",
    "httpx_mock": "it uses httpx_mock (pytest-httpx routes every httpx request of the process)",
    "aioresponses": "it uses aioresponses (it routes every aiohttp request of the process)",
    "time_machine": "it uses time_machine (it moves the clock of the whole process)",
    "freezer": "it uses freezer (freezegun freezes the clock of the whole process)",
}
#: Markers of other plugins that patch the whole process for one test.
PROCESS_WIDE_MARKS = {
    "freeze_time": "it is marked freeze_time (freezegun freezes the clock of the whole process)",
    "respx": "it is marked respx (respx routes every httpx request of the process)",
    "httpx_mock": "it is marked httpx_mock (pytest-httpx routes every httpx request)",
}
#: Options under which no test runs concurrently, and why.
RUN_OFF = {
    "setupplan": "--setup-plan",  # before the two it implies
    "setuponly": "--setup-only",
    "setupshow": "--setup-show",
    "usepdb": "--pdb",
    "trace": "--trace",
}


def run_off_reason(config: pytest.Config) -> str | None:
    """Return the option that turns concurrency off for the whole run, if one is given."""
    for dest, flag in RUN_OFF.items():
        if pytest_option(config, dest, False):
            return flag
    return None


def limit_of(item: pytest.Item, default: int) -> int:
    """Return how many tests may run at once where ``item`` is (closest ``concurrency=``)."""
    return concurrency_of(item.iter_markers("asyncio"), default)[0]


@dataclasses.dataclass(frozen=True)
class Plugins:
    """What other plugins of the run make a test run alone (looked up once, at the first test)."""

    rerunfailures: bool
    reruns_all: bool
    timeout: bool
    timeout_all: bool
    #: The marks of :data:`PROCESS_WIDE_MARKS` that a plugin of the run registered (a mark no
    #: plugin knows patches nothing).
    marks: tuple[str, ...] = ()

    @classmethod
    def of(cls, config: pytest.Config) -> Plugins:
        """Look the plugins and their options up in ``config``."""
        rerun = config.pluginmanager.has_plugin("rerunfailures")
        timeout = config.pluginmanager.has_plugin("timeout")
        registered = {
            str(line).split(":", 1)[0].split("(", 1)[0].strip() for line in config.getini("markers")
        }
        return cls(
            rerunfailures=rerun,
            reruns_all=rerun and bool(config.getoption("reruns", 0)),
            timeout=timeout,
            timeout_all=timeout and bool(config.getoption("timeout", None)),
            marks=tuple(name for name in PROCESS_WIDE_MARKS if name in registered),
        )


def reason_alone(
    state: SessionState,
    item: pytest.Item,
    plan: ItemPlan,
    *,
    concurrent: bool,
    plugins: Plugins,
    by_closure: dict[object, str | None],
) -> str | None:
    """Return why ``item`` must run alone, or ``None`` if it may run with others.

    ``concurrent`` is what its markers say (``_settings.marker.concurrency_of``);
    ``by_closure`` caches what the fixtures say, which is the same for tests that see the
    same fixture definitions (``plan.closure``).
    """
    if not concurrent:
        return "it is marked concurrent=False"
    if wants_virtual_time(state, item, plan):
        return "it runs in virtual time (its clock's jumps would reach the tests beside it)"
    if state.loop_made is not None and _in_looptime(item):
        return "it runs in looptime's time (its clock's jumps would reach the tests beside it)"
    if not plan.loop_from_setup and not shares_user_loop(item, plan, state.collector_facts):
        return (
            "it uses an event_loop of its own for each test, an event_loop_policy of its own, "
            "or loop factories"
        )
    key = plan.closure
    if key is not None and key in by_closure:
        why = by_closure[key]
    else:
        why = _fixtures_reason(state, item)
        if key is not None:
            by_closure[key] = why
    if why is not None:
        return why
    if "monkeypatch" in getattr(item, "fixturenames", ()) and _asks_for(item, "monkeypatch"):
        return MONKEYPATCH_IN_TEST
    obj = getattr(item, "obj", None)
    if getattr(obj, "patchings", None):
        return "it is decorated with unittest.mock.patch (it patches the whole process)"
    if _calls_mock_patch(getattr(obj, "__func__", obj)):  # ``item.function``, without a call
        return "it calls unittest.mock.patch in its body (it patches the whole process)"
    _, hypothesis = unwrap_test_function(obj)
    if hypothesis:
        return "it uses Hypothesis (many examples in one call)"
    for mark in getattr(item, "own_markers", ()):
        if mark.name == "filterwarnings":
            return "it has a filterwarnings mark of its own (warning filters are process-wide)"
    for name in plugins.marks:
        if item.get_closest_marker(name) is not None:
            return PROCESS_WIDE_MARKS[name]
    if plugins.rerunfailures and (plugins.reruns_all or item.get_closest_marker("flaky")):
        return "pytest-rerunfailures may rerun it (a rerun runs alone)"
    if plugins.timeout and (plugins.timeout_all or item.get_closest_marker("timeout")):
        return "pytest-timeout applies to it (its timer measures one test at a time)"
    return None


def shares_user_loop(
    item: pytest.Item, plan: ItemPlan, known: dict[object, CollectorFacts]
) -> bool:
    """Whether ``item`` runs in a user-defined ``event_loop`` wider than a test (shared).

    A module-scoped ``event_loop`` (pytest-asyncio 0.21 style) is one loop for the module's
    tests: they can run together in it. A function-scoped one, a policy of one's own and loop
    factories give each test a loop of its own.
    """
    if not plan.is_async_test or plan.factory_name is not None or plan.spec.loop_scope:
        return False
    facts = collector_facts(item.parent, known) if item.parent is not None else None
    if facts is None or facts.policy_overridden or facts.factories_hooked:
        return False
    return facts.loop_overridden and _wide_user_loop(item)


def _wide_user_loop(item: pytest.Item) -> bool:
    """Whether the ``event_loop`` that ``item`` sees is a user's, wider than a function."""
    defs = fixturedefs_of_item(item).get("event_loop")
    return defs is not None and overrides_builtin(defs) and defs[-1].scope != "function"


def _calls_mock_patch(function: object) -> bool:
    """Whether ``function``'s own code uses ``unittest.mock``'s ``patch`` (``with patch(...)``).

    Read from its bytecode: a global ``patch`` bound to ``unittest.mock.patch``, or ``.patch``
    looked up on a global bound to ``unittest.mock`` (or ``mock``), or on ``unittest.mock``.
    An HTTP client's ``.patch()`` is not mistaken for it; helpers it calls are not looked into.
    """
    code = getattr(function, "__code__", None)
    if code is None or "patch" not in code.co_names:
        return False
    mock = sys.modules.get("unittest.mock")
    if mock is None:
        return False
    import dis

    scope = getattr(function, "__globals__", {})
    modules = [mock, *(m for m in (sys.modules.get("mock"),) if m is not None)]
    previous: list[tuple[str, object]] = []
    for instruction in dis.get_instructions(code):
        name, value = instruction.opname, instruction.argval
        if name in ("LOAD_GLOBAL", "LOAD_NAME") and value == "patch":
            if scope.get("patch") is mock.patch:
                return True
        elif name in ("LOAD_ATTR", "LOAD_METHOD") and value == "patch" and previous:
            before, owner = previous[-1]
            if before in ("LOAD_GLOBAL", "LOAD_NAME") and any(
                scope.get(str(owner)) is module for module in modules
            ):
                return True
            if before in ("LOAD_ATTR", "LOAD_METHOD") and owner == "mock":
                return True  # unittest.mock.patch
        previous = [(name, value)]
    return False


def _in_looptime(item: pytest.Item) -> bool:
    flag = item.config.getoption("looptime", None)
    if flag is False:
        return False
    return flag is True or item.get_closest_marker("looptime") is not None


def _asks_for(item: pytest.Item, name: str) -> bool:
    """Whether the test function itself has an argument ``name`` (not only its fixtures)."""
    function = getattr(item, "function", None)
    if function is None:
        return True
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):  # pragma: no cover - no signature: assume it does
        return True


def _fixtures_reason(state: SessionState, item: pytest.Item) -> str | None:
    """Why the fixtures ``item`` uses keep it alone, if they do."""
    names = getattr(item, "fixturenames", ())
    for name, why in PROCESS_WIDE.items():
        if name in names and not (name == "event_loop" and _wide_user_loop(item)):
            return why
    defs = fixturedefs_of_item(item)
    for name in names:
        found = defs.get(name)
        if not found:
            continue
        options = options_of(state.func_of(found[-1]))
        if options is not None and not options.concurrent:
            return f"it uses fixture {name!r}, made with concurrent=False"
    return None
