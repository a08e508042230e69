"""What the safety nets found, and how it reaches the user: summary, warning or failure.

By default (``report``) every finding is listed, per test, in a terminal summary section of
its own and recorded as a ``--junitxml`` property of its test; nothing goes through the
``warnings`` module, so a suite running with ``filterwarnings = error`` stays green. ``warn``
emits a warning pointing at the test's (or fixture's) source line, and ``error`` fails the
test. The findings travel in the teardown report's ``user_properties``, so the summary also
works with pytest-xdist, where the reports come from the workers.
"""

from __future__ import annotations

import warnings
from typing import Literal

import pytest

from pytest_aioloop._settings.options import Settings
from pytest_aioloop._warnings import (
    AioloopWarning,
    LeakedTaskWarning,
    SlowCallbackWarning,
    UnawaitedCoroutineWarning,
    UnhandledErrorWarning,
    as_error,
)

Net = Literal["leaked_tasks", "unhandled_errors", "slow_callbacks", "unawaited"]
#: The ``--junitxml`` property name of each net's findings.
PROPERTY: dict[Net, str] = {
    "leaked_tasks": "asyncio_leaked_task",
    "unhandled_errors": "asyncio_unhandled_error",
    "slow_callbacks": "asyncio_slow_callback",
    "unawaited": "asyncio_unawaited",
}
_NET_OF_PROPERTY = {name: net for net, name in PROPERTY.items()}
#: How each net's findings are described in counts ("2 leaked tasks").
_NOUNS: dict[Net, tuple[str, str]] = {
    "leaked_tasks": ("leaked task", "leaked tasks"),
    "unhandled_errors": ("unhandled error", "unhandled errors"),
    "slow_callbacks": ("slow callback", "slow callbacks"),
    "unawaited": ("unawaited coroutine", "unawaited coroutines"),
}
_OPTION: dict[Net, str] = {
    "leaked_tasks": "asyncio_leaked_tasks",
    "unhandled_errors": "asyncio_unhandled_errors",
    "slow_callbacks": "asyncio_slow_callback_action",
    "unawaited": "asyncio_unawaited",
}


CATEGORY: dict[Net, type[AioloopWarning]] = {
    "leaked_tasks": LeakedTaskWarning,
    "unhandled_errors": UnhandledErrorWarning,
    "slow_callbacks": SlowCallbackWarning,
    "unawaited": UnawaitedCoroutineWarning,
}


def net_actions(settings: Settings) -> dict[Net, str]:
    """Return what each net does with what it finds: ``report``, ``warn``, ``error``, ``ignore``."""
    return {
        "leaked_tasks": settings.leaked_tasks,
        "unhandled_errors": settings.unhandled_errors,
        "slow_callbacks": settings.slow_callback_action,
        "unawaited": settings.unawaited,
    }


class Finding:
    """One thing a net found: a leaked task, an unhandled error or a slow callback."""

    __slots__ = ("during_call", "net", "text", "where")

    def __init__(
        self,
        net: Net,
        text: str,
        where: tuple[str, int] | None = None,
        during_call: bool = False,
    ) -> None:
        self.net: Net = net
        #: The full text: who (test or fixture), what, where; may span several lines.
        self.text = text
        #: Source location the warning points at (the test's or fixture's definition).
        self.where = where
        #: Found while the test's own call ran (then ``error`` fails the call itself).
        self.during_call = during_call


class Findings:
    """What the nets found while one test was set up, run and torn down."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(self, finding: Finding) -> None:
        """Record ``finding``."""
        self.items.append(finding)

    def take_call_failures(self, actions: dict[Net, str]) -> list[str]:
        """Remove and return the texts that fail the test's call (``error``, found in it)."""
        failing = [f for f in self.items if f.during_call and actions[f.net] == "error"]
        if failing:
            self.items = [f for f in self.items if not any(f is g for g in failing)]
        return [f.text for f in failing]


def deliver(
    item: pytest.Item,
    findings: Findings,
    actions: dict[Net, str],
    summary: Summary,
    *,
    test_where: tuple[str, int] | None,
) -> list[str]:
    """Record ``findings`` of ``item`` (summary, properties, warnings); return what fails it.

    The teardown report carries them as ``user_properties`` too, for ``--junitxml`` and for a
    pytest-xdist controller, which collects its workers' findings from their reports.
    """
    failing: list[str] = []
    nodeid = item.nodeid
    for finding in findings.items:
        action = actions[finding.net]
        if action == "ignore":
            continue
        summary.entries.append((nodeid, finding.net, finding.text))
        item.user_properties.append((PROPERTY[finding.net], finding.text))
        if action == "warn":
            category = CATEGORY[finding.net]
            filename, lineno = finding.where or test_where or (str(item.path), 0)
            try:
                warnings.warn_explicit(category(finding.text), category, filename, lineno)
            except Warning as exc:  # -W error: a failure of the test, not a plugin traceback
                failing.append(as_error(exc))
        elif action == "error":
            failing.append(finding.text)
    findings.items.clear()
    return failing


class Summary:
    """The findings of the whole run: this process's, and a pytest-xdist controller's workers'."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[tuple[str, Net, str]] = []

    def collect(self, report: pytest.TestReport) -> None:
        """Take the findings a teardown report carries."""
        for name, value in report.user_properties:
            net = _NET_OF_PROPERTY.get(name) if isinstance(name, str) else None
            if net == "unawaited":  # found during this test, blamed on the one it names first
                creator, _, text = str(value).partition("\n")
                self.entries.append((creator, net, text))
            elif net is not None:
                self.entries.append((report.nodeid, net, str(value)))

    def add(self, nodeid: str, finding: Finding) -> None:
        """Add a finding that no test report carries (found after the last test)."""
        self.entries.append((nodeid, finding.net, finding.text))

    def failing(self, unawaited: str) -> list[str]:
        """The tests whose unawaited coroutines fail the run (``asyncio_unawaited = error``)."""
        if unawaited != "error":
            return []
        return list(dict.fromkeys(e[0] for e in self.entries if e[1] == "unawaited"))

    def lines(self, actions: dict[Net, str]) -> list[str]:
        """Return the summary section's lines for the ``report`` findings (none: empty).

        Unawaited coroutines that fail the run (``error``) are listed too, with that said.
        """
        out = _listing([e for e in self.entries if actions[e[1]] == "report"])
        if out:
            counts: dict[Net, int] = {}
            for _, net, _ in self.entries:
                if actions[net] == "report":
                    counts[net] = counts.get(net, 0) + 1
            parts = [
                f"{n} {_NOUNS[net][0] if n == 1 else _NOUNS[net][1]}" for net, n in counts.items()
            ]
            options = " or ".join(sorted({_OPTION[net] for net in counts}))
            out.append(
                f"{', '.join(parts)}. Nothing failed because of them: set {options} = warn or "
                "error (ini, or the --asyncio-... flag) to act on them."
            )
        failing = self.failing(actions["unawaited"])
        if failing:
            out += _listing([e for e in self.entries if e[1] == "unawaited"])
            out.append(
                "The run fails (asyncio_unawaited = error): coroutines that were never awaited "
                f"were created by {', '.join(failing)}."
            )
        return out


def _listing(entries: list[tuple[str, Net, str]]) -> list[str]:
    out: list[str] = []
    last = None
    for nodeid, _, text in entries:
        if nodeid != last:
            out.append(nodeid or "(outside any test)")
            last = nodeid
        out.extend("  " + line for line in text.splitlines())
    return out
