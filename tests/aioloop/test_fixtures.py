"""Async fixtures: kinds of functions, methods, context variables, dynamic requests."""

from __future__ import annotations

import pytest


def test_coroutine_async_generator_and_sync_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        EVENTS = []

        @pytest_aioloop.fixture
        async def coro():
            await asyncio.sleep(0)
            return "coro"

        @pytest_aioloop.fixture
        async def agen():
            EVENTS.append("setup")
            yield "agen"
            await asyncio.sleep(0)
            EVENTS.append("teardown")

        @pytest_aioloop.fixture
        def sync_sees_loop():
            return asyncio.get_event_loop()

        @pytest_aioloop.fixture
        def sync_gen_sees_loop():
            loop = asyncio.get_event_loop()
            yield loop
            assert asyncio.get_event_loop() is loop

        @pytest_aioloop.fixture(params=[1, 2], ids=["one", "two"], name="renamed")
        async def parametrized(request):
            return request.param

        @pytest.mark.asyncio
        async def test_all(coro, agen, sync_sees_loop, sync_gen_sees_loop, renamed):
            assert (coro, agen) == ("coro", "agen")
            assert sync_sees_loop is sync_gen_sees_loop is asyncio.get_running_loop()
            assert renamed in (1, 2)

        def test_teardown_ran():
            assert EVENTS == ["setup", "teardown", "setup", "teardown"]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_all?one? PASSED*", "*test_all?two? PASSED*"])


def test_fixture_methods_are_bound_to_the_test_instance(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import pytest_aioloop

        class TestThings:
            @pytest_aioloop.fixture
            async def value(self):
                self.seen = "coroutine"
                return 1

            @pytest_aioloop.fixture
            async def gen_value(self):
                self.gen_seen = True
                yield 2

            @pytest.mark.asyncio
            async def test_it(self, value, gen_value):
                assert (value, gen_value) == (1, 2)
                assert self.seen == "coroutine" and self.gen_seen
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_yielding_twice_is_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def twice():
            yield 1
            yield 2

        @pytest.mark.asyncio
        async def test_it(twice):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*async fixture 'twice' yielded more than once*"])


def test_context_variables_flow_from_fixtures_and_reset(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import contextvars
        import pytest
        import pytest_aioloop

        user = contextvars.ContextVar("user", default="nobody")
        request_id = contextvars.ContextVar("request_id", default=None)

        @pytest_aioloop.fixture
        async def logged_in():
            user.set("alice")
            yield
            assert user.get() == "alice", "teardown sees its own value"

        @pytest_aioloop.fixture
        async def with_request(logged_in):
            assert user.get() == "alice", "dependent fixtures see it"
            request_id.set(7)

        @pytest.mark.asyncio
        async def test_sees_values(with_request):
            assert (user.get(), request_id.get()) == ("alice", 7)
            request_id.set(8)

        @pytest.mark.asyncio
        async def test_isolated():
            assert (user.get(), request_id.get()) == ("nobody", None)

        def test_sync_sees_values_too(with_request):
            assert user.get() == "alice"

        def test_reset_after_teardown():
            assert (user.get(), request_id.get()) == ("nobody", None)
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=4)


def test_getfixturevalue_of_async_fixture_from_sync_code(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def dynamic():
            await asyncio.sleep(0)
            return "dynamic"

        @pytest.fixture
        def sync_fixture(request):
            return request.getfixturevalue("dynamic")

        def test_from_sync_test(request):
            assert request.getfixturevalue("dynamic") == "dynamic"

        def test_from_sync_fixture(sync_fixture):
            assert sync_fixture == "dynamic"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_sync_test_uses_async_fixture_and_event_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def queue():
            return asyncio.Queue()

        def test_sync(queue, event_loop):
            event_loop.run_until_complete(queue.put(1))
            assert event_loop.run_until_complete(queue.get()) == 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_autouse_async_fixture_and_failures_in_setup(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import pytest_aioloop

        CALLS = []

        @pytest_aioloop.fixture(autouse=True)
        async def everywhere():
            CALLS.append(1)

        @pytest_aioloop.fixture
        async def broken():
            raise RuntimeError("fixture exploded")

        @pytest.mark.asyncio
        async def test_uses_broken(broken):
            pass

        def test_autouse_ran():
            assert len(CALLS) == 2
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: fixture exploded*"])


def test_getfixturevalue_of_an_async_fixture_from_async_code_says_what_to_do(
    pytester: pytest.Pytester,
) -> None:
    """Its step cannot run in the running loop: a clear failure, and nothing left un-awaited."""
    pytester.makepyfile(
        """
        import gc
        import pytest
        import pytest_aioloop

        @pytest_aioloop.fixture
        async def resource():
            yield 1

        @pytest.mark.asyncio
        async def test_asks_late(request):
            request.getfixturevalue("resource")

        def test_after():
            gc.collect()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-W", "error::RuntimeWarning")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*Setup of async fixture 'resource' cannot run while an event loop is running*",
        ]
    )
    assert "never awaited" not in result.stdout.str() + result.stderr.str()
