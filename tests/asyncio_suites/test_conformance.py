"""The conformance suite gives every test the same reports with concurrency off and on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.aioloop.reports import run_collecting as _run

SUITE = Path(__file__).parent / "conformance"


def test_conformance_same_reports_with_and_without_concurrency(pytester: pytest.Pytester) -> None:
    """Outcome, phase and captured sections of every report are the same; only order differs."""
    shutil.copytree(SUITE, pytester.path, dirs_exist_ok=True)
    alone, alone_reports = _run(pytester)
    together, together_reports = _run(pytester, "-o", "asyncio_concurrency=8")
    assert alone_reports.seen == together_reports.seen
    outcomes = alone.parseoutcomes()
    assert outcomes == together.parseoutcomes()
    assert outcomes["passed"] > 15
    together.stdout.fnmatch_lines(["asyncio: * async tests ran together*"])
    together.stdout.no_fnmatch_line("*ran alone*")
