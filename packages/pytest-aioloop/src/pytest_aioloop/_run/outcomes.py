"""pytest's outcomes (skip, xfail, fail, exit) raised inside a task group, taken out of it.

``pytest.skip()`` in a child of a ``TaskGroup`` (or an anyio task group) reaches pytest inside
an exception group, where pytest sees an error: the test fails, or is reported at the task
group's line. A group whose exceptions are all pytest outcomes gives the first of them, as
pytest would have had it outside the group (an exit first, then a failure, an xfail, a skip),
with its own traceback; a group that also holds real errors keeps those, and only those.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator

import pytest

#: pytest's outcome exceptions, most decisive first.
_OUTCOMES: tuple[type[BaseException], ...] = (
    pytest.exit.Exception,
    pytest.xfail.Exception,  # a subclass of fail's: checked before it
    pytest.fail.Exception,
    pytest.skip.Exception,
)


def _group_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = []
    native = getattr(builtins, "BaseExceptionGroup", None)
    if native is not None:
        types.append(native)
    backport = sys.modules.get("exceptiongroup")  # Python 3.10, as anyio uses it
    found = getattr(backport, "BaseExceptionGroup", None)
    if isinstance(found, type) and found is not native:
        types.append(found)
    return tuple(types)


def unwrap(error: BaseException) -> BaseException:
    """Return what pytest should see of ``error`` (itself unless it is a group of outcomes)."""
    groups = _group_types()
    if not groups or not isinstance(error, groups):
        return error
    leaves = list(_leaves(error, groups))
    outcomes = [leaf for leaf in leaves if isinstance(leaf, _OUTCOMES)]
    if not outcomes:
        return error
    if len(outcomes) < len(leaves):  # real errors too: keep those
        rest = error.split(_OUTCOMES)[1]  # type: ignore[attr-defined]
        return rest if rest is not None else error
    for kind in _OUTCOMES:
        for outcome in outcomes:
            if isinstance(outcome, kind):
                return outcome
    return error  # pragma: no cover - every outcome is one of the kinds


def _leaves(
    error: BaseException, groups: tuple[type[BaseException], ...]
) -> Iterator[BaseException]:
    if isinstance(error, groups):
        for inner in error.exceptions:  # type: ignore[attr-defined]
            yield from _leaves(inner, groups)
    else:
        yield error
