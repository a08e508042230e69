"""Unawaited coroutines, blamed on the test that created them.

Python warns "coroutine ... was never awaited" when the garbage collector destroys such a
coroutine. That is often in a later test, which pytest then blames (and fails, under
``-W error``). While the tests run, CPython records where each coroutine was created (its
origin, a few frames: ``_compat.unawaited``). When one is found unawaited, :class:`Blame` looks
for a test function among those frames:

- It is the test that runs now (or none is found): Python's warning is issued, as without
  pytest-aioloop, in that test; a test that expects it (``pytest.warns``) still sees it.
- It is another test: no warning, so the innocent test is never failed for it. The finding,
  which names the test and the line that created the coroutine, goes to the creator as the
  net's action says: ``report`` (the summary), ``warn`` (pytest's warnings summary, under the
  creator's name) or ``error`` (the run fails, naming the creator).

Finding the creator costs nothing per test: the tests' functions are indexed at the first
unawaited coroutine. A coroutine made by a fixture, or by a helper more than two calls below
the test, has no test among its frames; Python's own warning, with where it was created, stays.
"""

from __future__ import annotations

import inspect
import linecache
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from pytest_aioloop._nets.findings import PROPERTY, Summary
from pytest_aioloop._warnings import UnawaitedCoroutineWarning

#: A coroutine's origin, innermost first: ``(filename, line, function name)`` per frame.
Origin = tuple[tuple[str, int, str], ...]


class UnawaitedNet:
    """Takes each coroutine found unawaited while the tests run (see the module's docstring)."""

    __slots__ = ("_active", "_current", "action", "blame", "summary", "to_warn")

    def __init__(
        self,
        action: str,
        items: Callable[[], Sequence[pytest.Item]],
        current: Callable[[], pytest.Item | None],
        active: Callable[[], Mapping[str, pytest.Item]],
        summary: Summary,
    ) -> None:
        #: ``report``, ``warn`` or ``error``.
        self.action = action
        self.blame = Blame(items)
        self.summary = summary
        self._current = current
        #: The tests running concurrently now, by node id.
        self._active = active
        #: Warnings to record under their creator's name at the next safe point
        #: (:meth:`deliver_warnings`): the garbage collector may run anywhere, even inside a
        #: plugin's hook.
        self.to_warn: list[tuple[str, str, tuple[str, int] | None]] = []

    def found(self, coro: Any) -> str | None:
        """Take ``coro``, found unawaited; return the text of Python's warning, if it is due.

        It is in the test that created it (where a test may expect it), and where no test is
        found among the frames that created it.
        """
        current = self._current()
        origin: Origin | None = getattr(coro, "cr_origin", None)
        creator, frames = self.blame.creator(origin, current)
        if creator is None:
            return python_warning(coro, origin or ())
        active = self._active()
        running = creator is current or creator.nodeid in active
        found_in = current.nodeid if current is not None else ", ".join(active) or None
        text = describe(coro, frames, creator.nodeid, creator.nodeid if running else found_in)
        self.summary.entries.append((creator.nodeid, "unawaited", text))
        if current is not None:  # for --junitxml, and for a pytest-xdist controller's summary
            current.user_properties.append((PROPERTY["unawaited"], f"{creator.nodeid}\n{text}"))
        if self.action == "warn" and not running:
            self.to_warn.append((creator.nodeid, text, where_created(coro)))
        return python_warning(coro, frames) if running else None

    def deliver_warnings(self, hook: Any) -> None:
        """Record the pending warnings, each under the name of the test that created it."""
        pending, self.to_warn = self.to_warn, []
        for nodeid, text, where in pending:
            filename, lineno = where or ("", 0)
            message = warnings.WarningMessage(
                UnawaitedCoroutineWarning(text), UnawaitedCoroutineWarning, filename, lineno
            )
            hook.pytest_warning_recorded.call_historic(
                kwargs={
                    "warning_message": message,
                    "when": "runtest",
                    "nodeid": nodeid,
                    "location": None,
                }
            )


class Blame:
    """Finds which test created a coroutine, from the frames of its origin."""

    __slots__ = ("_items", "_tests")

    def __init__(self, items: Callable[[], Sequence[pytest.Item]]) -> None:
        self._items = items
        #: The tests of each test function, by its file and name (made when first needed).
        self._tests: dict[tuple[str, str], list[pytest.Item]] | None = None

    def creator(
        self, origin: Origin | None, current: pytest.Item | None
    ) -> tuple[pytest.Item | None, Origin]:
        """Return the test whose function is among ``origin``'s frames, and the frames up to it.

        ``(None, ())`` when none is. A test function that has run several times (parametrized)
        is blamed on its latest run before ``current``.
        """
        if not origin:
            return None, ()
        tests = self._index()
        for depth, (filename, _, name) in enumerate(origin):
            found = tests.get((filename, name))
            if found:
                return _latest(found, current, self._items()), origin[: depth + 1]
        return None, ()

    def _index(self) -> dict[tuple[str, str], list[pytest.Item]]:
        tests = self._tests
        if tests is None:
            tests = self._tests = {}
            for item in self._items():
                code = _code_of(getattr(item, "obj", None))
                if code is not None:
                    tests.setdefault((code.co_filename, code.co_name), []).append(item)
        return tests


def _code_of(func: object) -> Any:
    raw: Any = getattr(func, "__func__", func)
    if not callable(raw):
        return None
    try:
        raw = inspect.unwrap(raw)
    except ValueError:  # pragma: no cover - a cycle of __wrapped__
        return None
    return getattr(raw, "__code__", None)


def _latest(
    found: list[pytest.Item], current: pytest.Item | None, items: Sequence[pytest.Item]
) -> pytest.Item:
    if len(found) == 1:
        return found[0]
    if current is None:
        return found[-1]
    if current in found:
        return current
    order = {id(item): index for index, item in enumerate(items)}
    now = order.get(id(current), len(items))
    before = [item for item in found if order.get(id(item), 0) <= now]
    return before[-1] if before else found[0]


def describe(coro: Any, frames: Origin, creator: str, found_in: str | None) -> str:
    """The finding's text: what was never awaited, who created it where, when it was found.

    ``frames``: where it was created, innermost first, up to the test's function;
    ``found_in``: the test running when it was found (``None``: none was).
    """
    name = getattr(coro, "__qualname__", repr(coro))
    lines = [f"coroutine {name!r} was never awaited. {creator} created it, at:"]
    for filename, lineno, function in reversed(frames):
        lines.append(f'  File "{filename}", line {lineno}, in {function}')
        source = linecache.getline(filename, lineno).strip()
        if source:
            lines.append(f"    {source}")
    if found_in != creator:
        found = f"during {found_in}, which is not blamed" if found_in else "after the last test"
        lines.append(f"It was found when the garbage collector destroyed it, {found}.")
    return "\n".join(lines)


def python_warning(coro: Any, frames: Origin) -> str:
    """The text of Python's warning, with where ``coro`` was created (``frames``)."""
    name = getattr(coro, "__qualname__", repr(coro))
    text = f"coroutine {name!r} was never awaited"
    if not frames:
        return text
    where = traceback.format_list(
        [(f, n, fn, linecache.getline(f, n)) for f, n, fn in reversed(frames)]
    )
    return f"{text}\nCoroutine created at (most recent call last)\n{''.join(where)}".rstrip()


def where_created(coro: Any) -> tuple[str, int] | None:
    """The file and line that created ``coro`` (the innermost frame of its origin)."""
    origin: Origin | None = getattr(coro, "cr_origin", None)
    return (origin[0][0], origin[0][1]) if origin else None
