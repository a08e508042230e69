"""A group of tests running at the same time in one loop: admission, waiting, the end.

See :mod:`.plugin` for when tests form a group, and ``docs/concepts/concurrency.md`` for the
design. A group owns what lives as long as it does (its loop, the routing of output and logs,
the lanes its tests set up and tear down in) and tells its host, through :class:`GroupHost`,
only what the host needs to know: lines for the terminal, whether the session is stopping, and
that it closed. Each test's own steps (setup, start, call, teardown, reports) are in
:mod:`.flow`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import pytest

from pytest_aioloop._compat import setup_stack
from pytest_aioloop._compat.asyncio_internals import (
    SavedLoop,
    restore_current_loop,
    save_current_loop,
    set_current_loop,
)
from pytest_aioloop._compat.pytest_internals import (
    closure_of,
    fixturedefs_of_item,
    funcarg,
)
from pytest_aioloop._concurrency.calls import GroupCall
from pytest_aioloop._concurrency.conflicts import Conflicts
from pytest_aioloop._concurrency.flow import TestFlow
from pytest_aioloop._concurrency.lanes import Lanes
from pytest_aioloop._concurrency.parents import sets_up_wider_fixtures, wider_params
from pytest_aioloop._concurrency.patches import Patches
from pytest_aioloop._concurrency.phases import Phases
from pytest_aioloop._concurrency.routing import Router
from pytest_aioloop._concurrency.running import Running
from pytest_aioloop._concurrency.waiting import RUN_THE_LOOP_EVERY, Waiting
from pytest_aioloop._concurrency.watch import Watch
from pytest_aioloop._loop.kinds import LoopKind
from pytest_aioloop._loop.manager import GRACE_SECONDS
from pytest_aioloop._run.owners import pending_tasks
from pytest_aioloop._run.stacks import describe_tasks
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio

    from pytest_aioloop._items.plan import ItemPlan
else:
    from pytest_aioloop._compat.lazy_asyncio import asyncio


class GroupHost(Protocol):
    """What a group tells the plugin that runs it."""

    def say(self, lines: list[str]) -> None:
        """Write ``lines`` to the terminal."""
        ...

    def stopping(self, item: pytest.Item) -> bool:
        """Whether ``-x``/``--maxfail`` or an interruption asks pytest to stop."""
        ...

    def closed(self, group: Group) -> None:
        """The group is drained or interrupted: nothing of it runs any more."""
        ...

    def settling(self) -> bool:
        """Whether a failure must run again alone before another test starts (``--maxfail``)."""
        ...


class Group(Waiting, Watch, TestFlow):
    """Tests of one parent (module or class), or of consecutive ones, running at the same time
    in one loop."""

    def __init__(
        self,
        host: GroupHost,
        state: SessionState,
        phases: Phases,
        router: Router,
        *,
        parent: object,
        kind: LoopKind,
        limit: int,
        own_loop: asyncio.AbstractEventLoop | None,
        lanes: Lanes | None,
        conflicts: Conflicts | None = None,
    ) -> None:
        self.host = host
        self.state = state
        self.phases = phases
        self.router = router
        #: The parent of the tests the group admits now, and every parent it had, in order.
        self.parent = parent
        self.parents = [parent]
        #: The parents the group left while tests of theirs still ran: how many still run.
        self.left_users: dict[object, int] = {}
        self.kind = kind
        self.limit = limit
        #: Where tests set up and tear down, overlapping (``None``: one after the other).
        self.lanes = lanes
        #: The group's loop, when its tests would otherwise each get a fresh one.
        self.own_loop = own_loop
        self.loop: asyncio.AbstractEventLoop | None = own_loop
        if own_loop is not None:
            state.nets.record_owners(own_loop)
        #: Admitted and not reported yet, in pytest's order.
        self.running: dict[pytest.Function, Running] = {}
        #: Every test admitted, in pytest's order, and how many were admitted when each was
        #: reported (who ran beside whom: :meth:`beside`).
        self.members: list[pytest.Function] = []
        self.reported_at: dict[pytest.Function, int] = {}
        #: The ``monkeypatch`` undos that wait until no other test of the group runs.
        self.patches = Patches()
        #: Where a test that fails beside others waits to run again alone (``None``: never).
        self.conflicts = conflicts
        self.init_watch(state.settings.concurrency_stall)
        #: Tests whose task is done (or given up on), in the order they finished.
        self.finished: list[Running] = []
        self.holding = False
        #: Tests setting up now (their lane waits for a fixture), and the one setting up wider
        #: fixtures (no other setup runs meanwhile).
        self.setting_up = 0
        self.exclusive: Running | None = None
        #: The group's last test in pytest's order, torn down while others still ran: its
        #: teardown of the module or class (and its reports) wait for them (see ``flow``).
        self.held: Running | None = None
        #: The parameters of wider fixtures the group's tests use (a test with another one
        #: starts a new group: pytest would tear the running tests' instance down).
        self.wider_params: dict[str, object] = {}
        #: Whether the tests of one fixture closure use an async fixture (``closure_of``).
        self._async_closures: dict[object, bool] = {}
        #: The current loop from before the group (its tests' setups may change it), put back
        #: when it closes.
        self._saved_loop: SavedLoop | None = save_current_loop()
        self._recording = False
        #: Steps taken in the main flow since the loop last ran (:data:`RUN_THE_LOOP_EVERY`).
        self._steps_since_run = 0
        self._release_loop: Callable[[], None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self.last: pytest.Function | None = None
        #: The ``nextitem`` of the last test a draining group tears down.
        self.final_next: pytest.Item | None = None
        self.draining = False
        self._closed = False
        self.peak = 0
        #: The test whose setup or teardown runs in the main flow now (without lanes).
        self.phase: str | None = None
        router.start()
        # While the loop runs during a phase, the other tests' tasks run too: their output
        # is routed to them. Code that runs outside the loop is the phase's own.
        runner = state.runner
        runner.around = self._phase_routing
        if self.stall is not None:
            runner.stall = self.stall_of_step
        if lanes is not None:
            runner.lanes = lanes
            lanes.on_ready = self.wake
            lanes.after_switch = router.refilter
            router.stepping = lanes.stepping

    def _phase_routing(self) -> contextlib.AbstractContextManager[None]:
        return self.router.routing(phase=self.phase)

    def accepts(self, item: pytest.Function, kind: LoopKind, limit: int) -> bool:
        """Whether ``item`` can join: same loop and limit, same wider instances, and the same
        parent, or one the group can move on to (:meth:`move_on`, which it then does)."""
        if kind != self.kind or limit != self.limit:
            return False
        params = wider_params(item)
        if params and not all(
            self.wider_params.get(name, value) == value for name, value in params.items()
        ):
            return False
        return item.parent is self.parent or self.move_on(item)

    def _may_wait_in_setup(self, item: pytest.Function) -> bool:
        """Whether ``item`` uses an async fixture: only such a setup or teardown can wait.

        The others set up and tear down right away, in the main flow, sparing the lane.
        """
        key = closure_of(item)
        found = self._async_closures.get(key)
        if found is None:
            handled = self.state.is_handled
            found = self._async_closures[key] = any(
                handled(fixturedef)
                for name_defs in fixturedefs_of_item(item).values()
                for fixturedef in name_defs
            )
        return found

    # -- admission ------------------------------------------------------------------------
    def admit(self, item: pytest.Function, nextitem: pytest.Item | None) -> bool:
        """Set ``item`` up and start it, once there is room (finishing others meanwhile).

        Return ``False`` if it was not started: pytest stops, or a failure waits to run again
        alone first (``GroupHost.settling``).
        """
        while len(self.running) >= self.limit or self.exclusive is not None:
            self.wait(keeper=item)
        if self._steps_since_run >= RUN_THE_LOOP_EVERY:
            self.wait(keeper=item, briefly=True)
        if self.host.stopping(item) or self.host.settling():
            return False
        in_lane = self.lanes is not None and self._may_wait_in_setup(item)
        if self.left_users and sets_up_wider_fixtures(item):
            # A fixture of the module moved on to is set up once the tests of the modules
            # before it are done, as without concurrency (see ``Parents.move_on``).
            while any(running.left for running in self.running.values()):
                self.wait(keeper=item)
        exclusive = in_lane and sets_up_wider_fixtures(item)
        while exclusive and self.setting_up:
            self.wait(keeper=item)
        params = wider_params(item)
        if params:
            self.wider_params.update(params)
        state, ihook, nodeid = self.state, item.ihook, item.nodeid
        state.active[nodeid] = item
        self.router.open(nodeid)
        plan: ItemPlan = state.plans[item]
        call = plan.call = GroupCall(self.own_loop)
        setup_stack.own_function_fixtures(item)
        running = self.running[item] = Running(item, nodeid, ihook, plan, call)
        running.nextitem = nextitem
        running.in_lane = in_lane
        running.index = len(self.members)
        self.members.append(item)
        if exclusive:
            self.exclusive = running
        self.last = item
        self.peak = max(self.peak, len(self.running))
        self._steps_since_run += 1
        self.in_lane(running, self.set_up)
        return True

    def use_loop(self, item: pytest.Function) -> asyncio.AbstractEventLoop:
        """The group's loop (the first test's, unless the group has its own), made current."""
        if self.loop is None:
            plan: ItemPlan = self.state.plans[item]
            run = plan.run
            assert run is not None
            self.loop = run.loop
            if self.loop is not None:  # a shared loop outlives the tests that took it first
                self._release_loop = self.state.loops.lease_shared(self.loop)
            else:  # a user-defined event_loop wider than a test, which its fixture owns
                self.loop = funcarg(item, "event_loop")
        loop = self.loop
        assert loop is not None
        if not self._recording:  # the group's first test
            self._recording = True
            self.state.nets.record_owners(loop)
        set_current_loop(loop)  # for sync code of the group's tests and fixtures
        return loop

    def drain(self, nextitem: pytest.Item | None) -> None:
        """Finish every running test; the last is torn down towards ``nextitem``. Then close."""
        self.final_next = nextitem
        self.draining = True
        try:
            while self.running:
                self.wait(keeper=None)
        finally:
            self.final_next = None
            self.draining = False
            self.close()

    # -- the end --------------------------------------------------------------------------------
    def close(self) -> None:
        """The group is drained or interrupted: stop routing and watching, close its loop."""
        if self._closed:
            return
        self._closed = True
        runner = self.state.runner
        if runner.around == self._phase_routing:
            runner.around = None
        if runner.stall == self.stall_of_step:
            runner.stall = None
        self.stop_watch()
        if self.lanes is not None and runner.lanes is self.lanes:
            runner.lanes = None
        self.router.stop()
        self.patches.settle()
        if self._saved_loop is not None:
            restore_current_loop(self._saved_loop)
            self._saved_loop = None
        if self.own_loop is not None:
            self.state.loops.close(self.own_loop, f"the tests run together in {self.where()}")
        release, self._release_loop = self._release_loop, None
        if release is not None:
            release()
        self.host.closed(self)

    def interrupt(self) -> None:
        """Ctrl-C: say which tests were running and where, cancel them, tear them down."""
        loop = self.loop
        running = list(self.running.values())
        lines = [f"asyncio: interrupted while {len(running)} test(s) ran together:"]
        for entry in running:
            step = self.lanes.step_of(entry.item) if self.lanes is not None else None
            if step is not None:  # its setup or teardown waits for a fixture, in its lane
                output = self.router.outputs.get(entry.nodeid)
                phase = output.when if output is not None else "setup"
                lines.append(f"{entry.item.nodeid} was in its {phase}, waiting here:")
                lines.append(describe_tasks([step]))
            elif entry.task is not None and loop is not None:
                lines.append(f"{entry.item.nodeid} was waiting here:")
                lines.append(describe_tasks([entry.task, *pending_tasks(loop, entry.owner)]))
        self.host.say(lines)
        tasks = [e.task for e in running if e.task is not None and not e.task.done()]
        if self.lanes is not None:
            tasks += self.lanes.waiting_tasks()
        for task in tasks:
            task.cancel()
        if tasks and loop is not None and not loop.is_closed():
            with contextlib.suppress(BaseException):  # a second Ctrl-C: go on tearing down
                loop.run_until_complete(asyncio.wait(tasks, timeout=GRACE_SECONDS))
        if self.lanes is not None:
            with contextlib.suppress(BaseException):
                self.lanes.resume_ready()  # paused setups and teardowns end (cancelled)
        for entry in list(self.running.values()):
            self.tear_down_now(entry)
        self.close()
