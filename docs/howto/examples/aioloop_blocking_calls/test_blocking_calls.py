"""Run the example: a slow step is reported; a call blocking past the timeout is interrupted."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_slow_step_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makeini((HERE / "example_pytest.ini").read_text())
    pytester.makepyfile(test_example=(HERE / "example_blocking_calls.py").read_text())
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "briefly", "-W", "error")
    result.assert_outcomes(passed=1, deselected=1, warnings=0)
    result.stdout.fnmatch_lines(
        [
            "*= asyncio safety nets (pytest-aioloop) =*",
            "test_example.py::test_holds_the_loop_briefly",
            "  Synchronous code held the event loop for 0.2* s (asyncio_slow_callback = 0.1 s),"
            " at:",
            '    File "*test_example.py", line 12, in read_config_slowly',
            "      time.sleep(0.2)  # stands for a blocking driver call, *",
        ]
    )


def test_call_blocking_past_the_timeout_is_interrupted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=(HERE / "example_blocking_calls.py").read_text())
    # A subprocess: the watchdog interrupts the main thread with a signal.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "past_its_timeout")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "The test timed out after 0.1 s: synchronous code blocked the"
            " event loop, so it could not be cancelled; pytest-aioloop interrupted it and closed"
            " its loop. The blocking call:",
            '  File "*test_example.py", line *, in test_blocks_past_its_timeout',
            "    time.sleep(30)",
        ]
    )
