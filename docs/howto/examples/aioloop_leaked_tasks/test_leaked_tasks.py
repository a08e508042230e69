"""Run the leaking example in a pytester session: a summary by default, an error on request."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def run_example(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Copy the example into ``pytester`` as a test module and run it."""
    pytester.makepyfile(test_example=(HERE / "example_leaked_tasks.py").read_text())
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_leak_is_listed_in_the_summary_by_default(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "-W", "error")
    result.assert_outcomes(passed=1, warnings=0)
    result.stdout.fnmatch_lines(
        [
            "*= asyncio safety nets (pytest-aioloop) =*",
            "test_example.py::test_forgets_its_heartbeat",
            "  The test left 1 task pending; pytest-aioloop"
            " cancels it when the event loop closes. Await or cancel it before the test ends:",
            "    task 'heartbeat' running heartbeat() (run with --asyncio-debug to see where it"
            " was created)",
            "1 leaked task. Nothing failed because of them: set asyncio_leaked_tasks = warn or"
            " error (ini, or the --asyncio-... flag) to act on them.",
        ]
    )


def test_leak_is_a_warning_on_request(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "--asyncio-leaked-tasks=warn")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*test_example.py:*: LeakedTaskWarning: The test left 1 task pending*"]
    )


def test_debug_mode_shows_where_the_task_was_created(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "--asyncio-debug")
    result.stdout.fnmatch_lines(
        ["*task 'heartbeat' running heartbeat(), created at *test_example.py:* in test_forgets*"]
    )


def test_leak_fails_the_test_with_the_error_setting(pytester: pytest.Pytester) -> None:
    pytester.makeini((HERE / "example_pytest.ini").read_text())
    result = run_example(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_forgets_its_heartbeat*",
            "The test left 1 task pending*",
        ]
    )
