"""The asyncio marker: where it applies and how bad arguments are reported."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_marks_function_method_staticmethod_class_and_module(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_funcs="""
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_function():
            await asyncio.sleep(0)

        class TestMethods:
            @pytest.mark.asyncio
            async def test_method(self):
                await asyncio.sleep(0)

            @staticmethod
            @pytest.mark.asyncio
            async def test_static():
                await asyncio.sleep(0)

        @pytest.mark.asyncio
        class TestWholeClass:
            async def test_a(self):
                assert asyncio.get_running_loop().is_running()
        """,
        test_module_mark="""
        import asyncio
        import pytest

        pytestmark = pytest.mark.asyncio

        async def test_in_marked_module():
            await asyncio.sleep(0)
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


@pytest.mark.parametrize(
    ("marker", "expected", "detail"),
    [
        (
            '@pytest.mark.asyncio("module")',
            "*::test_bad: mark.asyncio accepts only keyword arguments 'loop_scope' and "
            "'loop_factories'.",
            "It got positional argument(s) [[]'module'[]]*Write e.g. "
            "@pytest.mark.asyncio(loop_scope='module').",
        ),
        (
            "@pytest.mark.asyncio(loop_scop='module')",
            "*::test_bad: mark.asyncio accepts only keyword arguments*",
            "It got unknown argument(s) loop_scop. pytest-aioloop also takes 'timeout', "
            "'concurrency', 'concurrent' and 'virtual_time'.*",
        ),
        (
            "@pytest.mark.asyncio(loop_scope='galaxy')",
            "*::test_bad: mark.asyncio got an unexpected loop scope value 'galaxy'. "
            "Valid scopes are: function, class, module, package, session.",
            "",
        ),
        (
            "@pytest.mark.asyncio(scope='module', loop_scope='module')",
            '*::test_bad: An asyncio pytest marker defines both "scope" and "loop_scope", but '
            'it should only use "loop_scope".',
            "scope= is the deprecated spelling of loop_scope=: remove it.",
        ),
        (
            "@pytest.mark.asyncio(loop_factories='uvloop')",
            "*::test_bad: mark.asyncio 'loop_factories' must be a non-empty sequence of strings.",
            "It got 'uvloop': give names the pytest_asyncio_loop_factories hook returns*",
        ),
        ("@pytest.mark.asyncio(timeout='soon')", "*timeout='soon': give a number of seconds*", ""),
        ("@pytest.mark.asyncio(timeout=-1)", "*must be 0 or more seconds*", ""),
    ],
)
def test_bad_marker_arguments_fail_the_test_by_name(
    pytester: pytest.Pytester, marker: str, expected: str, detail: str
) -> None:
    """The first line is pytest-asyncio's sentence (people search for it), then ours."""
    pytester.makepyfile(
        f"""
        import pytest

        {marker}
        async def test_bad():
            pass

        @pytest.mark.asyncio
        async def test_good():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([expected, detail] if detail else [expected])
    result.stdout.no_fnmatch_line("*pytest_aioloop*.py:*")


def test_scope_alias_is_deprecated_but_works(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        LOOPS = []

        @pytest.mark.asyncio(scope="module")
        async def test_a():
            LOOPS.append(asyncio.get_running_loop())

        @pytest.mark.asyncio(scope="module")
        async def test_b():
            assert asyncio.get_running_loop() is LOOPS[0]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, warnings=2)
    result.stdout.fnmatch_lines(["*(scope=...) is deprecated: use loop_scope= instead."])


def test_marked_sync_test_runs_with_a_warning(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        def test_sync():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*PytestWarning: The test <Function test_sync> is marked with '@pytest.mark.asyncio' "
            "but it is not an async function.*"
        ]
    )


def test_async_generator_test_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_agen():
            yield 1
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_agen is an async generator function*must not yield*"])


def test_markers_help_documents_the_signature(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.asyncio(*, loop_scope=None, loop_factories=None, timeout=None, "
            "concurrency=None, concurrent=True, virtual_time=None): *"
        ]
    )


def test_markers_added_in_collection_modifyitems_are_honoured(pytester: pytest.Pytester) -> None:
    # The pattern of pytest-asyncio's docs: run every async test in the session loop.
    pytester.makeconftest(
        """
        import pytest
        import pytest_aioloop

        def pytest_collection_modifyitems(items):
            session_mark = pytest.mark.asyncio(loop_scope="session")
            for item in items:
                if pytest_aioloop.is_async_test(item):
                    item.add_marker(session_mark, append=False)
        """
    )
    pytester.makepyfile(
        test_a="""
        import asyncio
        import builtins

        async def test_a():
            builtins.AIOKIT_LOOP = asyncio.get_running_loop()

        def test_sync():
            pass
        """,
        test_b="""
        import asyncio
        import builtins

        async def test_b():
            assert asyncio.get_running_loop() is builtins.AIOKIT_LOOP
        """,
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "--asyncio-mode=auto"
    )
    result.assert_outcomes(passed=3)
