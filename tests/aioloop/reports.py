"""A plugin for in-process pytester runs that keeps every test report's outcome and sections."""

from __future__ import annotations

import pytest


class Reports:
    """Collects every test report of an in-process run: outcome, phase, sections."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the report's outcome and its non-empty sections, by test and phase."""
        sections = [(title, text) for title, text in report.sections if text]
        self.seen[(report.nodeid, report.when)] = (report.outcome, sections)


def run_collecting(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, Reports]:
    """Run pytest in-process (no cache, no random order) and collect its reports."""
    reports = Reports()
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:randomly", *args, plugins=[reports]
    )
    return result, reports


def concurrency_options(spec: str) -> tuple[str, ...]:
    """Options for a concurrency ``spec``: ``"5"``, or ``"5-off"`` (tests that fail beside
    others are reported so, not run again alone: the failures of the group itself)."""
    count, _, conflicts = spec.partition("-")
    options: tuple[str, ...] = ("-o", f"asyncio_concurrency={count}")
    if conflicts:
        options += ("-o", f"asyncio_concurrency_conflicts={conflicts}")
    return options
