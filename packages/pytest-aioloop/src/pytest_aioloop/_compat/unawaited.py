"""CPython's "coroutine ... was never awaited" warning, taken over while the tests run.

Why private: when a coroutine that never started is destroyed, CPython calls
``warnings._warn_unawaited_coroutine(coro)`` (looked up on the ``warnings`` module each time,
since Python 3.8), which issues the ``RuntimeWarning``. That happens whenever the garbage
collector gets to the coroutine, often in a later test, and it is the only place that sees the
coroutine itself. No public API lets a program decide where the warning goes. pytest-aioloop
replaces the function for the session, reads the coroutine's origin (which
:func:`sys.set_coroutine_origin_tracking_depth`, a public API, makes CPython record), and
either issues the same warning (from a function called where the original is, so that the
warning's location is the same), or reports the coroutine against the test that created it.
Where the function is gone, nothing is replaced: Python's own warning stays as it is.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = ["ORIGIN_DEPTH", "origins_back", "origins_on", "take_over"]

#: How many frames of a coroutine's creation CPython records while a test's call runs: the line
#: that created it, and its caller (a test function that called a helper). Each frame costs
#: the lookup of its line number, which grows with the length of its function: the frames
#: above a test body are asyncio's and pytest's, and cost more than the test's own.
ORIGIN_DEPTH = 2


def origins_on() -> int:
    """Record where coroutines are created (:data:`ORIGIN_DEPTH` frames); return the depth before.

    Public API (``sys.set_coroutine_origin_tracking_depth``), here beside the hook it serves.
    Only a test's call is tracked: its fixtures' coroutines could not be blamed on it anyway.
    """
    depth = sys.get_coroutine_origin_tracking_depth()
    if depth < ORIGIN_DEPTH:
        sys.set_coroutine_origin_tracking_depth(ORIGIN_DEPTH)
    return depth


def origins_back(depth: int) -> None:
    """Record origins as deep as before :func:`origins_on` (which returned ``depth``)."""
    sys.set_coroutine_origin_tracking_depth(depth)


_NAME = "_warn_unawaited_coroutine"

if TYPE_CHECKING:
    #: ``handler(coroutine)``: the text of the ``RuntimeWarning`` to issue, or ``None``.
    Handler = Callable[[Any], str | None]


def take_over(handler: Handler) -> Callable[[], None] | None:
    """Route unawaited coroutines to ``handler``; return what undoes it.

    ``None``: this Python has no such function, and nothing was changed.
    """
    original = getattr(warnings, _NAME, None)
    if original is None:  # pragma: no cover - CPython changed
        return None

    def route(coro: Any) -> None:
        try:
            text = handler(coro)
        except Exception:  # pragma: no cover - never lose the warning to a bug of ours
            text = f"coroutine {getattr(coro, '__qualname__', coro)!r} was never awaited"
        if text is not None:  # stacklevel 2: the code that dropped it, as Python's own says
            warnings.warn(text, RuntimeWarning, stacklevel=2, source=coro)

    setattr(warnings, _NAME, route)

    def undo() -> None:
        if getattr(warnings, _NAME, None) is route:
            setattr(warnings, _NAME, original)

    return undo
