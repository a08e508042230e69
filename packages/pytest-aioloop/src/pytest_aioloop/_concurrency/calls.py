"""The call of a test that runs in a group: started as a task, its outcome delivered later.

A test's plan holds this strategy from the moment it joins a group. pytest's call hook runs
twice for it: when the test starts, the call starts its coroutine as a task and returns at
once; when its task is done, the call hands pytest the outcome (its exception, or nothing), so
that plugins wrapping the call (skip, xfail, reruns' bookkeeping) see it as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from pytest_aioloop._compat.pytest_internals import funcarg, replace_test_function
from pytest_aioloop._compat.unawaited import origins_back, origins_on
from pytest_aioloop._items.call import explain_different_loop, fail_on_call_findings
from pytest_aioloop._items.plan import ItemPlan, unwrap_test_function
from pytest_aioloop._session import SessionState

if TYPE_CHECKING:
    import asyncio


class GroupCall:
    """A test's call in a group: the first call starts its task, the second delivers its outcome."""

    sets_current_loop = False  # the group makes its loop current for all its tests

    def __init__(self, shared_loop: asyncio.AbstractEventLoop | None) -> None:
        #: The group's own loop, when its tests would otherwise each get a fresh one.
        self.shared_loop = shared_loop
        #: The test's task, once started.
        self.task: asyncio.Task[Any] | None = None
        #: What the second call raises (``None``: the test passed).
        self.outcome: BaseException | None = None
        self._started = False
        #: The test function, as pytest has it (``item.obj``), read at the start.
        self._original: object = None

    def install(
        self, state: SessionState, item: pytest.Function, plan: ItemPlan
    ) -> Callable[[], None]:
        """Make pytest's call start the test's task (first time) or deliver its outcome."""
        if not self._started:
            self._started = True
            return self._start(state, item, plan)
        return self._deliver(state, item, plan)

    def _start(
        self, state: SessionState, item: pytest.Function, plan: ItemPlan
    ) -> Callable[[], None]:
        testrun = plan.run
        assert testrun is not None  # set at the test's setup
        # The group's loop; or a user-defined event_loop wider than a test, shared by the group.
        loop = testrun.loop or self.shared_loop or funcarg(item, "event_loop")
        owner = testrun.owner
        original = self._original = item.obj
        inner: Callable[..., Any] = unwrap_test_function(original)[0]  # type: ignore[assignment]
        state.nets.begin(owner, loop)
        state.nets.running.add(owner)

        def start(*args: object, **kwargs: object) -> None:
            depth = origins_on() if state.track_origins else -1  # the test's own coroutine
            try:
                coro = inner(*args, **kwargs)
            finally:
                if depth >= 0:
                    origins_back(depth)
            self.task = state.runner.start_test(loop, coro, owner=owner)

        return replace_test_function(item, start, original)

    def _deliver(
        self, state: SessionState, item: pytest.Function, plan: ItemPlan
    ) -> Callable[[], None]:
        assert plan.run is not None  # set at the test's setup
        owner = plan.run.owner
        outcome = self.outcome

        def deliver(*args: object, **kwargs: object) -> None:
            state.nets.running.discard(owner)
            if outcome is not None:
                explain_different_loop(outcome, item, plan)
                raise outcome
            fail_on_call_findings(state, item)

        return replace_test_function(item, deliver, self._original)
