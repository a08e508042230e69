"""Tests whose async fixture ended while its value was in use: stopped, and told why.

An async generator fixture waits in its own task while tests use its value (``_run.held``). If a
scope it entered before ``yield`` ends it early (a deadline passed, a background child of a task
group failed), the tests that use it and are running are cancelled, and fail with how the fixture
ended; a test that starts later with the fixture's (cached) value fails at once the same way.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.pytest_internals import fixture_name, fixturedefs_of_item
from pytest_aioloop._run.held import EndedEarly
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    from pytest_aioloop._items.plan import ItemPlan
    from pytest_aioloop._run.runner import FixtureRun


class EndedFixture:
    """One async fixture that ended while its value was in use."""

    __slots__ = ("error", "fixture", "fixturedef")

    def __init__(
        self, fixturedef: pytest.FixtureDef[Any], fixture: FixtureRun, error: BaseException
    ) -> None:
        self.fixturedef = fixturedef
        self.fixture = fixture
        self.error = error


def ended_early(
    state: SessionState,
    fixturedef: pytest.FixtureDef[Any],
    fixture: FixtureRun,
    error: BaseException,
) -> None:
    """The fixture ended early (in its loop): stop the running tests that use it."""
    state.ended_fixtures[id(fixturedef)] = EndedFixture(fixturedef, fixture, error)
    for item in _running(state):
        task = _task_of(state, item)
        if task is not None and not task.done() and uses(item, fixturedef):
            task.cancel()


def failure_of(state: SessionState, item: pytest.Item, *, started: bool) -> str | None:
    """The failure of ``item`` if a fixture it uses ended early, else ``None``."""
    for ended in list(state.ended_fixtures.values()):
        if uses(item, ended.fixturedef):
            ended.fixture.reported = True
            when = (
                "while the test ran, so the test was cancelled"
                if started
                else ("before the test started")
            )
            return f"async fixture {ended.fixture.name!r} ended {when}: " + describe(ended.error)
    return None


def forget(state: SessionState, fixturedef: pytest.FixtureDef[Any]) -> None:
    """The fixture is torn down: nothing of it stops tests any more."""
    state.ended_fixtures.pop(id(fixturedef), None)


def describe(error: BaseException) -> str:
    """How the fixture ended: a sentence, or the error with its traceback (groups included)."""
    if isinstance(error, EndedEarly):
        return f"{error}."
    return "\n" + "".join(traceback.format_exception(type(error), error, error.__traceback__))


def uses(item: pytest.Item, fixturedef: pytest.FixtureDef[Any]) -> bool:
    """Whether ``item``'s fixture closure has ``fixturedef`` (the definition its name picks)."""
    defs = fixturedefs_of_item(item).get(fixture_name(fixturedef))
    return bool(defs) and defs[-1] is fixturedef  # type: ignore[index]


def _running(state: SessionState) -> list[pytest.Item]:
    items = list(state.active.values())
    current = state.current_item
    if current is not None and current not in items:
        items.append(current)
    return items


def _task_of(state: SessionState, item: pytest.Item) -> Any:
    plan: ItemPlan | None = state.plans.get(item)
    run = plan.run if plan is not None else None
    ref = run.owner.task if run is not None else None
    return ref() if ref is not None else None
