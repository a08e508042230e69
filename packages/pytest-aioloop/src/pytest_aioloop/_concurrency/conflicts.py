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

    __slots__ = ("beside", "error", "item", "passed_alone")

    def __init__(self, item: pytest.Function, beside: Sequence[str], error: str) -> None:
        self.item = item
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


def first_error(reports: Iterable[pytest.TestReport]) -> str | None:
    """The first failed phase of ``reports`` and its error, or ``None`` if none failed."""
    for report in reports:
        if report.failed:
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
            found = self._remembered = set(self._load())
        return nodeid in found

    def _load(self) -> list[str]:
        cache = getattr(self.config, "cache", None)  # absent with -p no:cacheprovider
        if cache is None:
            return []
        value = cache.get(CACHE_KEY, [])
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    def save(self) -> None:
        """Add this run's conflicts to pytest's cache (merged: xdist workers share it)."""
        found = [a.item.nodeid for a in self.rerun if a.passed_alone]
        cache = getattr(self.config, "cache", None)
        if not found or cache is None:
            return
        cache.set(CACHE_KEY, sorted({*self._load(), *found}))

    # -- first attempts and reruns ------------------------------------------------------------
    def hold(self, item: pytest.Function, beside: Sequence[str], error: str) -> None:
        """Keep ``item``'s first attempt; it runs again alone when its group is done."""
        self.pending.append(Attempt(item, beside, error))

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
        if not self.rerun:
            return []
        conflicts = [a for a in self.rerun if a.passed_alone]
        alone_too = len(self.rerun) - len(conflicts)
        lines = []
        if conflicts:
            verdict = "reported as failed" if self.fail else "reported as passed"
            lines.append(
                f"asyncio: {len(conflicts)} concurrency conflict(s): test(s) that failed while "
                f"others ran beside them and passed alone ({verdict}; they run alone from the "
                "next run on, until the cache is cleared with --cache-clear):"
            )
            shown = conflicts if verbose else conflicts[:SHOWN_CONFLICTS]
            for attempt in shown:
                lines.append(f"  {attempt.item.nodeid}")
                lines.extend("    " + line for line in attempt.describe().splitlines())
            if len(shown) < len(conflicts):
                lines.append(f"  ... and {len(conflicts) - len(shown)} more (-v shows them all)")
        if alone_too:
            lines.append(
                f"asyncio: {alone_too} test(s) failed while running together and failed alone "
                "too: reported as they fail alone."
            )
        return lines


def _order(attempt: Attempt) -> int:
    session = attempt.item.session
    try:
        return session.items.index(attempt.item)
    except ValueError:  # pragma: no cover - an item pytest was not given in items
        return len(session.items)
