"""Strict and auto mode, and how each is configured."""

from __future__ import annotations

import pytest

MODE_ROUTES = ["cli", "ini"]


def _set_mode(pytester: pytest.Pytester, route: str, mode: str) -> list[str]:
    if route == "ini":
        pytester.makeini(f"[pytest]\nasyncio_mode = {mode}\n")
        return []
    return [f"--asyncio-mode={mode}"]


@pytest.mark.parametrize("route", MODE_ROUTES)
def test_auto_mode_runs_unmarked_coroutines_and_fixtures(
    pytester: pytest.Pytester, route: str
) -> None:
    args = _set_mode(pytester, route, "auto")
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.fixture
        async def value():
            await asyncio.sleep(0)
            return 42

        async def test_unmarked(value):
            assert value == 42
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)


def test_cli_mode_wins_over_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = strict\n")
    pytester.makepyfile("async def test_unmarked():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-mode=auto")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["asyncio: pytest-aioloop, mode=auto*"])


def test_strict_mode_leaves_unmarked_coroutines_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("async def test_unmarked():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    # pytest itself refuses an async test no plugin handled; we did not take it.
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == 0
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])


def test_strict_mode_warns_about_async_pytest_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        async def plain():
            return 1

        @pytest.mark.asyncio
        async def test_uses_plain(plain):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["*requested async @pytest.fixture 'plain' in strict mode*@pytest_aioloop.fixture*auto*"]
    )


@pytest.mark.parametrize("route", MODE_ROUTES)
def test_invalid_mode_is_a_usage_error(pytester: pytest.Pytester, route: str) -> None:
    args = _set_mode(pytester, route, "sometimes")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: 'sometimes' is not a valid asyncio_mode. Valid modes: auto, strict."]
    )


@pytest.mark.parametrize(
    ("ini", "value"),
    [
        ("asyncio_default_fixture_loop_scope", "forever"),
        ("asyncio_default_test_loop_scope", "fixture-scope"),
        ("asyncio_leaked_tasks", "panic"),
        ("asyncio_timeout", "soon"),
    ],
)
def test_invalid_ini_values_are_usage_errors(
    pytester: pytest.Pytester, ini: str, value: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini} = {value}\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: '{value}' is not a valid {ini}*"])


@pytest.mark.parametrize("route", ["cli", "ini"])
def test_debug_mode(pytester: pytest.Pytester, route: str) -> None:
    args: list[str] = []
    if route == "ini":
        pytester.makeini("[pytest]\nasyncio_debug = true\n")
    else:
        args = ["--asyncio-debug"]
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_debug():
            assert asyncio.get_running_loop().get_debug()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["asyncio: pytest-aioloop, mode=strict, debug=True*"])


def test_header_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "asyncio: pytest-aioloop, mode=strict, debug=False, default fixture loop scope=unset"
            " (loops follow fixtures), default test loop scope=function, loop factory=asyncio,"
            " loop factories hook=no, timeout=off"
        ]
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "asyncio_debug=maybe",
            "ERROR: 'maybe' is not a valid asyncio_debug. Valid values: true or false*",
        ),
        (
            "asyncio_concurrency=0",
            "ERROR: '0' is not a valid asyncio_concurrency: give a whole number of tests*",
        ),
        (
            "asyncio_leaked_tasks=loud",
            "ERROR: 'loud' is not a valid asyncio_leaked_tasks. Valid values: report, warn, "
            "error, ignore.",
        ),
    ],
)
def test_bad_values_name_the_option_and_the_valid_values(
    pytester: pytest.Pytester, option: str, message: str
) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    result.stderr.no_fnmatch_line("*Traceback*")
