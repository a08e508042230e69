"""Parse and validate ``@pytest.mark.asyncio``; bad arguments become a message naming the test."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from pytest_aioloop._settings import SCOPES, Scope
from pytest_aioloop._settings.options import parse_seconds

MARKER_LINE = (
    "asyncio(*, loop_scope=None, loop_factories=None, timeout=None, concurrency=None, "
    "concurrent=True, virtual_time=None): run this coroutine test in an asyncio event loop. "
    "loop_scope is one of "
    "function, class, module, package, session (default: the loop of the widest async fixture "
    "the test uses, else asyncio_default_test_loop_scope); loop_factories selects names "
    "returned by the pytest_asyncio_loop_factories hook; timeout is in seconds (0 disables); "
    "concurrency (on a module or class) lets that many of its tests run at once; "
    "concurrent=False makes a test run alone; virtual_time=True runs its call in virtual time "
    "(the loop's clock jumps to its next timer when nothing else is to be done)."
)
_KEYWORDS = (
    "loop_scope",
    "loop_factories",
    "timeout",
    "scope",
    "concurrency",
    "concurrent",
    "virtual_time",
)


class MarkerSpec:
    """The validated arguments of the closest ``asyncio`` marker."""

    __slots__ = ("has_timeout", "loop_factories", "loop_scope", "timeout", "virtual_time")

    def __init__(
        self,
        loop_scope: Scope | None = None,
        loop_factories: tuple[str, ...] | None = None,
        timeout: float | None = None,
        has_timeout: bool = False,
        virtual_time: bool | None = None,
    ) -> None:
        self.loop_scope = loop_scope
        self.loop_factories = loop_factories
        self.timeout = timeout
        self.has_timeout = has_timeout
        #: ``virtual_time=`` (``None``: not given).
        self.virtual_time = virtual_time

    def _values(self) -> tuple[object, ...]:
        return (
            self.loop_scope,
            self.loop_factories,
            self.timeout,
            self.has_timeout,
            self.virtual_time,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MarkerSpec) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        scope, factories, timeout, has_timeout, virtual_time = self._values()
        return (
            f"MarkerSpec(loop_scope={scope!r}, loop_factories={factories!r}, "
            f"timeout={timeout!r}, has_timeout={has_timeout!r}, virtual_time={virtual_time!r})"
        )

    def timeout_or(self, default: float | None) -> float | None:
        """Return the marker's timeout if it gives one, else ``default``."""
        return self.timeout if self.has_timeout else default


class MarkerError(Exception):
    """The marker's arguments are wrong; the message says what to write instead."""


def parse_marker(mark: pytest.Mark | None, nodeid: str) -> MarkerSpec:
    """Validate ``mark`` of test ``nodeid``; raise :class:`MarkerError` saying what is wrong.

    The first line of each message is pytest-asyncio's sentence for the same mistake (people
    search for it); the lines after it say what to write instead.
    """
    if mark is None:
        return MarkerSpec()
    where = f"{nodeid}: mark.asyncio"
    _check_arguments(mark, where)
    kwargs = _renamed_scope(dict(mark.kwargs), nodeid, where)
    loop_scope = _loop_scope(kwargs.get("loop_scope"), where)
    factories = _loop_factories(kwargs.get("loop_factories"), where)
    _check_concurrency(kwargs, where)
    has_timeout = "timeout" in kwargs
    timeout = _timeout(kwargs["timeout"], where) if has_timeout else None
    virtual_time = kwargs.get("virtual_time")
    if virtual_time is not None and not isinstance(virtual_time, bool):
        raise MarkerError(
            f"{where} got virtual_time={virtual_time!r}: give True (run the test in virtual "
            "time) or False (in real time, whatever asyncio_virtual_time says)."
        )
    return MarkerSpec(loop_scope, factories, timeout, has_timeout, virtual_time)


