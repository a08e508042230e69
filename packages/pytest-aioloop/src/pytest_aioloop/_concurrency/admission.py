"""Which tests may run concurrently, how many at once, and why others must run alone."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_aioloop._compat.pytest_internals import fixturedefs_of_item, pytest_option
from pytest_aioloop._items.plan import ItemPlan, unwrap_test_function
from pytest_aioloop._session import SessionState
from pytest_aioloop._settings.fixture import options_of
from pytest_aioloop._settings.marker import concurrency_of

#: Fixtures that change process-wide state, and why that keeps their tests alone.
PROCESS_WIDE = {
    "monkeypatch": "it uses monkeypatch (process-wide attributes and environment)",
    "capsys": "it uses capsys (it replaces sys.stdout and sys.stderr)",
    "capsysbinary": "it uses capsysbinary (it replaces sys.stdout and sys.stderr)",
    "capfd": "it uses capfd (it captures file descriptors 1 and 2)",
    "capfdbinary": "it uses capfdbinary (it captures file descriptors 1 and 2)",
    "caplog": "it uses caplog (the root logger's level and handlers)",
    "recwarn": "it uses recwarn (warning filters and records are process-wide)",
    "event_loop": "it uses the event_loop fixture (a loop of its own)",
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

    @classmethod
    def of(cls, config: pytest.Config) -> Plugins:
        """Look the plugins and their options up in ``config``."""
        rerun = config.pluginmanager.has_plugin("rerunfailures")
        timeout = config.pluginmanager.has_plugin("timeout")
        return cls(
            rerunfailures=rerun,
            reruns_all=rerun and bool(config.getoption("reruns", 0)),
            timeout=timeout,
            timeout_all=timeout and bool(config.getoption("timeout", None)),
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
    if not plan.loop_from_setup:
        return "it uses an event_loop or event_loop_policy of its own, or loop factories"
    key = plan.closure
    if key is not None and key in by_closure:
        why = by_closure[key]
    else:
        why = _fixtures_reason(state, item)
        if key is not None:
            by_closure[key] = why
    if why is not None:
        return why
    obj = getattr(item, "obj", None)
    if getattr(obj, "patchings", None):
        return "it is decorated with unittest.mock.patch (it patches the whole process)"
    _, hypothesis = unwrap_test_function(obj)
    if hypothesis:
        return "it uses Hypothesis (many examples in one call)"
    if any(mark.name == "filterwarnings" for mark in getattr(item, "own_markers", ())):
        return "it has a filterwarnings mark of its own (warning filters are process-wide)"
    if plugins.rerunfailures and (plugins.reruns_all or item.get_closest_marker("flaky")):
        return "pytest-rerunfailures may rerun it (a rerun runs alone)"
    if plugins.timeout and (plugins.timeout_all or item.get_closest_marker("timeout")):
        return "pytest-timeout applies to it (its timer measures one test at a time)"
    return None


def _fixtures_reason(state: SessionState, item: pytest.Item) -> str | None:
    """Why the fixtures ``item`` uses keep it alone, if they do."""
    names = getattr(item, "fixturenames", ())
    for name, why in PROCESS_WIDE.items():
        if name in names:
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
