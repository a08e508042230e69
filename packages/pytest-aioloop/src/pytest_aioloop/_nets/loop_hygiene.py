"""Loops that tests and fixtures install as the current loop and leave open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_aioloop._compat.asyncio_internals import SavedLoop, current_loop
from pytest_aioloop._loop.manager import close_loop
from pytest_aioloop._warnings import AioloopWarning, warn

if TYPE_CHECKING:
    import asyncio


def check_current_loop(ours: asyncio.AbstractEventLoop, saved: SavedLoop | None, what: str) -> None:
    """Warn about, and close, a loop that the test installed and left open."""
    current = current_loop()
    before = saved[1] if saved is not None else None
    if current is None or current is ours or current is before or current.is_closed():
        return
    close_loop(current)
    warn(
        AioloopWarning(
            f"pytest-aioloop detected an unclosed event loop when tearing down {what}: the test "
            f"or a fixture made {current!r} the current loop with asyncio.set_event_loop() and "
            "did not close it; pytest-aioloop closed it. Close loops you create, or use "
            "asyncio.run() or asyncio.Runner for a loop of your own."
        )
    )
