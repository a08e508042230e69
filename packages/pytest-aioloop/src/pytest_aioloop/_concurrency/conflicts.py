"""Tests that failed while others ran beside them: run again alone, summed up, remembered.

A test of a group whose setup, call or teardown fails (a timeout and a stall included) while
other tests ran beside it is not reported yet. Its first attempt is kept here, and the test runs
again alone once its group is done, through pytest's own protocol: that run is what pytest
reports. If it passes alone, the first failure was a *concurrency conflict*: the summary names
the test, the tests that ran beside it and the first attempt's error, and pytest's cache
remembers it, so that it runs alone from the next run on. ``asyncio_concurrency_conflicts =
fail`` reports such a test as failed instead of passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest

#: Where pytest's cache keeps the node ids of the tests that conflicted in earlier runs.
CACHE_KEY = "aioloop/concurrency-conflicts"
#: How many of the tests that ran beside a conflicting test the summary names.
SHOWN_BESIDE = 3
#: How many conflicts the summary describes (all of them under ``-v``).
SHOWN_CONFLICTS = 10


class Attempt:
    """The first attempt of a test that failed while others ran beside it."""

    __slots__ = ("beside", "error", "item", "log_first", "order", "passed_alone")

    def __init__(
        self,
        item: pytest.Function,
        order: int,
        beside: Sequence[str],
        error: str,
        log_first: Callable[[], None],
    ) -> None:
        self.item = item
        #: Its position in its group, which is pytest's order (the reruns keep it).
        self.order = order
        #: Logs the first attempt's reports (if the run ends before the test runs again).
        self.log_first = log_first
        #: The names of the tests that ran beside it (in its module or class), in pytest's order.
        self.beside = beside
        #: What the first attempt failed with (one line, or a stall's stacks).
        self.error = error
        #: Set once its run alone is reported: whether that run passed.
        self.passed_alone: bool | None = None

    def describe(self) -> str:
        """One paragraph for the summary and the report: who ran beside, what failed."""
        names = ", ".join(self.beside[:SHOWN_BESIDE])
        more = len(self.beside) - SHOWN_BESIDE
        if more > 0:
            names += f" and {more} more"
        return (
            f"It failed while {len(self.beside)} other test(s) ran beside it ({names}):\n"
            f"{self.error}"
        )


def first_error(reports: Iterable[tuple[pytest.TestReport, object]]) -> str | None:
    """The first failed phase of ``reports`` (with their call info) and its error, or ``None``
    if none failed."""
    for report, _ in reports:
        if report.outcome == "failed":  # ``report.failed``, without a call per report
            crash = getattr(report.longrepr, "reprcrash", None)
            text = getattr(crash, "message", None) or str(report.longrepr).strip()
            return f"{report.when}: {text}"
    return None


class Conflicts:
    """The run's first attempts, reruns and conflicts (one per session, with concurrency on)."""

    def __init__(self, config: pytest.Config, *, fail: bool) -> None:
        self.config = config
        #: ``asyncio_concurrency_conflicts = fail``: a conflict is reported as a failure.
        self.fail = fail
        self._remembered: set[str] | None = None
        #: Tests waiting to run again alone, in the order they ended.
        self.pending: list[Attempt] = []
        #: Every test that ran again alone, in that order.
        self.rerun: list[Attempt] = []
        #: The attempt whose run alone is going on (its reports are annotated).
        self.current: Attempt | None = None

    # -- memory -----------------------------------------------------------------------------------
    def remembered(self, nodeid: str) -> bool:
        """Whether ``nodeid`` conflicted in an earlier run (pytest's cache)."""
        found = self._remembered
        if found is None:
            found = self._remembered = set(load(self.config))
        return nodeid in found

    def save(self) -> None:
        """Add this run's conflicts to pytest's cache (pytest-xdist's controller does that)."""
        if not hasattr(self.config, "workerinput"):
            save(self.config, [a.item.nodeid for a in self.rerun if a.passed_alone])

    # -- first attempts and reruns ------------------------------------------------------------
    def hold(self, attempt: Attempt) -> None:
        """Keep a test's first attempt; the test runs again alone when its group is done."""
        self.pending.append(attempt)

    def report_unsettled(self) -> None:
        """The run ends (Ctrl-C, an error) with tests waiting: report their first attempts."""
        pending, self.pending = self.pending, []
        for attempt in sorted(pending, key=_order):
            attempt.log_first()

    def waiting(self) -> bool:
        """Whether a test waits to run again alone."""
        return bool(self.pending)

    def run_again(
        self, run: Callable[[pytest.Function, pytest.Item | None], object], nextitem: Any
    ) -> None:
        """Run each waiting test alone with ``run(item, nextitem)``, in pytest's order.

        Each keeps the parents set up for the next; the last tears down towards ``nextitem``.
        """
        pending = sorted(self.pending, key=_order)
        self.pending = []
        manager = self.config.pluginmanager
        manager.register(self, "aioloop-concurrency-rerun")
        try:
            for index, attempt in enumerate(pending):
                after = pending[index + 1].item if index + 1 < len(pending) else nextitem
                self.current = attempt
                self.rerun.append(attempt)
                run(attempt.item, after)
        finally:
            self.current = None
            manager.unregister(self)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Say in the rerun's report that it ran again alone; a conflict fails if asked to."""
        report: pytest.TestReport = yield
        attempt = self.current
        if attempt is None or item is not attempt.item:
            return report
        if report.failed:
            attempt.passed_alone = False
        elif report.when == "teardown" and attempt.passed_alone is None:
            attempt.passed_alone = True
        if report.when == "teardown":  # for pytest-xdist's controller
            setattr(report, REPORT_ATTRIBUTE, [attempt.describe(), bool(attempt.passed_alone)])
        if report.when == "call" or (report.when == "setup" and not report.passed):
            report.sections.append(
                ("asyncio: ran again alone", attempt.describe() + "\nIt ran again alone.")
            )
            if self.fail and report.passed:
                report.outcome = "failed"
                report.longrepr = (
                    "asyncio: concurrency conflict (asyncio_concurrency_conflicts = fail): "
                    "this test passes alone.\n" + attempt.describe()
                )
        return report

    # -- the summary ----------------------------------------------------------------------------
    def summary(self, *, verbose: bool) -> list[str]:
        """Lines for the terminal summary: the conflicts, and the tests that failed alone too."""
        results = [
            (a.item.nodeid, a.describe(), bool(a.passed_alone))
            for a in self.rerun
            if a.passed_alone is not None
        ]
        return summary_lines(results, fail=self.fail, verbose=verbose)


