"""Run the timeout examples in a pytester session and check what they report."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def run_example(pytester: pytest.Pytester, name: str, *args: str) -> pytest.RunResult:
    """Copy the example ``name`` into ``pytester`` as a test module and run it."""
    pytester.makepyfile(**{f"test_example_{name}": (HERE / f"example_{name}.py").read_text()})
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_hung_test_and_hung_teardown_fail_with_their_stacks(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "timeouts")
    result.assert_outcomes(failed=1, passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "The test timed out after 0.2 s.",
            "task '*::test_waits_for_an_event_nobody_sets' was suspended at:",
            '  File "*", line *, in test_waits_for_an_event_nobody_sets',
            "    await asyncio.Event().wait()",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_uses_server*",
            "Teardown of async fixture 'server' timed out after 0.2 s.",
        ]
    )


def test_task_swallowing_cancellation_loses_its_loop(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "stubborn")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "The test timed out after 0.1 s and its task ignored the"
            " cancellation for 1 s more (it caught CancelledError without re-raising it)."
            " Its loop was abandoned and closed."
        ]
    )


def test_ini_option_sets_a_default(pytester: pytest.Pytester) -> None:
    pytester.makeini((HERE / "example_pytest.ini").read_text())
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_fast():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["asyncio: pytest-aioloop*timeout=10s"])
