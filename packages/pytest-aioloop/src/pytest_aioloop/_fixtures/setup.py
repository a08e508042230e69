"""What happens around pytest's setup of each fixture, and the loop a sync caller should see.

pytest sets a fixture up in ``pytest_fixture_setup``; pytest-aioloop wraps that hook:

- an async fixture it runs (``pytest_aioloop.fixture``, or any in auto mode) gets a stand-in
  function that runs it in its loop (:mod:`.wrapper`);
- a plain sync fixture that uses async fixtures sees their loop as the current loop;
- a user-defined ``event_loop`` fixture has its loop watched (:mod:`.user_event_loop`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from pytest_aioloop._compat.asyncio_internals import installed
from pytest_aioloop._compat.pytest_internals import (
    fixture_argnames,
    fixture_function,
    fixture_name,
    standing_in,
)
from pytest_aioloop._fixtures import user_event_loop
from pytest_aioloop._fixtures.wrapper import make_wrapper
from pytest_aioloop._session import SessionState
from pytest_aioloop._settings.fixture import is_builtin


def fixture_setup(
    state: SessionState, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    """The body of the ``pytest_fixture_setup`` wrapper: yields once, to pytest's own setup."""
    if fixture_name(fixturedef) == "event_loop" and not is_builtin(fixture_function(fixturedef)):
        loop = yield
        user_event_loop.watch(state, fixturedef, loop)
        return loop
    if not state.is_handled(fixturedef):
        # A plain sync fixture that uses async fixtures sees their loop as the current loop.
        item = state.current_item
        loop = (
            state.loop_of_async_fixtures(item, fixture_argnames(fixturedef))
            if item is not None
            else None
        )
        if loop is None:
            return (yield)
        with installed(loop):
            return (yield)
    original = fixture_function(fixturedef)
    state.originals[id(fixturedef)] = original
    try:
        with standing_in(fixturedef, make_wrapper(state, fixturedef, request, original)):
            return (yield)
    finally:
        del state.originals[id(fixturedef)]
