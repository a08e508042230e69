"""asyncio for pytest: async tests and fixtures, loop scopes, and safety nets.

The public API: :func:`fixture`, :func:`is_async_test`, the warning categories,
:class:`VirtualClock` (what the ``virtual_clock`` fixture returns), and ``__version__``.
Fixtures (``event_loop``, ``event_loop_policy``, ``virtual_clock``), the ``asyncio`` marker and
the options come with the pytest plugin, registered under the name ``aioloop``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

    from pytest_aioloop._loop.virtual_time import VirtualClock
    from pytest_aioloop._settings.fixture import fixture
    from pytest_aioloop._version import __version__
    from pytest_aioloop._warnings import (
        AioloopWarning,
        LeakedTaskWarning,
        SlowCallbackWarning,
        UnawaitedCoroutineWarning,
        UnhandledErrorWarning,
    )

__all__ = [
    "AioloopWarning",
    "LeakedTaskWarning",
    "SlowCallbackWarning",
    "UnawaitedCoroutineWarning",
    "UnhandledErrorWarning",
    "VirtualClock",
    "__version__",
    "fixture",
    "is_async_test",
]

# The module each public name comes from, imported on first use (PEP 562): the modules import
# pytest, which ``python -m pytest_aioloop`` has no use for.
_LAZY = {
    "fixture": "pytest_aioloop._settings.fixture",
    "AioloopWarning": "pytest_aioloop._warnings",
    "LeakedTaskWarning": "pytest_aioloop._warnings",
    "SlowCallbackWarning": "pytest_aioloop._warnings",
    "UnawaitedCoroutineWarning": "pytest_aioloop._warnings",
    "UnhandledErrorWarning": "pytest_aioloop._warnings",
    "VirtualClock": "pytest_aioloop._loop.virtual_time",
    "__version__": "pytest_aioloop._version",
}

if not TYPE_CHECKING:  # type checkers see the imports above, and misspelt names stay errors

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # the next lookup is an ordinary one
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def is_async_test(item: pytest.Item) -> bool:
    """Return whether pytest-aioloop runs ``item`` as a coroutine test in an event loop.

    Useful in ``pytest_collection_modifyitems`` to act on async tests only.
    """
    from pytest_aioloop._items.plan import PLAN_KEY, plan_item
    from pytest_aioloop._session import STATE_KEY

    plan = item.stash.get(PLAN_KEY, None)
    if plan is not None:
        return plan.is_async_test
    state = item.config.stash.get(STATE_KEY, None)
    return state is not None and plan_item(item, state.settings).is_async_test
