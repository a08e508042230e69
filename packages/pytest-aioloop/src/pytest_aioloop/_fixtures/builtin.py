"""The work of pytest-aioloop's own fixtures, ``event_loop`` and ``event_loop_policy``.

The fixtures themselves (their names, scopes and docstrings) are defined in the plugin module,
where pytest finds them; their bodies call in here, so a run that never uses them never
imports this module.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_aioloop._compat.asyncio_internals import (
    get_policy,
    has_policies,
    restore_current_loop,
    save_current_loop,
    set_current_loop,
    set_policy,
)
from pytest_aioloop._items import lifecycle
from pytest_aioloop._items.plan import ItemPlan
from pytest_aioloop._loop.kinds import FRESH
from pytest_aioloop._loop.policy import user_policy
from pytest_aioloop._nets.loop_hygiene import check_current_loop
from pytest_aioloop._session import STATE_KEY

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._loop.virtual_time import VirtualClock


def current_policy() -> asyncio.AbstractEventLoopPolicy:
    """The value of ``event_loop_policy``: the policy in place."""
    if not has_policies():  # pragma: no cover - Python 3.16+
        pytest.fail(
            "event_loop_policy: this Python's asyncio has no event loop policies any more. "
            "Use the pytest_asyncio_loop_factories hook to choose the loop.",
            pytrace=False,
        )
    return get_policy()


def event_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """The body of ``event_loop``: the test's loop, installed as the current loop."""
    state = request.config.stash[STATE_KEY]
    item = request.node
    plan: ItemPlan | None = state.plans.get(item)
    if plan is None:
        plan = state.plans[item] = ItemPlan()
    kind = lifecycle.plan_kind(state, item, plan)
    if kind.kind == "event_loop":  # a user's event_loop built on top of this one
        kind = FRESH
    loop, release = state.loops.acquire(kind, request, *lifecycle.factory_of(request, item, plan))
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


def virtual_clock(request: pytest.FixtureRequest) -> VirtualClock:
    """The virtual clock of the loop the requesting coroutine test runs in."""
    item = request.node
    plan: ItemPlan | None = request.config.stash[STATE_KEY].plans.get(item)
    if plan is None or not plan.is_async_test:
        pytest.fail(
            f"{item.nodeid} asks for virtual_clock, which only a coroutine test run by "
            "pytest-aioloop can use (its call runs in virtual time). Make it an 'async def' "
            "test marked with @pytest.mark.asyncio.",
            pytrace=False,
        )
    testrun = plan.run
    loop = testrun.loop if testrun is not None else None
    if loop is None:
        loop = request.getfixturevalue("event_loop")
    from pytest_aioloop._loop.virtual_time import VirtualTimeError

    try:
        return request.config.stash[STATE_KEY].virtual_clock(loop)
    except VirtualTimeError as exc:
        pytest.fail(f"{item.nodeid} asks for virtual time, but {exc}", pytrace=False)
