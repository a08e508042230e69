"""``asyncio``, imported when first used, so that suites without async tests never pay for it.

Importing asyncio takes about 10 ms, most of pytest-aioloop's own import time. Every module of
the plugin that needs asyncio at run time binds the name ``asyncio`` to :data:`asyncio` below
(and to the real module for type checkers). The first attribute read imports asyncio and puts
the real module in place of this stand-in in each of those modules, so from then on every
lookup is an ordinary module attribute read, and monkeypatching ``asyncio`` works as usual.

If ``asyncio`` is later dropped from ``sys.modules`` and imported again (pytester's in-process
runs do this when the outer process had not imported it), :func:`check` puts the stand-in back,
so the plugin never mixes classes of two ``asyncio`` imports.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

#: The modules whose global ``asyncio`` is the stand-in until the first use.
USERS = (
    "pytest_aioloop._compat.asyncio_internals",  # first: imported with the plugin (``check``)
    "pytest_aioloop._concurrency.group",
    "pytest_aioloop._concurrency.lanes",
    "pytest_aioloop._concurrency.running",
    "pytest_aioloop._fixtures.user_event_loop",
    "pytest_aioloop._items.traces",
    "pytest_aioloop._loop.manager",
    "pytest_aioloop._nets.errors",
    "pytest_aioloop._nets.leaks",
    "pytest_aioloop._nets.slow_callbacks",
    "pytest_aioloop._run.held",
    "pytest_aioloop._run.owners",
    "pytest_aioloop._run.timeouts",
)


#: Names that introspection asks of any module; asyncio has none of them.
_PROBED = frozenset({"ClassVar", "InitVar", "KW_ONLY"})


class _Deferred:
    """Stands in for the ``asyncio`` module until an attribute of it is first read."""

    def __getattr__(self, name: str) -> Any:
        real = sys.modules.get("asyncio")
        if real is None:
            if name.startswith("_") or name in _PROBED:
                # Introspection (pytest scanning the plugin module for fixtures, mock and
                # unwrap checks, dataclasses looking for ClassVar) must not import asyncio;
                # the plugin reads a private name only once asyncio is imported (it makes a
                # loop first).
                raise AttributeError(name)
            real = importlib.import_module("asyncio")
        for user in USERS:
            module = sys.modules.get(user)
            if module is not None and module.__dict__.get("asyncio") is self:
                module.asyncio = real  # type: ignore[attr-defined]
        return getattr(real, name)

    def __repr__(self) -> str:
        return "<asyncio, imported on first use by pytest-aioloop>"


asyncio: Any = _Deferred()


def check() -> None:
    """Put the stand-in back if ``asyncio`` was imported afresh since it was bound (cheap)."""
    module = sys.modules.get(USERS[0])
    bound = module.__dict__.get("asyncio") if module is not None else asyncio
    if bound is not asyncio and bound is not sys.modules.get("asyncio"):
        refresh()


def refresh() -> None:
    """Put the stand-in back in every module whose ``asyncio`` is not the imported one."""
    current = sys.modules.get("asyncio")
    for user in USERS:
        module = sys.modules.get(user)
        if module is None:
            continue
        bound = module.__dict__.get("asyncio")
        if bound is not asyncio and bound is not current:
            module.asyncio = asyncio  # type: ignore[attr-defined]
