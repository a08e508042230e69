"""The event_loop fixture: defaults, pytest-asyncio 0.21 style overrides, warnings, clean state."""

from __future__ import annotations

import gc

import pytest


def test_default_loop_is_running_loop_and_current(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        SEEN = []

        @pytest.mark.asyncio
        async def test_a(event_loop):
            assert asyncio.get_running_loop() is event_loop
            SEEN.append(event_loop)

        @pytest.mark.asyncio
        async def test_b(event_loop):
            assert event_loop is not SEEN[0], "function scope: a new loop per test"
            assert SEEN[0].is_closed()

        def test_sync(event_loop):
            async def answer():
                return 42
            assert event_loop.run_until_complete(answer()) == 42
            assert asyncio.get_event_loop() is event_loop
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


@pytest.mark.parametrize("where", ["module", "conftest"])
def test_override_with_wider_scope_shares_one_loop(pytester: pytest.Pytester, where: str) -> None:
    fixture = """
@pytest.fixture(scope="{scope}")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
"""
    body = """
LOOPS = []

@pytest_aioloop.fixture
async def in_loop():
    return asyncio.get_running_loop()

@pytest.mark.asyncio
async def test_one(in_loop):
    LOOPS.append(asyncio.get_running_loop())
    assert in_loop is LOOPS[0]

@pytest.mark.asyncio
async def test_two(event_loop, in_loop):
    assert asyncio.get_running_loop() is LOOPS[0] is event_loop is in_loop
"""
    header = "import asyncio\nimport pytest\nimport pytest_aioloop\n"
    if where == "conftest":
        pytester.makeconftest(header + fixture.format(scope="session"))
        pytester.makepyfile(header + body)
    else:
        pytester.makepyfile(header + fixture.format(scope="module") + body)
    gc.collect()  # earlier tests' garbage is not this in-process run's
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)


def test_override_in_a_class(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        LOOPS = []

        class TestGroup:
            @pytest.fixture(scope="class")
            @classmethod
            def event_loop(cls):
                loop = asyncio.new_event_loop()
                yield loop
                loop.close()

            @pytest.mark.asyncio
            async def test_one(self):
                LOOPS.append(asyncio.get_running_loop())

            @pytest.mark.asyncio
            async def test_two(self):
                assert asyncio.get_running_loop() is LOOPS[0]

        @pytest.mark.asyncio
        async def test_outside():
            assert asyncio.get_running_loop() is not LOOPS[0]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_parametrized_event_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        class CustomLoop(asyncio.SelectorEventLoop):
            pass

        @pytest.fixture(params=["default", "custom"])
        def event_loop(request):
            loop = CustomLoop() if request.param == "custom" else asyncio.new_event_loop()
            yield loop
            loop.close()

        @pytest.mark.asyncio
        async def test_marked_only():
            assert isinstance(asyncio.get_running_loop(), asyncio.AbstractEventLoop)

        @pytest.mark.asyncio
        async def test_requests_it(event_loop, request):
            assert (type(event_loop) is CustomLoop) == ("custom" in request.node.name)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_marked_only?custom? PASSED*"])


def test_unclosed_user_loop_warns_and_is_closed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        LOOPS = []

        @pytest.fixture
        def event_loop():
            loop = asyncio.new_event_loop()
            LOOPS.append(loop)
            yield loop

        @pytest.mark.asyncio
        async def test_a():
            pass

        def test_closed_afterwards():
            assert LOOPS[0].is_closed()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        ["*the event_loop fixture event_loop (function scope, *) did not close its loop*"]
    )


def test_overlapping_event_loop_fixtures_warn_naming_both(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import asyncio
        import pytest

        @pytest.fixture(scope="session")
        def event_loop():
            loop = asyncio.new_event_loop()
            yield loop
            loop.close()
        """
    )
    pytester.makepyfile(
        test_a="""
        import pytest

        @pytest.mark.asyncio
        async def test_session_loop():
            pass
        """,
        test_b="""
        import asyncio
        import pytest

        @pytest.fixture(scope="module")
        def event_loop():
            loop = asyncio.new_event_loop()
            yield loop
            loop.close()

        @pytest.mark.asyncio
        async def test_module_loop():
            pass
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*event_loop fixture event_loop (module scope, *test_b.py:*) replaced the loop of the"
            " event_loop fixture event_loop (session scope, *conftest.py:*)*--setup-show*"
        ]
    )


def test_state_is_fresh_after_tests_that_break_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        def test_asyncio_run():
            asyncio.run(asyncio.sleep(0))

        @pytest.mark.asyncio
        async def test_after_run():
            await asyncio.sleep(0)

        def test_sets_none():
            asyncio.set_event_loop(None)

        @pytest.mark.asyncio
        async def test_after_none():
            await asyncio.sleep(0)

        def test_closes_loop(event_loop):
            event_loop.close()

        @pytest.mark.asyncio
        async def test_after_close():
            await asyncio.sleep(0)

        def test_sync_event_loop_after(event_loop):
            assert not event_loop.is_closed()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error::ResourceWarning")
    result.assert_outcomes(passed=7)


def test_loop_teardown_cancels_tasks_and_closes_async_generators(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        EVENTS = []

        async def ticker():
            try:
                while True:
                    yield 1
            finally:
                EVENTS.append("agen closed")

        async def forever():
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                EVENTS.append("task cancelled")
                raise

        TASKS = []  # a strong reference, as asyncio asks: else the garbage collector may
                    # destroy the pending task before the loop's teardown cancels it

        def test_sync_leaves_work(event_loop):
            TASKS.append(event_loop.create_task(forever()))
            agen = ticker()
            event_loop.run_until_complete(agen.__anext__())
            event_loop.run_until_complete(asyncio.sleep(0))

        def test_after():
            assert sorted(EVENTS) == ["agen closed", "task cancelled"]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=2)


def test_sync_fixture_drives_event_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        import pytest

        async def make_queue():
            queue = asyncio.Queue()
            await queue.put("ready")
            return queue

        @pytest.fixture
        def queue(event_loop):
            return event_loop.run_until_complete(make_queue())

        def test_sync(queue, event_loop):
            assert event_loop.run_until_complete(queue.get()) == "ready"

        @pytest.mark.asyncio
        async def test_async(queue):
            assert await queue.get() == "ready"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_user_event_loop_is_current_only_while_it_lives(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_a="""
        import asyncio
        import builtins
        import pytest

        @pytest.fixture(scope="module")
        def event_loop():
            loop = asyncio.new_event_loop()
            builtins.AIOKIT_USER_LOOP = loop
            yield loop
            loop.close()

        def test_current_while_alive(event_loop):
            assert asyncio.get_event_loop() is event_loop
        """,
        test_b="""
        import asyncio
        import builtins
        import warnings

        def test_not_current_after_teardown():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                try:
                    current = asyncio.get_event_loop()
                except RuntimeError:
                    current = None
            assert current is not builtins.AIOKIT_USER_LOOP
            if current is not None:
                current.close()
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