def _check_arguments(mark: pytest.Mark, where: str) -> None:
    unknown = sorted(set(mark.kwargs) - set(_KEYWORDS))
    if not (mark.args or unknown):
        return
    got = (
        f"positional argument(s) {list(mark.args)!r}"
        if mark.args
        else f"unknown argument(s) {', '.join(unknown)}"
    )
    example = (
        f"@pytest.mark.asyncio(loop_scope={mark.args[0]!r})"
        if mark.args and isinstance(mark.args[0], str)
        else "@pytest.mark.asyncio(loop_scope='module')"
    )
    raise MarkerError(
        f"{where} accepts only keyword arguments 'loop_scope' and 'loop_factories'.\n"
        f"It got {got}. pytest-aioloop also takes 'timeout', 'concurrency', 'concurrent' and "
        f"'virtual_time'. Write e.g. {example}."
    )


def _renamed_scope(kwargs: dict[str, Any], nodeid: str, where: str) -> dict[str, Any]:
    """Accept the deprecated ``scope=`` as ``loop_scope=``, with a deprecation warning."""
    if "scope" not in kwargs:
        return kwargs
    if "loop_scope" in kwargs:
        raise MarkerError(
            f'{nodeid}: An asyncio pytest marker defines both "scope" and "loop_scope", '
            'but it should only use "loop_scope".\n'
            "scope= is the deprecated spelling of loop_scope=: remove it."
        )
    warnings.warn(
        pytest.PytestDeprecationWarning(
            f"{where}(scope=...) is deprecated: use loop_scope= instead."
        ),
        stacklevel=1,
    )
    kwargs["loop_scope"] = kwargs.pop("scope")
    return kwargs


def _loop_scope(value: object, where: str) -> Scope | None:
    if value is not None and value not in SCOPES:
        raise MarkerError(
            f"{where} got an unexpected loop scope value {value!r}. "
            f"Valid scopes are: {', '.join(SCOPES)}."
        )
    return value


def _loop_factories(value: object, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence)
        or not value
        or not all(isinstance(name, str) and name for name in value)
    ):
        raise MarkerError(
            f"{where} 'loop_factories' must be a non-empty sequence of strings.\n"
            f"It got {value!r}: give names the pytest_asyncio_loop_factories hook "
            "returns, e.g. loop_factories=['uvloop']."
        )
    return tuple(value)


def _check_concurrency(kwargs: dict[str, Any], where: str) -> None:
    concurrency = kwargs.get("concurrency")
    if concurrency is not None and not _is_count(concurrency):
        raise MarkerError(
            f"{where} got concurrency={concurrency!r}: give a whole number of tests, 1 or more "
            "(1 runs them one after the other)."
        )
    concurrent = kwargs.get("concurrent", True)
    if not isinstance(concurrent, bool):
        raise MarkerError(
            f"{where} got concurrent={concurrent!r}: give True or False (False makes the test "
            "run alone)."
        )


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _timeout(raw: object, where: str) -> float | None:
    if isinstance(raw, bool) or not (raw is None or isinstance(raw, (int, float))):
        raise MarkerError(
            f"{where} got timeout={raw!r}: give a number of seconds, or 0 or None to "
            "turn the timeout off."
        )
    try:
        return parse_seconds("timeout", raw)
    except pytest.UsageError as exc:
        raise MarkerError(f"{where}: {exc}") from None


def concurrency_of(marks: Iterable[pytest.Mark], default: int) -> tuple[int, bool]:
    """Return the ``concurrency=`` (else ``default``) and ``concurrent=`` that ``marks`` give.

    ``marks`` are a test's ``asyncio`` markers, closest first: each argument comes from the
    closest marker that has it. Invalid values were reported by :func:`parse_marker` already
    and are skipped here.
    """
    limit: int | None = None
    concurrent: bool | None = None
    for mark in marks:
        kwargs = mark.kwargs
        if limit is None:
            value = kwargs.get("concurrency")
            if _is_count(value):
                limit = value
        if concurrent is None and "concurrent" in kwargs:
            concurrent = kwargs["concurrent"] is not False
        if limit is not None and concurrent is not None:
            break
    return (default if limit is None else limit), concurrent is not False
