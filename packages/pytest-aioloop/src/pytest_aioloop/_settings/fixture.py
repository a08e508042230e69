"""The ``fixture`` decorator and how pytest-aioloop recognises the fixtures it runs."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

import pytest

from pytest_aioloop._settings import SCOPES, Scope
from pytest_aioloop._settings.options import parse_seconds

if TYPE_CHECKING:
    from pytest_aioloop._settings.marker import MarkerSpec

F = TypeVar("F", bound=Callable[..., Any])
_ATTR = "_pytest_aioloop_fixture"
_BUILTIN = "_pytest_aioloop_builtin"


class FixtureOptions:
    """What ``pytest_aioloop.fixture`` adds to ``pytest.fixture``."""

    __slots__ = ("concurrent", "has_timeout", "loop_scope", "timeout")

    def __init__(
        self,
        loop_scope: Scope | None = None,
        timeout: float | None = None,
        has_timeout: bool = False,
        concurrent: bool = True,
    ) -> None:
        self.loop_scope = loop_scope
        self.timeout = timeout
        self.has_timeout = has_timeout
        #: ``False``: the tests that use the fixture run alone, never concurrently.
        self.concurrent = concurrent

    def __repr__(self) -> str:
        return (
            f"FixtureOptions(loop_scope={self.loop_scope!r}, timeout={self.timeout!r}, "
            f"has_timeout={self.has_timeout!r}, concurrent={self.concurrent!r})"
        )


@overload
def fixture(fixture_function: F) -> F: ...


@overload
def fixture(
    fixture_function: None = None,
    *,
    scope: str = "function",
    loop_scope: str | None = None,
    timeout: float | None = ...,
    concurrent: bool = True,
    params: Iterable[object] | None = None,
    autouse: bool = False,
    ids: Iterable[object | None] | Callable[[Any], object | None] | None = None,
    name: str | None = None,
) -> Callable[[F], F]: ...


def fixture(
    fixture_function: F | None = None,
    *,
    scope: str = "function",
    loop_scope: str | None = None,
    timeout: object = ...,
    concurrent: bool = True,
    params: Iterable[object] | None = None,
    autouse: bool = False,
    ids: Iterable[object | None] | Callable[[Any], object | None] | None = None,
    name: str | None = None,
) -> F | Callable[[F], F]:
    """Declare a fixture that pytest-aioloop runs in an event loop.

    Works on coroutine functions, async generators (code after ``yield`` is the teardown) and
    plain functions or generators (they run with the loop installed as the current loop), and
    on methods of test classes. Request an async fixture as an argument (or with
    ``usefixtures``): from async code, ``request.getfixturevalue()`` cannot set it up, since no
    loop can run its setup until that code returns, and the test fails saying so. Takes every
    argument of :func:`pytest.fixture`, plus:

    Args:
        fixture_function: The function, when used as ``@fixture`` without parentheses.
        scope: How long pytest caches the value, as in :func:`pytest.fixture`.
        loop_scope: The scope of the loop it runs in (function, class, module, package,
            session). Default: a loop that lives at least as long as the fixture and that the
            tests using it share.
        timeout: Seconds after which its setup, and separately its teardown, is cancelled and
            fails (default: ``asyncio_timeout``; 0 or None disables).
        concurrent: ``False`` makes every test that uses the fixture run alone when
            ``asyncio_concurrency`` lets tests run at the same time (for a fixture that changes
            process-wide state).
        params: Parameters, as in :func:`pytest.fixture`.
        autouse: Use it in every test that can see it, as in :func:`pytest.fixture`.
        ids: Ids for ``params``, as in :func:`pytest.fixture`.
        name: The fixture's name, as in :func:`pytest.fixture`.

    Returns:
        The fixture, or a decorator that makes one.
    """
    options = _options(loop_scope, timeout, concurrent)

    def decorate(func: F) -> F:
        target = func.__func__ if isinstance(func, (staticmethod, classmethod)) else func
        setattr(target, _ATTR, options)
        make: Any = pytest.fixture
        return make(  # type: ignore[no-any-return]
            func,
            scope=scope,
            params=params,
            autouse=autouse,
            ids=ids,
            name=name,
        )

    if fixture_function is not None:
        return decorate(fixture_function)
    return decorate


def timeout_of(
    options: FixtureOptions | None, spec: MarkerSpec | None, default: float | None
) -> float | None:
    """A fixture's timeout: its own, else its test's marker's, else ``asyncio_timeout``."""
    if options is not None and options.has_timeout:
        return options.timeout
    return spec.timeout_or(default) if spec is not None else default


def _options(loop_scope: str | None, timeout: object, concurrent: bool) -> FixtureOptions:
    """Validate what :func:`fixture` adds to ``pytest.fixture`` (``...``: no timeout given)."""
    if loop_scope is not None and loop_scope not in SCOPES:
        raise ValueError(
            f"pytest_aioloop.fixture got loop_scope={loop_scope!r}. "
            f"Valid loop scopes: {', '.join(SCOPES)}."
        )
    if not isinstance(concurrent, bool):
        raise TypeError(
            f"pytest_aioloop.fixture got concurrent={concurrent!r}: give True or False."
        )
    has_timeout = timeout is not ...
    seconds = parse_seconds("timeout", timeout) if has_timeout else None
    return FixtureOptions(loop_scope, seconds, has_timeout, concurrent)


def builtin(func: F) -> F:
    """Mark one of pytest-aioloop's own fixture functions, to tell user overrides apart."""
    setattr(func, _BUILTIN, True)
    return func


def is_builtin(func: object) -> bool:
    """Whether ``func`` is one of pytest-aioloop's own fixture functions."""
    return bool(getattr(func, _BUILTIN, False))


def options_of(func: object) -> FixtureOptions | None:
    """Return the options given to ``pytest_aioloop.fixture``, or ``None`` for other fixtures.

    A fixture that ``pytest_asyncio.fixture`` made (pytest-asyncio installed beside
    pytest-aioloop, which keeps it out of the run, in a suite whose imports are not renamed
    yet) counts as made by ``pytest_aioloop.fixture`` with the same ``loop_scope``.
    """
    found: FixtureOptions | None = getattr(func, _ATTR, None)
    if found is None and getattr(func, _THEIR_MARK, False) is True:
        found = _from_pytest_asyncio(func)
    return found


#: What ``pytest_asyncio.fixture`` sets on the function it makes a fixture of (0.17 to 1.x),
#: and where it keeps its ``loop_scope`` (0.24 and later). Both are pytest-asyncio's own
#: names, not an API: read only to run the fixtures of a suite written for it.
_THEIR_MARK = "_force_asyncio_fixture"
_THEIR_LOOP_SCOPE = "_loop_scope"


def _from_pytest_asyncio(func: object) -> FixtureOptions:
    loop_scope = getattr(func, _THEIR_LOOP_SCOPE, None)
    return FixtureOptions(loop_scope if loop_scope in SCOPES else None)


def is_async_function(func: object) -> bool:
    """Whether ``func`` is a coroutine function or an async generator function."""
    return inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)


def is_handled(func: object, *, auto: bool) -> bool:
    """Whether pytest-aioloop runs the fixture function ``func``."""
    if options_of(func) is not None:
        return True
    return auto and is_async_function(func)
