"""A pinned test beside a fixture of another loop runs; a cross-loop failure is explained."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_pinned_test_runs_and_cross_loop_failure_is_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=(HERE / "example_pinned.py").read_text())
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*RuntimeError: *got Future <Future pending> attached to a different loop",
            "E *pytest-aioloop: test_awaits_the_pool runs in the function-scoped loop"
            " (loop_scope='function'), but:",
            "E *  async fixture 'pool' (session scope) runs in the session-scoped loop",
            "E *Fix: remove loop_scope from the test so that it runs in its fixtures' loop, or"
            " use @pytest.mark.asyncio(loop_scope='session').",
        ]
    )
