"""What pytest-aioloop keeps for one session, in ``config.stash``: settings, loops, nets, runner.

The parts below it (loops, runner, nets) know nothing of each other's state; the session state
wires them together, and is what the hooks reach through ``config.stash[STATE_KEY]``. Each part
is made (and its modules imported) when first asked for: a run without async tests never
imports the loop manager, the runner or the nets.
"""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from pytest_aioloop._compat.pytest_internals import fixture_function, fixturedefs_of_item
from pytest_aioloop._settings.fixture import is_handled
from pytest_aioloop._settings.options import Settings

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._compat.asyncio_internals import SavedLoop
    from pytest_aioloop._loop.chooser import LoopChooser
    from pytest_aioloop._loop.factories import LoopFactory
    from pytest_aioloop._loop.manager import LoopManager
    from pytest_aioloop._loop.virtual_time import VirtualClock
    from pytest_aioloop._nets.findings import Finding, Findings, Summary
    from pytest_aioloop._nets.nets import Nets
    from pytest_aioloop._nets.unawaited import UnawaitedNet
    from pytest_aioloop._run.owners import Owner
    from pytest_aioloop._run.runner import Runner
    from pytest_aioloop._run.watchdog import Watchdog
    from pytest_aioloop._settings.marker import MarkerSpec

    class Progress(Protocol):
        """What is told that the run goes on: a test finished (see ``_items.traces``)."""

        def progress(self) -> None:
            """The run went on now."""
            ...


#: What the nets found during one test (from its setup to the end of its teardown).


