"""Run async tests of one module or class at the same time, in one event loop (opt-in).

pytest hands tests over one by one (``pytest_runtest_protocol``). A test that may run
concurrently is set up at once, its coroutine is started as a task, and pytest gets control
back to hand over the next one. Tests started this way form a :class:`Group`. When the group is
full, or the next test cannot join it, the loop runs until tests finish; each finished test is
then reported (setup, call and teardown, together) and torn down. The design, and what it keeps
of pytest's semantics, is in ``docs/concepts/concurrency.md``.
"""

from __future__ import annotations

import collections
import sys
from typing import Any

import pytest

from pytest_aioloop._compat import setup_stack
from pytest_aioloop._compat.pytest_internals import clear_report_sections, pytest_option
from pytest_aioloop._compat.xdist import reporting_for
from pytest_aioloop._concurrency import lanes
from pytest_aioloop._concurrency.admission import (
    Plugins,
    limit_of,
    reason_alone,
    run_off_reason,
)
from pytest_aioloop._concurrency.conflicts import Conflicts
from pytest_aioloop._concurrency.group import Group
from pytest_aioloop._concurrency.lanes import Lanes
from pytest_aioloop._concurrency.phases import Phases
from pytest_aioloop._concurrency.routing import Router
from pytest_aioloop._items.lifecycle import plan_kind
from pytest_aioloop._items.plan import plan_at_setup
from pytest_aioloop._loop.kinds import FRESH, LoopKind
from pytest_aioloop._session import SessionState
from pytest_aioloop._settings.marker import concurrency_of


