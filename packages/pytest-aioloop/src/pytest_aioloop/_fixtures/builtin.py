"""pytest-aioloop's own fixtures: ``event_loop``, ``event_loop_policy`` and the factory's name.

pytest finds them in the plugin module, which imports them from here.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_aioloop._items.plan import PLAN_KEY, ItemPlan, factory_of
from pytest_aioloop._session import STATE_KEY
from pytest_aioloop._settings.fixture import builtin

if TYPE_CHECKING:
    import asyncio

# The fixtures' bodies import what they use: pytest imports this module with the plugin, also
# for runs that never use them.


@pytest.fixture(scope="session")
def _aioloop_factory(request: pytest.FixtureRequest) -> object:
    """Name of the loop factory this test runs with (internal)."""
    return getattr(request, "param", None)


@pytest.fixture(scope="session")
@builtin
def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    """Return the event loop policy that creates the loops of the tests in its visibility.

    Override it (at any scope, parametrized if you like) to run tests with another policy, for
    example uvloop's; pytest-aioloop restores the previous policy afterwards. On Python 3.14+,
    where asyncio deprecates policies, prefer the ``pytest_asyncio_loop_factories`` hook.
    """
    from pytest_aioloop._compat.asyncio_internals import get_policy, has_policies

    if not has_policies():  # pragma: no cover - Python 3.16+
        pytest.fail(
            "event_loop_policy: this Python's asyncio has no event loop policies any more. "
            "Use the pytest_asyncio_loop_factories hook to choose the loop.",
            pytrace=False,
        )
    return get_policy()


@pytest.fixture
@builtin
def event_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """Return the asyncio event loop the test runs in, installed as the current loop.

    Inside a coroutine test this is ``asyncio.get_running_loop()``. A synchronous test can
    request it and drive code with ``event_loop.run_until_complete(...)``. Override it in a
    conftest, module or class (any scope) to run the tests in its visibility in your own loop,
    as with pytest-asyncio 0.21. pytest-aioloop closes its loops when their scope ends: pending
    tasks are cancelled, async generators and the default executor are shut down.
    """
    from pytest_aioloop._compat.asyncio_internals import (
        get_policy,
        restore_current_loop,
        save_current_loop,
        set_current_loop,
        set_policy,
    )
    from pytest_aioloop._items import lifecycle
    from pytest_aioloop._loop.kinds import FRESH
    from pytest_aioloop._nets.loop_hygiene import check_current_loop

    state = request.config.stash[STATE_KEY]
    item = request.node
    plan = item.stash.get(PLAN_KEY, None)
    if plan is None:
        plan = item.stash[PLAN_KEY] = ItemPlan()
    kind = lifecycle.plan_kind(state, item, plan)
    if kind.kind == "event_loop":  # a user's event_loop built on top of this one
        kind = FRESH
    loop, release = state.loops.acquire(kind, request, *factory_of(request, item))
    policy = _policy_to_install(request)
    previous_policy = get_policy() if policy is not None else None
    if policy is not None:
        set_policy(policy)
    saved = save_current_loop()
    set_current_loop(loop)
    try:
        yield loop
    finally:
        # The test's fixtures are torn down: look at what the test left, then give back.
        lifecycle.end(state, plan)
        check_current_loop(loop, saved, item.nodeid)
        restore_current_loop(saved)
        if policy is not None:
            set_policy(previous_policy)
        release()


def _policy_to_install(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy | None:
    """A user-defined ``event_loop_policy`` to install for the test, unless it already is."""
    from pytest_aioloop._compat.asyncio_internals import get_policy
    from pytest_aioloop._loop.policy import user_policy

    policy = user_policy(request, request.node)
    if policy is None:
        return None
    if sys.version_info >= (3, 14):  # pragma: no cover - Python 3.14+
        warnings.warn(
            DeprecationWarning(
                "overriding the event_loop_policy fixture relies on asyncio policies, which "
                "Python 3.14 deprecates: implement the pytest_asyncio_loop_factories hook "
                "instead."
            ),
            stacklevel=1,
        )
    return None if policy is get_policy() else policy