class SessionState:
    """The session's settings, loops, runner, nets and caches."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._factories_hook = config.pluginmanager.hook.pytest_asyncio_loop_factories
        #: Parsed asyncio markers by their arguments (see ``_items.plan``).
        self.marker_specs: dict[object, MarkerSpec] = {}
        #: Fixture functions pytest-aioloop replaced while pytest sets them up (by fixturedef id).
        self.originals: dict[int, Callable[..., Any]] = {}
        #: What is the same at every setup of a fixture function (see ``_fixtures.wrapper``).
        self.fixture_facts: dict[Callable[..., Any], Any] = {}
        #: Whether pytest-aioloop runs each fixture function (see :meth:`is_handled`).
        self._handled: dict[object, bool] = {}
        #: The test being set up, run or torn down (``None`` between tests).
        self.current_item: pytest.Item | None = None
        #: How pytest-aioloop runs each asyncio test, decided at its setup: the ``ItemPlan`` of
        #: ``_items.plan`` (a layer above this one, hence ``Any``: annotate where it is read).
        #: A table here rather than in each item's stash: a test looks its plan up about ten
        #: times, and a dictionary lookup costs no Python call.
        self.plans: dict[pytest.Item, Any] = {}
        #: What pytest-aioloop needs to know of each module and class: ``_items.plan``'s
        #: ``CollectorFacts``.
        self.collector_facts: dict[object, Any] = {}
        #: What the nets found about each test (made at the first finding: most have none).
        self.item_findings: dict[pytest.Item, Findings] = {}
        #: Tests running concurrently, by node id (see ``_concurrency``).
        self.active: dict[str, pytest.Item] = {}
        #: The loop of each live async fixture (by fixturedef id).
        self.fixture_loops: dict[int, asyncio.AbstractEventLoop] = {}
        #: Live user-defined event_loop fixtures: fixturedef id -> (description, loop, the
        #: current loop before it, restored at its teardown).
        self.user_event_loops: dict[int, tuple[str, asyncio.AbstractEventLoop, SavedLoop]] = {}
        #: Async fixtures that ended while their value was in use (see ``_items.ended``).
        self.ended_fixtures: dict[int, Any] = {}
        #: The plugin's per-test entry points into the parts async tests need (its business).
        self.parts: Any = None
        #: Seconds pytest's debugger was stopped in this session, and since when it is
        #: (``None``: it is not): timeouts do not count that time (:meth:`timeout_owed`).
        self.debugger_total = 0.0
        self.debugger_since: float | None = None
        #: Where unawaited coroutines go (made at the first one), and what gives Python's
        #: warning back at the end of the session (``None``: not taken over).
        self.unawaited: UnawaitedNet | None = None
        self.stop_unawaited: Callable[[], None] | None = None
        #: Whether a test's call records where coroutines are created (the unawaited net is on;
        #: with tests running together, while their group's loop runs and each test starts).
        self.track_origins = False
        #: The stall watch (``asyncio_stall_report``, ``_items.traces``; ``None``: off).
        self.stall: Progress | None = None
        #: A copy of stderr's file descriptor made at configuration, for the stall report.
        self.stderr_copy: int | None = None
        #: Told of each loop pytest-aioloop makes (looptime patches it: ``_items.looptime``).
        self.loop_made: Callable[[asyncio.AbstractEventLoop], None] | None = None
        #: The virtual clock of each loop that ran a test in virtual time (``_loop.virtual_time``).
        self.virtual_clocks: weakref.WeakKeyDictionary[Any, VirtualClock] = (
            weakref.WeakKeyDictionary()
        )
        #: What ``asyncio_loop_factory`` names, resolved now: a bad value is a usage error.
        self.loop_factory = _loop_factory(settings.loop_factory)

    # -- the parts, made when first asked for ---------------------------------------------
    @functools.cached_property
    def chooser(self) -> LoopChooser:
        """Decides which loop each test and async fixture runs in."""
        from pytest_aioloop._loop.chooser import LoopChooser

        return LoopChooser(self.settings, self.func_of, self.is_handled)

    @functools.cached_property
    def loops(self) -> LoopManager:
        """The session's loops; the nets look at each before it closes."""
        from pytest_aioloop._loop.manager import LoopManager

        loops = LoopManager(debug=self.settings.debug, factory=self.loop_factory)
        loops.on_new = self.loop_made
        loops.before_close = self.nets.loop_closing
        return loops

    @functools.cached_property
    def watchdog(self) -> Watchdog:
        """The thread that interrupts synchronous code blocking a loop past a timeout."""
        from pytest_aioloop._run.watchdog import Watchdog

        return Watchdog()

    @functools.cached_property
    def runner(self) -> Runner:
        """Runs tests' and async fixtures' coroutines."""
        from pytest_aioloop._run.runner import Runner

        return Runner(self.watchdog, self.loops.given_up.add)

    @functools.cached_property
    def summary(self) -> Summary:
        """The findings of the run, listed at its end (made at the first finding)."""
        from pytest_aioloop._nets.findings import Summary

        return Summary()

    @functools.cached_property
    def nets(self) -> Nets:
        """The safety nets."""
        from pytest_aioloop._nets.nets import Nets

        return Nets(
            self.settings,
            sink=self.findings,
            orphan=self._orphan,
            watchdog=lambda: self.watchdog,
        )

    def _orphan(self, nodeid: str, finding: Finding) -> None:
        # A finding of no running test goes straight to the summary (made at the first).
        self.summary.add(nodeid, finding)

    # -- pytest's debugger: timeouts do not count the time it is stopped ------------------------
    def debugger_stopped(self) -> None:
        """pytest's debugger stopped in a test: pause the clocks of timeouts."""
        if self.debugger_since is None:
            self.debugger_since = time.monotonic()
        if self.made("watchdog"):
            self.watchdog.pause()

    def debugger_went_on(self) -> None:
        """The test goes on: the clocks go on, without the time the debugger was stopped."""
        since, self.debugger_since = self.debugger_since, None
        if since is not None:
            self.debugger_total += time.monotonic() - since
        if self.made("watchdog"):
            self.watchdog.resume()
        if self.stall is not None:
            self.stall.progress()

    def timeout_owed(self, seen: float) -> float | None:
        """The seconds more a loop timer of a timeout must wait (``None``: its time has come).

        ``seen`` is :attr:`debugger_total` when the timer was armed (or last put off). While
        the debugger is stopped (the user steps through code that runs the loop), it looks
        again half a second later.
        """
        if self.debugger_since is not None:
            return 0.5
        extra = self.debugger_total - seen
        return extra if extra > 0 else None

    def made(self, part: str) -> bool:
        """Whether the part called ``part`` was made (asked for) in this session."""
        return part in vars(self)

    # -- fixtures ---------------------------------------------------------------------------
    @property
    def factories_hooked(self) -> bool:
        """Whether any plugin or conftest (also one found during collection) has the hook."""
        return bool(self._factories_hook.get_hookimpls())

    def func_of(self, fixturedef: pytest.FixtureDef[Any]) -> Callable[..., Any]:
        """Return the user's fixture function, also while a wrapper stands in for it."""
        return self.originals.get(id(fixturedef)) or fixture_function(fixturedef)

    def is_handled(self, fixturedef: pytest.FixtureDef[Any]) -> bool:
        """Whether pytest-aioloop runs this fixture (cached per fixture function)."""
        func = self.func_of(fixturedef)
        found = self._handled.get(func)
        if found is None:
            found = self._handled[func] = is_handled(func, auto=self.settings.auto)
        return found

    def loop_of_async_fixtures(
        self, item: pytest.Item, names: Iterable[str]
    ) -> asyncio.AbstractEventLoop | None:
        """Return the loop of the widest live async fixture among ``names``, if any.

        A sync test or fixture that uses async fixtures sees their loop as the current loop.
        """
        if not self.fixture_loops:
            return None
        defs = fixturedefs_of_item(item)
        live = self.chooser.live
        found = None
        rank = -1
        for name in names:
            name_defs = defs.get(name)
            if not name_defs:
                continue
            key = id(name_defs[-1])
            loop = self.fixture_loops.get(key)
            kind = live.get(key)
            if loop is not None and kind is not None and kind.rank > rank and not loop.is_closed():
                found, rank = loop, kind.rank
        return found

    def virtual_clock(self, loop: asyncio.AbstractEventLoop) -> VirtualClock:
        """The virtual clock of ``loop`` (made at the first ask; see ``_loop.virtual_time``)."""
        clock = self.virtual_clocks.get(loop)
        if clock is None:
            from pytest_aioloop._loop.virtual_time import clock_of

            clock = clock_of(self.virtual_clocks, loop)
        return clock

    def unawaited_net(self, session: pytest.Session) -> UnawaitedNet:
        """Where unawaited coroutines go: blamed on the tests of ``session`` that made them."""
        net = self.unawaited
        if net is None:
            from pytest_aioloop._nets.unawaited import UnawaitedNet

            net = self.unawaited = UnawaitedNet(
                self.settings.unawaited,
                items=lambda: session.items,
                current=lambda: self.current_item,
                active=lambda: self.active,
                summary=self.summary,
            )
        return net

    # -- findings ---------------------------------------------------------------------------
    def findings(self, owner: Owner | None = None) -> Findings | None:
        """Return where the nets put what they find about ``owner``.

        That is the findings of ``owner``'s test while it runs concurrently, else those of
        the test being set up, run or torn down.
        """
        item = self.active.get(owner.nodeid) if owner is not None else None
        if item is None:
            item = self.current_item
        if item is None:
            return None
        found = self.item_findings.get(item)
        if found is None:
            from pytest_aioloop._nets.findings import Findings

            found = self.item_findings[item] = Findings()
        return found


def _loop_factory(value: str) -> LoopFactory | None:
    if value in ("", "asyncio"):  # asyncio's own loop: nothing to import
        return None
    from pytest_aioloop._loop.factories import default_factory

    return default_factory(value)


STATE_KEY = pytest.StashKey[SessionState]()
