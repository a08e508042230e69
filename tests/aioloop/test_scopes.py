"""Loop scopes: explicit ones, loops that follow fixtures, and impossible combinations."""

from __future__ import annotations

import builtins
import gc

import pytest

from pytest_aioloop._compat.asyncio_internals import save_current_loop


@pytest.mark.parametrize("scope", ["class", "module", "package", "session"])
def test_loop_scope_shares_a_loop(pytester: pytest.Pytester, scope: str) -> None:
    pytester.makepyfile(
        f"""
        import asyncio
        import pytest

        LOOPS = []

        class TestA:
            @pytest.mark.asyncio(loop_scope="{scope}")
            async def test_one(self):
                LOOPS.append(asyncio.get_running_loop())

            @pytest.mark.asyncio(loop_scope="{scope}")
            async def test_two(self):
                assert asyncio.get_running_loop() is LOOPS[0]

        @pytest.mark.asyncio(loop_scope="{scope}")
        async def test_outside_class():
            shared = asyncio.get_running_loop() is LOOPS[0]
            assert shared == ("{scope}" != "class")

        @pytest.mark.asyncio
        async def test_function_default():
            assert asyncio.get_running_loop() is not LOOPS[0]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_package_scope_without_a_package_and_across_modules(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a="""
        import asyncio
        import pytest

        @pytest.mark.asyncio(loop_scope="session")
        async def test_a():
            import builtins
            builtins.AIOKIT_LOOP = asyncio.get_running_loop()
        """,
        test_b="""
        import asyncio
        import builtins
        import pytest

        @pytest.mark.asyncio(loop_scope="session")
        async def test_b():
            assert asyncio.get_running_loop() is builtins.AIOKIT_LOOP
            del builtins.AIOKIT_LOOP
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_session_fixture_used_by_function_tests_just_works(pytester: pytest.Pytester) -> None:
    """The classic 'Future attached to a different loop' case needs no configuration."""
    pytester.makepyfile(
        test_a="""
        import asyncio
        import pytest
        import pytest_aioloop

        class Pool:
            def __init__(self):
                self.lock = asyncio.Lock()
                self.future = asyncio.get_running_loop().create_future()
                self.loop = asyncio.get_running_loop()

        @pytest_aioloop.fixture(scope="session")
        async def pool():
            yield Pool()

        @pytest_aioloop.fixture
        async def conn(pool):
            async with pool.lock:
                return pool

        @pytest.mark.asyncio
        async def test_uses_pool(pool):
            async with pool.lock:
                assert asyncio.get_running_loop() is pool.loop

        @pytest.mark.asyncio
        async def test_uses_conn(conn):
            assert asyncio.get_running_loop() is conn.loop

        @pytest.mark.asyncio
        async def test_no_fixture():
            pass

        def test_sync_sees_pool(pool):
            assert not pool.loop.is_closed()
        """,
        test_b="""
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_other_module(pool):
            await asyncio.wait_for(asyncio.shield(asyncio.sleep(0)), 1)
            assert asyncio.get_running_loop() is pool.loop
        """,
    )
    pytester.makeconftest(
        """
        from test_a import pool  # noqa: F401  (share the session fixture)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_module_and_session_fixtures_share_the_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="module")
        async def client():
            return asyncio.get_running_loop()

        @pytest_aioloop.fixture(scope="session")
        async def pool():
            return asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_client_only(client):
            assert asyncio.get_running_loop() is client

        @pytest.mark.asyncio
        async def test_both(client, pool):
            assert client is pool is asyncio.get_running_loop()
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


PINNED = """
import asyncio
import pytest
import pytest_aioloop

@pytest_aioloop.fixture(scope="session", loop_scope="session")
async def pool():
    return {"url": "db://", "loop": asyncio.get_running_loop()}

@pytest_aioloop.fixture(scope="session", loop_scope="session")
async def waiter():
    return asyncio.get_running_loop().create_future()

@pytest.mark.asyncio(loop_scope="function")
async def test_pinned_plain_value(pool):
    assert pool["url"] == "db://"
    assert asyncio.get_running_loop() is not pool["loop"]

@pytest.mark.asyncio(loop_scope="function")
async def test_pinned_awaits_other_loop(waiter):
    waiter.get_loop().call_soon(waiter.set_result, None)
    await waiter
"""


def test_pinned_test_runs_in_its_loop_beside_fixtures_of_another(
    pytester: pytest.Pytester,
) -> None:
    """As with pytest-asyncio: no error, no warning; a 'different loop' failure is explained."""
    pytester.makepyfile(PINNED)
    gc.collect()  # earlier tests' garbage is not this in-process run's
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1, failed=1, warnings=0)
    result.stdout.fnmatch_lines(
        [
            "*attached to a different loop*",
            "E *pytest-aioloop: test_pinned_awaits_other_loop runs in the function-scoped loop "
            "(loop_scope='function'), but:",
            "E *  async fixture 'waiter' (session scope) runs in the session-scoped loop",
            "E *Objects made in one loop (futures, locks, streams, clients) cannot be awaited in "
            "another. Fix: remove loop_scope from the test so that it runs in its fixtures' "
            "loop, or use @pytest.mark.asyncio(loop_scope='session').",
        ]
    )
    result.stdout.no_fnmatch_line("*test_pinned_plain_value runs in*")


def test_loop_scope_mismatch_error_fails_at_setup(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(PINNED)
    result = pytester.runpytest("-p", "no:cacheprovider", "--asyncio-loop-scope-mismatch=error")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_pinned_plain_value*",
            "pytest-aioloop: test_pinned_plain_value runs in the function-scoped loop*",
            "  async fixture 'pool' (session scope) runs in the session-scoped loop",
            "*(asyncio_loop_scope_mismatch = error)",
        ]
    )


def test_fixture_loop_scope_narrower_than_its_scope_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="module", loop_scope="function")
        async def thing():
            return 1

        @pytest.mark.asyncio
        async def test_it(thing):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*fixture 'thing' has scope='module' but loop_scope='function'*Use loop_scope='module'*"]
    )


def test_bad_fixture_loop_scope_is_reported_at_import(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest_aioloop

        @pytest_aioloop.fixture(loop_scope="forever")
        async def thing():
            return 1

        def test_x():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*loop_scope='forever'. Valid loop scopes: function, class*"])


BOTH_SESSION = (
    "asyncio_default_fixture_loop_scope = session\nasyncio_default_test_loop_scope = session"
)


@pytest.mark.parametrize(
    ("ini", "expect_same"),
    [
        (BOTH_SESSION, True),
        ("asyncio_default_fixture_loop_scope = fixture-scope", False),
        ("asyncio_default_test_loop_scope = module", True),
    ],
)
def test_ini_default_loop_scopes(pytester: pytest.Pytester, ini: str, expect_same: bool) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(
        f"""
        import asyncio
        import pytest
        import pytest_aioloop

        LOOPS = []

        @pytest_aioloop.fixture
        async def per_test():
            return asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_one():
            LOOPS.append(asyncio.get_running_loop())

        @pytest.mark.asyncio
        async def test_two():
            assert (asyncio.get_running_loop() is LOOPS[0]) is {expect_same}

        @pytest.mark.asyncio
        async def test_fixture_and_test_share(per_test):
            assert per_test is asyncio.get_running_loop()
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


@pytest.mark.parametrize("order", [["test_a", "test_b"], ["test_b", "test_a"]])
def test_pinned_session_test_with_unpinned_session_fixture_in_any_order(
    pytester: pytest.Pytester, order: list[str]
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture(scope="session")
        async def pool():
            return asyncio.get_running_loop()

        @pytest.mark.asyncio
        async def test_a(pool):
            assert asyncio.get_running_loop() is pool

        @pytest.mark.asyncio(loop_scope="session")
        async def test_b(pool):
            assert asyncio.get_running_loop() is pool
        """
    )
    args = [
        f"test_pinned_session_test_with_unpinned_session_fixture_in_any_order.py::{n}"
        for n in order
    ]
    pytester.runpytest("-p", "no:cacheprovider", *args).assert_outcomes(passed=2)


def test_module_loop_closes_after_the_module_and_its_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a="""
        import asyncio
        import builtins
        import pytest
        import pytest_aioloop

        pytestmark = pytest.mark.asyncio(loop_scope="module")

        @pytest_aioloop.fixture(scope="module", loop_scope="module")
        async def resource():
            yield asyncio.get_running_loop()
            await asyncio.sleep(0)  # the loop is still open during the module's teardown
            builtins.AIOKIT_TORN_DOWN = True

        async def test_one():
            builtins.AIOKIT_LOOP = asyncio.get_running_loop()

        async def test_two(resource):
            assert resource is asyncio.get_running_loop() is builtins.AIOKIT_LOOP
        """,
        test_b="""
        import builtins

        def test_after():
            assert builtins.AIOKIT_TORN_DOWN
            assert builtins.AIOKIT_LOOP.is_closed()
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=3)


def test_interrupted_run_still_tears_down_in_the_loop_then_closes_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import builtins

        def pytest_unconfigure(config):
            print("loop closed at exit:", builtins.AIOKIT_LOOP.is_closed())
        """
    )
    pytester.makepyfile(
        """
        import asyncio
        import builtins
        import pytest
        import pytest_aioloop

        pytestmark = pytest.mark.asyncio(loop_scope="module")

        @pytest_aioloop.fixture(scope="module", loop_scope="module")
        async def resource():
            builtins.AIOKIT_LOOP = asyncio.get_running_loop()
            yield
            await asyncio.sleep(0)
            print("teardown ran in the loop")

        async def test_passes(resource):
            pass

        def test_interrupts():
            raise KeyboardInterrupt

        async def test_not_run(resource):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-s")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    result.stdout.fnmatch_lines(["*teardown ran in the loop*", "*loop closed at exit: True*"])
    result.stdout.no_fnmatch_line("*unclosed*")


def test_exit_in_a_test_closes_its_loop_and_puts_the_current_loop_back(
    pytester: pytest.Pytester,
) -> None:
    # pytest.exit() skips the test's teardown hooks: the loop is given back at the session's
    # end, else it stays open and current, and a later test collects it (ResourceWarning).
    pytester.makepyfile(
        """
        import asyncio
        import builtins
        import pytest

        @pytest.mark.asyncio
        async def test_exits():
            builtins.AIOKIT_EXIT_LOOP = asyncio.get_running_loop()
            pytest.exit("stopped")
        """
    )
    before = save_current_loop()[1]
    try:
        result = pytester.runpytest("-p", "no:cacheprovider")
        loop = builtins.AIOKIT_EXIT_LOOP  # type: ignore[attr-defined]
    finally:
        builtins.__dict__.pop("AIOKIT_EXIT_LOOP", None)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert loop.is_closed()
    after = save_current_loop()[1]
    assert after is before or (after is None and before is not None and before.is_closed())


def test_sync_fixtures_of_an_async_test_see_its_loop_as_current(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        SEEN = []

        @pytest.fixture
        def plain():
            SEEN.append(asyncio.get_event_loop())
            yield
            SEEN.append(asyncio.get_event_loop())

        @pytest.mark.asyncio
        async def test_it(plain):
            SEEN.append(asyncio.get_running_loop())

        def test_same_loop_throughout():
            assert len(SEEN) == 3 and SEEN[0] is SEEN[1] is SEEN[2]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
