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
from collections.abc import Callable, Generator
from typing import Any

import pytest

from pytest_aioloop import _tests
from pytest_aioloop._alone import Plugins, limit_of, marked, reason_alone, run_off_reason
from pytest_aioloop._compat import concurrent as _shared
from pytest_aioloop._group import Group
from pytest_aioloop._loops import LoopKind
from pytest_aioloop._plan import PLAN_KEY
from pytest_aioloop._routing import Router
from pytest_aioloop._runtime import Runtime
from pytest_aioloop._tests import MODE_KEY, OUTCOME_KEY, TASK_KEY


class Concurrency:
    """The plugin part that runs tests together (registered when concurrency may be used)."""

    def __init__(self, runtime: Runtime, config: pytest.Config) -> None:
        self.runtime = runtime
        self.config = config
        self.off = run_off_reason(config)
        #: Whether this pytest's internals were checked (at the first test).
        self._checked = False
        #: The other plugins that keep tests alone (looked up at the first test).
        self._plugins: Plugins | None = None
        self.group: Group | None = None
        #: The ``nextitem`` of the last test a draining group tears down.
        self.final_next: pytest.Item | None = None
        self.alone: collections.Counter[str] = collections.Counter()
        self.together = 0
        #: Tests that would have run with others but for an option in ``self.off``.
        self.held_off = 0
        #: What a phase lets through instead of reporting it (as pytest's runner does).
        self._reraise: tuple[type[BaseException], ...] = (pytest.exit.Exception,)
        if not config.getoption("usepdb", False):
            self._reraise += (KeyboardInterrupt,)
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
        admitted = self._admission(item)
        group = self.group
        if group is not None and (
            admitted is None
            or not isinstance(item, pytest.Function)
            or not group.accepts(item, *admitted)
        ):
            self.drain(nextitem=item)
        if admitted is None or not isinstance(item, pytest.Function):
            return None
        if self.group is None:
            kind, limit = admitted
            own = self.runtime.loops.new_loop(None) if kind == _FRESH else None
            self.group = Group(self, item.parent, kind, limit, own)
            self.router.start()
            where = getattr(item.parent, "nodeid", "") or "the session"
            self.say_verbose([f"asyncio: up to {limit} tests at once in {where}"])
        self.group.admit(item, nextitem)
        if nextitem is None or self.stopping(item):
            self.drain(nextitem=None if self.stopping(item) else nextitem)
        return True

    def _admission(self, item: pytest.Item) -> tuple[LoopKind, int] | None:
        """Return (loop kind, limit) if ``item`` may run with others, else ``None``."""
        if not isinstance(item, pytest.Function):
            return None
        runtime = self.runtime
        if self.off is None and not self._checked:
            self._checked = True
            if not _shared.can_run_concurrently(item.session):
                version = pytest.__version__
                self.off = f"pytest {version}, whose setup internals pytest-aioloop does not know"
        if self.off is not None:
            if limit_of(item, runtime.settings.concurrency) > 1:
                self.held_off += 1
            return None
        plan = _tests.plan_at_setup(runtime, item)
        if plan is None or not plan.is_async_test or plan.error is not None:
            return None
        limit, concurrent = marked(item, runtime.settings.concurrency)
        if limit <= 1:
            return None
        plugins = self._plugins
        if plugins is None:
            plugins = self._plugins = Plugins.of(self.config)
        reason = reason_alone(runtime, item, plan, concurrent=concurrent, plugins=plugins)
        if reason is not None:
            self.alone[reason] += 1
            self.say_verbose([f"asyncio: {item.nodeid} runs alone: {reason}"])
            return None
        try:
            kind = _tests.plan_kind(runtime, item, plan)
        except pytest.fail.Exception:
            return None  # its setup fails with the message
        self.together += 1
        return kind, limit

    def drain(self, *, nextitem: pytest.Item | None) -> None:
        """Finish every running test of the group; the last is torn down towards ``nextitem``."""
        group = self.group
        if group is None:
            return
        self.final_next = nextitem
        try:
            while group.running:
                group.wait(keeper=None)
        finally:
            self.final_next = None
            if self.group is group:
                self.group = None
                self.router.stop()
                group.close()
                self.say_verbose(
                    [
                        f"asyncio: {group.count} tests ran together in "
                        f"{getattr(group.parent, 'nodeid', '') or 'the session'} "
                        f"(up to {group.peak} at once)"
                    ]
                )

    def stopping(self, item: pytest.Item) -> bool:
        """Whether ``-x``/``--maxfail`` or an interruption asks pytest to stop."""
        session = item.session
        return bool(session.shouldfail or session.shouldstop)

    # -- phases and reports -------------------------------------------------------------------
    def phase(
        self,
        item: pytest.Function,
        when: str,
        func: Callable[[], object],
        *,
        ihook: Any,
        times: tuple[float, float, float] | None = None,
    ) -> pytest.TestReport:
        """Run one phase as pytest's runner does: ``CallInfo``, report, log (not setup's).

        ``ihook`` is ``item.ihook``, which the caller already has (pytest looks it up anew at
        each access).
        """
        call = pytest.CallInfo.from_call(func, when=when, reraise=self._reraise)  # type: ignore[arg-type]
        report: pytest.TestReport = ihook.pytest_runtest_makereport(item=item, call=call)
        if times is not None:
            report.start, report.stop, report.duration = times
        if when != "setup":
            self.log(item, report, call, ihook=ihook)
        return report

    def log(
        self,
        item: pytest.Function,
        report: pytest.TestReport,
        call: pytest.CallInfo[object] | None = None,
        *,
        ihook: Any,
    ) -> None:
        """Log ``report`` and let debuggers know about an exception, as pytest's runner does."""
        ihook.pytest_runtest_logreport(report=report)
        if call is not None and _interactive(call, report):
            ihook.pytest_exception_interact(node=item, call=call, report=report)

    @pytest.hookimpl(wrapper=True, trylast=True)  # innermost: inside pytest's capture and logs
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        """Route other running tests' output away from this test's setup capture."""
        return (yield from self._routed(item))

    @pytest.hookimpl(wrapper=True, trylast=True)  # innermost: inside pytest's capture and logs
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Route other running tests' output away from this test's call capture."""
        return (yield from self._routed(item))

    @pytest.hookimpl(wrapper=True, trylast=True)  # innermost: inside pytest's capture and logs
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        """Route other running tests' output away from this test's teardown capture."""
        return (yield from self._routed(item))

    def _routed(self, item: pytest.Item) -> Generator[None, None, None]:
        if self.group is None:
            return (yield)
        nodeid = item.nodeid
        if nodeid not in self.runtime.active:
            return (yield)
        with self.router.routing(phase=nodeid):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, object, object]:
        """Start a concurrent test's coroutine, or deliver its outcome, in pytest's call."""
        mode = pyfuncitem.stash.get(MODE_KEY, None)
        if mode is None:
            return (yield)
        plan = pyfuncitem.stash[PLAN_KEY]
        if mode == "start":
            undo = _tests.start_call(
                self.runtime,
                pyfuncitem,
                plan,
                lambda task: pyfuncitem.stash.__setitem__(TASK_KEY, task),
            )
        else:
            undo = _tests.deliver_call(
                self.runtime, pyfuncitem, plan, pyfuncitem.stash[OUTCOME_KEY]
            )
        try:
            return (yield)
        finally:
            undo()

    # -- the terminal -------------------------------------------------------------------------
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
        if self.config.getoption("verbose", 0) > 0:
            self.say(lines)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Count the tests that ran together and those that ran alone, by reason."""
        if self.held_off:
            terminalreporter.write_line(
                f"asyncio: concurrency is off with {self.off} ({self.held_off} tests would "
                "otherwise run together)."
            )
            return
        if not (self.together or self.alone):
            return
        parts = [f"{self.together} async tests ran together"]
        if self.alone:
            reasons = ", ".join(f"{why} ({n})" for why, n in self.alone.most_common())
            parts.append(f"{sum(self.alone.values())} ran alone: {reasons}")
        terminalreporter.write_line("asyncio: " + "; ".join(parts) + ".")

    @pytest.hookimpl(trylast=True)  # after pytest's own session end, before loops close
    def pytest_sessionfinish(self) -> None:
        """Finish a group that an exception left running (nothing is left behind)."""
        group = self.group
        if group is not None and group.running:
            group.interrupt()
        elif group is not None:
            self.group = None
            self.router.stop()
            group.close()


#: The kind of tests that would each get a fresh function-scoped loop (the group shares one).
_FRESH = LoopKind("scoped", "function")


def _interactive(call: pytest.CallInfo[object], report: pytest.TestReport) -> bool:
    if call.excinfo is None or hasattr(report, "wasxfail"):
        return False
    return not call.excinfo.errisinstance(pytest.skip.Exception)


def _log_level(config: pytest.Config) -> int | None:
    import logging

    name = config.getoption("log_level", None) or config.getini("log_level")
    if not name:
        return None
    if isinstance(name, int):
        return name
    level = logging.getLevelName(str(name).upper())
    return level if isinstance(level, int) else None
