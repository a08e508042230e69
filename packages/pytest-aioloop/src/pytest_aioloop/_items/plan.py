"""Classify each test once, at its setup: is it an asyncio test, how does it run, in what loop?

The plan of a test (:class:`ItemPlan`, in the session's ``plans``) holds everything decided
about it: the parsed marker, the loop factory, whether it gets its loop without the
``event_loop`` fixture, and how its call runs (one after the other, or started in a group of
concurrent tests).
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from pytest_aioloop._compat.pytest_internals import (
    callspec_param,
    closure_of,
    fixture_function,
    visible_fixturedefs,
)
from pytest_aioloop._settings.fixture import is_builtin
from pytest_aioloop._settings.marker import MarkerError, MarkerSpec, parse_marker
from pytest_aioloop._settings.options import Settings

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._compat.asyncio_internals import SavedLoop
    from pytest_aioloop._loop.chooser import Mismatch
    from pytest_aioloop._loop.factories import LoopFactory
    from pytest_aioloop._loop.kinds import LoopKind
    from pytest_aioloop._run.owners import Owner
    from pytest_aioloop._session import SessionState

OTHER_FRAMEWORK_MARKERS = ("anyio", "trio")


class CallStrategy(Protocol):
    """How pytest's call of an asyncio test runs its coroutine."""

    #: The loop the test runs in when it is not its own (a group's), else ``None``.
    shared_loop: asyncio.AbstractEventLoop | None
    #: Whether the test's setup makes its loop the current loop (a group does that itself).
    sets_current_loop: bool

    def install(
        self, state: SessionState, item: pytest.Function, plan: ItemPlan
    ) -> Callable[[], None]:
        """Make pytest's call of ``item`` do this strategy's work; return the undo."""
        ...


class TestRun:
    """The loop and owner of one asyncio test, from its setup to its teardown."""

    __slots__ = ("loop", "owner", "release", "saved")

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        #: The loop pytest-aioloop handed out without a fixture (``None``: ``event_loop`` did).
        self.loop: asyncio.AbstractEventLoop | None = None
        #: What gives the loop back (``None``: nothing to give back).
        self.release: Callable[[], None] | None = None
        #: The current loop before the test's was installed (``None``: not installed).
        self.saved: SavedLoop | None = None


class ItemPlan:
    """What pytest-aioloop decided about one test item."""

    __slots__ = (
        "call",
        "closure",
        "error",
        "factories",
        "factory_name",
        "is_async_gen_test",
        "is_async_test",
        "kind",
        "loop_from_setup",
        "marked_not_async",
        "mismatches",
        "run",
        "spec",
        "wraps_coroutine",
    )

    def __init__(self) -> None:
        self.is_async_test = False
        self.is_async_gen_test = False
        self.marked_not_async = False
        self.spec = _NO_MARKER
        self.error: str | None = None
        #: The loop kind, decided at setup (``None`` until then).
        self.kind: LoopKind | None = None
        #: Async fixtures that run in another loop than this pinned test (``_loop.chooser``).
        self.mismatches: list[Mismatch] = _NONE
        self.factory_name: str | None = None
        #: The test's loop factories (from the hook), once asked for.
        self.factories: Mapping[str, LoopFactory] | None = None
        #: The test gets its loop from pytest-aioloop's setup hook, without the ``event_loop``
        #: fixture (no override of ``event_loop``/``event_loop_policy`` is visible, no factories).
        self.loop_from_setup = False
        #: How the test's call runs (``None``: one test after the other, :data:`SERIAL`).
        self.call: CallStrategy | None = None
        #: The test's loop and owner while it runs (from its setup to the end of its teardown).
        self.run: TestRun | None = None
        #: What tells the loop chooser that tests see the same fixtures (``closure_of``).
        self.closure: object = None
        #: The test is a coroutine function that another plugin wrapped in a plain function
        #: (pytest-run-parallel): pytest calls the wrapper (see ``_items.wrapped``).
        self.wraps_coroutine = False


#: What a test without an asyncio marker has (shared: it is never changed).
_NO_MARKER = MarkerSpec()
#: No mismatches (shared: a plan's list is replaced, never changed).
_NONE: list[Mismatch] = []


#: Set when collection saw an ``asyncio(concurrency=N)`` marker on a module or class.
CONCURRENCY_MARKED = pytest.StashKey[bool]()


