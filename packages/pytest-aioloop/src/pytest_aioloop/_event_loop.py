"""The ``event_loop`` and ``event_loop_policy`` fixtures, and user-defined ``event_loop`` ones."""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop import _compat, _fixtures, _tests
from pytest_aioloop._fixtures import builtin
from pytest_aioloop._loops import LoopKind, close_loop
from pytest_aioloop._plan import PLAN_KEY, ItemPlan
from pytest_aioloop._reports import warn
from pytest_aioloop._runtime import RUNTIME_KEY, Runtime

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._lazy import asyncio


@pytest.fixture(scope="session")
def _aioloop_factory(request: pytest.FixtureRequest) -> object:
    """Name of the loop factory this test runs with (internal)."""
    return getattr(request, "param", None)


@pytest.fixture(scope="session")
@builtin
def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    """Return the event loop policy that creates the loops of the tests in its visibility.

    Override it (at any scope, parametrized if you like) to run tests with another policy, for
    example uvloop's; pytest-aioloop restores the previous policy afterwards. On Python 3.14+,
    where asyncio deprecates policies, prefer the ``pytest_asyncio_loop_factories`` hook.
    """
    if not _compat.has_policies():  # pragma: no cover - Python 3.16+
        pytest.fail(
            "event_loop_policy: this Python's asyncio has no event loop policies any more. "
            "Use the pytest_asyncio_loop_factories hook to choose the loop.",
            pytrace=False,
        )
    return _compat.get_policy()


@pytest.fixture
@builtin
def event_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """Return the asyncio event loop the test runs in, installed as the current loop.

    Inside a coroutine test this is ``asyncio.get_running_loop()``. A synchronous test can
    request it and drive code with ``event_loop.run_until_complete(...)``. Override it in a
    conftest, module or class (any scope) to run the tests in its visibility in your own loop,
    as with pytest-asyncio 0.21. pytest-aioloop closes its loops when their scope ends: pending
    tasks are cancelled, async generators and the default executor are shut down.
    """
    runtime = request.config.stash[RUNTIME_KEY]
    item = request.node
    plan = item.stash.get(PLAN_KEY, None)
    if plan is None:
        plan = ItemPlan()
        item.stash[PLAN_KEY] = plan
    kind = _tests.plan_kind(runtime, item, plan)
    if kind.kind == "event_loop":  # a user's event_loop built on top of this one
        kind = LoopKind("scoped", "function")
    loop, release = runtime.acquire(kind, request, item)
    policy = _user_policy(request)
    previous_policy = None
    if policy is not None:
        previous_policy = _compat.get_policy()
        if policy is previous_policy:
            policy = None
        else:
            _compat.set_policy(policy)
    saved = _compat.save_current_loop()
    _compat.set_current_loop(loop)
    try:
        yield loop
    finally:
        # The test's fixtures are torn down: look at what the test left, then give back.
        _tests.end(runtime, item)
        _tests.check_current_loop(loop, saved, item.nodeid)
        _compat.restore_current_loop(saved)
        if policy is not None:
            _compat.set_policy(previous_policy)
        release()


def _user_policy(request: pytest.FixtureRequest) -> Any:
    """Return the value of a user-defined ``event_loop_policy`` visible here, else ``None``."""
    defs = _compat.fixturedefs_of_item(request.node).get("event_loop_policy")
    if defs is None:
        defs = _compat.visible_fixturedefs(request.node, "event_loop_policy")
    if not defs or _fixtures.is_builtin(defs[-1].func):
        return None
    policy = request.getfixturevalue("event_loop_policy")
    if sys.version_info >= (3, 14):  # pragma: no cover - Python 3.14+
        warnings.warn(
            DeprecationWarning(
                "overriding the event_loop_policy fixture relies on asyncio policies, which "
                "Python 3.14 deprecates: implement the pytest_asyncio_loop_factories hook "
                "instead."
            ),
            stacklevel=1,
        )
    return policy


# -- user-defined event_loop fixtures (pytest-asyncio 0.21 style) --------------------------


def describe(fixturedef: pytest.FixtureDef[Any]) -> str:
    """Name a fixture definition: qualified name, scope and where it is defined."""
    func = fixturedef.func
    try:
        path = inspect.getsourcefile(func) or "?"
        line = inspect.getsourcelines(func)[1]
        where = f"{path}:{line}"
    except (OSError, TypeError):
        where = fixturedef.baseid or "?"
    return (
        f"{getattr(func, '__qualname__', fixturedef.argname)} ({fixturedef.scope} scope, {where})"
    )


def watch_user_event_loop(
    runtime: Runtime, fixturedef: pytest.FixtureDef[Any], loop: object
) -> None:
    """A user-defined ``event_loop`` made ``loop``: make it current while the fixture lives."""
    if not isinstance(loop, asyncio.AbstractEventLoop):
        return
    me = describe(fixturedef)
    for key, (other, other_loop, _) in list(runtime.user_event_loops.items()):
        if key != id(fixturedef) and not other_loop.is_closed() and other_loop is not loop:
            warnings.warn(
                pytest.PytestWarning(
                    f"the event_loop fixture {me} replaced the loop of the event_loop fixture "
                    f"{other}, which is still open: their scopes overlap. Tests may now mix two "
                    "loops. Check where each is set up with 'pytest --setup-show', and give "
                    "them scopes that do not overlap."
                ),
                stacklevel=1,
            )
    runtime.user_event_loops[id(fixturedef)] = (me, loop, _compat.save_current_loop())
    _compat.set_current_loop(loop)
    # Finalizers run last-in first-out: this runs before the fixture's own teardown, which
    # usually closes the loop, so the nets still see the tasks left in it.
    fixturedef.addfinalizer(lambda: runtime.nets.loop_closing(loop))


def user_event_loop_finalized(runtime: Runtime, fixturedef: pytest.FixtureDef[Any]) -> None:
    """Warn about, and close, a loop that a user-defined ``event_loop`` fixture left open."""
    entry = runtime.user_event_loops.pop(id(fixturedef), None)
    if entry is None:
        return
    where, loop, saved = entry
    _compat.restore_current_loop(saved)
    if loop.is_closed():
        return
    close_loop(loop)
    warn(
        pytest.PytestWarning(
            f"pytest-aioloop detected an unclosed event loop: the event_loop fixture {where} "
            "did not close its loop, so pytest-aioloop closed it. Call loop.close() after "
            "'yield loop' in the fixture."
        )
    )
