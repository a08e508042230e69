"""The runner's stepping of a coroutine inside one context (Python 3.10, task factories)."""

from __future__ import annotations

import contextvars
import inspect
import types
from collections.abc import Generator
from typing import Any

import pytest

from pytest_aioloop._run.runner import _in_context

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="outside")


@types.coroutine
def _suspend() -> Generator[str, Any, None]:
    yield "suspended"


async def _reads_var(seen: list[str]) -> None:
    seen.append(VAR.get())
    await _suspend()
    seen.append(VAR.get())


def test_every_step_runs_in_the_given_context() -> None:
    ctx = contextvars.copy_context()
    ctx.run(VAR.set, "inside")
    seen: list[str] = []
    wrapper = _in_context(_reads_var(seen), ctx)
    assert wrapper.send(None) == "suspended"
    with pytest.raises(StopIteration):
        wrapper.send(None)
    assert seen == ["inside", "inside"]


def test_closing_the_wrapper_closes_the_coroutine_even_if_it_was_closed_first() -> None:
    # An abandoned task collected as garbage: the coroutine may be finalised before the
    # wrapper that steps it; closing the wrapper then must not raise (it did: "cannot reuse
    # already awaited coroutine", reported as an unraisable exception in a later test).
    for inner_first in (False, True):
        seen: list[str] = []
        inner = _reads_var(seen)
        wrapper = _in_context(inner, contextvars.copy_context())
        assert wrapper.send(None) == "suspended"
        if inner_first:
            inner.close()
        wrapper.close()
        assert inspect.getcoroutinestate(inner) == inspect.CORO_CLOSED
        assert seen == ["outside"]
