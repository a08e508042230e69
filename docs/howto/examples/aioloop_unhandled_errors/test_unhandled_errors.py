"""Run the example in a pytester session: a summary by default, failures on request."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def run_example(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Copy the example into ``pytester`` as a test module and run it."""
    pytester.makepyfile(test_example=(HERE / "example_unhandled_errors.py").read_text())
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_errors_are_listed_naming_the_test(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "-W", "error")
    result.assert_outcomes(passed=2, warnings=0)
    result.stdout.fnmatch_lines(
        [
            "*= asyncio safety nets (pytest-aioloop) =*",
            "test_example.py::test_callback_raises",
            "  An exception reached the event loop's exception handler: Exception in callback"
            " on_message()*",
            "*ValueError: malformed message",
            "test_example.py::test_task_result_never_read",
            "  An exception reached the event loop's exception handler: Task exception was never"
            " retrieved",
            "*KeyError: 'cache'",
            "2 unhandled errors. Nothing failed because of them*",
        ]
    )


def test_errors_are_warnings_on_request(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "--asyncio-unhandled-errors=warn")
    result.assert_outcomes(passed=2, warnings=2)
    result.stdout.fnmatch_lines_random(
        [
            "*UnhandledErrorWarning: An exception reached the event loop's exception handler:"
            " Exception in callback on_message()*",
            "*UnhandledErrorWarning: An exception reached the event loop's exception handler:"
            " Task exception was never retrieved*",
        ]
    )


def test_errors_fail_the_test_with_the_error_setting(pytester: pytest.Pytester) -> None:
    pytester.makeini((HERE / "example_pytest.ini").read_text())
    result = run_example(pytester)
    result.assert_outcomes(failed=2)