#: The attribute of a rerun's teardown report that says how it went (it reaches
#: pytest-xdist's controller with the report): ``[what the first attempt was, passed alone]``.
REPORT_ATTRIBUTE = "aioloop_rerun"


class ControllerSummary:
    """pytest-xdist's controller: the summary of the conflicts its workers found.

    Registered only in a controller with ``asyncio_concurrency`` set; it reads one attribute
    of each report the workers send.
    """

    def __init__(self, *, fail: bool) -> None:
        self.fail = fail
        self.results: list[tuple[str, str, bool]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep what a worker's rerun says about itself."""
        found = getattr(report, REPORT_ATTRIBUTE, None)
        if isinstance(found, list) and len(found) == 2:
            self.results.append((report.nodeid, str(found[0]), bool(found[1])))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Remember the workers' conflicts in pytest's cache."""
        save(session.config, [nodeid for nodeid, _, passed in self.results if passed])

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        """Write the conflicts of all workers."""
        verbose = config.get_verbosity() > 0
        for line in summary_lines(self.results, fail=self.fail, verbose=verbose):
            terminalreporter.write_line(line)


def load(config: pytest.Config) -> list[str]:
    """The node ids of the tests that conflicted in earlier runs, from pytest's cache."""
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    if cache is None:
        return []
    value = cache.get(CACHE_KEY, [])
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def save(config: pytest.Config, found: Sequence[str]) -> None:
    """Add ``found`` to the conflicts in pytest's cache."""
    cache = getattr(config, "cache", None)
    if found and cache is not None:
        cache.set(CACHE_KEY, sorted({*load(config), *found}))


def summary_lines(
    results: Sequence[tuple[str, str, bool]], *, fail: bool, verbose: bool
) -> list[str]:
    """The summary of tests that ran again alone: ``(node id, description, passed alone)``."""
    if not results:
        return []
    conflicts = [r for r in results if r[2]]
    alone_too = len(results) - len(conflicts)
    lines = []
    if conflicts:
        verdict = "reported as failed" if fail else "reported as passed"
        lines.append(
            f"asyncio: {len(conflicts)} concurrency conflict(s): test(s) that failed while "
            f"others ran beside them and passed alone ({verdict}; they run alone from the "
            "next run on, until the cache is cleared with --cache-clear):"
        )
        shown = conflicts if verbose else conflicts[:SHOWN_CONFLICTS]
        for nodeid, text, _ in shown:
            lines.append(f"  {nodeid}")
            lines.extend("    " + line for line in text.splitlines())
        if len(shown) < len(conflicts):
            lines.append(f"  ... and {len(conflicts) - len(shown)} more (-v shows them all)")
    if alone_too:
        lines.append(
            f"asyncio: {alone_too} test(s) failed while running together and failed alone "
            "too: reported as they fail alone."
        )
    return lines


def _order(attempt: Attempt) -> int:
    return attempt.order
