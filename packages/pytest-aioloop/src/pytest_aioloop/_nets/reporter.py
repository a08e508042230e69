"""The terminal summary section that lists what the nets found in the run, per test.

Findings of this process reach the summary as they are delivered; a pytest-xdist controller,
which runs no test itself, takes its workers' from their teardown reports
(:class:`WorkerFindings`, registered only there).
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_aioloop._nets.findings import Summary, net_actions
from pytest_aioloop._settings.options import Settings


class Reporter:
    """Lists the nets' findings of the run in a terminal summary section."""

    def __init__(self, summary: Summary, settings: Settings) -> None:
        self.summary = summary
        self.actions = net_actions(settings)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """On a pytest-xdist controller, collect the workers' findings from their reports."""
        manager = session.config.pluginmanager
        if manager.has_plugin("dsession") and not manager.has_plugin(_WORKERS):
            manager.register(WorkerFindings(self.summary), _WORKERS)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """List the leaked tasks, unhandled errors and slow callbacks of the run, per test."""
        lines = self.summary.lines(self.actions)
        if not lines:
            return
        terminalreporter.write_sep("=", "asyncio safety nets (pytest-aioloop)")
        for line in lines:
            terminalreporter.write_line(line)


_WORKERS = "aioloop-worker-findings"


class WorkerFindings:
    """Takes the findings that pytest-xdist workers' teardown reports carry."""

    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take the findings a teardown report carries."""
        if report.when == "teardown" and report.user_properties:
            self.summary.collect(report)
