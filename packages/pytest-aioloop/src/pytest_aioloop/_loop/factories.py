"""The ``pytest_asyncio_loop_factories`` hook: called per test, conftest-local, validated."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import asyncio

#: What makes a new event loop.
LoopFactory = Callable[[], "asyncio.AbstractEventLoop"]


class FactoriesError(Exception):
    """The hook returned something other than a mapping of names to loop factories."""


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


#: Loop libraries ``asyncio_loop_factory`` knows by name: module and function.
KNOWN = {"uvloop": ("uvloop", "new_event_loop"), "winloop": ("winloop", "new_event_loop")}


def default_factory(value: str) -> LoopFactory | None:
    """Resolve ``asyncio_loop_factory``: ``None`` for asyncio's own loop; raise ``UsageError``."""
    if value in ("", "asyncio"):
        return None
    if value in KNOWN:
        module_name, attribute = KNOWN[value]
    elif ":" in value:
        module_name, _, attribute = value.partition(":")
    else:
        raise pytest.UsageError(
            f"{value!r} is not a valid asyncio_loop_factory. Valid values: asyncio, "
            f"{', '.join(KNOWN)}, or module:function (a function that returns a new event loop)."
        )
    try:
        found: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except ImportError as exc:
        raise pytest.UsageError(
            f"asyncio_loop_factory = {value}: cannot import {module_name!r} ({exc}). Install it "
            "in the environment that runs pytest, or choose another factory."
        ) from None
    except AttributeError:
        raise pytest.UsageError(
            f"asyncio_loop_factory = {value}: {module_name!r} has no {attribute!r}."
        ) from None
    if not callable(found):
        raise pytest.UsageError(
            f"asyncio_loop_factory = {value}: {module_name}.{attribute} is not callable; give a "
            "function that returns a new event loop."
        )
    return found
