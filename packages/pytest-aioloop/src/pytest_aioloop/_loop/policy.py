"""What makes a test's loops: a loop factory of the hook, a user's ``event_loop_policy``, or ours.

Also how a user-defined ``event_loop`` or ``event_loop_policy`` fixture is told from
pytest-aioloop's own: the last visible definition of the name is not one of ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from pytest_aioloop._compat.pytest_internals import (
    fixture_function,
    fixturedefs_of_item,
    visible_fixturedefs,
)
from pytest_aioloop._loop.factories import LoopFactory, factories_for
from pytest_aioloop._settings.fixture import is_builtin


def overrides_builtin(defs: Sequence[pytest.FixtureDef[Any]]) -> bool:
    """Whether the definition that wins among ``defs`` (the last) is a user's, not ours."""
    return bool(defs) and not is_builtin(fixture_function(defs[-1]))


def user_policy(request: pytest.FixtureRequest, node: pytest.Item | pytest.Collector) -> Any:
    """Return the value of a user-defined ``event_loop_policy`` visible to ``node``, or ``None``.

    A test's own fixture table is looked at first (it has ``event_loop_policy`` in its closure
    when it uses ``event_loop``); otherwise the definitions visible from ``node``.
    """
    defs = (
        fixturedefs_of_item(node).get("event_loop_policy")
        if isinstance(node, pytest.Item)
        else None
    )
    if defs is None:
        defs = visible_fixturedefs(node, "event_loop_policy")
    if not overrides_builtin(defs):
        return None
    return request.getfixturevalue("event_loop_policy")


def factory_for(
    request: pytest.FixtureRequest,
    item: pytest.Item | None,
    *,
    factory_name: str | None = None,
    factories: Mapping[str, LoopFactory] | None = None,
    loop_from_setup: bool = False,
) -> tuple[object, LoopFactory | None]:
    """Return (key, factory) of the loops that ``item`` and its fixtures create.

    ``factory_name`` is the test's loop factory (from the hook), ``factories`` the hook's answer
    if the test's plan has it already, ``loop_from_setup`` whether the test gets its loop at its
    setup, without ``event_loop`` (then no user-defined policy is visible to it). The key tells
    loops of different factories apart; ``None`` and no factory mean ``asyncio_loop_factory``
    (else asyncio's own loop).
    """
    if item is not None and factory_name is not None:
        known = factories if factories is not None else factories_for(item)
        factory = (known or {}).get(factory_name)
        if factory is not None:
            return ("factory", factory_name), factory
    if loop_from_setup:
        return None, None  # no event_loop_policy override is visible to this test
    policy = user_policy(request, item if item is not None else request.node)
    if policy is not None:
        return ("policy", id(policy)), policy.new_event_loop
    return None, None
