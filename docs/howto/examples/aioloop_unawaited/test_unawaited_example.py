"""Run the example in a pytester session: blamed on its creator, failing the run on request."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def run_example(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Copy the example into ``pytester`` as a test module and run it."""
    pytester.makepyfile(test_example=(HERE / "example_unawaited.py").read_text())
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_the_creator_is_named_and_nothing_fails(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "-W", "error")
    result.assert_outcomes(passed=2, warnings=0)
    result.stdout.fnmatch_lines(
        [
            "*= asyncio safety nets (pytest-aioloop) =*",
            "test_example.py::test_queues_a_notification",
            "  coroutine 'notify' was never awaited. test_example.py::test_queues_a_notification "
            "created it, at:",
            '    File "*test_example.py", line 15, in test_queues_a_notification',
            '      pending_calls.append(notify("ann"))  # the coroutine is made, never awaited',
            "  It was found when the garbage collector destroyed it, during "
            "test_example.py::test_clears_the_queue, which is not blamed.",
            "1 unawaited coroutine. Nothing failed because of them: set asyncio_unawaited = warn "
            "or error (ini, or the --asyncio-... flag) to act on them.",
        ]
    )


def test_error_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makeini((HERE / "example_pytest.ini").read_text())
    result = run_example(pytester)
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "The run fails (asyncio_unawaited = error): coroutines that were never awaited were "
            "created by test_example.py::test_queues_a_notification."
        ]
    )
