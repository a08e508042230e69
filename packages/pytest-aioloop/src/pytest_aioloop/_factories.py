"""The ``pytest_asyncio_loop_factories`` hook: called per test, conftest-local, validated."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import asyncio

LoopFactory = Callable[[], "asyncio.AbstractEventLoop"]


class FactoriesError(Exception):
    """The hook returned something other than a mapping of names to loop factories."""


def hooked(node: pytest.Item | pytest.Collector) -> bool:
    """Whether a plugin or a conftest that applies to ``node`` implements the hook."""
    return bool(node.ihook.pytest_asyncio_loop_factories.get_hookimpls())


def factories_for(item: pytest.Item) -> Mapping[str, LoopFactory] | None:
    """Return the loop factories of ``item`` by name, or ``None`` for the default loop.

    The hook is called through ``item.ihook``, so an implementation in a conftest applies only
    to the tests below that conftest. ``None`` and an empty mapping mean the default loop.
    """
    result = item.ihook.pytest_asyncio_loop_factories(config=item.config, item=item)
    if result is None:
        return None
    valid = isinstance(result, Mapping) and all(
        isinstance(name, str) and name and callable(factory) for name, factory in result.items()
    )
    if not valid:
        raise FactoriesError(
            "pytest_asyncio_loop_factories must return a non-empty mapping of factory names to "
            f"callables.\nFor {item.nodeid} it returned {result!r}. Return e.g. "
            "{'asyncio': asyncio.new_event_loop, 'uvloop': uvloop.new_event_loop}, or None "
            "for the default loop."
        )
    return result or None


def unavailable_reason(name: str, available: Mapping[str, LoopFactory]) -> str:
    """Return the skip reason of a test asking for a factory the hook does not offer."""
    return f"Loop factory {name!r} is not available. Available factories: {', '.join(available)}."
