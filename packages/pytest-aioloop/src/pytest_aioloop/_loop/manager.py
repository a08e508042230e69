"""The session's event loops: creation, the loops of each scope, the shared loop, a clean close."""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.asyncio_internals import (
    abandon_task,
    may_have_asyncgens,
    may_have_executor,
)
from pytest_aioloop._loop.kinds import LoopKind, scope_node
from pytest_aioloop._settings import Scope
from pytest_aioloop._warnings import AioloopWarning, warn

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._loop.factories import LoopFactory
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio

#: How long cancelled tasks may take to finish: when their loop closes, or after a timeout.
GRACE_SECONDS = 1.0


def close_loop(
    loop: asyncio.AbstractEventLoop, pending: set[asyncio.Task[Any]] | None = None
) -> None:
    """Cancel and await what is left, shut down async generators and the executor, close.

    Exceptions the cancelled tasks raise are retrieved, so none is logged as "never
    retrieved". A task that ignores its cancellation for a second is given up on.
    ``pending``: the loop's pending tasks, if the caller has just looked them all up.
    """
    if loop.is_closed():
        return
    if loop.is_running():  # pragma: no cover - only if closed from inside itself
        return
    try:
        if pending is None:
            pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(asyncio.wait(pending, timeout=GRACE_SECONDS))
            for task in pending:
                if not task.done():
                    abandon_task(task)
                elif not task.cancelled():
                    task.exception()
        # Each step is a loop round trip: skip the ones with nothing to do (most loops).
        if may_have_asyncgens(loop):
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(loop.shutdown_asyncgens())
        if may_have_executor(loop):
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def nothing() -> None:
    """Do nothing: the release of a loop whose lifetime someone else owns, or a no-op undo."""


