"""Run coroutines of tests and fixtures on a loop, carrying context variables across."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_aioloop import _compat
from pytest_aioloop._safety import TRANSPARENT_CODE, Watchdog, run_with_timeout

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._lazy import asyncio

T = TypeVar("T")


class _InContext:
    """Await a coroutine with every step run inside one ``contextvars.Context``.

    A fixture's setup and teardown are separate tasks, and each task normally gets its own
    copy of the context; a ``ContextVar`` token made in setup could then not be reset in
    teardown. Stepping the coroutine in a context of our own (public ``Context.run``) works on
    every Python version, where ``create_task(context=...)`` needs 3.11.
    """

    def __init__(self, coro: Coroutine[Any, Any, T], ctx: contextvars.Context) -> None:
        self.coro = coro
        self.ctx = ctx

    def __await__(self) -> Any:
        coro, run_in = self.coro, self.ctx.run
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                if error is not None:
                    yielded = run_in(coro.throw, error)
                else:
                    yielded = run_in(coro.send, value)
            except StopIteration as stop:
                return stop.value
            error = None
            value = None
            try:
                value = yield yielded
            except BaseException as exc:  # forwarded into the coroutine
                error = exc


async def _in_context(coro: Coroutine[Any, Any, T], ctx: contextvars.Context) -> T:
    return await _InContext(coro, ctx)  # type: ignore[no-any-return]


TRANSPARENT_CODE.update((_InContext.__await__.__code__, _in_context.__code__))


def run(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, T],
    *,
    context: contextvars.Context | None = None,
    timeout: float | None = None,
    what: str = "",
    related: Callable[[], list[asyncio.Task[Any]]] | None = None,
    watchdog: Watchdog | None = None,
) -> tuple[T, Callable[[], None]]:
    """Run ``coro`` to completion on ``loop`` (made current meanwhile), within ``timeout``.

    The coroutine runs in a copy of the caller's context, or in ``context`` when given (a
    fixture's setup and teardown share one). Then the context variables it set are copied into
    the caller's context, and the returned callable resets them (fixtures call it at teardown);
    otherwise the callable does nothing. ``what`` names the work in a timeout's message;
    ``related`` lists more tasks whose stacks it shows.
    """
    saved = None if _compat.is_current_loop(loop) else _compat.save_current_loop()
    if saved is not None:
        _compat.set_current_loop(loop)
    try:
        if context is None:
            found = run_with_timeout(loop, coro, timeout, what, related=related, watchdog=watchdog)
            return found, _nothing
        result = run_with_timeout(
            loop, _in_context(coro, context), timeout, what, related=related, watchdog=watchdog
        )
    finally:
        if saved is not None:
            _compat.restore_current_loop(saved)
    return result, _apply_context(context)


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
