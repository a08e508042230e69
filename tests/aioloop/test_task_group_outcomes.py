"""pytest's outcomes raised in a task group's child give the outcome pytest gives outside it."""

from __future__ import annotations

import sys

import pytest

from tests.aioloop.reports import concurrency_options

needs_311 = pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is 3.11+")

OUTCOMES = """
import asyncio
import pytest
import pytest_aioloop

async def in_a_group(child):
    async with asyncio.TaskGroup() as group:
        group.create_task(child())
        await asyncio.sleep(1)

@pytest.mark.asyncio
async def test_skips():
    async def child():
        pytest.skip("skipped in a child")
    await in_a_group(child)

@pytest.mark.asyncio
async def test_xfails():
    async def child():
        pytest.xfail("xfailed in a child")
    await in_a_group(child)

@pytest.mark.asyncio
async def test_fails():
    async def child():
        pytest.fail("failed in a child")
    await in_a_group(child)

@pytest.mark.asyncio
async def test_two_skips_skip():
    async with asyncio.TaskGroup() as group:
        for n in range(2):
            group.create_task(asyncio.sleep(0))
            async def child(n=n):
                pytest.skip(f"skip {n}")
            group.create_task(child())

@pytest.mark.asyncio
async def test_a_skip_beside_a_real_error_fails_with_the_error():
    async def skips():
        pytest.skip("not the point")
    async def breaks():
        raise ValueError("the real error")
    async with asyncio.TaskGroup() as group:
        group.create_task(skips())
        group.create_task(breaks())

@pytest_aioloop.fixture
async def resource():
    async def child():
        pytest.skip("skipped in a fixture's child")
    await in_a_group(child)
    yield

@pytest.mark.asyncio
async def test_fixture_skips(resource):
    pass
"""


@needs_311
@pytest.mark.parametrize("concurrency", ["1", "5", "5-off"])
def test_outcomes_in_a_task_group(pytester: pytest.Pytester, concurrency: str) -> None:
    pytester.makepyfile(OUTCOMES)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-rsxf", *concurrency_options(concurrency)
    )
    result.assert_outcomes(skipped=3, xfailed=1, failed=2)
    result.stdout.fnmatch_lines_random(
        [
            # Reported at the child's line, not at the task group's.
            "SKIPPED [[]1[]] test_outcomes_in_a_task_group.py:13: skipped in a child",
            "SKIPPED [[]1[]] test_outcomes_in_a_task_group.py:*: skip 0",
            "SKIPPED [[]1[]] test_outcomes_in_a_task_group.py:*: skipped in a fixture's child",
            "XFAIL test_outcomes_in_a_task_group.py::test_xfails - xfailed in a child",
            "FAILED test_outcomes_in_a_task_group.py::test_fails - Failed: failed in a child",
            "FAILED *::test_a_skip_beside_a_real_error_fails_with_the_error*",
        ]
    )
    result.stdout.fnmatch_lines(["*ValueError: the real error"])
    result.stdout.no_fnmatch_line("*not the point*")


def test_exit_in_a_task_group_ends_the_session(pytester: pytest.Pytester) -> None:
    if sys.version_info < (3, 11):
        pytest.importorskip("anyio")
        body = "async with anyio.create_task_group() as group:\n" + " " * 16
        body += "group.start_soon(child)"
    else:
        body = (
            "async with asyncio.TaskGroup() as group:\n                group.create_task(child())"
        )
    pytester.makepyfile(
        f"""
        import asyncio
        import pytest

        try:
            import anyio
        except ImportError:
            pass

        @pytest.mark.asyncio
        async def test_exits():
            async def child():
                pytest.exit("stopped from a child")
            {body}

        @pytest.mark.asyncio
        async def test_never_runs():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:anyio")
    result.stdout.fnmatch_lines(["*Exit: stopped from a child*"])
    result.stdout.no_fnmatch_line("*test_never_runs PASSED*")
    assert result.ret == pytest.ExitCode.INTERRUPTED
