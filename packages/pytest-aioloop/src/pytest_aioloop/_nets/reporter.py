"""The terminal summary section that lists what the nets found in the run, per test."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_aioloop._nets.findings import Net, Summary


class Reporter:
    """Collects the nets' findings from teardown reports (also xdist workers') and lists them."""

    def __init__(self, summary: Summary, actions: dict[Net, str]) -> None:
        self.summary = summary
        self.actions = actions

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take the findings a teardown report carries."""
        if report.when == "teardown" and report.user_properties:
            self.summary.collect(report)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """List the leaked tasks, unhandled errors and slow callbacks of the run, per test."""
        lines = self.summary.lines(self.actions)
        if not lines:
            return
        terminalreporter.write_sep("=", "asyncio safety nets (pytest-aioloop)")
        for line in lines:
            terminalreporter.write_line(line)
