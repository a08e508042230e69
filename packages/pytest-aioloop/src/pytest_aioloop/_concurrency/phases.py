"""Run one phase of a test and report it as pytest's runner does (``call_and_report``).

A test that runs in a group has its setup, call and teardown run at different times, so the
group runs each phase itself, through pytest's public hooks, the same way pytest's runner does:
``CallInfo.from_call``, ``pytest_runtest_makereport``, ``pytest_runtest_logreport``, and
``pytest_exception_interact`` for an exception a debugger should see.
"""

from __future__ import annotations

import bdb
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import pytest

from pytest_aioloop._compat.pytest_internals import pytest_option

if TYPE_CHECKING:
    from pytest_aioloop._concurrency.routing import Output

When = Literal["setup", "call", "teardown"]


class Phases:
    """Runs and logs the phases of tests in a group (one per session)."""

    def __init__(self, config: pytest.Config) -> None:
        #: What a phase lets through instead of reporting it (as pytest's runner does).
        self.reraise: tuple[type[BaseException], ...] = (pytest.exit.Exception,)
        if not pytest_option(config, "usepdb", False):
            self.reraise += (KeyboardInterrupt,)

    def run(
        self,
        item: pytest.Function,
        when: When,
        func: Callable[[], object],
        *,
        ihook: Any,
        times: tuple[float, float, float] | None = None,
        output: Output | None = None,
    ) -> tuple[pytest.TestReport, pytest.CallInfo[object]]:
        """Run one phase: its ``CallInfo`` and report (logged later, with the test's others).

        ``ihook`` is ``item.ihook``, which the caller already has (pytest looks it up anew at
        each access); ``times`` are the phase's own start, stop and duration, if not this run's;
        what the phase wrote elsewhere (``output``, the test's) goes to its report sections.
        """
        call = pytest.CallInfo.from_call(func, when=when, reraise=self.reraise)
        if output is not None and output.sections:
            output.add_sections(item, when)
        report: pytest.TestReport = ihook.pytest_runtest_makereport(item=item, call=call)
        if times is not None:
            report.start, report.stop, report.duration = times
        return report, call


def log(
    item: pytest.Function,
    report: pytest.TestReport,
    call: pytest.CallInfo[object] | None = None,
    *,
    ihook: Any,
) -> None:
    """Log ``report`` and let debuggers know about an exception, as pytest's runner does."""
    ihook.pytest_runtest_logreport(report=report)
    if call is not None and call.excinfo is not None and _interactive(call, report):
        ihook.pytest_exception_interact(node=item, call=call, report=report)


def _interactive(call: pytest.CallInfo[object], report: pytest.TestReport) -> bool:
    """Whether the phase raised an exception a debugger should see (not a skip, xfail, quit)."""
    if call.excinfo is None or hasattr(report, "wasxfail"):
        return False
    unittest = sys.modules.get("unittest")
    value = call.excinfo.value
    return not (
        isinstance(value, (pytest.skip.Exception, bdb.BdbQuit))
        or (unittest is not None and isinstance(value, unittest.SkipTest))
    )
