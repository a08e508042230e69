"""Unawaited coroutines are blamed on the test that created them, not on the one finding them."""

from __future__ import annotations

import asyncio
import sys
import warnings

import pytest

from pytest_aioloop._compat.unawaited import origins_back, origins_on, take_over

#: A test keeps a coroutine it never awaits; the next one drops it and collects it.
KEPT_THEN_COLLECTED = """
    import asyncio
    import gc
    import pytest

    kept = []

    def test_keeps():
        kept.append(asyncio.sleep(1))

    def test_innocent():
        kept.clear()
        gc.collect()
"""

ROUTES = {
    "default": ([], ""),
    "cli": (["--asyncio-unawaited=report"], ""),
    "ini": ([], "asyncio_unawaited = report"),
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_innocent_test_is_not_failed_and_the_creator_is_named(
    pytester: pytest.Pytester, route: str
) -> None:
    args, ini = ROUTES[route]
    pytester.makeini(f"[pytest]\nfilterwarnings = error\n{ini}\n")
    pytester.makepyfile(test_kept=KEPT_THEN_COLLECTED)
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*= asyncio safety nets (pytest-aioloop) =*",
            "test_kept.py::test_keeps",
            "  coroutine 'sleep' was never awaited. test_kept.py::test_keeps created it, at:",
            '    File "*test_kept.py", line 8, in test_keeps',
            "      kept.append(asyncio.sleep(1))",
            "  It was found when the garbage collector destroyed it, during "
            "test_kept.py::test_innocent, which is not blamed.",
            "1 unawaited coroutine. Nothing failed because of them: set asyncio_unawaited = warn "
            "or error *",
        ]
    )
    assert "RuntimeWarning" not in result.stdout.str()


def test_python_warning_fails_the_innocent_test_when_ignored(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\nasyncio_unawaited = ignore\n")
    pytester.makepyfile(test_kept=KEPT_THEN_COLLECTED)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_kept.py::test_innocent - *"])


def test_async_tests_and_methods_are_blamed(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\nasyncio_mode = auto\n")
    pytester.makepyfile(
        test_kept="""
        import asyncio
        import gc

        kept = []

        async def fetch():
            await asyncio.sleep(0)

        class TestClient:
            async def test_forgets_await(self):
                kept.append(fetch())

        async def test_innocent():
            kept.clear()
            gc.collect()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "test_kept.py::TestClient::test_forgets_await",
            "  coroutine 'fetch' was never awaited. "
            "test_kept.py::TestClient::test_forgets_await created it, at:",
            '    File "*test_kept.py", line 11, in test_forgets_await',
            "      kept.append(fetch())",
        ]
    )


def test_warn_records_a_warning_for_the_creator(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\nasyncio_unawaited = warn\n")
    pytester.makepyfile(test_kept=KEPT_THEN_COLLECTED)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*= warnings summary =*",
            "test_kept.py::test_keeps",
            "  *test_kept.py:8: UnawaitedCoroutineWarning: coroutine 'sleep' was never awaited. "
            "test_kept.py::test_keeps created it, at:",
        ]
    )


def test_error_fails_the_run_naming_the_creator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_kept=KEPT_THEN_COLLECTED)
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-unawaited=error")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "test_kept.py::test_keeps",
            "  coroutine 'sleep' was never awaited. test_kept.py::test_keeps created it, at:",
            "The run fails (asyncio_unawaited = error): coroutines that were never awaited were "
            "created by test_kept.py::test_keeps.",
        ]
    )


def test_a_test_that_expects_the_warning_still_gets_it(pytester: pytest.Pytester) -> None:
    # Found in the test that created it: Python's own warning, where the test looks for it.
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(
        test_expects="""
        import asyncio
        import gc
        import pytest

        def test_expects_the_warning():
            with pytest.warns(RuntimeWarning, match="coroutine 'sleep' was never awaited"):
                coro = asyncio.sleep(1)
                del coro
                gc.collect()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_warning_in_the_creating_test_points_at_its_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_own="""
        import asyncio

        def test_drops_it():
            asyncio.sleep(1)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "test_own.py::test_drops_it",
            "  *test_own.py:4: RuntimeWarning: coroutine 'sleep' was never awaited",
            "  Coroutine created at (most recent call last)",
            '    File "*test_own.py", line 4, in test_drops_it',
        ]
    )


def test_parametrized_test_is_blamed_on_the_case_that_ran_last(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(
        test_cases="""
        import asyncio
        import gc
        import pytest

        kept = []

        @pytest.mark.parametrize("keep", [False, True])
        def test_case(keep):
            if keep:
                kept.append(asyncio.sleep(1))

        def test_innocent():
            kept.clear()
            gc.collect()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["test_cases.py::test_case[True]"])


def test_with_xdist_the_controller_names_the_creator(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(test_kept=KEPT_THEN_COLLECTED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "1")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "test_kept.py::test_keeps",
            "  coroutine 'sleep' was never awaited. test_kept.py::test_keeps created it, at:",
            "*during test_kept.py::test_innocent, which is not blamed.",
        ]
    )


@pytest.mark.parametrize("how", ["ini", "marker"])
def test_concurrent_tests_are_blamed_too(pytester: pytest.Pytester, how: str) -> None:
    ini = "[pytest]\nfilterwarnings = error\nasyncio_mode = auto\n"
    marker = ""
    if how == "ini":
        ini += "asyncio_concurrency = 4\n"
    else:
        marker = "pytestmark = pytest.mark.asyncio(concurrency=4)"
    pytester.makeini(ini)
    pytester.makepyfile(
        test_a_keeps=f"""
        import asyncio
        import pytest

        {marker}
        kept = []

        async def fetch():
            await asyncio.sleep(0)

        async def test_keeps():
            kept.append(fetch())

        async def test_beside():
            await asyncio.sleep(0)
        """,
        test_b_collects="""
        import gc
        import pytest
        from test_a_keeps import kept

        @pytest.mark.asyncio(concurrent=False)  # after the others: it collects their garbage
        async def test_innocent():
            kept.clear()
            gc.collect()
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "test_a_keeps.py::test_keeps",
            "  coroutine 'fetch' was never awaited. test_a_keeps.py::test_keeps created it, at:",
            "*during test_b_collects.py::test_innocent, which is not blamed.",
        ]
    )


def test_bad_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest("--asyncio-unawaited=loud")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*'loud' is not a valid asyncio_unawaited. Valid values: report, warn, error, ignore."]
    )


def test_python_s_hook_is_taken_over_and_given_back() -> None:
    # The private function CPython calls for an unawaited coroutine exists on this Python.
    before = warnings._warn_unawaited_coroutine  # type: ignore[attr-defined]
    depth = sys.get_coroutine_origin_tracking_depth()
    seen: list[object] = []
    undo = take_over(lambda coro: seen.append(coro.cr_origin))
    assert undo is not None
    tracked = origins_on()
    try:
        asyncio.sleep(0)  # type: ignore[unused-coroutine]  # destroyed at once, never awaited
    finally:
        origins_back(tracked)
        undo()
    (origin,) = seen
    filename, _, function = origin[0]  # type: ignore[index]
    assert (filename, function) == (__file__, "test_python_s_hook_is_taken_over_and_given_back")
    assert warnings._warn_unawaited_coroutine is before  # type: ignore[attr-defined]
    assert sys.get_coroutine_origin_tracking_depth() == depth
