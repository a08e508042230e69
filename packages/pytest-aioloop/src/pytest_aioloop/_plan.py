"""Classify each test once: is it an asyncio test, and are its marker's arguments valid?"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Mapping

import pytest

from pytest_aioloop import _compat, _fixtures
from pytest_aioloop._choice import Mismatch
from pytest_aioloop._config import Settings
from pytest_aioloop._factories import LoopFactory, hooked
from pytest_aioloop._loops import LoopKind
from pytest_aioloop._marker import MarkerError, MarkerSpec, parse_marker

OTHER_FRAMEWORK_MARKERS = ("anyio", "trio")


@dataclasses.dataclass(slots=True)
class ItemPlan:
    """What pytest-aioloop decided about one test item."""

    is_async_test: bool = False
    is_async_gen_test: bool = False
    marked_not_async: bool = False
    spec: MarkerSpec = dataclasses.field(default_factory=MarkerSpec)
    error: str | None = None
    #: The loop kind, decided at setup (``None`` until then).
    kind: LoopKind | None = None
    #: Async fixtures that run in another loop than this pinned test (see ``_choice``).
    mismatches: list[Mismatch] = dataclasses.field(default_factory=list)
    factory_name: str | None = None
    #: The test's loop factories (from the hook), once asked for.
    factories: Mapping[str, LoopFactory] | None = None
    #: Run without the ``event_loop`` fixture: pytest-aioloop's hooks hand the test its loop
    #: (no override of ``event_loop``/``event_loop_policy`` is visible, no loop factories).
    direct: bool = False


PLAN_KEY = pytest.StashKey[ItemPlan]()
#: Set when collection saw an ``asyncio(concurrency=N)`` marker on a module or class.
CONCURRENCY_MARKED = pytest.StashKey[bool]()


def unwrap_test_function(obj: object) -> tuple[object, bool]:
    """Return the function that holds the test's code, and whether Hypothesis wraps it."""
    inner = getattr(getattr(obj, "hypothesis", None), "inner_test", None)
    if inner is not None:
        return inner, True
    if type(obj) is staticmethod:  # pragma: no cover - pytest unwraps these itself
        return obj.__func__, False
    return obj, False


@dataclasses.dataclass(frozen=True, slots=True)
class CollectorFacts:
    """What pytest-aioloop needs to know about a module or class, found once per collector."""

    #: The closest ``asyncio`` marker of the collector or a parent.
    mark: pytest.Mark | None
    #: A user-defined ``event_loop`` fixture is visible.
    loop_overridden: bool
    #: A user-defined ``event_loop_policy`` fixture is visible.
    policy_overridden: bool
    #: A plugin, or a conftest that applies here, implements the loop factories hook.
    factories_hooked: bool

    @property
    def overridden(self) -> bool:
        """Whether a user-defined ``event_loop`` or ``event_loop_policy`` is visible."""
        return self.loop_overridden or self.policy_overridden


_COLLECTOR_FACTS = pytest.StashKey[CollectorFacts]()


def collector_facts(collector: pytest.Item | pytest.Collector) -> CollectorFacts:
    """Return (and cache in the collector's stash) the :class:`CollectorFacts` of ``collector``."""
    found = collector.stash.get(_COLLECTOR_FACTS, None)
    if found is None:
        loop_defs = _compat.visible_fixturedefs(collector, "event_loop")
        policy_defs = _compat.visible_fixturedefs(collector, "event_loop_policy")
        found = CollectorFacts(
            mark=collector.get_closest_marker("asyncio"),
            loop_overridden=bool(loop_defs) and not _fixtures.is_builtin(loop_defs[-1].func),
            policy_overridden=bool(policy_defs) and not _fixtures.is_builtin(policy_defs[-1].func),
            factories_hooked=hooked(collector),
        )
        collector.stash[_COLLECTOR_FACTS] = found
        if found.mark is not None and "concurrency" in found.mark.kwargs:
            collector.config.stash[CONCURRENCY_MARKED] = True
    return found


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
    specs: dict[int, tuple[pytest.Mark, MarkerSpec]] | None = None,
) -> ItemPlan:
    """Classify ``item`` at collection: is it an asyncio test, and are its marker args valid?

    ``specs`` caches valid parsed markers by identity (a module's ``pytestmark`` is one object
    shared by all its tests).
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
            mark = collector_facts(item.parent).mark
    func, _ = unwrap_test_function(item.obj)
    is_coro, is_agen = async_kind(func)
    if mark is None:
        if not settings.auto or not (is_coro or is_agen):
            return plan
        if any(item.get_closest_marker(m) for m in OTHER_FRAMEWORK_MARKERS):
            return plan
    cached = specs.get(id(mark)) if specs is not None else None
    if cached is not None and cached[0] is mark:
        plan.spec = cached[1]
    else:
        try:
            plan.spec = parse_marker(mark, item.nodeid)
        except MarkerError as exc:
            plan.error = str(exc)
        else:
            if specs is not None and mark is not None:
                specs[id(mark)] = (mark, plan.spec)
    if is_agen:
        plan.is_async_gen_test = True
    elif is_coro:
        plan.is_async_test = True
    else:
        plan.marked_not_async = True
    return plan
