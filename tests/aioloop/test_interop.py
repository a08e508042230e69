"""pytest-aioloop beside pytest's own features and other plugins."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("order", ["given_outside", "given_inside"])
@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_hypothesis_given_on_async_tests(pytester: pytest.Pytester, order: str, mode: str) -> None:
    decorators = (
        "@given(st.integers())\n@pytest.mark.asyncio"
        if order == "given_outside"
        else "@pytest.mark.asyncio\n@given(st.integers())"
    )
    if mode == "auto":
        decorators = "@given(st.integers())"
    pytester.makepyfile(
        f"""
        import asyncio
        import pytest
        from hypothesis import given, settings, strategies as st

        RUNS = []

        @settings(max_examples=5)
        {decorators.replace(chr(10), chr(10) + "        ")}
        async def test_property(n):
            await asyncio.sleep(0)
            RUNS.append(n)

        def test_ran():
            assert len(RUNS) == 5
        """
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", f"--asyncio-mode={mode}", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=2)


def test_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="session")
        async def pool():
            return asyncio.get_running_loop()

        @pytest.mark.parametrize("i", range(8))
        @pytest.mark.asyncio
        async def test_many(pool, i):
            assert asyncio.get_running_loop() is pool
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=8)


def test_rerunfailures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        ATTEMPTS = []

        @pytest.mark.flaky(reruns=2)
        @pytest.mark.asyncio
        async def test_flaky():
            ATTEMPTS.append(asyncio.get_running_loop())
            assert len(ATTEMPTS) == 2
            assert ATTEMPTS[0] is not ATTEMPTS[1]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.parseoutcomes() == {"passed": 1, "rerun": 1}


@pytest.mark.parametrize("flag", ["--setup-show", "--setup-plan"])
def test_setup_show_and_plan(pytester: pytest.Pytester, flag: str) -> None:
    pytester.makepyfile(
        """
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="module")
        async def resource():
            yield 1

        @pytest.mark.asyncio
        async def test_it(resource):
            assert resource == 1
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", flag)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*SETUP    M resource*", "*test_it*"])
    # The test gets its loop from pytest-aioloop's hooks: no event_loop fixture to show.
    result.stdout.no_fnmatch_line("*SETUP    F event_loop*")


def test_doctests_and_isolated_asyncio_testcase(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_unit='''
        import asyncio
        import unittest

        def add(a, b):
            """
            >>> add(1, 2)
            3
            """
            return a + b

        class TestIsolated(unittest.IsolatedAsyncioTestCase):
            async def asyncSetUp(self):
                self.value = 41

            async def test_async(self):
                await asyncio.sleep(0)
                self.assertEqual(self.value + 1, 42)
        '''
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--doctest-modules", "--asyncio-mode=auto"
    )
    result.assert_outcomes(passed=2)


def test_disabled_with_p_no(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_no_event_loop(request):
            assert "event_loop" not in request.fixturenames
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:aioloop", "--fixtures")
    result.stdout.no_fnmatch_line("event_loop*")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:aioloop")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("asyncio: pytest-aioloop*")


def test_pytest_plugins_string_is_harmless(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytest_plugins = "pytest_aioloop"

        @pytest.mark.asyncio
        async def test_it():
            pass
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_anyio_and_trio_tests_are_left_alone_in_strict_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop
        import trio

        @pytest.fixture
        async def anyio_value():
            return "anyio"

        @pytest.mark.anyio
        async def test_anyio(anyio_value):
            assert anyio_value == "anyio"

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.trio
        async def test_trio():
            await trio.sleep(0)

        @pytest_aioloop.fixture
        async def ours():
            return asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_ours(ours):
            assert ours is asyncio.get_running_loop()
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