class LoopManager:
    """Owns every loop of one pytest session (kept in ``config.stash``)."""

    def __init__(self, *, debug: bool, factory: LoopFactory | None = None) -> None:
        self.debug = debug
        #: What makes a loop when nothing else (a hook's factory, a policy) is asked for.
        self.default_factory = factory
        #: Called before pytest-aioloop closes one of its loops (the nets end its owners).
        #: It returns the loop's pending tasks when it has just looked them all up.
        self.before_close: (
            Callable[[asyncio.AbstractEventLoop], set[asyncio.Task[Any]] | None] | None
        ) = None
        #: Told of each loop made here (``None``: nobody is).
        self.on_new: Callable[[asyncio.AbstractEventLoop], None] | None = None
        #: Loops the timeout net closed itself because a task would not end.
        self.given_up: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._scoped: dict[tuple[str, str, object], asyncio.AbstractEventLoop] = {}
        #: The shared loop of each factory key, and how many leases it has: [loop, count].
        self._shared: dict[object, list[Any]] = {}
        #: Loops created for tests without an ``event_loop`` fixture, closed when the test
        #: protocol leaves their owner node (see :meth:`close_departed`).
        self._departing: list[tuple[pytest.Item | pytest.Collector, Callable[[], None]]] = []

    def live(self) -> list[asyncio.AbstractEventLoop]:
        """The scoped and shared loops open now (for a trace of a stopped run)."""
        return [*self._scoped.values(), *(entry[0] for entry in self._shared.values())]

    def acquire(
        self,
        kind: LoopKind,
        request: pytest.FixtureRequest,
        factory_key: object,
        factory: LoopFactory | None,
    ) -> tuple[asyncio.AbstractEventLoop, Callable[[], None]]:
        """Return the loop of ``kind`` for ``request`` and what to call when done with it.

        ``factory_key`` and ``factory`` say what makes the loop if it must be made (see
        :func:`~pytest_aioloop._loop.policy.factory_for`).
        """
        if kind.kind == "event_loop":
            return request.getfixturevalue("event_loop"), nothing
        if kind.kind == "scoped":
            return self.scoped(kind.scope, request.node, factory_key, factory), nothing
        loop = self.acquire_shared(factory_key, factory)
        return loop, functools.partial(self.release_shared, factory_key, loop)

    def acquire_for_test(
        self, kind: LoopKind, item: pytest.Item
    ) -> tuple[asyncio.AbstractEventLoop, Callable[[], None]]:
        """Return the loop of ``kind`` for a test without ``event_loop``, and its release."""
        if kind.kind == "shared":
            loop = self.acquire_shared(None, None)
            return loop, functools.partial(self.release_shared, None, loop)
        return self.scoped_for_test(kind.scope, item)

    def close(self, loop: asyncio.AbstractEventLoop, what: str) -> None:
        """Close one of our loops; warn if someone else (the test, a fixture) already did."""
        if loop.is_closed():
            if loop not in self.given_up:
                warn(
                    AioloopWarning(
                        "An exception occurred during teardown of an asyncio.Runner: the event "
                        f"loop of {what} was closed by the test or a fixture, before "
                        "pytest-aioloop could shut down the tasks, async generators and "
                        "executor left in it. Let pytest-aioloop close the loops it makes; for "
                        "a loop of your own, use asyncio.run() or asyncio.Runner."
                    )
                )
            return
        pending = self.before_close(loop) if self.before_close is not None else None
        close_loop(loop, pending)

    def new_loop(self, factory: LoopFactory | None) -> asyncio.AbstractEventLoop:
        """Create a loop with ``factory`` (default: ``asyncio_loop_factory``, else asyncio's)."""
        make = factory if factory is not None else self.default_factory
        loop = make() if make is not None else asyncio.new_event_loop()
        if self.debug:
            loop.set_debug(True)
        if self.on_new is not None:
            self.on_new(loop)
        return loop

    def scoped(
        self,
        scope: Scope,
        node: pytest.Item | pytest.Collector,
        factory_key: object,
        factory: LoopFactory | None,
    ) -> asyncio.AbstractEventLoop:
        """Return the loop of ``scope`` around ``node``, creating it on first use."""
        owner = scope_node(node, scope)
        loop, finish = self._scoped_loop(scope, owner, factory_key, factory)
        if finish is not None:
            owner.addfinalizer(finish)
        return loop

    def scoped_for_test(
        self, scope: Scope, item: pytest.Item
    ) -> tuple[asyncio.AbstractEventLoop, Callable[[], None]]:
        """Return the default-policy loop of ``scope`` around ``item``, and how to finish it.

        Used before the test's fixtures are set up, when pytest may not yet know the owner
        node, so no finalizer is registered: a function loop is closed by calling the returned
        callable at the end of the test's teardown, a wider one by :meth:`close_departed`.
        """
        owner = scope_node(item, scope)
        loop, finish = self._scoped_loop(scope, owner, None, None)
        if finish is None:
            return loop, nothing
        if owner is item:
            return loop, finish
        self._departing.append((owner, finish))
        return loop, nothing

    def lend_to_test(
        self, item: pytest.Item, loop: asyncio.AbstractEventLoop
    ) -> Callable[[], None]:
        """Make ``loop`` (a loop shared by tests run together) ``item``'s function-scope loop.

        Its function-scoped async fixtures then run in the loop the test runs in, as they
        would in a loop of the test's own. Return what takes it back (the lender closes it).
        """
        key = ("function", item.nodeid, None)
        self._scoped[key] = loop

        def take_back() -> None:
            if self._scoped.get(key) is loop:
                del self._scoped[key]

        return take_back

    def _scoped_loop(
        self,
        scope: Scope,
        owner: pytest.Item | pytest.Collector,
        factory_key: object,
        factory: LoopFactory | None,
    ) -> tuple[asyncio.AbstractEventLoop, Callable[[], None] | None]:
        """Return the live loop of ``scope`` owned by ``owner``, or a new one and its closer."""
        key = (scope, owner.nodeid, factory_key)
        loop = self._scoped.get(key)
        if loop is not None and not loop.is_closed():
            return loop, None
        loop = self.new_loop(factory)
        self._scoped[key] = loop

        def finish() -> None:
            if self._scoped.get(key) is loop:
                del self._scoped[key]
            self.close(loop, f"the {scope} scope of {owner.nodeid or 'the session'}")

        return loop, finish

    def close_departed(self, nextitem: pytest.Item | None) -> None:
        """Close the loops of :meth:`scoped_for_test` whose owner ``nextitem`` is not inside.

        Called after a test's teardown, when pytest has torn down every node (and its
        fixtures) that ``nextitem`` does not share, exactly as it decides.
        """
        if not self._departing:
            return
        staying = {id(node) for node in nextitem.listchain()} if nextitem is not None else set()
        keep = []
        for owner, finish in self._departing:
            if id(owner) in staying:
                keep.append((owner, finish))
            else:
                finish()
        self._departing = keep

    def acquire_shared(
        self, factory_key: object, factory: LoopFactory | None
    ) -> asyncio.AbstractEventLoop:
        """Take a lease on the shared loop, creating it if no lease is held."""
        entry = self._shared.get(factory_key)
        if entry is None or entry[0].is_closed():
            loop = self.new_loop(factory)
            self._shared[factory_key] = [loop, 1]
            return loop
        entry[1] += 1
        return entry[0]  # type: ignore[no-any-return]

    def lease_shared(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None] | None:
        """Take one more lease on ``loop`` if it is a shared loop; return what gives it back.

        For tests run together in the shared loop: their group holds it until it ends, so
        that the loop outlives the tests that took it first.
        """
        for factory_key, entry in self._shared.items():
            if entry[0] is loop:
                entry[1] += 1
                return functools.partial(self.release_shared, factory_key, loop)
        return None

    def release_shared(self, factory_key: object, loop: asyncio.AbstractEventLoop) -> None:
        """Give back a lease; the last one closes the shared loop."""
        entry = self._shared.get(factory_key)
        if entry is not None and entry[0] is loop:
            entry[1] -= 1
            if entry[1] > 0:
                return
            del self._shared[factory_key]
        self.close(loop, "async fixtures without a loop scope")
