"""Run coroutines of tests and fixtures on a loop, carrying context variables across."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from pytest_aioloop import _compat
from pytest_aioloop._safety import run_with_timeout

T = TypeVar("T")


async def _capture_context(coro: Coroutine[Any, Any, T]) -> tuple[T, contextvars.Context]:
    result = await coro
    return result, contextvars.copy_context()


def run(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, T],
    *,
    keep_context: bool = False,
    timeout: float | None = None,
    what: str = "",
    related: Callable[[], list[asyncio.Task[Any]]] | None = None,
) -> tuple[T, Callable[[], None]]:
    """Run ``coro`` to completion on ``loop`` (made current meanwhile), within ``timeout``.

    The coroutine runs in a copy of the caller's context. With ``keep_context``, the context
    variables it set are copied into the caller's context, and the returned callable resets
    them (fixtures call it at teardown). Otherwise the callable does nothing. ``what`` names
    the work in a timeout's message; ``related`` lists more tasks whose stacks it shows.
    """
    saved = _compat.save_current_loop()
    _compat.set_current_loop(loop)
    try:
        if not keep_context:
            return run_with_timeout(loop, coro, timeout, what, related), _nothing
        result, ctx = run_with_timeout(loop, _capture_context(coro), timeout, what, related)
    finally:
        _compat.restore_current_loop(saved)
    return result, _apply_context(ctx)


def _nothing() -> None:
    return None


def _apply_context(ctx: contextvars.Context) -> Callable[[], None]:
    here = contextvars.copy_context()
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
    missing = object()
    for var, value in ctx.items():
        if here.get(var, missing) is not value:
            tokens.append((var, var.set(value)))
    if not tokens:
        return _nothing

    def reset() -> None:
        for var, token in reversed(tokens):
            var.reset(token)

    return reset


def run_sync(loop: asyncio.AbstractEventLoop, func: Callable[[], T]) -> T:
    """Call ``func`` with ``loop`` as the current loop (sync fixtures of pytest-aioloop)."""
    saved = _compat.save_current_loop()
    _compat.set_current_loop(loop)
    try:
        return func()
    finally:
        _compat.restore_current_loop(saved)
