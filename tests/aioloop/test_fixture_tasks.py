"""An async generator fixture runs in one task from its setup to its teardown."""

from __future__ import annotations

import sys

import pytest

from tests.aioloop.reports import concurrency_options

#: asyncio.timeout() and asyncio.TaskGroup, the scopes these tests enter, are Python 3.11+.
needs_311 = pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")

SAME_TASK = """
import asyncio
import contextvars
import pytest
import pytest_aioloop

TASKS = []
VAR = contextvars.ContextVar("VAR")

@pytest_aioloop.fixture
async def resource():
    TASKS.append(asyncio.current_task())
    token = VAR.set("set in setup")
    yield "value"
    TASKS.append(asyncio.current_task())
    VAR.reset(token)  # a token of this context: only valid in the same context

@pytest.mark.asyncio
async def test_uses(resource):
    assert resource == "value"
    assert VAR.get() == "set in setup"

def test_setup_and_teardown_ran_in_one_task():
    assert len(TASKS) == 2 and TASKS[0] is TASKS[1]
"""


def test_setup_and_teardown_run_in_one_task(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SAME_TASK)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)


@needs_311
@pytest.mark.parametrize("concurrency", ["1", "5", "5-off"])
def test_a_timeout_around_yield_cancels_the_test(
    pytester: pytest.Pytester, concurrency: str
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def bounded():
            async with asyncio.timeout(0.2):
                yield

        @pytest.mark.asyncio
        async def test_quick(bounded):
            await asyncio.sleep(0)

        @pytest.mark.asyncio
        async def test_too_slow(bounded):
            await asyncio.sleep(30)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *concurrency_options(concurrency))
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*async fixture 'bounded' ended while the test ran, so the test was cancelled:*",
            "*TimeoutError*",
        ]
    )


@needs_311
def test_a_failing_background_child_of_a_task_group_cancels_the_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        async def listener():
            await asyncio.sleep(0.05)
            raise ConnectionError("the server went away")

        @pytest_aioloop.fixture
        async def client():
            async with asyncio.TaskGroup() as group:
                group.create_task(listener())
                yield "client"

        @pytest.mark.asyncio
        async def test_waits_for_a_reply(client):
            await asyncio.sleep(30)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*async fixture 'client' ended while the test ran, so the test was cancelled:*",
            "*in listener*",
            "*ConnectionError: the server went away*",
        ]
    )
    result.stdout.no_fnmatch_line("*ERROR at teardown*")


def test_an_anyio_cancel_scope_around_yield_is_exited_in_its_task(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("anyio")
    pytester.makepyfile(
        """
        import anyio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def scoped():
            with anyio.CancelScope():
                yield 1

        @pytest.mark.asyncio
        async def test_uses(scoped):
            assert scoped == 1
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:anyio")
    result.assert_outcomes(passed=1)


def test_the_fixtures_task_is_not_among_all_tasks(pytester: pytest.Pytester) -> None:
    # Suites written for pytest-asyncio count or cancel "all the tasks" during a test.
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def resource():
            yield "value"
            assert asyncio.current_task() is not None

        @pytest.mark.asyncio
        async def test_only_its_own_task(resource):
            assert asyncio.all_tasks() == {asyncio.current_task()}

        @pytest.mark.asyncio
        async def test_cancels_every_other_task(resource):
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()
            await asyncio.sleep(0)
            assert resource == "value"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


@needs_311
def test_a_wider_fixture_that_ended_fails_the_next_tests_that_use_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="module", loop_scope="module")
        async def session():
            async with asyncio.timeout(0.2):
                yield

        @pytest.mark.asyncio(loop_scope="module")
        async def test_outlives_it(session):
            await asyncio.sleep(30)

        @pytest.mark.asyncio(loop_scope="module")
        async def test_after(session):
            pass

        def test_without_it():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_outlives_it*",
            "*async fixture 'session' ended while the test ran*",
            "*test_after*",
            "*async fixture 'session' ended before the test started:*",
        ]
    )
    result.stdout.no_fnmatch_line("*ERROR at teardown*")


@needs_311
def test_a_fixture_that_ends_while_no_test_runs_errors_at_its_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="module", loop_scope="module")
        async def short_lived():
            async with asyncio.timeout(0.1):
                yield

        @pytest_aioloop.fixture(loop_scope="module")
        async def slow_setup():
            await asyncio.sleep(0.3)  # the module fixture's deadline passes meanwhile

        def test_sync(short_lived):
            pass

        @pytest.mark.asyncio(loop_scope="module")
        async def test_slow_setup(slow_setup):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_slow_setup*", "*TimeoutError*"])
