"""Coroutine tests that another plugin wrapped in a plain function, such as pytest-run-parallel.

pytest-run-parallel replaces a test function with a plain function (``functools.wraps``) that
calls the original in several threads. The original is a coroutine function: calling it only
makes a coroutine, which nobody awaits, and the test would pass without having run. So while
pytest calls such a test, the wrapper is made to call, instead of the coroutine function, a
plain function that runs the coroutine to its end in a new event loop of the calling thread,
and closes that loop. The wrapper finds the original in one of its closure's cells (where
``functools.wraps``-style wrappers keep it); where it is kept elsewhere, the test fails and says
why, rather than pass without running.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import types
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest


def wrapped_coroutine_function(func: object) -> Callable[..., Any] | None:
    """The coroutine function that the plain function ``func`` wraps (``__wrapped__``), if any."""
    if type(func) is not types.FunctionType or "__wrapped__" not in func.__dict__:
        return None
    inner = inspect.unwrap(func)
    return inner if inspect.iscoroutinefunction(inner) else None


def cells_holding(wrapper: Any, target: object) -> list[types.CellType]:
    """The cells of ``wrapper``'s closure that hold ``target`` (nested functions share them)."""
    found: list[types.CellType] = []
    for cell in wrapper.__closure__ or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if contents is target:
            found.append(cell)
    return found


def _run_in_a_loop_of_this_thread(
    func: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Any]:
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(func(*args, **kwargs))
        finally:
            try:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    return run


@contextlib.contextmanager
def calls_run_in_a_loop(item: pytest.Function) -> Iterator[None]:
    """Around pytest's call of ``item``: its wrapper's calls of the coroutine run in a loop."""
    wrapper = item.obj
    original = wrapped_coroutine_function(wrapper)
    assert original is not None  # the plan said so
    cells = cells_holding(wrapper, original)
    if not cells:
        pytest.fail(
            f"{item.nodeid} is a coroutine test wrapped in a plain function "
            f"({getattr(wrapper, '__module__', '?')}.{getattr(wrapper, '__qualname__', '?')}) "
            "that calls it without awaiting it, so it would pass without running. "
            "pytest-aioloop runs such calls in an event loop where the wrapper keeps the test "
            "function in its closure (as functools.wraps-style wrappers such as "
            "pytest-run-parallel's do); this wrapper keeps it elsewhere. Run this test without "
            "the wrapping plugin (pytest-run-parallel: @pytest.mark.thread_unsafe).",
            pytrace=False,
        )
    adapter = _run_in_a_loop_of_this_thread(original)
    for cell in cells:
        cell.cell_contents = adapter
    try:
        yield
    finally:
        for cell in cells:
            cell.cell_contents = original
