"""The terminal summary section that lists what the nets found in the run, per test.

Findings of this process reach the summary as they are delivered; a pytest-xdist controller,
which runs no test itself, takes its workers' from their teardown reports
(:class:`WorkerFindings`, registered only there). The plugin's hooks call in here only when
there is something to do: a run without findings never imports this module.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_aioloop._nets.findings import Summary, net_actions
from pytest_aioloop._settings.options import Settings

_WORKERS = "aioloop-worker-findings"


def take_workers_findings(manager: pytest.PytestPluginManager, summary: Summary) -> None:
    """On a pytest-xdist controller, collect the workers' findings from their reports."""
    if not manager.has_plugin(_WORKERS):
        manager.register(WorkerFindings(summary), _WORKERS)


def write_summary(terminalreporter: Any, summary: Summary, settings: Settings) -> None:
    """List what the safety nets found in the run, per test."""
    lines = summary.lines(net_actions(settings))
    if not lines:
        return
    terminalreporter.write_sep("=", "asyncio safety nets (pytest-aioloop)")
    for line in lines:
        terminalreporter.write_line(line)


class WorkerFindings:
    """Takes the findings that pytest-xdist workers' teardown reports carry."""

    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take the findings a teardown report carries."""
        if report.when == "teardown" and report.user_properties:
            self.summary.collect(report)
