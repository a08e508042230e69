"""Contradictory explicit loop scopes fail at setup with a message, not deep in asyncio."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_pinned_test_with_session_loop_fixture_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=(HERE / "example_pinned.py").read_text())
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "test_example.py::test_pinned: the test runs in the function-scoped loop"
            " (loop_scope='function'), but its async fixture 'pool' (session scope) runs in the"
            " session-scoped loop. *Fix: remove loop_scope from the test so it follows its"
            " fixtures, or use @pytest.mark.asyncio(loop_scope='session')."
        ]
    )