def unwrap_test_function(obj: object) -> tuple[object, bool]:
    """Return the function that holds the test's code, and whether Hypothesis wraps it."""
    if type(obj) is types.FunctionType and "hypothesis" not in obj.__dict__:
        return obj, False  # the common case, without a failing attribute lookup
    inner = getattr(getattr(obj, "hypothesis", None), "inner_test", None)
    if inner is not None:
        return inner, True
    return obj, False


class CollectorFacts:
    """What pytest-aioloop needs to know about a module or class, found once per collector."""

    __slots__ = ("factories_hooked", "loop_overridden", "mark", "overridden", "policy_overridden")

    def __init__(
        self,
        *,
        mark: pytest.Mark | None,
        loop_overridden: bool,
        policy_overridden: bool,
        factories_hooked: bool,
    ) -> None:
        #: The closest ``asyncio`` marker of the collector or a parent.
        self.mark = mark
        #: A user-defined ``event_loop`` fixture is visible.
        self.loop_overridden = loop_overridden
        #: A user-defined ``event_loop_policy`` fixture is visible.
        self.policy_overridden = policy_overridden
        #: A plugin, or a conftest that applies here, implements the loop factories hook.
        self.factories_hooked = factories_hooked
        #: Whether a user-defined ``event_loop`` or ``event_loop_policy`` is visible.
        self.overridden = loop_overridden or policy_overridden


def collector_facts(
    collector: pytest.Item | pytest.Collector, known: dict[object, CollectorFacts]
) -> CollectorFacts:
    """Return the :class:`CollectorFacts` of ``collector``, cached in ``known`` (the session's
    ``collector_facts``)."""
    found = known.get(collector)
    if found is None:
        found = CollectorFacts(
            mark=collector.get_closest_marker("asyncio"),
            loop_overridden=_overridden(visible_fixturedefs(collector, "event_loop")),
            policy_overridden=_overridden(visible_fixturedefs(collector, "event_loop_policy")),
            factories_hooked=factories_hooked(collector),
        )
        known[collector] = found
        if found.mark is not None and "concurrency" in found.mark.kwargs:
            collector.config.stash[CONCURRENCY_MARKED] = True
    return found


def _overridden(defs: Sequence[pytest.FixtureDef[Any]]) -> bool:
    # The test of ``_loop.policy.overrides_builtin``, made here so that collection needs
    # nothing of the loop part.
    return bool(defs) and not is_builtin(fixture_function(defs[-1]))


def factories_hooked(node: pytest.Item | pytest.Collector) -> bool:
    """Whether a plugin or a conftest that applies to ``node`` implements the factories hook."""
    return bool(node.ihook.pytest_asyncio_loop_factories.get_hookimpls())


def async_kind(func: object) -> tuple[bool, bool]:
    """Return (is a coroutine function, is an async generator function) for ``func``.

    Plain functions are read from their code flags directly (collection asks this of every
    name in every test module); anything else goes through :mod:`inspect`, which also knows
    partials, methods and ``inspect.markcoroutinefunction``.
    """
    if type(func) is types.FunctionType and "_is_coroutine_marker" not in func.__dict__:
        flags = func.__code__.co_flags
        return bool(flags & inspect.CO_COROUTINE), bool(flags & inspect.CO_ASYNC_GENERATOR)
    return inspect.iscoroutinefunction(func), inspect.isasyncgenfunction(func)


def plan_item(
    item: pytest.Item,
    settings: Settings,
    known: dict[object, CollectorFacts],
    specs: dict[object, MarkerSpec] | None = None,
) -> ItemPlan:
    """Classify ``item``: is it an asyncio test, and are its marker's arguments valid?

    ``specs`` caches valid parsed markers by their arguments (each test's own decorator is a
    marker object of its own, but most say the same); ``known`` caches :func:`collector_facts`.
    """
    plan = ItemPlan()
    if not isinstance(item, pytest.Function):
        return plan
    # The function's own marks, then (cached per collector) its class's or module's.
    mark = None
    for own in item.own_markers:
        if own.name == "asyncio":
            mark = own
            break
    else:
        if item.parent is not None:
            mark = collector_facts(item.parent, known).mark
    func, _ = unwrap_test_function(item.obj)
    is_coro, is_agen = async_kind(func)
    wraps = not (is_coro or is_agen) and _wraps_coroutine(func)
    if mark is None:
        if not settings.auto or not (is_coro or is_agen or wraps):
            return plan
        if any(item.get_closest_marker(m) for m in OTHER_FRAMEWORK_MARKERS):
            return plan
    if mark is not None:
        _parse(plan, mark, item.nodeid, specs)
    if is_agen:
        plan.is_async_gen_test = True
    elif is_coro:
        plan.is_async_test = True
    elif wraps:
        plan.wraps_coroutine = True
    else:
        plan.marked_not_async = True
    return plan


