"""The warning categories pytest-aioloop emits (public), and how it emits a warning.

Every warning pytest-aioloop emits about a test is an :class:`AioloopWarning`, filterable by its
public name (``pytest_aioloop.LeakedTaskWarning``). Where a filter turns a warning into an error
(``-W error``), the test fails with the warning's text, never with a traceback from inside the
plugin.
"""

from __future__ import annotations

import warnings

import pytest


class AioloopWarning(pytest.PytestWarning):
    """Base category of every warning pytest-aioloop emits about a test."""


class LeakedTaskWarning(AioloopWarning):
    """A test or fixture left tasks pending; pytest-aioloop cancelled them."""


class UnhandledErrorWarning(AioloopWarning):
    """An exception reached the event loop's exception handler."""


class SlowCallbackWarning(AioloopWarning):
    """A callback or task step held the event loop longer than asyncio_slow_callback."""


class UnawaitedCoroutineWarning(AioloopWarning):
    """A test created a coroutine that was never awaited (found later, in another test)."""


# Shown and filtered by their public name (``pytest_aioloop.LeakedTaskWarning``).
for _category in (
    AioloopWarning,
    LeakedTaskWarning,
    UnhandledErrorWarning,
    SlowCallbackWarning,
    UnawaitedCoroutineWarning,
):
    _category.__module__ = "pytest_aioloop"


def warn(warning: Warning) -> None:
    """Emit ``warning``; where a filter makes it an error, fail the test with its text only."""
    try:
        warnings.warn(warning, stacklevel=2)
    except Warning as exc:
        pytest.fail(as_error(exc), pytrace=False)


def as_error(exc: Warning) -> str:
    """Return the failure text of a warning that a filter turned into an error."""
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}: {exc}"
