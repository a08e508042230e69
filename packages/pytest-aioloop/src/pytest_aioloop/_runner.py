"""Run the coroutines of tests and fixtures on a loop: each as a task its owner owns.

The runner owns the task and its context. A test's coroutine runs in a copy of the caller's
context (it sees the context variables its fixtures set) in which :data:`~._owners.OWNER`
names the test; a fixture's setup and teardown run step by step inside one context of the
fixture's own, in which the fixture is the owner. Everything the coroutine creates inherits
that owner, which is all the safety nets need to attribute what they find.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from pytest_aioloop import _compat
from pytest_aioloop._owners import OWNER, Owner, pending_tasks
from pytest_aioloop._stacks import TRANSPARENT_CODE
from pytest_aioloop._timeouts import drive
from pytest_aioloop._watchdog import Watchdog

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


def owned_context(owner: Owner | None) -> contextvars.Context:
    """Return a copy of the current context in which ``owner`` owns what gets created."""
    ctx = contextvars.copy_context()
    ctx.run(OWNER.set, owner)
    return ctx


def run(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, T],
    *,
    owner: Owner | None,
    context: contextvars.Context | None = None,
    timeout: float | None = None,
    what: str = "",
    name: str | None = None,
    watchdog: Watchdog | None = None,
    on_give_up: Callable[[asyncio.AbstractEventLoop], None] | None = None,
) -> tuple[T, Callable[[], None]]:
    """Run ``coro`` to completion on ``loop`` (made current meanwhile), within ``timeout``.

    Without ``context``, the coroutine runs as a task in a copy of the caller's context in
    which ``owner`` owns it. With ``context`` (a fixture's, where the caller already made the
    fixture the owner), every step runs in that context, and afterwards the context variables
    it set are copied into the caller's context; the returned callable resets them (fixtures
    call it at teardown). ``what`` names the work in a timeout's message, ``name`` the task
    (default: ``what``).
    """
    saved = None if _compat.is_current_loop(loop) else _compat.save_current_loop()
    if saved is not None:
        _compat.set_current_loop(loop)
    related = (lambda: pending_tasks(loop, owner)) if owner is not None else None
    try:
        try:
            if context is None:
                task = owned_context(owner).run(loop.create_task, coro, name=name or what or None)
            else:
                task = loop.create_task(_in_context(coro, context), name=name or what or None)
        except BaseException:
            coro.close()  # never started: no "coroutine was never awaited" warning later
            raise
        result = drive(
            loop,
            task,
            timeout,
            what,
            related=related,
            watchdog=watchdog,
            on_give_up=on_give_up,
        )
    finally:
        if saved is not None:
            _compat.restore_current_loop(saved)
    if context is None:
        return result, _nothing
    return result, _apply_context(context)


def _nothing() -> None:
    return None


def _apply_context(ctx: contextvars.Context) -> Callable[[], None]:
    here = contextvars.copy_context()
    tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
    missing = object()
    for var, value in ctx.items():
        if var is OWNER:
            continue  # ownership stays with the fixture's own context
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
