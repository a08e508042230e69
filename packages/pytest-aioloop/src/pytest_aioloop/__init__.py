"""asyncio for pytest: async tests and fixtures, loop scopes, and safety nets.

The public API: :func:`fixture`, :func:`is_async_test`, the warning categories,
:class:`VirtualClock` (what the ``virtual_clock`` fixture returns), and ``__version__``.
Fixtures (``event_loop``, ``event_loop_policy``, ``virtual_clock``), the ``asyncio`` marker and
the options come with the pytest plugin, registered under the name ``aioloop``.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Sequence
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


class _OwnModules:
    """Find this package's own submodules with Python's standard path finder.

    pytest imports the modules of an installed plugin through its assertion-rewriting import
    hook, which reads each cached module in many small reads: for the modules pytest-aioloop
    needs at start-up, that cost more instructions than everything else the plugin does there.
    The plugin's modules have no assertions for users to read, so they are found here, ahead
    of the hook, as Python finds any module. Other modules are left to the finders after it.
    """

    #: Names this finder serves (``pytest_aioloop.`` and what is below it).
    prefix = __name__ + "."

    @classmethod
    def find_spec(
        cls, name: str, path: Sequence[str] | None = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Return the spec of one of the package's submodules (``None`` for other modules)."""
        if path is None or not name.startswith(cls.prefix):
            return None
        return importlib.machinery.PathFinder.find_spec(name, path)


if not any(getattr(finder, "prefix", None) == _OwnModules.prefix for finder in sys.meta_path):
    sys.meta_path.insert(0, _OwnModules())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def is_async_test(item: pytest.Item) -> bool:
    """Return whether pytest-aioloop runs ``item`` as a coroutine test in an event loop.

    Useful in ``pytest_collection_modifyitems`` to act on async tests only.
    """
    from pytest_aioloop._items.plan import ItemPlan, plan_item
    from pytest_aioloop._session import STATE_KEY

    state = item.config.stash.get(STATE_KEY, None)
    if state is None:
        return False
    plan: ItemPlan | None = state.plans.get(item)
    if plan is not None:
        return plan.is_async_test
    return plan_item(item, state.settings, state.collector_facts).is_async_test
