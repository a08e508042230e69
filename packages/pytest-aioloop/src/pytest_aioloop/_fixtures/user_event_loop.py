"""``event_loop`` fixtures of the user's (pytest-asyncio 0.21 style): watched, closed if left open.

A user-defined ``event_loop`` makes its loop the current one while it lives; the nets look at
what the tests left in it before the fixture's own teardown closes it; a loop it leaves open is
closed, with a warning that says how to close it.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.asyncio_internals import (
    restore_current_loop,
    save_current_loop,
    set_current_loop,
)
from pytest_aioloop._compat.pytest_internals import (
    add_fixture_finalizer,
    fixture_baseid,
    fixture_function,
    fixture_name,
)
from pytest_aioloop._loop.manager import close_loop
from pytest_aioloop._run.stacks import source_location
from pytest_aioloop._session import SessionState
from pytest_aioloop._warnings import warn

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio


def describe(fixturedef: pytest.FixtureDef[Any]) -> str:
    """Name a fixture definition: qualified name, scope and where it is defined."""
    func = fixture_function(fixturedef)
    location = source_location(func)
    where = f"{location[0]}:{location[1]}" if location else (fixture_baseid(fixturedef) or "?")
    name = getattr(func, "__qualname__", fixture_name(fixturedef))
    return f"{name} ({fixturedef.scope} scope, {where})"


def watch(state: SessionState, fixturedef: pytest.FixtureDef[Any], loop: object) -> None:
    """A user-defined ``event_loop`` made ``loop``: make it current while the fixture lives."""
    if not isinstance(loop, asyncio.AbstractEventLoop):
        return
    manager = state.config.pluginmanager
    if not manager.has_plugin(_FINALIZED):
        manager.register(_Finalized(state), _FINALIZED)
    me = describe(fixturedef)
    for key, (other, other_loop, _) in list(state.user_event_loops.items()):
        if key != id(fixturedef) and not other_loop.is_closed() and other_loop is not loop:
            warn_overlap(me, other)
    state.user_event_loops[id(fixturedef)] = (me, loop, save_current_loop())
    set_current_loop(loop)
    # Finalizers run last-in first-out: this runs before the fixture's own teardown, which
    # usually closes the loop, so the nets still see the tasks left in it.
    add_fixture_finalizer(fixturedef, lambda: state.nets.loop_closing(loop))


def warn_overlap(me: str, other: str) -> None:
    """Warn that two user-defined ``event_loop`` fixtures are alive at once."""
    warnings.warn(
        pytest.PytestWarning(
            f"the event_loop fixture {me} replaced the loop of the event_loop fixture "
            f"{other}, which is still open: their scopes overlap. Tests may now mix two "
            "loops. Check where each is set up with 'pytest --setup-show', and give "
            "them scopes that do not overlap."
        ),
        stacklevel=1,
    )


def finalized(state: SessionState, fixturedef: pytest.FixtureDef[Any]) -> None:
    """Warn about, and close, a loop that a user-defined ``event_loop`` fixture left open."""
    entry = state.user_event_loops.pop(id(fixturedef), None)
    if entry is None:
        return
    where, loop, saved = entry
    restore_current_loop(saved)
    if loop.is_closed():
        return
    close_loop(loop)
    warn(
        pytest.PytestWarning(
            f"pytest-aioloop detected an unclosed event loop: the event_loop fixture {where} "
            "did not close its loop, so pytest-aioloop closed it. Call loop.close() after "
            "'yield loop' in the fixture."
        )
    )


_FINALIZED = "aioloop-user-event-loops"


class _Finalized:
    """Hears of each fixture's end, once a user-defined ``event_loop`` was set up (not before)."""

    def __init__(self, state: SessionState) -> None:
        self.state = state

    def pytest_fixture_post_finalizer(self, fixturedef: pytest.FixtureDef[Any]) -> None:
        """After a user-defined ``event_loop``'s teardown: close the loop it left open."""
        if (
            fixture_name(fixturedef) == "event_loop"
            and id(fixturedef) in self.state.user_event_loops
        ):
            finalized(self.state, fixturedef)
