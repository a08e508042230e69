"""Tests of a group set up and tear down overlapping, each in its lane (greenlet)."""

from __future__ import annotations

import pytest

from tests.aioloop.reports import run_collecting as _run

pytest.importorskip("greenlet")

BARRIERS = """
import asyncio
import pytest
import pytest_aioloop

pytestmark = pytest.mark.asyncio(concurrency=5)
SET_UP, TORN_DOWN = [], []

async def until_all(arrived, name):
    arrived.append(name)
    # Passes only if the five fixtures wait at the same time (bounded: no hang if not).
    for _ in range(500):
        if len(arrived) >= 5:
            return
        await asyncio.sleep(0.002)
    raise AssertionError(f"{name}: only {len(arrived)} of 5 arrived")

@pytest_aioloop.fixture
async def connection(request):
    await until_all(SET_UP, request.node.name)
    yield
    await until_all(TORN_DOWN, request.node.name)

@pytest.mark.parametrize("i", range(5))
async def test_uses_a_connection(connection, i):
    await asyncio.sleep(0)
"""


def test_the_fixtures_of_five_tests_wait_at_the_same_time(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BARRIERS)
    result, _ = _run(pytester, "--asyncio-mode=strict")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["asyncio: 5 async tests ran together*"])


@pytest.mark.parametrize("conflicts", ["rerun", "off"])
def test_a_fixture_step_times_out_in_its_lane(pytester: pytest.Pytester, conflicts: str) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        pytestmark = pytest.mark.asyncio(concurrency=5, timeout=0.3)

        @pytest_aioloop.fixture
        async def hangs_in_setup(request):
            if request.node.name == "test_one[2]":
                await asyncio.Event().wait()
            await asyncio.sleep(0.01)
            yield

        @pytest.mark.parametrize("i", range(4))
        async def test_one(hangs_in_setup, i):
            await asyncio.sleep(0.01)
        """
    )
    result, _ = _run(pytester, "-o", f"asyncio_concurrency_conflicts={conflicts}")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_one[[]2[]]*",
            "Setup of async fixture 'hangs_in_setup' timed out after 0.3 s.",
        ]
    )


TEARDOWN_ERROR = """
import asyncio
import pytest
import pytest_aioloop

pytestmark = pytest.mark.asyncio(concurrency=4, loop_scope="module")

@pytest_aioloop.fixture(scope="module", loop_scope="module")
async def module_server():
    yield
    await asyncio.sleep(0.01)
    raise ConnectionError("the module's server did not stop")

@pytest.mark.parametrize("i", range(4))
async def test_uses_it(module_server, i):
    # The last test in pytest's order ends first: the module's teardown still belongs to it.
    await asyncio.sleep(0.05 * (3 - i))
"""


def test_the_module_teardown_belongs_to_the_last_test_as_without_concurrency(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(TEARDOWN_ERROR)
    _, alone_reports = _run(pytester, "-o", "asyncio_concurrency=1")
    together, together_reports = _run(pytester)
    assert alone_reports.seen == together_reports.seen
    together.assert_outcomes(passed=4, errors=1)
    together.stdout.fnmatch_lines(["*ERROR at teardown of test_uses_it[[]3[]]*"])
    together.stdout.fnmatch_lines(["asyncio: 4 async tests ran together*"])


def test_another_parameter_of_a_wider_fixture_waits_for_the_running_tests(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        pytestmark = pytest.mark.asyncio(concurrency=8, loop_scope="module")
        LIVE = []

        @pytest_aioloop.fixture(scope="module", loop_scope="module", params=["a", "b"])
        async def database(request):
            LIVE.append(request.param)
            yield request.param
            LIVE.remove(request.param)

        @pytest.mark.parametrize("i", range(3))
        async def test_query(database, i):
            await asyncio.sleep(0.02)
            assert LIVE == [database]  # its instance is the only one, and still there
        """
    )
    result, _ = _run(pytester)
    result.assert_outcomes(passed=6)


def test_more_tests_than_the_limit_keep_the_shared_loop(pytester: pytest.Pytester) -> None:
    # Tests whose loop is the shared one (function-scoped async fixtures, no loop scope) that
    # all end at once leave no lease on it while their teardowns wait: the group keeps one.
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        pytestmark = pytest.mark.asyncio(concurrency=4)

        @pytest_aioloop.fixture
        async def transaction():
            await asyncio.sleep(0.01)
            yield
            await asyncio.sleep(0.01)

        @pytest.mark.parametrize("n", range(12))
        async def test_in_a_transaction(transaction, n):
            await asyncio.sleep(0.01)
        """
    )
    result, _ = _run(pytester)
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["asyncio: 12 async tests ran together*"])


def test_ctrl_c_while_setups_wait_ends_the_run_cleanly(pytester: pytest.Pytester) -> None:
    # Ctrl-C while four tests' fixtures wait in their setups (each paused in its lane).
    pytester.makepyfile(
        """
        import asyncio
        import os
        import signal
        import pytest
        import pytest_aioloop

        signal.signal(signal.SIGINT, signal.default_int_handler)

        pytestmark = pytest.mark.asyncio(concurrency=10)
        ARRIVED = []

        @pytest_aioloop.fixture
        async def slow_connection():
            ARRIVED.append(1)
            if len(ARRIVED) == 4:
                asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
            await asyncio.sleep(20)
            yield

        @pytest.mark.parametrize("i", range(4))
        async def test_never_starts(slow_connection, i):
            raise AssertionError("the setup cannot have ended")
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "error::ResourceWarning", timeout=60
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "asyncio: interrupted while 4 test(s) ran together:",
            "*::test_never_starts[[]0[]] was in its setup, waiting here:",
            "task \"async fixture 'slow_connection'\" was suspended at:",
            "*await asyncio.sleep(20)",
            "*KeyboardInterrupt*",
        ]
    )
    output = "\n".join(result.outlines + result.errlines)
    assert "the setup cannot have ended" not in output
    assert "Task was destroyed" not in output
    assert "unclosed" not in output
    assert "INTERNALERROR" not in output
