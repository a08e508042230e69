"""The safety nets of one session: who they watch, and where what they find goes.

They observe the runner's work through ownership (:mod:`pytest_aioloop._run.owners`) and never
run a test themselves:

- **Leaked tasks** (:mod:`.leaks`). When an owner ends (a test after its function-scoped
  fixtures' teardown, an async fixture after its own teardown), its tasks get a few loop
  iterations to finish. Those still pending are reported. They are cancelled when their loop
  closes, as asyncio's ``Runner`` and pytest-asyncio do: at once for a function-scoped loop,
  later for a wider one, because a wider-scoped fixture (a client, a pool) may have started them
  on the test's behalf.
- **Unhandled errors** (:mod:`.errors`). What reaches a loop's exception handler, attributed to
  the owner of the failing task or callback.
- **Slow callbacks** (:mod:`.slow_callbacks`). Synchronous code that holds the loop during a
  test's call, found by the watchdog thread (no debug mode).

Nothing holds a task or an error's traceback: findings are formatted when they happen.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytest_aioloop._nets import slow_callbacks
from pytest_aioloop._nets.errors import put_handler
from pytest_aioloop._nets.findings import Finding, Findings, Net, net_actions
from pytest_aioloop._nets.leaks import (
    describe_leak,
    pending_by_owner,
    still_pending,
    tracking_factory,
)
from pytest_aioloop._run.owners import Owner
from pytest_aioloop._settings.options import Settings

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._run.watchdog import Watchdog


class Nets:
    """The nets of one session (kept by the session state in ``config.stash``)."""

    def __init__(
        self,
        settings: Settings,
        sink: Callable[[Owner | None], Findings | None],
        orphan: Callable[[str, Finding], None],
        watchdog: Callable[[], Watchdog],
    ) -> None:
        self.settings = settings
        #: The session's watchdog thread (made when first asked for).
        self._watchdog = watchdog
        #: The action of each net (``report``, ``warn``, ``error`` or ``ignore``).
        self.actions = net_actions(settings)
        self._watch_leaks = settings.leaked_tasks != "ignore"
        self._watch_errors = settings.unhandled_errors != "ignore"
        #: Where a finding goes: the findings of the owner's test while it is set up, runs or is
        #: torn down, else those of the test being set up or torn down.
        self._sink = sink
        #: Where a finding goes when no test is active (after the last one).
        self._orphan = orphan
        self._adopted: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        #: The task factory the nets put on each loop (to record who creates which task).
        self._factories: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        #: Owners whose end the nets still have to look at, by loop id (a dict as an ordered set).
        self._open: dict[int, dict[Owner, None]] = {}
        #: Owners that ended and whose leftovers the next flush looks at, by loop id.
        self._ending: dict[int, list[Owner]] = {}
        #: The tests whose call is running (findings for them count as "during the call").
        self.running: set[Owner] = set()
        #: Whether the watchdog thread looks at watched loops on its own cadence yet.
        self._looking = False

    # -- owners ---------------------------------------------------------------------------
    def begin(self, owner: Owner, loop: asyncio.AbstractEventLoop) -> None:
        """Start watching ``owner``, which runs in ``loop``."""
        owner.loop = loop
        self.adopt(loop)
        if self._watch_leaks:
            self._open.setdefault(id(loop), {})[owner] = None
            factory = self._factories.get(loop)
            if factory is not None and loop.get_task_factory() is factory:
                owner.tracker = factory

    def end(self, owner: Owner) -> None:
        """``owner`` has ended: what it left pending is looked at by the next :meth:`flush`."""
        if owner.finished:
            return
        owner.finished = True
        loop = owner.loop
        if loop is None:
            return
        key = id(loop)
        mine = self._open.get(key)
        if mine is not None:
            mine.pop(owner, None)
            if not mine:
                del self._open[key]
        if self._watch_leaks:
            self._ending.setdefault(key, []).append(owner)

    def flush(self) -> None:
        """Report the tasks that the owners ended since the last flush left pending.

        Called when a test's teardown is over: one look per loop for all the owners that ended
        with the test (its function-scoped fixtures and itself), not one per owner.
        """
        while self._ending:
            _, owners = self._ending.popitem()
            self._check(owners)

    def loop_closing(self, loop: asyncio.AbstractEventLoop) -> set[asyncio.Task[Any]] | None:
        """``loop`` is about to close: end its owners first (their tasks are cancelled next).

        Return the loop's pending tasks when this look found them all (none of the loop's code
        ran since), so that closing need not look again; else ``None``.
        """
        for owner in list(self._open.get(id(loop), ())):
            self.end(owner)
        self._open.pop(id(loop), None)
        owners = self._ending.pop(id(loop), None)
        return self._check(owners) if owners else None

    def _check(self, owners: list[Owner]) -> set[asyncio.Task[Any]] | None:
        """Report what ``owners`` (all of one loop) left pending; see :meth:`loop_closing`."""
        loop = owners[0].loop
        if loop is None or loop.is_closed() or loop.is_running():
            return None
        found, everything = pending_by_owner(loop, owners)
        if not found:
            return everything
        left = still_pending(loop, [task for tasks in found.values() for task in tasks])
        for owner in owners:
            mine = [task for task in found.get(owner, ()) if task in left]
            if mine:
                self._record(owner, "leaked_tasks", describe_leak(owner, mine))
        return None

    def record_owners(self, loop: asyncio.AbstractEventLoop) -> None:
        """Record who creates each task of ``loop`` as it is created (loops with many tasks).

        Without it, an owner's pending tasks are found by a pass over all the loop's tasks,
        which costs nothing for a test's own loop but grows with the tests running together.
        """
        if self._watch_leaks and loop not in self._factories:
            self._factories[loop] = tracking_factory(loop)

    def track_from_now(self, owner: Owner, loop: asyncio.AbstractEventLoop) -> None:
        """Record the tasks ``owner`` creates in ``loop`` from now on (it has created none).

        For owners that began before the loop of tests running together got its recording
        factory (the fixtures of tests that set up before the group's first test started).
        """
        if not self._watch_leaks or owner.tracker is not None:
            return
        self.record_owners(loop)
        factory = self._factories.get(loop)
        if factory is not None and loop.get_task_factory() is factory:
            owner.tracker = factory

    # -- unhandled errors -----------------------------------------------------------------
    def adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Put the error net on ``loop`` (once), before whatever handler it has."""
        if not self._watch_errors or loop in self._adopted:
            return
        self._adopted.add(loop)
        put_handler(loop, self._unhandled)

    def _unhandled(self, owner: Owner | None, text: str) -> None:
        self._record(owner, "unhandled_errors", text)

    # -- a test's call, and slow callbacks --------------------------------------------------
    def call_started(self, owner: Owner, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """The test's call starts: it is the running owner, and slow callbacks are timed.

        Return what to call when the call ends.
        """
        self.running.add(owner)
        watch = self.watch_blocking(loop, owner)
        if watch is None:
            return lambda: self.running.discard(owner)

        def ended() -> None:
            self.running.discard(owner)
            watch.stop()

        return ended

    def watch_blocking(self, loop: asyncio.AbstractEventLoop, owner: Owner | None) -> Any:
        """Start looking for slow callbacks in ``loop`` (if asked to); return the watch.

        What holds the loop is attributed to the owner of the task that runs then, else to
        ``owner``. Stop the watch (``.stop()``) when the loop stops being watched.
        """
        threshold = self.settings.slow_callback
        if threshold is None:
            return None

        def sink(holder: Owner | None, text: str) -> None:
            who = holder if holder is not None else owner
            prefix = who.prefix() if who is not None else ""
            self._record(who, "slow_callbacks", prefix + text)

        watchdog = self._watchdog()
        if not self._looking:
            self._looking = True
            watchdog.look_every(threshold / 4)
        watch = slow_callbacks.BlockWatch(loop, threshold, watchdog, sink)
        watch.start()
        return watch

    # -- delivery -----------------------------------------------------------------------------
    def _record(self, owner: Owner | None, net: Net, text: str) -> None:
        finding = Finding(
            net,
            text,
            where=owner.where if owner is not None else None,
            during_call=owner is not None and owner in self.running,
        )
        sink = self._sink(owner)
        if sink is not None:
            sink.add(finding)
        else:
            self._orphan(owner.nodeid if owner is not None else "", finding)
