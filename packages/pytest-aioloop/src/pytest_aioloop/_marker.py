"""Parse and validate ``@pytest.mark.asyncio``; bad arguments become a message naming the test."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import pytest

from pytest_aioloop._config import SCOPES, Scope, parse_seconds

MARKER_LINE = (
    "asyncio(*, loop_scope=None, loop_factories=None, timeout=None, concurrency=None, "
    "concurrent=True): run this coroutine test in an asyncio event loop. loop_scope is one of "
    "function, class, module, package, session (default: the loop of the widest async fixture "
    "the test uses, else asyncio_default_test_loop_scope); loop_factories selects names "
    "returned by the pytest_asyncio_loop_factories hook; timeout is in seconds (0 disables); "
    "concurrency (on a module or class) lets that many of its tests run at once; "
    "concurrent=False makes a test run alone."
)
_KEYWORDS = ("loop_scope", "loop_factories", "timeout", "scope", "concurrency", "concurrent")


@dataclasses.dataclass(frozen=True)
class MarkerSpec:
    """The validated arguments of the closest ``asyncio`` marker."""

    loop_scope: Scope | None = None
    loop_factories: tuple[str, ...] | None = None
    timeout: float | None = None
    has_timeout: bool = False


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
    unknown = sorted(set(mark.kwargs) - set(_KEYWORDS))
    if mark.args or unknown:
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
            f"It got {got}. pytest-aioloop also takes 'timeout', 'concurrency' and "
            f"'concurrent'. Write e.g. {example}."
        )
    kwargs = dict(mark.kwargs)
    if "scope" in kwargs:
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
    loop_scope = kwargs.get("loop_scope")
    if loop_scope is not None and loop_scope not in SCOPES:
        raise MarkerError(
            f"{where} got an unexpected loop scope value {loop_scope!r}. "
            f"Valid scopes are: {', '.join(SCOPES)}."
        )
    factories = kwargs.get("loop_factories")
    if factories is not None:
        if (
            isinstance(factories, str)
            or not isinstance(factories, Sequence)
            or not factories
            or not all(isinstance(name, str) and name for name in factories)
        ):
            raise MarkerError(
                f"{where} 'loop_factories' must be a non-empty sequence of strings.\n"
                f"It got {factories!r}: give names the pytest_asyncio_loop_factories hook "
                "returns, e.g. loop_factories=['uvloop']."
            )
        factories = tuple(factories)
    concurrency = kwargs.get("concurrency")
    if concurrency is not None and (
        isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
    ):
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
    has_timeout = "timeout" in kwargs
    timeout = None
    if has_timeout:
        raw = kwargs["timeout"]
        if isinstance(raw, bool) or not (raw is None or isinstance(raw, (int, float))):
            raise MarkerError(
                f"{where} got timeout={raw!r}: give a number of seconds, or 0 or None to "
                "turn the timeout off."
            )
        try:
            timeout = parse_seconds("timeout", raw)
        except pytest.UsageError as exc:
            raise MarkerError(f"{where}: {exc}") from None
    return MarkerSpec(loop_scope, factories, timeout, has_timeout)