class Concurrency:
    """The plugin part that runs tests together (registered when concurrency may be used)."""

    def __init__(self, state: SessionState, config: pytest.Config) -> None:
        self.state = state
        self.config = config
        #: Why concurrency is off for the whole run (an option, an unknown pytest), if it is.
        self.off_because = run_off_reason(config)
        #: Whether this pytest's internals were checked (at the first test).
        self._checked = False
        #: The other plugins that keep tests alone (looked up at the first test).
        self._plugins: Plugins | None = None
        #: What the markers of each parent say, for its tests without an asyncio marker.
        self._by_parent: dict[object, tuple[int, bool]] = {}
        #: Why tests must run alone because of their fixtures, by fixture closure.
        self._by_closure: dict[object, str | None] = {}
        self.group: Group | None = None
        self.alone: collections.Counter[str] = collections.Counter()
        self.together = 0
        #: Tests that would have run with others but for ``off_because``.
        self.held_off = 0
        self.phases = Phases(config)
        #: Tests that failed beside others, run again alone; the conflicts found and remembered.
        self.conflicts = Conflicts(config, fail=state.settings.concurrency_conflicts == "fail")
        #: The test running again alone now (pytest's own protocol runs it).
        self._alone: pytest.Item | None = None
        #: How each async test ran, by node id (for the concurrency report, when it is on).
        self.how: dict[str, str] = {}
        self._tag = state.settings.concurrency_report
        #: ``-x``/``--maxfail``: a failure runs again alone before another test starts.
        self._maxfail = bool(pytest_option(config, "maxfail", 0))
        self.router = Router(
            str(config.getini("log_format")),
            config.getini("log_date_format") or None,
            _log_level(config),
        )

    # -- pytest's protocol ----------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)  # before pytest's own protocol runs the test in one go
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> bool | None:
        """Start ``item`` in the group, or finish the group and let pytest run it as usual."""
        if item is self._alone:
            return None
        admitted = self._admission(item) if isinstance(item, pytest.Function) else None
        group = self.group
        if group is not None:
            parent, running = group.parent, len(group.running)
            if admitted is None or not group.accepts(item, *admitted):  # type: ignore[arg-type]
                self.drain(nextitem=item)
            elif group.parent is not parent:
                where = getattr(group.parent, "nodeid", "")
                self.say_verbose([f"asyncio: the tests of {where} join the {running} running"])
        if admitted is None:
            return None
        assert isinstance(item, pytest.Function)
        group = self.group
        if group is None:
            group = self.group = self._new_group(item, *admitted)
        if not group.admit(item, nextitem) and not self.stopping(item):
            self.drain(nextitem=item)  # a failure runs again alone first (--maxfail)
            if self.stopping(item):
                return True  # it failed alone: pytest stops here
            group = self.group = self._new_group(item, *admitted)
            group.admit(item, nextitem)
        if nextitem is None or self.stopping(item):
            self.drain(nextitem=None if self.stopping(item) else nextitem)
        return True

    def _new_group(self, item: pytest.Function, kind: LoopKind, limit: int) -> Group:
        own = self.state.loops.new_loop(None) if kind == FRESH else None
        group = Group(
            self,
            self.state,
            self.phases,
            self.router,
            parent=item.parent,
            kind=kind,
            limit=limit,
            own_loop=own,
            lanes=Lanes(self.state, self.config) if lanes.AVAILABLE else None,
            conflicts=None
            if self.state.settings.concurrency_conflicts == "off"
            else self.conflicts,
        )
        where = getattr(item.parent, "nodeid", "") or "the session"
        self.say_verbose([f"asyncio: up to {limit} tests at once in {where}"])
        return group

    def _admission(self, item: pytest.Function) -> tuple[LoopKind, int] | None:
        """Return (loop kind, limit) if ``item`` may run with others, else ``None``."""
        state = self.state
        if self.off_because is None and not self._checked:
            self._checked = True
            if not setup_stack.can_run_concurrently(item.session):
                version = pytest.__version__
                self.off_because = (
                    f"pytest {version}, whose setup internals pytest-aioloop does not know"
                )
        if self.off_because is not None:
            if limit_of(item, state.settings.concurrency) > 1:
                self.held_off += 1
                if self._tag:
                    self.how[item.nodeid] = f"concurrency is off with {self.off_because}"
            return None
        plan = plan_at_setup(state, item)
        if plan is None or not plan.is_async_test or plan.error is not None:
            return None
        limit, concurrent = self._concurrency_of(item)
        if limit <= 1:
            return None
        plugins = self._plugins
        if plugins is None:
            plugins = self._plugins = Plugins.of(self.config)
        reason = reason_alone(
            state, item, plan, concurrent=concurrent, plugins=plugins, by_closure=self._by_closure
        )
        if reason is None and self.conflicts.remembered(item.nodeid):
            reason = (
                "it conflicted with tests running beside it in an earlier run (remembered in "
                "pytest's cache; --cache-clear forgets)"
            )
        if reason is not None:
            self.alone[reason] += 1
            self.say_verbose([f"asyncio: {item.nodeid} runs alone: {reason}"])
            if self._tag:
                self.how[item.nodeid] = reason
            return None
        try:
            kind = plan_kind(state, item, plan)
        except pytest.fail.Exception:
            return None  # its setup fails with the message
        self.together += 1
        if self._tag:
            self.how[item.nodeid] = "together"
        return kind, limit

    def _concurrency_of(self, item: pytest.Function) -> tuple[int, bool]:
        """The ``concurrency=`` and ``concurrent=`` of ``item``'s markers (cached per parent)."""
        default = self.state.settings.concurrency
        if any(mark.name == "asyncio" for mark in item.own_markers):
            return concurrency_of(item.iter_markers("asyncio"), default)
        parent = item.parent
        found = self._by_parent.get(parent)
        if found is None:
            found = self._by_parent[parent] = concurrency_of(item.iter_markers("asyncio"), default)
        return found

    def drain(self, *, nextitem: pytest.Item | None) -> None:
        """Finish every running test of the group; the last is torn down towards ``nextitem``."""
        group = self.group
        if group is None:
            return
        group.drain(nextitem)
        self.say_verbose(
            [
                f"asyncio: {len(group.members)} tests ran together in {group.where()} "
                f"(up to {group.peak} at once)"
            ]
        )
        if self.conflicts.waiting():
            self.conflicts.run_again(self._run_alone, nextitem)

    def _run_alone(self, item: pytest.Function, nextitem: pytest.Item | None) -> None:
        """Run ``item`` again alone, through pytest's own protocol (which reports it)."""
        self.say_verbose([f"asyncio: {item.nodeid} failed beside other tests: it runs again alone"])
        self._alone = item
        clear_report_sections(item)
        # A test of a module the group left: the group's last module stays set up for its own
        # tests that run again after it, out of the way meanwhile.
        parked = setup_stack.park_above(item)
        try:
            with reporting_for(item):
                item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        finally:
            self._alone = None
            setup_stack.unpark(item.session, parked)

    # -- what a group tells its host -------------------------------------------------------------
    def stopping(self, item: pytest.Item) -> bool:
        """Whether ``-x``/``--maxfail`` or an interruption asks pytest to stop."""
        session = item.session
        return bool(session.shouldfail or session.shouldstop)

    def settling(self) -> bool:
        """Whether a failure must run again alone before another test starts (``--maxfail``)."""
        return self._maxfail and self.conflicts.waiting()

    def closed(self, group: Group) -> None:
        """``group`` is drained or interrupted: the next test starts a new one."""
        if self.group is group:
            self.group = None

    def say(self, lines: list[str]) -> None:
        """Write ``lines`` to the terminal."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            sys.stderr.write("\n".join(lines) + "\n")
            return
        reporter.ensure_newline()
        for line in lines:
            reporter.write_line(line)

    def say_verbose(self, lines: list[str]) -> None:
        """Write ``lines`` to the terminal under ``-v``."""
        if self.config.get_verbosity() > 0:
            self.say(lines)

    # -- the end ----------------------------------------------------------------------------------
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Count the tests that ran together and those that ran alone, by reason."""
        if self.held_off:
            terminalreporter.write_line(
                f"asyncio: concurrency is off with {self.off_because} ({self.held_off} tests "
                "would otherwise run together)."
            )
            return
        if not (self.together or self.alone):
            return
        parts = [f"{self.together} async tests ran together"]
        if self.alone:
            reasons = ", ".join(f"{why} ({n})" for why, n in self.alone.most_common())
            parts.append(f"{sum(self.alone.values())} ran alone: {reasons}")
        terminalreporter.write_line("asyncio: " + "; ".join(parts) + ".")
        for line in self.conflicts.summary(verbose=self.config.get_verbosity() > 0):
            terminalreporter.write_line(line)
        if self.together and not lanes.AVAILABLE:
            terminalreporter.write_line(
                "asyncio: their setups and teardowns ran one test at a time; install "
                "pytest-aioloop[concurrency] (greenlet) to let them overlap."
            )

    @pytest.hookimpl(trylast=True)  # after pytest's own session end, before loops close
    def pytest_sessionfinish(self) -> None:
        """Finish a group that an exception left running; remember this run's conflicts.

        A test that waited to run again alone is reported as its first attempt went.
        """
        self.conflicts.save()
        group = self.group
        if group is not None:
            if group.running:
                group.interrupt()
            else:
                group.close()
        if self.conflicts.waiting():
            self.conflicts.report_unsettled()


def _log_level(config: pytest.Config) -> int | None:
    import logging

    name = pytest_option(config, "log_level") or config.getini("log_level")
    if not name:
        return None
    if isinstance(name, int):
        return name
    level = logging.getLevelName(str(name).upper())
    return level if isinstance(level, int) else None
