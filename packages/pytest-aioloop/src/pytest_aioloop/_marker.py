"""Parse and validate ``@pytest.mark.asyncio``; bad arguments become a message naming the test."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import pytest

from pytest_aioloop._config import SCOPES, Scope, parse_seconds

MARKER_LINE = (
    "asyncio(*, loop_scope=None, loop_factories=None, timeout=None): run this coroutine test "
    "in an asyncio event loop. loop_scope is one of function, class, module, package, session "
    "(default: the loop of the widest async fixture the test uses, else "
    "asyncio_default_test_loop_scope); loop_factories selects names returned by the "
    "pytest_asyncio_loop_factories hook; timeout is in seconds (0 disables)."
)
_KEYWORDS = ("loop_scope", "loop_factories", "timeout", "scope")


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
    """Validate ``mark`` of test ``nodeid``; raise :class:`MarkerError` saying what is wrong."""
    if mark is None:
        return MarkerSpec()
    where = f"{nodeid}: @pytest.mark.asyncio"
    if mark.args:
        raise MarkerError(
            f"{where} takes keyword arguments only, got positional {list(mark.args)!r}. "
            f"Write e.g. @pytest.mark.asyncio(loop_scope={mark.args[0]!r})."
        )
    unknown = sorted(set(mark.kwargs) - set(_KEYWORDS))
    if unknown:
        raise MarkerError(
            f"{where} got unknown argument(s) {', '.join(unknown)}. "
            "Valid arguments: loop_scope, loop_factories, timeout."
        )
    kwargs = dict(mark.kwargs)
    if "scope" in kwargs:
        if "loop_scope" in kwargs:
            raise MarkerError(
                f"{where} got both scope= and loop_scope=; scope= is a deprecated alias: "
                "keep only loop_scope=."
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
            f"{where} got loop_scope={loop_scope!r}. Valid loop scopes: {', '.join(SCOPES)}."
        )
    factories = kwargs.get("loop_factories")
    if factories is not None:
        if (
            isinstance(factories, str)
            or not isinstance(factories, Sequence)
            or not all(isinstance(name, str) for name in factories)
        ):
            raise MarkerError(
                f"{where} got loop_factories={factories!r}: give a list of factory names, "
                "e.g. loop_factories=['uvloop']."
            )
        factories = tuple(factories)
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
