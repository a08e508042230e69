"""Timeouts do not count the time pytest's debugger is stopped in a test."""

from __future__ import annotations

import sys

import pytest

#: What the user types at the debugger's prompt: a command that takes longer than the
#: timeout (inspecting something slow), then ``continue``.
SLOW_LOOK = b"import time; time.sleep(1.2)\nc\n"

ALONE = """
import asyncio
import pytest

@pytest.mark.asyncio(timeout=0.5)
async def test_stops_in_the_debugger():
    breakpoint()
    await asyncio.sleep(0.01)

@pytest.mark.asyncio(timeout=0.5)
async def test_still_times_out():
    await asyncio.sleep(5)
"""

TOGETHER = """
import asyncio
import pytest
import pytest_aioloop

pytestmark = pytest.mark.asyncio(timeout=0.5, concurrency=5)

@pytest_aioloop.fixture
async def resource(request):
    if request.node.name == "test_in_a_group[1]":
        breakpoint()  # a fixture step in its lane (or in the main flow, without greenlet)
    await asyncio.sleep(0.01)
    yield

@pytest.mark.parametrize("n", range(3))
async def test_in_a_group(resource, n):
    if n == 0:
        breakpoint()  # a test of a group: its timeout is a timer of the group's loop
    await asyncio.sleep(0.1)
"""


def _run(pytester: pytest.Pytester, stdin: bytes, *args: str) -> pytest.RunResult:
    return pytester.run(
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        *args,
        stdin=stdin,
        timeout=60,
    )


def test_a_test_stopped_in_the_debugger_does_not_time_out(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(ALONE)
    result = _run(pytester, SLOW_LOOK)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*PDB continue*", "The test timed out after 0.5 s."])


def test_tests_and_fixtures_of_a_group_stopped_in_the_debugger_do_not_time_out(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(TOGETHER)
    result = _run(pytester, SLOW_LOOK * 2, "-o", "asyncio_concurrency_conflicts=off")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["asyncio: 3 async tests ran together*"])
