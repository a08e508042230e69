"""Event loops: creation, the loops of each scope, the shared loop, and a clean close."""

from __future__ import annotations

import contextlib
import dataclasses
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import pytest

from pytest_aioloop import _compat
from pytest_aioloop._config import RANK, Scope
from pytest_aioloop._reports import AioloopWarning, warn

if TYPE_CHECKING:
    import asyncio
else:
    from pytest_aioloop._lazy import asyncio

LoopFactory = Callable[[], "asyncio.AbstractEventLoop"]


@dataclasses.dataclass(frozen=True)
class LoopKind:
    """Which loop a test or fixture runs in.

    ``scoped``: the loop of one scope (function, class, module, package or session), shared by
    everything pinned to that scope there. ``shared``: the loop shared by async fixtures without
    a loop scope, alive while any of them (or a test running in it) is; ``scope`` is the widest
    caching scope that uses it. ``event_loop``: the value of a user-defined ``event_loop``
    fixture (pytest-asyncio 0.21 style).
    """

    kind: Literal["scoped", "shared", "event_loop"]
    scope: Scope

    @property
    def rank(self) -> int:
        """How wide the kind is; ties prefer scoped loops over the shared one."""
        return RANK[self.scope] * 3 + {"shared": 0, "scoped": 1, "event_loop": 2}[self.kind]

    def describe(self) -> str:
        """Say which loop this is, for error messages."""
        if self.kind == "scoped":
            return f"the {self.scope}-scoped loop"
        if self.kind == "shared":
            return (
                "the shared loop of async fixtures without loop_scope "
                f"(kept alive by a {self.scope}-scoped one)"
            )
        return "the loop of a user-defined event_loop fixture"


def widest(kinds: list[LoopKind]) -> LoopKind | None:
    """Return the widest of ``kinds``, or ``None`` when there are none."""
    return max(kinds, key=lambda k: k.rank) if kinds else None


def scope_node(
    node: pytest.Item | pytest.Collector, scope: Scope
) -> pytest.Item | pytest.Collector:
    """Return the collection node whose lifetime a ``scope`` loop has, seen from ``node``.

    Like pytest's own fixtures, a class loop outside a class lives for the module. The package
    loop is one loop for the whole run (distinct from the session loop), for tests and fixtures
    alike, as pytest-asyncio's is: pytest caches a package-scoped fixture defined outside a
    package's own conftest for the whole session, so a loop per package could close under it.
    """
    if scope == "function":
        return node
    if scope == "class":
        found: pytest.Item | pytest.Collector | None = node.getparent(pytest.Class)
        if found is None:
            found = node.getparent(pytest.Module)
    elif scope == "module":
        found = node.getparent(pytest.Module)
    elif scope == "package":
        found = None
    else:
        found = None
    return found if found is not None else node.session


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and await what is left, shut down async generators and the executor, close.

    Exceptions the cancelled tasks raise are retrieved, so none is logged as "never
    retrieved". A task that ignores its cancellation for a second is given up on.
    """
    if loop.is_closed():
        return
    if loop.is_running():  # pragma: no cover - only if closed from inside itself
        return
    try:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(asyncio.wait(pending, timeout=GRACE_SECONDS))
            for task in pending:
                if not task.done():
                    _compat.abandon_task(task)
                elif not task.cancelled():
                    task.exception()
        # Each step is a loop round trip: skip the ones with nothing to do (most loops).
        if _compat.may_have_asyncgens(loop):
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(loop.shutdown_asyncgens())
        if _compat.may_have_executor(loop):
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


#: How long tasks cancelled at a loop's close may take to finish.
GRACE_SECONDS = 1.0


def nothing() -> None:
    """Do nothing: the release of a loop whose lifetime someone else owns."""


class LoopManager:
    """Owns every loop of one pytest session (kept in ``config.stash``)."""

    def __init__(self, *, debug: bool, factory: LoopFactory | None = None) -> None:
        self.debug = debug
        #: What makes a loop when nothing else (a hook's factory, a policy) is asked for.
        self.default_factory = factory
        #: Called before pytest-aioloop closes one of its loops (the nets end its owners).
        self.before_close: Callable[[asyncio.AbstractEventLoop], None] = _no_hook
        #: Loops the timeout net closed itself because a task would not end.
        self.given_up: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._scoped: dict[tuple[str, str, object], asyncio.AbstractEventLoop] = {}
        self._shared: dict[object, tuple[asyncio.AbstractEventLoop, int]] = {}
        #: Loops created for tests without an ``event_loop`` fixture, closed when the test
        #: protocol leaves their owner node (see :meth:`close_departed`).
        self._departing: list[tuple[pytest.Item | pytest.Collector, Callable[[], None]]] = []
        #: What each live loop is, for messages (by id of the loop).
        self.kinds: dict[int, LoopKind] = {}

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
        self.before_close(loop)
        close_loop(loop)

    def new_loop(self, factory: LoopFactory | None) -> asyncio.AbstractEventLoop:
        """Create a loop with ``factory`` (default: ``asyncio_loop_factory``, else asyncio's)."""
        make = factory if factory is not None else self.default_factory
        loop = make() if make is not None else asyncio.new_event_loop()
        if self.debug:
            loop.set_debug(True)
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
        self.kinds[id(loop)] = LoopKind("scoped", scope)

        def finish() -> None:
            if self._scoped.get(key) is loop:
                del self._scoped[key]
            self.kinds.pop(id(loop), None)
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
        self, factory_key: object, factory: LoopFactory | None, scope: Scope
    ) -> asyncio.AbstractEventLoop:
        """Take a lease on the shared loop, creating it if no lease is held."""
        entry = self._shared.get(factory_key)
        if entry is None or entry[0].is_closed():
            loop = self.new_loop(factory)
            self._shared[factory_key] = (loop, 1)
            self.kinds[id(loop)] = LoopKind("shared", scope)
            return loop
        loop, count = entry
        self._shared[factory_key] = (loop, count + 1)
        kind = self.kinds.get(id(loop))
        if kind is None or RANK[scope] > RANK[kind.scope]:
            self.kinds[id(loop)] = LoopKind("shared", scope)
        return loop

    def release_shared(self, factory_key: object, loop: asyncio.AbstractEventLoop) -> None:
        """Give back a lease; the last one closes the shared loop."""
        entry = self._shared.get(factory_key)
        if entry is None or entry[0] is not loop:
            self.close(loop, "async fixtures without a loop scope")
            return
        count = entry[1] - 1
        if count > 0:
            self._shared[factory_key] = (loop, count)
            return
        del self._shared[factory_key]
        self.kinds.pop(id(loop), None)
        self.close(loop, "async fixtures without a loop scope")


def _no_hook(loop: asyncio.AbstractEventLoop) -> None:
    return None
