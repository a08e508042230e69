"""Suites written for looptime run unchanged: its marker, its ``looptime`` fixture, ``--looptime``.

looptime fast-forwards the loop's time in tests. Its pytest plugin works with pytest-asyncio
only: it asks pytest for the plugin named ``asyncio`` and patches the loops of pytest-asyncio's
fixtures. So where looptime is installed, pytest-aioloop keeps that plugin out of the run (as
it does pytest-asyncio, see ``_coexist``) and does its job with looptime's own engine:

- every loop pytest-aioloop makes is patched for looptime when it is made, with the engine off
  (so ``looptime.enabled()`` works in fixtures, as with looptime's plugin);
- a test's call runs with the engine on, with the options of its ``looptime`` markers (the
  closest wins) where a marker or ``--looptime`` asks for it, and ``--no-looptime`` or
  ``@pytest.mark.looptime(False)`` does not;
- the ``looptime`` fixture is looptime's time proxy, and the marker and both flags are
  registered here.

looptime's other plugins (its ``chronometer`` fixture) stay as they are.
"""

from __future__ import annotations

import importlib
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.looptime import patch_off, patch_on
from pytest_aioloop._session import STATE_KEY

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._items.plan import ItemPlan

#: The marker line registered in looptime's place.
MARKER_LINE = "looptime: configure the fake fast-forwarding loop time (looptime's marker)."


def options_of(item: pytest.Item, flag: bool | None) -> dict[str, Any] | None:
    """The looptime options of ``item``'s call, or ``None`` where looptime is not on for it.

    ``flag`` is ``--looptime`` (True), ``--no-looptime`` (False) or neither (None). The
    markers' keyword arguments are merged, the closest winning; a marker's first positional
    argument turns looptime on or off for the test.
    """
    marks = list(item.iter_markers("looptime"))
    on = bool(marks) or flag is True
    options: dict[str, Any] = {}
    for mark in reversed(marks):
        options.update(mark.kwargs)
        if mark.args:
            on = bool(mark.args[0])
    return options if on and flag is not False else None


class LooptimeBridge:
    """Serves looptime's marker, fixture and flags (registered only where it is installed)."""

    def __init__(self, config: pytest.Config) -> None:
        self.engine = importlib.import_module("looptime")
        self.flag: bool | None = config.getoption("looptime", None)

    def loop_made(self, loop: asyncio.AbstractEventLoop) -> None:
        """Patch a new loop for looptime, its engine off (only asyncio's own loop classes)."""
        import asyncio

        if isinstance(loop, asyncio.BaseEventLoop):
            patch_off(self.engine, loop)

    @pytest.fixture
    def looptime(self) -> Any:
        """Return the event loop's time, for assertions (looptime's fixture).

        The value is the loop time in seconds: compare it (``looptime == 100``), add to it,
        or convert it with ``int()`` or ``float()``. It reads ``loop.time()`` of the running
        loop when used.
        """
        return self.engine.LoopTimeProxy()

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, object, object]:
        """Run the call of a test that looptime is on for with looptime's engine on."""
        options = options_of(pyfuncitem, self.flag)
        loop = _loop_of(pyfuncitem) if options is not None else None
        if options is None or loop is None:
            return (yield)
        patched = patch_on(self.engine, loop, options)
        if patched is None:
            return (yield)
        with patched.looptime_enabled():
            return (yield)


def _loop_of(item: pytest.Function) -> asyncio.AbstractEventLoop | None:
    plan: ItemPlan | None = item.config.stash[STATE_KEY].plans.get(item)
    if plan is None or not plan.is_async_test:
        return None
    run = plan.run
    if run is not None and run.loop is not None:
        return run.loop
    loop: asyncio.AbstractEventLoop | None = item.funcargs.get("event_loop")  # type: ignore[assignment]
    return loop
