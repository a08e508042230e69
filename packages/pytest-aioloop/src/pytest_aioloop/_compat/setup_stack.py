"""Private pytest internals that concurrent tests need: the setup stack and the fixture caches.

pytest runs one test at a time: it keeps the set-up nodes on one stack (``SetupState``), and a
fixture's value in its definition (``FixtureDef.cached_result``), one value at a time. Tests
that run concurrently need one set of function-scoped fixtures each, and the stack must let
the next test be set up while earlier ones still run. No public API exists for either; these
functions are the only places that reach into pytest for it (see docs/concepts/concurrency.md).
Each says why no public API serves; :func:`can_run_concurrently` says whether they can work on
the running pytest, and concurrency stays off where they cannot.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from pytest_aioloop._compat.pytest_internals import visible_fixturedefs

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup
else:  # pragma: no cover - Python 3.10: pytest's own dependency
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "CAUGHT",
    "can_run_concurrently",
    "end_left",
    "forget_request",
    "leave",
    "own_function_fixtures",
    "parents_to_leave",
    "park_above",
    "put_back",
    "raise_teardown_errors",
    "set_aside",
    "tear_down_rest",
    "unpark",
]

#: What pytest's teardown of a set-up node catches and goes on after (its ``TEST_OUTCOME``):
#: errors, and pytest's own outcomes (skip, fail, xfail; their base class is not public).
CAUGHT: tuple[type[BaseException], ...] = (Exception, pytest.fail.Exception.__mro__[1])


class _Stack(dict):  # type: ignore[type-arg]
    """pytest's setup stack, plus the entries of tests that run concurrently (set aside).

    Iteration, ``popitem`` and ``len`` see only the real stack, so pytest can set up the next
    test; ``in`` and ``[]`` also see the set-aside entries, so a running test can still add
    finalizers and call ``request.getfixturevalue()``.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.aside: dict[Any, Any] = {}

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.aside

    def __getitem__(self, key: Any) -> Any:
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self.aside[key]


def _setup_stack(session: pytest.Session) -> _Stack | None:
    state = getattr(session, "_setupstate", None)
    stack = getattr(state, "stack", None)
    if isinstance(stack, _Stack):
        return stack
    if not isinstance(stack, dict) or state is None:  # pragma: no cover - pytest changed
        return None
    replacement = _Stack(stack)
    state.stack = replacement
    return replacement


def can_run_concurrently(session: pytest.Session) -> bool:
    """Whether this pytest has the internals that concurrent tests need (see above)."""
    return _setup_stack(session) is not None and hasattr(pytest.FixtureDef, "execute")


def set_aside(item: pytest.Item) -> None:
    """Take the just set-up ``item`` off pytest's setup stack, so another test can be set up.

    Why private: ``SetupState.setup`` requires the stack to hold only the next item's parents.
    The item's entry (the finalizers of its function-scoped fixtures) is kept aside, still
    visible to ``in`` and ``[]``, until :func:`put_back`.
    """
    stack = _setup_stack(item.session)
    if stack is None or not dict.__contains__(stack, item):  # pragma: no cover - defensive
        return
    stack.aside[item] = dict.pop(stack, item)


def put_back(item: pytest.Item) -> None:
    """Put ``item``'s entry back on top of the setup stack, for its teardown."""
    stack = _setup_stack(item.session)
    if stack is None:  # pragma: no cover - defensive
        return
    entry = stack.aside.pop(item, None)
    if entry is not None:
        dict.__setitem__(stack, item, entry)


class _OwnFixtureDefs(dict):  # type: ignore[type-arg]
    """A test's fixture table in which every function-scoped definition is the test's own copy.

    pytest looks definitions up with ``.get(name)``; a name asked for dynamically
    (``request.getfixturevalue``) is looked up and copied on first use.
    """

    def __init__(self, item: pytest.Item, table: Mapping[str, Any]) -> None:
        super().__init__({name: _own(defs) for name, defs in table.items()})
        self.item = item

    def get(self, name: str, default: Any = None) -> Any:
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        found = visible_fixturedefs(self.item, name)
        if not found:
            return default
        own = _own(found)
        dict.__setitem__(self, name, own)
        return own


def _own(defs: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_copy(d) if getattr(d, "scope", None) == "function" else d for d in defs)


def _copy(fixturedef: Any) -> Any:
    clone = copy.copy(fixturedef)
    clone.cached_result = None
    clone._finalizers = []
    return clone


def own_function_fixtures(item: pytest.Item) -> None:
    """Give ``item`` its own copies of its function-scoped fixture definitions.

    Why private: the value of a fixture is cached in its ``FixtureDef``, one at a time, and a
    test's function-scoped fixtures are torn down through it. The test's ``TopRequest`` looks
    definitions up in ``_arg2fixturedefs``; replacing that table (shared by the fixtures'
    ``SubRequest`` objects, which pytest creates later) with copies gives each test its own
    instances. (:func:`can_run_concurrently` checked that pytest has them.)
    """
    request = getattr(item, "_request", None)
    table = getattr(request, "_arg2fixturedefs", None)
    if request is not None and isinstance(table, dict):
        request._arg2fixturedefs = _OwnFixtureDefs(item, table)


