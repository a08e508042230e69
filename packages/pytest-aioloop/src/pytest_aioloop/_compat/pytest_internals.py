"""Private pytest internals: fixture definitions, the test function, option and hook plumbing.

Each function says why no public API serves. pytest's documented API covers hooks, nodes,
markers and requests; what it does not expose is which definition a fixture name resolves to,
a definition's function, and ways to change a test's function or fixture closure in place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

__all__ = [
    "add_fixture_finalizer",
    "callspec_param",
    "clear_report_sections",
    "closure_of",
    "drop_registration_history",
    "finish_with",
    "fixture_argnames",
    "fixture_baseid",
    "fixture_function",
    "fixture_name",
    "fixturedefs_of_item",
    "funcarg",
    "is_test_function",
    "pytest_option",
    "record_warning",
    "replace_test_function",
    "request_first",
    "standing_in",
    "taken_option_names",
    "visible_fixturedefs",
]


def fixturedefs_of_item(item: pytest.Item) -> Mapping[str, Sequence[pytest.FixtureDef[Any]]]:
    """Return the fixture definitions visible to ``item``, by name.

    Why private: pytest exposes the closure's names (``item.fixturenames``) but not which
    definition each name resolves to. We need it at a test's setup to know whether a name is an
    async fixture and with which loop scope; pytest-asyncio reads the same attribute.
    """
    request = getattr(item, "_request", None)
    table = getattr(request, "_arg2fixturedefs", None) if request else None
    if isinstance(table, dict):
        return table  # the test's own table: also its own fixture copies when concurrent
    info = getattr(item, "_fixtureinfo", None)
    mapping = getattr(info, "name2fixturedefs", None)
    return mapping if mapping is not None else {}


def closure_of(item: pytest.Item) -> object:
    """Return a key that is the same for tests whose fixtures resolve to the same definitions.

    Why private: pytest does not say which definitions a test's fixture names resolve to
    without looking each up. Tests of one module or class with the same fixture names see the
    same definitions; a test whose parametrization gives an argument directly has definitions
    of its own (``item._fixtureinfo``, shared only by that function's parametrizations).
    """
    info = getattr(item, "_fixtureinfo", None)
    if info is None:  # pragma: no cover - not a pytest.Function
        return id(item)
    if "callspec" in item.__dict__:  # not hasattr(): a miss raises and catches an error
        return id(info)
    return (id(item.parent), tuple(info.names_closure))


def is_set_up(fixturedef: pytest.FixtureDef[Any], *param: object) -> bool:
    """Whether ``fixturedef`` holds a value now (for ``param``, if one is given).

    Why private: pytest keeps a set-up fixture's value, and the parameter it was made with, in
    ``FixtureDef.cached_result``, which is not public. Tests that set up overlapping
    (concurrency) must know whether a wider fixture is set up already, for their parameter:
    if not, pytest sets it up (and first tears down the other parameter's) during their setup,
    which the first test that needs it must do alone.
    """
    cached = getattr(fixturedef, "cached_result", None)
    if cached is None:
        return False
    if not param:
        return True
    key = cached[1]
    return key is param[0] or key == param[0]


def visible_fixturedefs(node: pytest.Item | pytest.Collector, name: str) -> Sequence[Any]:
    """Return the definitions of fixture ``name`` visible to ``node`` (last one wins).

    Why private: used to tell a user-defined ``event_loop``/``event_loop_policy`` override
    from ours inside a fixture request, where no public API names the winning definition.
    """
    manager = getattr(node.session, "_fixturemanager", None)
    if manager is None:  # pragma: no cover - pytest internals changed
        return ()
    return manager.getfixturedefs(name, node) or ()


def fixture_function(fixturedef: pytest.FixtureDef[Any]) -> Callable[..., Any]:
    """Return the function of a fixture definition.

    Why private: ``FixtureDef`` is a public type, but its ``func`` attribute is not documented.
    It is the only way to know whether a fixture is async, or one of pytest-aioloop's own.
    """
    return fixturedef.func


def fixture_name(fixturedef: pytest.FixtureDef[Any]) -> str:
    """Return the name a fixture definition is requested by.

    Why private: ``FixtureDef.argname`` is not among its documented fields; where a request is
    at hand, ``request.fixturename`` says the same, but the nets and the loop chooser see only
    definitions.
    """
    return fixturedef.argname


def fixture_argnames(fixturedef: pytest.FixtureDef[Any]) -> tuple[str, ...]:
    """Return the names of the fixtures a fixture definition requests.

    Why private: ``FixtureDef.argnames`` is not documented. Used to follow an async fixture's
    dependencies to the loop they run in.
    """
    return tuple(fixturedef.argnames)


class standing_in:  # a lower-case name: used as a function, ``with standing_in(...)``
    """Let pytest call ``wrapper`` instead of the fixture's function while it sets it up.

    Why private: pytest calls ``fixturedef.func`` from ``pytest_fixture_setup``; a plugin that
    runs a fixture's function differently (in an event loop) can only swap it for the duration
    of that hook. pytest-asyncio does the same.
    """

    __slots__ = ("_fixturedef", "_original", "_wrapper")

    def __init__(self, fixturedef: pytest.FixtureDef[Any], wrapper: Callable[..., Any]) -> None:
        self._fixturedef = fixturedef
        self._wrapper = wrapper

    def __enter__(self) -> None:
        self._original = self._fixturedef.func
        self._fixturedef.func = self._wrapper  # type: ignore[misc]

    def __exit__(self, *exc_info: object) -> None:
        self._fixturedef.func = self._original  # type: ignore[misc]


def fixture_baseid(fixturedef: pytest.FixtureDef[Any]) -> str:
    """Return where a fixture is defined, as a node id prefix (for messages).

    Why private: ``FixtureDef.baseid`` is undocumented; it is the fallback when the fixture's
    source file cannot be found.
    """
    return str(getattr(fixturedef, "baseid", "") or "")


def add_fixture_finalizer(
    fixturedef: pytest.FixtureDef[Any], finalizer: Callable[[], object]
) -> None:
    """Run ``finalizer`` when a fixture definition is finished (before its own teardown).

    Why private: a plugin that only sees the definition in ``pytest_fixture_setup``'s wrapper
    (after the fixture function returned) has no request to add a finalizer with.
    """
    fixturedef.addfinalizer(finalizer)


def finish_with(
    request: pytest.FixtureRequest, name: str, dependant: pytest.FixtureDef[Any]
) -> None:
    """Tear ``dependant`` down whenever fixture ``name`` is torn down (e.g. its param changes).

    Why private: pytest links a fixture to the fixtures it depends on only for the names in its
    signature. An async fixture depends on the test's loop factory without naming it, and
    must be made again in the next factory's loop, so we add the same link pytest would.
    """
    defs = visible_fixturedefs(request.node, name)
    if defs:
        sub: Any = request  # a SubRequest: fixtures get one
        defs[-1].addfinalizer(functools.partial(dependant.finish, request=sub))


def request_first(item: pytest.Item, name: str) -> None:
    """Make ``item`` use fixture ``name`` before all its other fixtures.

    Why private: ``item.fixturenames`` is documented as a read-only view of the closure, but
    pytest sets up the names in it in order; adding one at the front at setup time is the only
    way to use a fixture that only the test's setup decides it needs (pytest-asyncio does it too).
    """
    item.fixturenames.insert(0, name)  # type: ignore[attr-defined]


def funcarg(item: pytest.Item, name: str) -> Any:
    """Return the value of fixture ``name`` for ``item``, set up already.

    Why private: ``item.funcargs`` is not documented; inside the test's call no request is
    at hand to ask for the value.
    """
    return item.funcargs[name]  # type: ignore[attr-defined]


def callspec_param(item: pytest.Item, name: str) -> Any:
    """Return the parameter ``name`` of a parametrized ``item``, or ``None``.

    Why private: ``item.callspec`` (``CallSpec2``) is not a documented type; the parameter of an
    indirectly parametrized fixture is otherwise only known inside that fixture.
    """
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    return callspec.params.get(name)


def replace_test_function(
    item: pytest.Function, func: Callable[..., Any], original: object
) -> Callable[[], None]:
    """Make pytest's call of ``item`` call ``func``; return what puts ``original`` back.

    ``original`` is ``item.obj``, which the caller read already (each read of it is a call).

    Why private: ``pytest_pyfunc_call`` calls ``item.obj``, which pytest documents as read-only.
    A plugin that runs the test's coroutine itself (or hands its outcome over later) must let
    pytest's own call (and the plugins wrapping it) run, with another function in place.
    """
    item.obj = func

    def restore() -> None:
        item.obj = original

    return restore


def record_warning(ihook: Any, message: Any, nodeid: str) -> None:
    """Pass a warning caught while a test ran concurrently to ``pytest_warning_recorded``.

    Why private: pytest calls this historic hook itself, from its ``catch_warnings`` around each
    phase. Warnings of a test that ran beside others are caught by pytest-aioloop, which calls
    the hook the same way (``call_historic``), with the test's node id.
    """
    ihook.pytest_warning_recorded.call_historic(
        kwargs={"warning_message": message, "when": "runtest", "nodeid": nodeid, "location": None}
    )


def pytest_option(config: pytest.Config, dest: str, default: Any = None) -> Any:
    """Return the value of one of pytest's own command-line options, by its ``dest``.

    Why private: pytest documents its flags (``--setup-show``), not the names its parser stores
    them under (``setupshow``), which ``getoption`` needs.
    """
    return config.getoption(dest, default)


def is_test_function(collector: pytest.Collector, obj: object, name: str) -> bool:
    """Whether pytest collects ``obj`` (called ``name`` in ``collector``) as a test function.

    Why private: pytest's collectors decide this with ``istestfunction`` (the
    ``python_functions`` patterns and the rules for fixtures and staticmethods), which the
    documented API does not expose; pytest-asyncio calls the same collector methods. Used to
    mark only real tests, never a helper that happens to sit in a test module.
    """
    check = getattr(collector, "istestfunction", None)
    if check is None:  # pragma: no cover - pytest internals changed
        return name.startswith("test")
    return bool(check(obj, name))


def drop_registration_history(pluginmanager: pytest.PytestPluginManager, plugin: object) -> None:
    """Forget that ``plugin`` was ever registered, after it was unregistered.

    Why private: ``pytest_plugin_registered`` is a historic hook, so pytest's fixture manager,
    created after every plugin has loaded, replays each registration it missed, also of a
    plugin unregistered since, and would collect that plugin's fixtures. pytest-aioloop
    unregisters pytest-asyncio when both are installed; without this, pytest-asyncio's
    ``unused_tcp_port`` could silently win over pytest-ports'. pluggy keeps the replayed calls
    in ``HookCaller._call_history``.
    """
    caller = getattr(pluginmanager.hook, "pytest_plugin_registered", None)
    history = getattr(caller, "_call_history", None)
    if isinstance(history, list):
        history[:] = [entry for entry in history if entry[0].get("plugin") is not plugin]


def taken_option_names(parser: pytest.Parser, group: str) -> set[str]:
    """Return the command-line flags another plugin already added to option group ``group``.

    Why private: ``Parser`` does not say which flags exist; adding a taken one fails only when
    pytest parses the command line, with an argparse traceback. ``OptionGroup.options`` holds
    them. Used when pytest-asyncio loaded first and registered ``--asyncio-mode`` itself.
    """
    found: set[str] = set()
    for option in getattr(parser.getgroup(group), "options", ()):
        names = getattr(option, "names", None)
        if callable(names):
            found.update(names())
    return found


def extend_report_section(item: pytest.Item, when: str, key: str, content: str) -> None:
    """Add ``content`` to ``item``'s section of phase ``when`` (a new one if it has none).

    Why private: pytest adds one "Captured stdout teardown" section per phase, and a test
    whose teardown runs in two parts (concurrency: its own fixtures, then its module's, once
    the others are done) must show one, as without concurrency. ``add_report_section`` always
    adds a new section; the sections live in ``Item._report_sections``. Where that list has
    gone, a second section is added.
    """
    if not content:
        return
    sections = getattr(item, "_report_sections", None)
    if isinstance(sections, list):
        for i, (seen_when, seen_key, seen) in enumerate(sections):
            if (seen_when, seen_key) == (when, key):
                sections[i] = (when, key, seen + content)
                return
    item.add_report_section(when, key, content)


def clear_report_sections(item: pytest.Item) -> None:
    """Forget what ``item``'s earlier run added to its reports, before it runs again.

    Why private: captured output is added to ``Item._report_sections``, which only grows; a
    test that failed beside others runs again alone (concurrency), and that run's reports
    must show that run's output only, as a run alone would. pytest has no public way to
    reset the list.
    """
    sections = getattr(item, "_report_sections", None)
    if isinstance(sections, list):
        sections.clear()