def _wraps_coroutine(func: object) -> bool:
    """Whether ``func`` is a plain function that wraps a coroutine function (``__wrapped__``)."""
    if type(func) is not types.FunctionType or "__wrapped__" not in func.__dict__:
        return False  # the common case: no attribute lookup that fails
    return inspect.iscoroutinefunction(inspect.unwrap(func))


def _parse(
    plan: ItemPlan, mark: pytest.Mark, nodeid: str, specs: dict[object, MarkerSpec] | None
) -> None:
    """Put the marker's parsed arguments (or what is wrong with them) in ``plan``."""
    key = _key_of(mark) if specs is not None else None
    if key is not None and specs is not None and key in specs:
        plan.spec = specs[key]
        return
    try:
        plan.spec = parse_marker(mark, nodeid)
    except MarkerError as exc:
        plan.error = str(exc)
    else:
        if key is not None and specs is not None:
            specs[key] = plan.spec


def _key_of(mark: pytest.Mark) -> object:
    """A marker's arguments as a dictionary key; ``None`` where they cannot be (or must not be:
    the deprecated ``scope=`` warns at each test)."""
    kwargs = mark.kwargs
    if not kwargs and not mark.args:
        return ()
    if "scope" in kwargs:
        return None
    key = (mark.args, tuple(sorted(kwargs.items())))
    try:
        hash(key)
    except TypeError:  # a list of loop factories, say
        return None
    return key


def plan_at_setup(state: SessionState, item: pytest.Item) -> ItemPlan | None:
    """Decide, once per test and at its setup, whether and how pytest-aioloop runs it.

    Deciding at setup rather than at collection spares ``--collect-only``, deselected tests and
    xdist workers (which each collect the whole suite) the work, and sees markers that other
    plugins add in ``pytest_collection_modifyitems``.
    """
    plans = state.plans
    found: ItemPlan | None = plans.get(item)
    if found is not None:
        return found
    plan = plan_item(item, state.settings, state.collector_facts, state.marker_specs)
    if not (
        plan.is_async_test
        or plan.is_async_gen_test
        or plan.marked_not_async
        or plan.wraps_coroutine
    ):
        return None
    plan.closure = closure_of(item)
    plans[item] = plan
    if plan.marked_not_async:
        item.warn(
            pytest.PytestWarning(
                f"The test {item} is marked with '@pytest.mark.asyncio' but it is not an async "
                "function. It runs as a normal test: remove the marker (check the module's or "
                "class's pytestmark too), or make the test 'async def'."
            )
        )
        return plan
    if plan.wraps_coroutine:
        return plan  # pytest calls the wrapper, as a sync test (``_items.wrapped``)
    facts = collector_facts(item.parent, state.collector_facts) if item.parent is not None else None
    hooked = facts.factories_hooked if facts is not None else False
    if plan.error is None and plan.spec.loop_factories and not hooked:
        plan.error = (
            f"{item.nodeid}: mark.asyncio 'loop_factories' requires at least one "
            "pytest_asyncio_loop_factories hook implementation.\nImplement the hook in a "
            "conftest.py or plugin, returning a mapping of names to loop factories."
        )
    if hooked:
        _plan_factory(item, plan)
    plan.loop_from_setup = (
        plan.is_async_test
        and plan.factory_name is None
        and not hooked
        and (facts is None or not facts.overridden)
    )
    return plan


def _plan_factory(item: pytest.Item, plan: ItemPlan) -> None:
    """Find the test's loop factory: its parametrization's, or the hook's only one."""
    parametrized = callspec_param(item, "_aioloop_factory")
    if parametrized is not None:
        plan.factory_name = parametrized
    elif plan.is_async_test and plan.error is None:
        from pytest_aioloop._loop.factories import FactoriesError, factories_for

        try:
            factories = plan.factories = factories_for(item)
        except FactoriesError as exc:
            plan.error = str(exc)
        else:
            wanted = list(plan.spec.loop_factories or factories or ())
            if len(wanted) == 1 and factories and wanted[0] in factories:
                plan.factory_name = wanted[0]