def forget_request(item: pytest.Item) -> None:
    """Drop the test's request and fixture values after its teardown, as pytest's runner does.

    Why private: pytest's ``runtestprotocol`` does this (``item._request = False``,
    ``item.funcargs = None``) so that thousands of finished tests do not keep their fixture
    values alive; tests that run concurrently go through pytest-aioloop's protocol instead.
    """
    if hasattr(item, "_request"):
        item._request = False
        item.funcargs = None  # type: ignore[attr-defined]


def tear_down_rest(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Tear down what is still set up above ``nextitem`` (``item`` itself is torn down already).

    Why private: the group's last test, in pytest's order, carries the teardown of its module or
    class, as without concurrency; when it ends before the others, its own fixtures are torn
    down at once (pytest's teardown hook, with another test of the group as ``nextitem``), and
    the module's or class's part waits for the others. pytest's teardown hook cannot run twice
    for one test (its plugins drop per-test state at the end), so that part calls the setup
    stack's own ``teardown_exact``, which is what pytest's hook calls.
    """
    state = getattr(item.session, "_setupstate", None)
    if state is not None:
        state.teardown_exact(nextitem)


def _plain(node: Any) -> bool:
    """Whether setting ``node`` up and tearing it down does nothing of its own.

    Modules, classes and directories are so since pytest 8: what they set up is fixtures
    (``setup_module`` and the like are autouse fixtures). A package is not (its
    ``setup_module`` runs in ``Package.setup``).
    """
    kind = type(node)
    return kind.setup is pytest.Collector.setup and kind.teardown is pytest.Collector.teardown


def parents_to_leave(item: pytest.Item) -> list[Any] | None:
    """The set-up parents ``item`` does not share, if a group may leave them for ``item``.

    Why private: pytest sets a test's parents up on its setup stack and tears a parent down
    only when the next test is not in it. Tests of the next module may join the running tests
    of this one only if nothing of this module needs tearing down: its entry on the stack
    holds nothing but the node's own (empty) teardown, and the nodes on both sides set up
    nothing of their own. ``None`` when that is not so.
    """
    stack = _setup_stack(item.session)
    if stack is None:  # pragma: no cover - defensive
        return None
    chain = item.listchain()
    on_stack = list(dict.keys(stack))
    leaving = [node for node in on_stack if node not in chain]
    for node in leaving:
        finalizers, exc = dict.__getitem__(stack, node)
        if exc is not None or not _plain(node) or len(finalizers) != 1:
            return None
        if getattr(finalizers[0], "__self__", None) is not node:
            return None
    entering = [node for node in chain[:-1] if node not in on_stack]
    if not all(_plain(node) for node in entering):
        return None
    return leaving


def leave(session: pytest.Session, nodes: Sequence[Any]) -> None:
    """Take the parents ``nodes`` (from :func:`parents_to_leave`) off the setup stack.

    Their entries are kept aside, still visible to ``in`` and ``[]``: a test of theirs that
    still runs can add a finalizer to them (``request.getfixturevalue()`` of a wider fixture),
    and :func:`end_left` runs it once their last test is torn down.
    """
    stack = _setup_stack(session)
    if stack is None:  # pragma: no cover - defensive
        return
    for node in reversed(nodes):
        stack.aside[node] = dict.pop(stack, node)


def end_left(session: pytest.Session, nodes: Sequence[Any]) -> None:
    """Tear down the left parents ``nodes`` (deepest first), as pytest tears a parent down.

    Why private: this is ``SetupState.teardown_exact``'s loop for entries that are no longer on
    the stack (:func:`leave`): each node's finalizers run in reverse order, and the errors are
    raised as pytest raises them.
    """
    stack = _setup_stack(session)
    if stack is None:  # pragma: no cover - defensive
        return
    errors: list[BaseException] = []
    for node in nodes:
        entry = stack.aside.pop(node, None)
        if entry is None:
            continue
        finalizers, _ = entry
        found: list[BaseException] = []
        while finalizers:
            finalizer = finalizers.pop()
            try:
                finalizer()
            except CAUGHT as exc:
                found.append(exc)
        if len(found) == 1:
            errors.extend(found)
        elif found:
            errors.append(BaseExceptionGroup(f"errors while tearing down {node!r}", found[::-1]))
    raise_teardown_errors(errors[::-1])


def raise_teardown_errors(errors: Sequence[BaseException]) -> None:
    """Raise the errors of one test's teardown as pytest raises them: one as it is, several
    in a group (``errors`` in the order to show)."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BaseExceptionGroup("errors during test teardown", list(errors))


def park_above(item: pytest.Item) -> list[tuple[Any, Any]]:
    """Take off the setup stack the parents that ``item`` does not share; return them.

    Why private: a test that failed beside others in a module its group had left runs again
    alone after the group, while the group's last module stays set up for its own tests that
    run again too. pytest's setup of ``item`` requires the stack to hold only its parents.
    """
    stack = _setup_stack(item.session)
    if stack is None:  # pragma: no cover - defensive
        return []
    chain = item.listchain()
    parked: list[tuple[Any, Any]] = []
    while len(stack) and list(dict.keys(stack)) != chain[: len(stack)]:
        parked.append(dict.popitem(stack))
    return parked[::-1]


def unpark(session: pytest.Session, parked: Sequence[tuple[Any, Any]]) -> None:
    """Put the parents :func:`park_above` took off back on the setup stack."""
    stack = _setup_stack(session)
    if stack is None:  # pragma: no cover - defensive
        return
    for node, entry in parked:
        dict.__setitem__(stack, node, entry)
