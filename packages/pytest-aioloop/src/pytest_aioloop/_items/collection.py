"""What collection adds to tests: fixtures a test needs early, the auto-mode marker, factories.

Most asyncio tests need nothing at collection (they get their loop at setup). Where a
user-defined ``event_loop``/``event_loop_policy`` or the loop-factories hook is visible, pytest
must know at collection that the test uses those fixtures (they may be parametrized); in auto
mode each coroutine test gets one ``asyncio`` marker; with loop factories, each test runs once
per factory.
"""

from __future__ import annotations

import types
from collections.abc import Iterable

import pytest

from pytest_aioloop._compat.pytest_internals import is_test_function
from pytest_aioloop._items.plan import (
    OTHER_FRAMEWORK_MARKERS,
    CollectorFacts,
    async_kind,
    collector_facts,
    plan_item,
    unwrap_test_function,
)
from pytest_aioloop._settings.options import Settings

_USE_LOOP = pytest.mark.usefixtures("event_loop")
_USE_POLICY = pytest.mark.usefixtures("event_loop_policy")
_USE_FACTORY_AND_LOOP = pytest.mark.usefixtures("_aioloop_factory", "event_loop")


def mark_fixtures_needed(
    settings: Settings,
    collector: pytest.Module | pytest.Class,
    name: str,
    obj: object,
    known: dict[object, CollectorFacts],
) -> None:
    """Make ``obj`` use ``event_loop``/``event_loop_policy`` where a user-defined one is visible.

    ``known`` caches what is known of each collector (the session's ``collector_facts``).
    """
    facts = collector_facts(collector, known)
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
            and is_test_function(collector, target, name)
        ):
            _USE_POLICY(target)
        return
    if not callable(target):
        return
    marks = getattr(target, "pytestmark", ())
    if facts.mark is None and not settings.auto and not _has_mark(marks, "asyncio"):
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


class AutoMarker:
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


def parametrize_factories(
    settings: Settings, metafunc: pytest.Metafunc, known: dict[object, CollectorFacts]
) -> None:
    """Run each asyncio test once per loop factory when the factories hook is implemented."""
    definition = metafunc.definition
    if definition.parent is None or not collector_facts(definition.parent, known).factories_hooked:
        return
    plan = plan_item(definition, settings, known)
    if not plan.is_async_test or plan.error is not None:
        return
    from pytest_aioloop._loop.factories import FactoriesError, factories_for, unavailable_reason

    try:
        factories = factories_for(definition)
    except FactoriesError:
        return  # the test's setup fails with the message
    if not factories:
        return
    wanted = list(plan.spec.loop_factories) if plan.spec.loop_factories else list(factories)
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
