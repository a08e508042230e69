"""Suites written for each pytest-asyncio era run on pytest-aioloop with only the import renamed.

Each directory under ``eras/<era>/`` is a small test suite written exactly as a user of that
pytest-asyncio version would (each was run green on the real pytest-asyncio of its era: 0.21.2,
0.24.0, 1.5.0). A test here copies one suite into a pytester directory, renames the module
``pytest_asyncio`` to ``pytest_aioloop`` (whole word only, so the hook
``pytest_asyncio_loop_factories`` keeps its name), runs it and checks the exact outcomes.
Suites that install event loop policies run in a subprocess.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

SUITES = Path(__file__).parent / "eras"
#: Python 3.14 deprecates asyncio's policies: suites that override them get asyncio's warnings.
POLICIES = ("-W", "ignore::DeprecationWarning") if sys.version_info >= (3, 14) else ()
_IMPORT_NAME = re.compile(r"\bpytest_asyncio\b")


def run_suite(
    pytester: pytest.Pytester, suite: str, *args: str, subprocess: bool = False
) -> pytest.RunResult:
    """Copy ``eras/<suite>`` into ``pytester``, rename the import, and run it verbosely."""
    source = SUITES / suite
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        target = pytester.path / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_IMPORT_NAME.sub("pytest_aioloop", path.read_text()))
    options = ("-p", "no:cacheprovider", "-v", "-rs", *args)
    if subprocess:
        return pytester.runpytest_subprocess(*options)
    return pytester.runpytest(*options)


# -- pytest-asyncio 0.21: the overridable event_loop fixture ------------------------------------


def test_v021_event_loop_at_module_scope(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_21/module_loop")
    result.assert_outcomes(passed=7, warnings=0)


def test_v021_event_loop_at_session_scope_in_conftest(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_21/session_loop")
    result.assert_outcomes(passed=7, warnings=0)


def test_v021_custom_loop_class(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_21/custom_loop")
    result.assert_outcomes(passed=5, warnings=0)


def test_v021_parametrized_event_loop(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_21/param_loop")
    result.assert_outcomes(passed=6, warnings=0)
    result.stdout.fnmatch_lines(
        [
            "*::test_requests_event_loop[[]first[]] PASSED*",
            "*::test_requests_event_loop[[]second[]] PASSED*",
            "*::test_marked_with_async_fixture[[]first[]] PASSED*",
            "*::test_marked_with_async_fixture[[]second[]] PASSED*",
            "*::test_sync[[]first[]] PASSED*",
            "*::test_sync[[]second[]] PASSED*",
        ]
    )


def test_v021_parametrized_event_loop_reaches_tests_that_are_only_marked(
    pytester: pytest.Pytester,
) -> None:
    """Beyond 0.21, which errors here ("no parameter defined"): the spec runs it per loop."""
    pytester.makepyfile(
        test_marked_only="""
        import asyncio
        import pytest
        from test_param_loop import FirstLoop, SecondLoop

        @pytest.fixture(params=[FirstLoop, SecondLoop], ids=["first", "second"])
        def event_loop(request):
            loop = request.param()
            yield loop
            loop.close()

        @pytest.mark.asyncio
        async def test_marked_only():
            assert type(asyncio.get_running_loop()) in (FirstLoop, SecondLoop)
        """
    )
    result = run_suite(pytester, "v0_21/param_loop")
    result.assert_outcomes(passed=8, warnings=0)
    result.stdout.fnmatch_lines(
        [
            "*::test_marked_only[[]first[]] PASSED*",
            "*::test_marked_only[[]second[]] PASSED*",
        ]
    )


def test_v021_auto_mode(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_21/auto_mode")
    result.assert_outcomes(passed=9, warnings=0)


# -- pytest-asyncio 0.23/0.24: event_loop_policy and loop scopes --------------------------------


def test_v024_event_loop_policy_override(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_24/policy", *POLICIES, subprocess=True)
    result.assert_outcomes(passed=4, warnings=0)


def test_v024_parametrized_event_loop_policy(pytester: pytest.Pytester) -> None:
    result = run_suite(
        pytester, "v0_24/param_policy", "-k", "not sync_helper", *POLICIES, subprocess=True
    )
    result.assert_outcomes(passed=6, warnings=0)
    result.stdout.fnmatch_lines_random(
        [
            "*::test_runs_once_per_policy[[]policy_a[]] PASSED*",
            "*::test_runs_once_per_policy[[]policy_b[]] PASSED*",
            "*::test_fixture_follows_policy[[]policy_a[]] PASSED*",
            "*::test_fixture_follows_policy[[]policy_b[]] PASSED*",
            "*::test_marked_only[[]policy_a[]] PASSED*",
            "*::test_marked_only[[]policy_b[]] PASSED*",
        ]
    )


def test_v024_parametrized_event_loop_policy_reaches_sync_tests(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_24/param_policy", *POLICIES, subprocess=True)
    result.assert_outcomes(passed=8, warnings=0)
    result.stdout.fnmatch_lines_random(
        [
            "*::test_sync_helper[[]policy_a[]] PASSED*",
            "*::test_sync_helper[[]policy_b[]] PASSED*",
        ]
    )


def test_v024_deprecated_scope_keyword(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_24/scope_alias")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["*PytestDeprecationWarning*scope*deprecated*loop_scope*", "*3 passed, 2 warnings*"]
    )


def test_v024_loop_scopes_module_class_session(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_24/loop_scopes")
    result.assert_outcomes(passed=9, warnings=0)


def test_v024_fixture_with_scope_and_loop_scope(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v0_24/scoped_fixtures")
    result.assert_outcomes(passed=3, warnings=0)


# -- pytest-asyncio 1.x: loop factories, default loop scopes, is_async_test, contextvars ---------


def test_v1_loop_factories_hook(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v1/factories")
    result.assert_outcomes(passed=8, skipped=1, warnings=0)
    result.stdout.fnmatch_lines_random(
        [
            "*::test_every_factory[[]selector[]] PASSED*",
            "*::test_every_factory[[]counting[]] PASSED*",
            "*::test_fixture_shares_the_factory_loop[[]selector[]] PASSED*",
            "*::test_fixture_shares_the_factory_loop[[]counting[]] PASSED*",
            "*::test_selected_factory PASSED*",
            "*::test_unknown_factory_is_skipped[[]selector[]] PASSED*",
            "*::test_unknown_factory_is_skipped[[]uvloop[]] SKIPPED*",
            "*::test_sync_is_not_parametrized PASSED*",
            "*::test_single_factory_adds_no_id PASSED*",
            "SKIPPED [[]1[]] test_factories.py:*Loop factory 'uvloop' is not available. "
            "Available factories: selector, counting.",
        ]
    )


def test_v1_default_fixture_loop_scope_fixture_scope(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v1/fixture_scope")
    result.assert_outcomes(passed=4, warnings=0)


def test_v1_session_default_loop_scopes(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v1/session_defaults")
    result.assert_outcomes(passed=4, warnings=0)


def test_v1_is_async_test_in_collection_modifyitems(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v1/is_async_test")
    result.assert_outcomes(passed=4, warnings=0)


def test_v1_contextvars_from_async_fixtures(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v1/contextvars", "test_contextvars.py")
    result.assert_outcomes(passed=4, warnings=0)


def test_v1_contextvar_token_reset_in_fixture_teardown(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, "v1/contextvars", "test_token_reset.py")
    result.assert_outcomes(passed=2, warnings=0)
