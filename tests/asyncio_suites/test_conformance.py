"""The conformance suite gives every test the same reports with concurrency off and on."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.aioloop.reports import run_collecting as _run

SUITE = Path(__file__).parent / "conformance"
_DEFAULT = "asyncio_default_fixture_loop_scope"


#: Each test's outcome, run alone (pinned, so that a test that fails in both modes cannot hide).
EXPECTED = {
    "test_conformance_outcomes.py::test_setup_error": "error",
    "test_conformance_outcomes.py::test_teardown_error": "passed+error",
    "test_conformance_outcomes.py::test_fails": "failed",
    "test_conformance_outcomes.py::test_skipped": "skipped",
    "test_conformance_outcomes.py::test_skipif": "skipped",
    "test_conformance_outcomes.py::test_skip_inside": "skipped",
    "test_conformance_outcomes.py::test_xfail": "skipped",  # pytest's report of an xfail
    "test_conformance_outcomes.py::test_xpass": "passed",  # and of a non-strict xpass
    "test_conformance_outcomes.py::test_importorskip": "skipped",
    "test_conformance_modules_a.py::TestFirstClass::test_fails_in_a_class": "failed",
    "test_conformance_modules_b.py::test_teardown_breaks_in_the_next_module": "passed+error",
    "test_conformance_overlap.py::test_setup_breaks": "error",
    "test_conformance_overlap.py::test_teardown_breaks": "passed+error",
    "test_conformance_overlap.py::TestScopesAcrossYield::test_past_the_deadline": "failed",
    "test_conformance_overlap.py::TestScopesAcrossYield::test_its_listener_fails": "failed",
}


RERUN_SECTION = "asyncio: ran again alone"
_NOT_FAILED = ("skipped", "passed")


def _drop_section(
    seen: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]], title: str
) -> set[str]:
    """Drop the sections called ``title`` from ``seen``; return the tests that had one."""
    found = set()
    for key, (outcome, sections) in seen.items():
        kept = [(name, text) for name, text in sections if name != title]
        if len(kept) != len(sections):
            found.add(key[0])
            seen[key] = (outcome, kept)
    return found


def _outcome_of(reports: Mapping[tuple[str, str], tuple[str, object]], nodeid: str) -> str:
    phases = {when: outcome for (node, when), (outcome, _) in reports.items() if node == nodeid}
    if phases.get("setup") == "failed":
        return "error"
    if phases.get("setup") == "skipped":
        return "skipped"
    call = phases.get("call", "")
    if call == "skipped":
        return "skipped"
    return call + ("+error" if phases.get("teardown") == "failed" else "")


@pytest.mark.parametrize(
    "fixture_loop_scope", ["unset", "function", "module", "session", "fixture-scope"]
)
def test_conformance_same_reports_with_and_without_concurrency(
    pytester: pytest.Pytester, fixture_loop_scope: str
) -> None:
    """Outcome, phase and captured sections of every report are the same; only order differs.

    Under every ``asyncio_default_fixture_loop_scope`` (pytest-asyncio 1.x asks its users to
    set one), with the same pinned outcomes.
    """
    shutil.copytree(SUITE, pytester.path, dirs_exist_ok=True)
    scope = () if fixture_loop_scope == "unset" else ("-o", f"{_DEFAULT}={fixture_loop_scope}")
    alone, alone_reports = _run(pytester, *scope)
    together, together_reports = _run(pytester, "-o", "asyncio_concurrency=8", *scope)
    # A test that failed beside others ran again alone: its report is that run's, and says so.
    rerun = _drop_section(together_reports.seen, RERUN_SECTION)
    assert alone_reports.seen == together_reports.seen
    failing = {nodeid for nodeid, outcome in EXPECTED.items() if outcome not in _NOT_FAILED}
    if sys.version_info < (3, 11):
        failing = {nodeid for nodeid in failing if "TestScopesAcrossYield" not in nodeid}
    assert rerun == failing
    outcomes = alone.parseoutcomes()
    assert outcomes == together.parseoutcomes()
    assert outcomes["passed"] > 15
    nodeids = {nodeid for nodeid, _ in alone_reports.seen}
    for nodeid in sorted(nodeids):
        expected = EXPECTED.get(nodeid, "passed")
        if "TestScopesAcrossYield" in nodeid and sys.version_info < (3, 11):
            expected = "skipped"
        assert (nodeid, _outcome_of(alone_reports.seen, nodeid)) == (nodeid, expected)
    together.stdout.fnmatch_lines(["asyncio: * async tests ran together*"])
    together.stdout.no_fnmatch_line("*ran alone*")
