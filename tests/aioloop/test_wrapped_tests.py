"""A coroutine test that another plugin wraps in a plain function still runs to its end."""

from __future__ import annotations

import pytest

pytest.importorskip("pytest_run_parallel")

SUITE = """
import asyncio
import threading
import pytest

RAN = []

@pytest.mark.asyncio
async def test_fails():
    await asyncio.sleep(0)
    assert False, "the body ran"

@pytest.mark.asyncio
async def test_runs_in_a_loop_of_each_thread():
    loop = asyncio.get_running_loop()
    await asyncio.sleep(0)
    RAN.append((threading.get_ident(), loop))

def test_each_thread_ran_it_to_its_end_in_a_loop_of_its_own():
    assert len(RAN) == 4
    assert len({thread for thread, _ in RAN}) == 4
    assert all(loop.is_closed() for _, loop in RAN)
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_pytest_run_parallel_threads_each_run_the_coroutine(
    pytester: pytest.Pytester, mode: str
) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        f"--asyncio-mode={mode}",
        "--parallel-threads=4",
        "-W",
        "error::RuntimeWarning",
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 2
    # pytest-run-parallel reports a failure in its threads as an error of the call.
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == 1
    result.stdout.fnmatch_lines(["*AssertionError: the body ran*"])
    result.stdout.no_fnmatch_line("*was never awaited*")


def test_a_wrapper_that_hides_the_function_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import functools
        import pytest

        def wrap(fn):
            held = {"fn": fn}  # not in a closure cell: pytest-aioloop cannot reach it

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                held["fn"](*args, **kwargs)

            return wrapper

        @pytest.hookimpl(tryfirst=True)
        def pytest_collection_finish(session):
            for item in session.items:
                item.obj = wrap(item.obj)
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_body():
            assert False
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "ignore::RuntimeWarning")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*is a coroutine test wrapped in a plain function*"])
