"""The concurrency report: per module, what ran together, what ran alone and why, what it saved.

``--asyncio-concurrency-report`` turns it on. Where tests run (one process, or each
pytest-xdist worker), :class:`Tagging` writes on each test's teardown report how the test ran;
where reports are logged (the same process, or xdist's controller), :class:`Report` adds them
up by module and writes the table in the terminal summary. Both read only reports, so the
report is the same with and without xdist.
"""

from __future__ import annotations

import collections
from typing import Any

import pytest

from pytest_aioloop._concurrency.conflicts import REPORT_ATTRIBUTE

#: The attribute of a teardown report that says how the test ran: ``"together"`` or the
#: reason it ran alone.
HOW_ATTRIBUTE = "aioloop_how"
TOGETHER = "together"


class Tagging:
    """Writes on each test's teardown report how it ran (``how``: node id to what happened)."""

    def __init__(self, how: dict[str, str]) -> None:
        self.how = how

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Tag the teardown report of a test that concurrency looked at."""
        report: pytest.TestReport = yield
        if report.when == "teardown":
            how = self.how.get(report.nodeid)
            if how is not None:
                setattr(report, HOW_ATTRIBUTE, how)
        return report


class _Module:
    __slots__ = ("alone", "conflicts", "durations", "start", "stop", "together")

    def __init__(self) -> None:
        self.together = 0
        self.alone: collections.Counter[str] = collections.Counter()
        #: (test name, what its first attempt was) of each conflict.
        self.conflicts: list[tuple[str, str]] = []
        self.durations = 0.0
        self.start = float("inf")
        self.stop = 0.0


class Report:
    """Adds the tagged reports up by module; writes the table in the terminal summary."""

    def __init__(self) -> None:
        self.modules: dict[str, _Module] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Add the phase's time; at the teardown, how the test ran."""
        path, _, name = report.nodeid.partition("::")
        module = self.modules.get(path)
        if module is None:
            module = self.modules[path] = _Module()
        module.durations += report.duration
        module.start = min(module.start, report.start)
        module.stop = max(module.stop, report.stop)
        if report.when != "teardown":
            return
        how = getattr(report, HOW_ATTRIBUTE, None)
        if how == TOGETHER:
            module.together += 1
        elif isinstance(how, str):
            module.alone[how] += 1
        rerun = getattr(report, REPORT_ATTRIBUTE, None)
        if isinstance(rerun, list) and len(rerun) == 2 and rerun[1]:
            module.conflicts.append((name, str(rerun[0])))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Write one block per module whose async tests concurrency looked at."""
        lines = self.lines()
        if lines:
            terminalreporter.write_sep("=", "asyncio concurrency report")
            for line in lines:
                terminalreporter.write_line(line)

    def lines(self) -> list[str]:
        """The report: per module, counts, reasons, conflicts and time."""
        lines = []
        for path, module in self.modules.items():
            alone = sum(module.alone.values())
            if not (module.together or alone):
                continue
            wall = max(0.0, module.stop - module.start)
            saved = max(0.0, module.durations - wall)
            lines.append(
                f"{path}: {module.together} ran together, {alone} alone, "
                f"{len(module.conflicts)} conflict(s); tests took {module.durations:.2f} s "
                f"in all, the module {wall:.2f} s: {saved:.2f} s saved"
            )
            for why, count in module.alone.most_common():
                lines.append(f"  alone ({count}): {why}")
            for name, text in module.conflicts:
                first = text.splitlines()[0] if text else ""
                first = first.removeprefix("It ").rstrip(":")
                lines.append(f"  conflict: {name} {first}")
        return lines
